"""Buyer-seller conversations: one per sub-order, and one per buyer and product before a sale.

Isolation lives in the keys: each side has its own copy of a conversation under its own
partition (``USER#<uid>`` or ``SELLER#<sid>``), and every read or write starts with a GetItem
(or a conditional update) of the caller's copy under the caller's key. Another buyer, another
seller or a made-up id finds nothing there: 404 ``conversation_not_found``, the same answer.
Messages are read only after that copy was found.

Unread counts: a message adds 1 to the other side's copy in the message's own transaction;
marking read sets the reader's count to 0.

Mail: the other side gets at most one mail per conversation per 15 minutes while messages
stay unread (:func:`on_message_posted`, from the ``message.posted`` event): a conditional
update of that side's ``notified_at`` decides, and the mail's dedupe key is the message's, so a
redelivered event never mails twice. Reading the conversation starts afresh: the next message
after it is mailed at once.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from chalicelib.accounts.events import AccountErased
from chalicelib.accounts.service import get_user
from chalicelib.catalog.service import find_product
from chalicelib.core import clock, throttle
from chalicelib.core.db import LabelledTransaction, Stale, find_item, retrying, was_condition_failure
from chalicelib.core.errors import AgoraError, Code, NotFound
from chalicelib.core.ids import new_id
from chalicelib.core.keys import (
    CONVERSATION_PREFIX,
    MESSAGE_PREFIX,
    conversation_sk,
    conversations_index_key,
    message_sk,
    messages_key,
    seller_key,
    timed_sort_key,
    unanswered_index_key,
    user_key,
)
from chalicelib.core.logging import logger
from chalicelib.core.mail import EmailMessage, enqueue_email
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.events.registry import Delivered
from chalicelib.events.service import new_event
from chalicelib.messages.events import MessagePosted
from chalicelib.messages.models import Conversation, Message
from chalicelib.orders.lifecycle import get_order, get_sub_order
from chalicelib.sellers.service import get_seller

SIDES = ("buyer", "seller")
PREVIEW_CHARACTERS = 140
MAIL_EXCERPT_CHARACTERS = 280
NOTIFY_EVERY = timedelta(minutes=15)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Conversations a buyer starts (or adds to through the start route) per hour: each new one can
# mail a seller, so a buyer cannot spam the marketplace's sellers through product questions.
STARTS_PER_BUYER = throttle.Rule("conversation-start-buyer", limit=30, window_seconds=3600)


def conversation_not_found() -> NotFound:
    """One answer for "missing" and "someone else's"."""
    return NotFound("No such conversation.", code=Code.CONVERSATION_NOT_FOUND)


def conversation_id(*about: str) -> str:
    """The id of the conversation about ``about`` (``order``, order id, seller id, or
    ``product``, buyer id, product id): derived, so starting it twice finds the first. Shaped
    like the other ids (``cnv_`` and 26 Crockford characters); it names nothing by itself,
    every access still needs the caller's own copy."""
    number = int.from_bytes(hashlib.sha256(":".join(about).encode()).digest()[:17], "big") >> 6
    return "cnv_" + "".join(_CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(26)))


def is_conversation_id(value: str) -> bool:
    return value.startswith("cnv_") and len(value) == 30


def owner_key(side: str, owner_id: str) -> str:
    return user_key(owner_id) if side == "buyer" else seller_key(owner_id)


def other_side(side: str) -> str:
    return "seller" if side == "buyer" else "buyer"


def get_copy(side: str, owner_id: str, conversation_id: str, *, consistent: bool = True) -> Conversation:
    """The caller's copy (GetItem under the caller's key, 1 RT) or 404."""
    if not is_conversation_id(conversation_id):
        raise conversation_not_found()
    found = find_item(Conversation, owner_key(side, owner_id), conversation_sk(conversation_id),
                      consistent_read=consistent)
    if found is None:
        raise conversation_not_found()
    return found


def copy_of(conversation: Conversation, side: str) -> Conversation:
    """The key of ``side``'s copy of a conversation (for an update, not read)."""
    owner = conversation.user_id if side == "buyer" else conversation.seller_id
    return Conversation(owner_key(side, owner), conversation_sk(conversation.conversation_id))


# --- reading ------------------------------------------------------------------------------

def list_conversations(side: str, owner_id: str, *, cursor: str | None, limit: int) -> Page[Conversation]:
    """Latest activity first, each with its unread count: 1 Query of GSI1."""
    partition = conversations_index_key(owner_key(side, owner_id))
    scope = f"{partition}/conversations"
    results = Conversation.by_activity.query(partition, scan_index_forward=False, limit=limit,
                                             last_evaluated_key=decode_cursor(cursor, scope=scope))
    items = list(results)
    return Page(items, encode_cursor(results.last_evaluated_key, scope=scope))


def messages_page(conversation_id: str, *, cursor: str | None, limit: int) -> Page[Message]:
    """Newest first: 1 Query. Only for a conversation the caller was found to take part in."""
    scope = f"conversation/{conversation_id}/messages"
    results = Message.query(messages_key(conversation_id), Message.SK.startswith(MESSAGE_PREFIX),
                            scan_index_forward=False, consistent_read=True, limit=limit,
                            last_evaluated_key=decode_cursor(cursor, scope=scope))
    items = list(results)
    return Page(items, encode_cursor(results.last_evaluated_key, scope=scope))


def read_conversation(side: str, owner_id: str, conversation_id: str, *, cursor: str | None,
                      limit: int) -> tuple[Conversation, Page[Message]]:
    """The caller's copy and a page of messages: GetItem + Query (2 RT)."""
    found = get_copy(side, owner_id, conversation_id)
    return found, messages_page(conversation_id, cursor=cursor, limit=limit)


def buyers_conversations(user_id: str) -> list[tuple[Conversation, list[Message]]]:
    """Every conversation of the buyer with all its messages, newest first (the data export):
    a Query of the buyer's copies, then a Query of each conversation's messages (PynamoDB
    follows the pages)."""
    copies = Conversation.query(user_key(user_id), Conversation.SK.startswith(CONVERSATION_PREFIX))
    found = sorted(copies, key=lambda c: str(c.last_message_at), reverse=True)
    return [(copy, list(Message.query(messages_key(copy.conversation_id), Message.SK.startswith(MESSAGE_PREFIX),
                                      scan_index_forward=False))) for copy in found]


# --- writing ------------------------------------------------------------------------------

def _activity(at: str, text: str, sender: str, conversation_id: str) -> list[Action]:
    return [Conversation.last_message_at.set(at), Conversation.last_message.set(text[:PREVIEW_CHARACTERS]),
            Conversation.last_sender.set(sender), Conversation.messages.add(1),
            Conversation.GSI1SK.set(timed_sort_key(at, conversation_id))]


def _message(conversation: Conversation, sender: str, author_id: str, text: str, at: str) -> Message:
    message_id = new_id("msg")
    return Message(messages_key(conversation.conversation_id), message_sk(at, message_id), message_id=message_id,
                   conversation_id=conversation.conversation_id, sender=sender, author_id=author_id, text=text, at=at)


def _posted(conversation: Conversation, message: Message, response_seconds: int | None) -> MessagePosted:
    return MessagePosted(conversation_id=conversation.conversation_id, message_id=message.message_id,
                         kind=conversation.kind, sender=message.sender, user_id=conversation.user_id,
                         seller_id=conversation.seller_id, order_id=conversation.order_id,
                         product_id=conversation.product_id, at=message.at, response_seconds=response_seconds)


def _waiting(seller_id: str, conversation_id: str, at: str) -> list[Action]:
    """The seller's copy enters its unanswered index (if it is not in it already)."""
    return [Conversation.GSI2PK.set(Conversation.GSI2PK | unanswered_index_key(seller_id)),
            Conversation.GSI2SK.set(Conversation.GSI2SK | timed_sort_key(at, conversation_id))]


class _AnsweredBefore(Stale):
    """The buyer's copy did not know the seller had answered (a conversation from before it
    was told): post again without entering the unanswered index, and tell the copy."""


def _post_once(side: str, owner_id: str, conversation_id: str, text: str,
               author_id: str, answered_before: bool = False) -> tuple[Conversation, Message]:
    own = get_copy(side, owner_id, conversation_id)
    at = clock.stamp()
    message = _message(own, side, author_id, text, at)
    activity = _activity(at, text, side, conversation_id)
    own_actions = list(activity)
    other_actions = [*activity, Conversation.unread.add(1)]
    own_condition = other_condition = Conversation.PK.exists()
    response_seconds = None
    entering = side == "buyer" and not own.responded_at and not answered_before
    if side == "buyer":  # the seller's copy notes since when a buyer waits for the first answer
        other_actions.append(Conversation.awaiting_since.set(Conversation.awaiting_since | at))
        if entering:  # unanswered until the seller's first answer (which tells the buyer's copy)
            other_actions += _waiting(own.seller_id, conversation_id, at)
            other_condition = other_condition & Conversation.responded_at.does_not_exist()
        elif answered_before:
            own_actions.append(Conversation.responded_at.set(Conversation.responded_at | at))
    elif own.awaiting_since and not own.responded_at:  # the seller's first answer: claimed once
        own_actions += [Conversation.responded_at.set(at), Conversation.GSI2PK.remove(), Conversation.GSI2SK.remove()]
        other_actions.append(Conversation.responded_at.set(at))
        own_condition = own_condition & Conversation.responded_at.does_not_exist()
        response_seconds = max(0, int((clock.parse(at) - clock.parse(own.awaiting_since)).total_seconds()))
    transaction = LabelledTransaction()
    transaction.put("message", message, Message.PK.does_not_exist())
    transaction.update("own", Conversation(own.PK, own.SK), own_actions, own_condition)
    transaction.update("other", copy_of(own, other_side(side)), other_actions, other_condition)
    transaction.put("event", new_event(_posted(own, message, response_seconds)))
    failed = transaction.commit()
    if failed == {"other"} and entering:
        raise _AnsweredBefore
    if failed:
        raise Stale
    own.last_message_at, own.last_message, own.last_sender = at, text[:PREVIEW_CHARACTERS], side
    own.messages = int(own.messages) + 1
    return own, message


def post_message(side: str, owner_id: str, conversation_id: str, text: str, *,
                 author_id: str) -> tuple[Conversation, Message]:
    """GetItem of the caller's copy + one TransactWriteItems: the message, both copies (the
    other side's unread count +1) and ``message.posted`` (2 RT)."""
    answered_before = False

    def attempt() -> tuple[Conversation, Message]:
        nonlocal answered_before
        try:
            return _post_once(side, owner_id, conversation_id, text, author_id, answered_before)
        except _AnsweredBefore:
            answered_before = True
            raise

    return retrying(attempt, what="conversation")


def mark_read(side: str, owner_id: str, conversation_id: str) -> Conversation:
    """The caller's unread count back to 0 (one UpdateItem conditioned on the copy existing)."""
    if not is_conversation_id(conversation_id):
        raise conversation_not_found()
    copy = Conversation(owner_key(side, owner_id), conversation_sk(conversation_id))
    try:
        copy.update(actions=[Conversation.unread.set(0), Conversation.read_at.set(clock.stamp()),
                             Conversation.notified_at.remove(), Conversation.notified_for.remove()],
                    condition=Conversation.PK.exists())
    except UpdateError as error:
        if was_condition_failure(error):
            raise conversation_not_found() from None
        raise
    return copy


def _start(conversation_id: str, *, kind: str, user_id: str, seller_id: str, order_id: str | None,
           product_id: str | None, subject: str, buyer_name: str, seller_name: str, side: str, text: str,
           author_id: str) -> tuple[Conversation, Message]:
    """Create both copies with the first message (one TransactWriteItems); when the
    conversation exists already (started before, or at the same moment), post to it."""
    owner_id = user_id if side == "buyer" else seller_id
    if find_item(Conversation, owner_key(side, owner_id), conversation_sk(conversation_id),
                 consistent_read=True) is not None:
        return post_message(side, owner_id, conversation_id, text, author_id=author_id)
    at = clock.stamp()
    copies = {}
    for copy_side in SIDES:
        owner = owner_key(copy_side, user_id if copy_side == "buyer" else seller_id)
        copies[copy_side] = Conversation(
            owner, conversation_sk(conversation_id), conversation_id=conversation_id, side=copy_side, kind=kind,
            user_id=user_id, seller_id=seller_id, order_id=order_id, product_id=product_id, subject=subject,
            counterpart=seller_name if copy_side == "buyer" else buyer_name, created_at=at, last_message_at=at,
            last_message=text[:PREVIEW_CHARACTERS], last_sender=side, messages=1,
            unread=0 if copy_side == side else 1, GSI1PK=conversations_index_key(owner),
            GSI1SK=timed_sort_key(at, conversation_id))
    if side == "buyer":
        copies["seller"].awaiting_since = at
        copies["seller"].GSI2PK = unanswered_index_key(seller_id)
        copies["seller"].GSI2SK = timed_sort_key(at, conversation_id)
    message = _message(copies[side], side, author_id, text, at)
    transaction = LabelledTransaction()
    for copy_side, copy in copies.items():
        transaction.put(copy_side, copy, Conversation.PK.does_not_exist())
    transaction.put("message", message, Message.PK.does_not_exist())
    transaction.put("event", new_event(_posted(copies[side], message, None)))
    if transaction.commit():  # started at the same moment by the other side or a retry
        return post_message(side, owner_id, conversation_id, text, author_id=author_id)
    return copies[side], message


def start_as_buyer(user_id: str, *, text: str, author_id: str, order_id: str | None = None,
                   seller_id: str | None = None, product_id: str | None = None) -> tuple[Conversation, Message]:
    """About one seller's part of the buyer's order (GetItem order, GetItem seller), or about a
    product before buying it (the product's pointer and item, GetItem seller); then the
    conversation's first message, or the next one when it exists. Throttled per buyer
    (:data:`STARTS_PER_BUYER`, one UpdateItem)."""
    throttle.hit(STARTS_PER_BUYER, user_id)
    buyer = get_user(user_id)
    if product_id is not None:
        product = find_product(product_id)
        seller = get_seller(product.seller_id)
        return _start(conversation_id("product", user_id, product_id), kind="product", user_id=user_id,
                      seller_id=product.seller_id, order_id=None, product_id=product_id, subject=product.title,
                      buyer_name=buyer.name, seller_name=seller.display_name, side="buyer", text=text,
                      author_id=author_id)
    assert order_id is not None and seller_id is not None  # the request schema asks for both
    order = get_order(user_id, order_id)
    if seller_id not in order.seller_ids:
        raise NotFound("No such order.", code=Code.ORDER_NOT_FOUND)
    seller = get_seller(seller_id)
    return _start(conversation_id("order", order_id, seller_id), kind="order", user_id=user_id, seller_id=seller_id,
                  order_id=order_id, product_id=None, subject=f"Order {order_id}",
                  buyer_name=order.buyer_name or buyer.name, seller_name=seller.display_name, side="buyer",
                  text=text, author_id=author_id)


def start_as_seller(seller_id: str, *, order_id: str, text: str, author_id: str) -> tuple[Conversation, Message]:
    """About the seller's part of an order (BatchGetItem of the sub-order, GetItem seller)."""
    sub = get_sub_order(seller_id, order_id)
    seller = get_seller(seller_id)
    return _start(conversation_id("order", order_id, seller_id), kind="order", user_id=sub.user_id,
                  seller_id=seller_id, order_id=order_id, product_id=None, subject=f"Order {order_id}",
                  buyer_name=sub.buyer_name or "", seller_name=seller.display_name, side="seller", text=text,
                  author_id=author_id)


# --- mail to the other side -----------------------------------------------------------------

def _recipient(side: str, posted: MessagePosted) -> tuple[str, str | None]:
    """The address of ``side`` and the sender's name as the mail shows it."""
    seller = get_seller(posted.seller_id)
    if side == "seller":
        return seller.contact_email, None
    return get_user(posted.user_id).email, seller.display_name


def on_message_posted(delivered: Delivered[MessagePosted]) -> None:
    """Mail the other side, unless it was mailed in the last 15 minutes and has not read since,
    or has read the message already. One conditional UpdateItem decides (a repeat of the same
    event passes it again and enqueues the same dedupe key, which the mail worker sends once)."""
    posted = delivered.event
    side = other_side(posted.sender)
    owner = posted.user_id if side == "buyer" else posted.seller_id
    copy = Conversation(owner_key(side, owner), conversation_sk(posted.conversation_id))
    quiet_since = clock.stamp(clock.parse(posted.at) - NOTIFY_EVERY)
    due = (Conversation.unread > 0) & (Conversation.notified_at.does_not_exist()
                                       | (Conversation.notified_at <= quiet_since)
                                       | (Conversation.notified_for == posted.message_id))
    try:
        copy.update(actions=[Conversation.notified_at.set(posted.at), Conversation.notified_for.set(posted.message_id)],
                    condition=Conversation.PK.exists() & due)
    except UpdateError as error:
        if was_condition_failure(error):
            return
        raise
    message = find_item(Message, messages_key(posted.conversation_id), message_sk(posted.at, posted.message_id))
    try:
        to, sender_name = _recipient(side, posted)
    except AgoraError:  # the account or seller is gone: nobody to mail
        logger.info("conversation mail skipped", extra={"conversation_id": posted.conversation_id})
        return
    enqueue_email(EmailMessage(
        template="conversation_message", to=to, dedupe_key=f"message:{posted.message_id}:notify",
        context={"subject": copy.subject, "from_seller": sender_name, "to_seller": side == "seller",
                 "excerpt": (message.text if message else "")[:MAIL_EXCERPT_CHARACTERS],
                 "conversation_id": posted.conversation_id, "unread": int(copy.unread)}))


# --- erasure --------------------------------------------------------------------------------

ERASED = "[erased]"


def on_account_erased(delivered: Delivered[AccountErased]) -> None:
    """What the buyer wrote, and the buyer's name on the sellers' copies, replaced; the sellers'
    own messages and the conversations' facts (order, dates, counts) stay. A Query of the
    buyer's copies, then per conversation a Query of its buyer messages and an update of each
    not yet erased; repeating it changes nothing new."""
    user_id = delivered.event.user_id
    for copy in Conversation.query(user_key(user_id), Conversation.SK.startswith(CONVERSATION_PREFIX),
                                   consistent_read=True):
        written = Message.query(messages_key(copy.conversation_id), Message.SK.startswith(MESSAGE_PREFIX),
                                filter_condition=Message.sender == "buyer", consistent_read=True)
        for message in written:
            if message.text != ERASED:
                message.update(actions=[Message.text.set(ERASED)])
        for side in SIDES:
            actions: list[Action] = [Conversation.last_message.set(ERASED)] if copy.last_sender == "buyer" else []
            if side == "seller":
                actions.append(Conversation.counterpart.set(""))
            if actions:
                copy_of(copy, side).update(actions=actions, condition=Conversation.PK.exists())
