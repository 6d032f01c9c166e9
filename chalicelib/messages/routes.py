"""HTTP routes of conversations (a buyer's ``/v1/me/conversations…``, a seller's
``/v1/seller/conversations…``), disputes (``/v1/admin/disputes…``) and seller performance.

The participant is always the principal (``own_user_id`` or ``own_seller_id``), never a
parameter: another party's conversation is a 404 like a missing one. Routes name their models
and views import the schemas module, so a cold start imports none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.accounts.personal_data import export_section
from chalicelib.core.http import operation

if TYPE_CHECKING:
    from chalicelib.core.auth import Principal
    from chalicelib.messages import schemas

bp = Blueprint(__name__)

TAGS = ("messages",)
BUYER: dict[str, Any] = {"tags": TAGS, "auth": "buyer"}
SELLER_READ: dict[str, Any] = {"tags": TAGS, "auth": "seller", "scopes": ("orders:read",)}
SELLER_WRITE: dict[str, Any] = {"tags": TAGS, "auth": "seller", "scopes": ("orders:write",)}
ADMIN: dict[str, Any] = {"tags": ("disputes",), "auth": "operator"}
PERFORMANCE: dict[str, Any] = {"tags": ("seller performance",)}

_ISOLATION = "Another party's conversation is 404 `conversation_not_found`, exactly like a missing one."
_MAIL = ("The other side gets a mail about a new message, at most one per conversation per 15 minutes while "
         "messages stay unread (reading starts afresh).")


def _author(principal: Principal) -> str:
    return principal.user_id or principal.key_id or ""


def _list(side: str, owner_id: str, query: schemas.PageQuery) -> schemas.ConversationPage:
    from chalicelib.messages import conversations, schemas

    return schemas.conversation_page(conversations.list_conversations(side, owner_id, cursor=query.cursor,
                                                                      limit=query.limit))


def _read(side: str, owner_id: str, conversation_id: str, query: schemas.PageQuery) -> schemas.ConversationWithMessages:
    from chalicelib.messages import conversations, schemas

    return schemas.with_messages(*conversations.read_conversation(side, owner_id, conversation_id,
                                                                  cursor=query.cursor, limit=query.limit))


def _post(side: str, owner_id: str, conversation_id: str, body: schemas.MessageIn,
          principal: Principal) -> schemas.Posted:
    from chalicelib.messages import conversations, schemas

    return schemas.posted(*conversations.post_message(side, owner_id, conversation_id, body.text,
                                                      author_id=_author(principal)))


def _mark_read(side: str, owner_id: str, conversation_id: str) -> schemas.ConversationOut:
    from chalicelib.messages import conversations, schemas

    return schemas.conversation_out(conversations.mark_read(side, owner_id, conversation_id))


# -- a buyer's ------------------------------------------------------------------------------------

@bp.route("/v1/me/conversations", methods=["GET"])
@operation("Your conversations with sellers, latest activity first, with unread counts", query="PageQuery",
           response="ConversationPage", **BUYER)
def buyer_conversations(query: schemas.PageQuery, principal: Principal) -> schemas.ConversationPage:
    return _list("buyer", principal.own_user_id, query)


@bp.route("/v1/me/conversations", methods=["POST"])
@operation("Write to a seller about your order or about a product", body="BuyerConversationStart",
           response="Posted", status=201, errors=(404, 422),
           description="One conversation per seller's part of an order and one per product before a sale: starting "
                       "one that exists adds the message to it. " + _MAIL, **BUYER)
def buyer_start(body: schemas.BuyerConversationStart, principal: Principal) -> schemas.Posted:
    from chalicelib.messages import conversations, schemas

    return schemas.posted(*conversations.start_as_buyer(
        principal.own_user_id, text=body.text, author_id=_author(principal), order_id=body.order_id,
        seller_id=body.seller_id, product_id=body.product_id))


@bp.route("/v1/me/conversations/{conversation_id}", methods=["GET"])
@operation("One of your conversations with its messages, newest first", query="PageQuery",
           response="ConversationWithMessages", errors=(404,), description=_ISOLATION, **BUYER)
def buyer_conversation(conversation_id: str, query: schemas.PageQuery,
                       principal: Principal) -> schemas.ConversationWithMessages:
    return _read("buyer", principal.own_user_id, conversation_id, query)


@bp.route("/v1/me/conversations/{conversation_id}/messages", methods=["POST"])
@operation("Write in one of your conversations", body="MessageIn", response="Posted", status=201, errors=(404,),
           description=_ISOLATION + " " + _MAIL, **BUYER)
def buyer_post(conversation_id: str, body: schemas.MessageIn, principal: Principal) -> schemas.Posted:
    return _post("buyer", principal.own_user_id, conversation_id, body, principal)


@bp.route("/v1/me/conversations/{conversation_id}/read", methods=["POST"])
@operation("Mark one of your conversations read (its unread count becomes 0)", response="ConversationOut",
           errors=(404,), description=_ISOLATION, **BUYER)
def buyer_mark_read(conversation_id: str, principal: Principal) -> schemas.ConversationOut:
    return _mark_read("buyer", principal.own_user_id, conversation_id)


@bp.route("/v1/me/conversations/{conversation_id}/dispute", methods=["POST"])
@operation("Open a dispute on a conversation about your order", body="DisputeIn", response="DisputeOut",
           status=201, errors=(404, 409),
           description="The operator may then read the conversation and resolves the case with a note, and maybe a "
                       "refund. One open dispute per conversation (409 `dispute_open`); a conversation about a "
                       "product is 409 `not_disputable`. " + _ISOLATION, **BUYER)
def open_dispute(conversation_id: str, body: schemas.DisputeIn, principal: Principal) -> schemas.DisputeOut:
    from chalicelib.messages import disputes, schemas

    return schemas.dispute_out(disputes.open_dispute(principal.own_user_id, conversation_id, body.reason))


# -- a seller's -----------------------------------------------------------------------------------

@bp.route("/v1/seller/conversations", methods=["GET"])
@operation("Your conversations with buyers, latest activity first, with unread counts", query="PageQuery",
           response="ConversationPage", **SELLER_READ)
def seller_conversations(query: schemas.PageQuery, principal: Principal) -> schemas.ConversationPage:
    return _list("seller", principal.own_seller_id, query)


@bp.route("/v1/seller/conversations", methods=["POST"])
@operation("Write to the buyer of one of your orders", body="SellerConversationStart", response="Posted",
           status=201, errors=(404,), description="Starting the order's conversation when it exists adds the "
                                                 "message to it. " + _MAIL, **SELLER_WRITE)
def seller_start(body: schemas.SellerConversationStart, principal: Principal) -> schemas.Posted:
    from chalicelib.messages import conversations, schemas

    return schemas.posted(*conversations.start_as_seller(principal.own_seller_id, order_id=body.order_id,
                                                         text=body.text, author_id=_author(principal)))


@bp.route("/v1/seller/conversations/{conversation_id}", methods=["GET"])
@operation("One of your conversations with its messages, newest first", query="PageQuery",
           response="ConversationWithMessages", errors=(404,), description=_ISOLATION, **SELLER_READ)
def seller_conversation(conversation_id: str, query: schemas.PageQuery,
                        principal: Principal) -> schemas.ConversationWithMessages:
    return _read("seller", principal.own_seller_id, conversation_id, query)


@bp.route("/v1/seller/conversations/{conversation_id}/messages", methods=["POST"])
@operation("Write in one of your conversations", body="MessageIn", response="Posted", status=201, errors=(404,),
           description=_ISOLATION + " Your first answer to a waiting buyer counts towards your first response "
                                    "time. " + _MAIL, **SELLER_WRITE)
def seller_post(conversation_id: str, body: schemas.MessageIn, principal: Principal) -> schemas.Posted:
    return _post("seller", principal.own_seller_id, conversation_id, body, principal)


@bp.route("/v1/seller/conversations/{conversation_id}/read", methods=["POST"])
@operation("Mark one of your conversations read (its unread count becomes 0)", response="ConversationOut",
           errors=(404,), description=_ISOLATION, **SELLER_WRITE)
def seller_mark_read(conversation_id: str, principal: Principal) -> schemas.ConversationOut:
    return _mark_read("seller", principal.own_seller_id, conversation_id)


# -- the operator's disputes ----------------------------------------------------------------------

@bp.route("/v1/admin/disputes", methods=["GET"])
@operation("Disputes: open ones oldest first, then resolved ones newest first", query="PageQuery",
           response="DisputePage", **ADMIN)
def list_disputes(query: schemas.PageQuery, principal: Principal) -> schemas.DisputePage:
    from chalicelib.messages import disputes, schemas

    return schemas.dispute_page(disputes.list_disputes(cursor=query.cursor, limit=query.limit))


@bp.route("/v1/admin/disputes/{dispute_id}", methods=["GET"])
@operation("A dispute with the conversation it is about and its messages, newest first", query="PageQuery",
           response="DisputeWithConversation", errors=(404,), **ADMIN)
def get_dispute(dispute_id: str, query: schemas.PageQuery, principal: Principal) -> schemas.DisputeWithConversation:
    from chalicelib.messages import disputes, schemas

    return schemas.dispute_with_conversation(*disputes.dispute_with_conversation(dispute_id, cursor=query.cursor,
                                                                                 limit=query.limit))


@bp.route("/v1/admin/disputes/{dispute_id}/resolve", methods=["POST"])
@operation("Resolve a dispute with a note and, optionally, a refund of lines or of an amount",
           body="DisputeResolution",
           response="DisputeOut", errors=(404, 409),
           description="A refund goes through the orders' refund path, as an approved return's does: requested with "
                       "the resolution, then carried out (Stripe refund, the seller's transfer reversed, ledger). "
                       "409 `dispute_resolved` when resolved before; 409 `refund_exceeds_captured` for more than "
                       "was bought (or paid) and not refunded.", **ADMIN)
def resolve_dispute(dispute_id: str, body: schemas.DisputeResolution,
                    principal: Principal) -> schemas.DisputeOut:
    from chalicelib.messages import disputes, schemas

    refund = body.refund
    lines = {line.line: line.quantity for line in refund.lines} if refund and refund.lines else None
    return schemas.dispute_out(disputes.resolve_dispute(dispute_id, operator_id=principal.user_id, note=body.note,
                                                        refund_lines=lines,
                                                        refund_amount=refund.amount if refund else None))


# -- seller performance ---------------------------------------------------------------------------

def _performance(seller_id: str) -> schemas.PerformanceOut:
    from chalicelib.core import clock
    from chalicelib.messages import performance, schemas

    today = clock.today()
    return schemas.performance_out(seller_id, today.isoformat(), performance.report(seller_id, today))


@bp.route("/v1/seller/performance", methods=["GET"])
@operation("Your performance over the last 30 and 90 days", response="PerformanceOut", auth="seller",
           scopes=("reports:read",), description="What each measure means: README, \"Seller performance\".",
           **PERFORMANCE)
def seller_performance(principal: Principal) -> schemas.PerformanceOut:
    return _performance(principal.own_seller_id)


@bp.route("/v1/admin/sellers/performance", methods=["GET"])
@operation("Sellers ranked by one performance measure", query="RankingQuery", response="RankingPage",
           auth="operator", description="From the nightly ranking (02:30 UTC; `ranked_at`): sellers without a value "
                                        "for the measure (nothing shipped, paid, delivered or answered in the "
                                        "window) are not listed.", **PERFORMANCE)
def seller_ranking(query: schemas.RankingQuery, principal: Principal) -> schemas.RankingPage:
    from chalicelib.messages import performance, schemas

    return schemas.ranking_page(*performance.ranking(query.sort, int(query.window), descending=query.order == "desc",
                                                     cursor=query.cursor, limit=query.limit))


@bp.route("/v1/admin/sellers/{seller_id}/performance", methods=["GET"])
@operation("A seller's performance over the last 30 and 90 days", response="PerformanceOut", auth="operator",
           errors=(404,), **PERFORMANCE)
def admin_seller_performance(seller_id: str, principal: Principal) -> schemas.PerformanceOut:
    from chalicelib.sellers.service import seller_for_operator

    return _performance(seller_for_operator(seller_id).seller_id)


@bp.route("/v1/admin/performance/settings", methods=["GET"])
@operation("The seller performance thresholds", response="PerformanceSettingsOut", auth="operator", **PERFORMANCE)
def performance_settings(principal: Principal) -> schemas.PerformanceSettingsOut:
    from chalicelib.messages import performance, schemas

    return schemas.settings_out(performance.settings())


@bp.route("/v1/admin/performance/settings", methods=["PUT"])
@operation("Set the seller performance thresholds", body="PerformanceSettingsFields",
           response="PerformanceSettingsOut", auth="operator",
           description="Checked nightly on each seller's 30-day figures: a crossed threshold raises "
                       "`seller.performance_warning` (once per seller and day) and, with `auto_suspend`, suspends "
                       "the seller. A threshold left out (null) is not checked.", **PERFORMANCE)
def put_performance_settings(body: schemas.PerformanceSettingsFields,
                             principal: Principal) -> schemas.PerformanceSettingsOut:
    from chalicelib.messages import performance, schemas

    return schemas.settings_out(performance.update_settings(body.model_dump()))


@export_section("conversations")
def conversations_in_export(user_id: str) -> list[dict[str, Any]]:
    """The buyer's conversations in their data export (GET /v1/me/export), each with every message."""
    from chalicelib.messages import conversations, schemas  # lazy: PynamoDB, not at cold start

    return [{**schemas.conversation_out(copy).model_dump(mode="json"),
             "items": [schemas.message_out(m).model_dump(mode="json") for m in messages]}
            for copy, messages in conversations.buyers_conversations(user_id)]
