"""Disputes: a buyer opens a case on a sub-order's conversation, the operator resolves it.

Opening one lets the operator read that conversation (the dispute names it; without one the
operator has no way in). Resolution is a note and, optionally, a refund of lines or of an
amount (``plan_amount_refund``: split over the part's lines and shipping in proportion), requested
through the orders' own refund path (:func:`chalicelib.orders.lifecycle.plan_refund`,
``add_refund``, ``add_refunded_total``) in the resolution's transaction; orders carries it out
from its ``order.refund_requested`` event like any other refund (Stripe refund, the seller's
transfer reversed, ledger). A dispute refund does not move the sub-order's status.

Round trips: open GetItem of the buyer's copy + TransactWriteItems (2); list 1-2 Queries;
read GetItem + GetItem of the seller's copy + Query of messages (3); resolve GetItem (+ GetItem
order + BatchGetItem sub-order with a refund) + TransactWriteItems (2-4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, Stale, find_item, get_item, retrying
from chalicelib.core.errors import BadRequest, Code, Conflict, NotFound
from chalicelib.core.ids import has_prefix, new_id
from chalicelib.core.keys import (
    DISPUTE_SK,
    conversation_sk,
    dispute_key,
    disputes_index_key,
    seller_key,
    timed_sort_key,
)
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.events.service import new_event
from chalicelib.messages.conversations import copy_of, get_copy, messages_page
from chalicelib.messages.events import DisputeOpened, DisputeResolved
from chalicelib.messages.models import Conversation, Dispute, Message
from chalicelib.orders.lifecycle import (
    add_refund,
    add_refunded_total,
    get_order,
    get_sub_order,
    plan_amount_refund,
    plan_refund,
)
from chalicelib.orders.models import SubOrder
from chalicelib.orders.transitions import line_state_of

OPEN, RESOLVED = "open", "resolved"


def dispute_not_found() -> NotFound:
    return NotFound("No such dispute.", code=Code.DISPUTE_NOT_FOUND)


def get_dispute(dispute_id: str) -> Dispute:
    if not has_prefix(dispute_id, "dsp"):
        raise dispute_not_found()
    return get_item(Dispute, dispute_key(dispute_id), DISPUTE_SK, dispute_not_found(), consistent_read=True)


def open_dispute(user_id: str, conversation_id: str, reason: str) -> Dispute:
    """A case on the buyer's conversation about a sub-order; one open at a time."""

    def attempt() -> Dispute:
        copy = get_copy("buyer", user_id, conversation_id)
        if copy.kind != "order" or copy.order_id is None:
            raise Conflict("Only a conversation about an order can be disputed.", code=Code.NOT_DISPUTABLE)
        if copy.dispute_status == OPEN:
            raise Conflict("This conversation has an open dispute already.", code=Code.DISPUTE_OPEN,
                           details={"dispute_id": copy.dispute_id})
        at = clock.stamp()
        dispute_id = new_id("dsp")
        dispute = Dispute(dispute_key(dispute_id), DISPUTE_SK, dispute_id=dispute_id, conversation_id=conversation_id,
                          order_id=copy.order_id, seller_id=copy.seller_id, user_id=user_id, reason=reason,
                          status=OPEN, opened_at=at, GSI1PK=disputes_index_key(OPEN),
                          GSI1SK=timed_sort_key(at, dispute_id))
        marks: list[Action] = [Conversation.dispute_id.set(dispute_id), Conversation.dispute_status.set(OPEN),
                               Conversation.dispute_reason.set(reason), Conversation.dispute_note.remove()]
        transaction = LabelledTransaction()
        transaction.put("dispute", dispute, Dispute.PK.does_not_exist())
        transaction.update("buyer", copy_of(copy, "buyer"), marks,
                           Conversation.PK.exists() & (Conversation.dispute_status.does_not_exist()
                                                       | (Conversation.dispute_status != OPEN)))
        transaction.update("seller", copy_of(copy, "seller"), marks, Conversation.PK.exists())
        transaction.put("event", new_event(DisputeOpened(
            dispute_id=dispute_id, conversation_id=conversation_id, order_id=copy.order_id, seller_id=copy.seller_id,
            user_id=user_id, reason=reason, at=at)))
        if transaction.commit():
            raise Stale
        return dispute

    return retrying(attempt, what="conversation")


_OPEN_SCOPE, _RESOLVED_SCOPE = "admin/disputes/open", "admin/disputes/resolved"
_RESOLVED_FROM_START = "resolved.start"  # the cursor of a page the open disputes filled exactly


def _continues(cursor: str | None) -> tuple[str, dict[str, Any] | None]:
    """Which list a cursor continues, and where (each list's cursors are signed for its own scope)."""
    if cursor is None:
        return OPEN, None
    if cursor == _RESOLVED_FROM_START:
        return RESOLVED, None
    try:
        return OPEN, decode_cursor(cursor, scope=_OPEN_SCOPE)
    except BadRequest:
        return RESOLVED, decode_cursor(cursor, scope=_RESOLVED_SCOPE)


def list_disputes(*, cursor: str | None, limit: int) -> Page[Dispute]:
    """Open disputes oldest first, then resolved ones newest first: a Query of each status's
    GSI1 key (1-2 Queries a page)."""
    phase, start = _continues(cursor)
    items: list[Dispute] = []
    if phase == OPEN:
        results = Dispute.by_status.query(disputes_index_key(OPEN), scan_index_forward=True, limit=limit,
                                          last_evaluated_key=start)
        items = list(results)
        if results.last_evaluated_key:
            return Page(items, encode_cursor(results.last_evaluated_key, scope=_OPEN_SCOPE))
        start = None
    room = limit - len(items)
    if room <= 0:
        return Page(items, _RESOLVED_FROM_START)
    results = Dispute.by_status.query(disputes_index_key(RESOLVED), scan_index_forward=False, limit=room,
                                      last_evaluated_key=start)
    items.extend(results)
    return Page(items, encode_cursor(results.last_evaluated_key, scope=_RESOLVED_SCOPE))


def dispute_with_conversation(dispute_id: str, *, cursor: str | None,
                              limit: int) -> tuple[Dispute, Conversation | None, Page[Message]]:
    """The dispute, the conversation it names (the seller's copy: subject, parties) and a page of
    its messages, newest first."""
    dispute = get_dispute(dispute_id)
    copy = find_item(Conversation, seller_key(dispute.seller_id), conversation_sk(dispute.conversation_id))
    return dispute, copy, messages_page(dispute.conversation_id, cursor=cursor, limit=limit)


def _refund(transaction: LabelledTransaction, dispute: Dispute, quantities: Mapping[int, int] | None,
            amount: int | None, at: str) -> tuple[str, int, str] | None:
    """The refund of ``quantities`` per line, or of ``amount`` with no units, requested as orders
    requests any refund; the sub-order's counters move with it (conditioned on its version, as
    every move is)."""
    order = get_order(dispute.user_id, dispute.order_id)
    sub = get_sub_order(dispute.seller_id, dispute.order_id)
    plan = (plan_amount_refund(order, sub, amount, "dispute", at=at) if amount is not None
            else plan_refund(order, sub, quantities, "dispute", at=at))
    if plan is None:
        raise Conflict("Nothing of these lines was paid and is left to refund.", code=Code.REFUND_EXCEEDS_CAPTURED)
    amount = int(plan.refund.amount)
    counters: list[Action] = [SubOrder.version.add(1), SubOrder.refunded.add(amount)]
    if sub.line_state is not None:  # lines kept apart: only their counters move
        counters.append(SubOrder.line_state.set(line_state_of(plan.lines)))
    else:
        counters.append(SubOrder.lines.set(plan.lines))
    if plan.shipping_refunded != int(sub.shipping_refunded or 0):
        counters.append(SubOrder.shipping_refunded.set(plan.shipping_refunded))
    transaction.update(f"sub:{sub.seller_id}", sub, counters, SubOrder.version == sub.version)
    add_refunded_total(transaction, order, add_refund(transaction, plan), at=at)
    return plan.refund.refund_id, amount, str(plan.refund.currency)


def resolve_dispute(dispute_id: str, *, operator_id: str | None, note: str,
                    refund_lines: Mapping[int, int] | None = None, refund_amount: int | None = None) -> Dispute:
    """Close the case with a note, optionally refunding lines of the sub-order. Everything in one
    transaction conditioned on the dispute being open, so a refund is requested at most once."""

    def attempt() -> Dispute:
        dispute = get_dispute(dispute_id)
        if dispute.status != OPEN:
            raise Conflict("This dispute was resolved already.", code=Code.DISPUTE_RESOLVED,
                           details={"resolved_at": dispute.resolved_at})
        at = clock.stamp()
        transaction = LabelledTransaction()
        refund = (_refund(transaction, dispute, refund_lines, refund_amount, at)
                  if refund_lines or refund_amount is not None else None)
        values: dict[str, Any] = {"status": RESOLVED, "resolved_at": at, "note": note, "resolved_by": operator_id,
                                  "GSI1PK": disputes_index_key(RESOLVED), "GSI1SK": timed_sort_key(at, dispute_id)}
        if refund is not None:
            values.update(refund_id=refund[0], refund_amount=refund[1], currency=refund[2])
        actions: list[Action] = [getattr(Dispute, name).set(value) for name, value in values.items()
                                 if value is not None]
        transaction.update("dispute", dispute, actions, Dispute.status == OPEN)
        conversation = Conversation(conversation_id=dispute.conversation_id, user_id=dispute.user_id,
                                    seller_id=dispute.seller_id)
        for side in ("buyer", "seller"):
            transaction.update(f"copy:{side}", copy_of(conversation, side),
                               [Conversation.dispute_status.set(RESOLVED), Conversation.dispute_note.set(note)],
                               Conversation.PK.exists())
        transaction.put("event", new_event(DisputeResolved(
            dispute_id=dispute_id, conversation_id=dispute.conversation_id, order_id=dispute.order_id,
            seller_id=dispute.seller_id, user_id=dispute.user_id, note=note, at=at,
            **({"refund_id": refund[0], "refund_amount": refund[1], "currency": refund[2]} if refund else {}))))
        if transaction.commit():
            raise Stale
        for name, value in values.items():
            setattr(dispute, name, value)
        return dispute

    return retrying(attempt, what="dispute")
