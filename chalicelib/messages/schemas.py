"""Request and response shapes of conversations, disputes and seller performance."""

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StringConstraints, model_validator

from chalicelib.core.pagination import DEFAULT_LIMIT, Cursor, Limit
from chalicelib.core.schemas import MoneySchema, PageSchema, QuerySchema, RequestSchema, ResponseSchema, WholeNumber

MAX_MESSAGE = 2_000
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1_000)]
Id = Annotated[str, Field(min_length=1, max_length=64)]
Measure = Literal["on_time_shipping_rate_bp", "cancellation_rate_bp", "return_rate_bp",
                  "median_first_response_minutes", "open_disputes"]
Side = Literal["buyer", "seller"]


class PageQuery(QuerySchema):
    cursor: Cursor | None = Field(default=None, description="`next_cursor` of the previous page.")
    limit: Limit = DEFAULT_LIMIT


class MessageIn(RequestSchema):
    text: Text = Field(description=f"1-{MAX_MESSAGE} characters (white space around it is dropped).")


class BuyerConversationStart(RequestSchema):
    """Either a seller's part of one of your orders (`order_id` and `seller_id`) or a product you
    consider buying (`product_id`)."""

    order_id: Id | None = None
    seller_id: Id | None = None
    product_id: Id | None = None
    text: Text = Field(description="The first message (or the next one, when the conversation exists).")

    @model_validator(mode="after")
    def _about_one_thing(self) -> "BuyerConversationStart":
        by_order = self.order_id is not None and self.seller_id is not None
        if by_order == (self.product_id is not None) or (self.order_id is None) != (self.seller_id is None):
            raise ValueError("give either order_id and seller_id, or product_id")
        return self


class SellerConversationStart(RequestSchema):
    order_id: Id = Field(description="Your part of this order.")
    text: Text = Field(description="The first message (or the next one, when the conversation exists).")


class DisputeIn(RequestSchema):
    reason: Reason = Field(description="What went wrong; the operator reads it with the conversation.")


class RefundLine(RequestSchema):
    line: WholeNumber = Field(ge=1)
    quantity: WholeNumber = Field(ge=1, le=1_000)


class DisputeRefund(RequestSchema):
    """Either `lines` or `amount`."""

    lines: list[RefundLine] | None = Field(default=None, min_length=1, max_length=100, description=(
        "Units per line of the seller's part to refund: each gives back what the buyer paid for it, through the "
        "orders' refund path (Stripe refund, the seller's transfer reversed, ledger), as a return would."))
    amount: WholeNumber | None = Field(default=None, ge=1, le=100_000_000, description=(
        "Instead of lines: an amount in minor units of the order's currency (e.g. a partial refund for a damaged "
        "item), split over what is left to refund of the part's lines and shipping in proportion; its VAT, the "
        "marketplace fee and the seller's transfer follow in proportion. No unit counts as refunded."))

    @model_validator(mode="after")
    def _lines_or_amount(self) -> "DisputeRefund":
        if (self.lines is None) == (self.amount is None):
            raise ValueError("give either lines or amount")
        return self


class DisputeResolution(RequestSchema):
    note: Reason = Field(description="The decision, for the buyer and the seller.")
    refund: DisputeRefund | None = None


class MessageOut(ResponseSchema):
    message_id: str
    sender: Side
    text: str
    at: str


class DisputeSummary(ResponseSchema):
    dispute_id: str
    status: Literal["open", "resolved"]
    reason: str | None = Field(description="The buyer's, as the dispute was opened.")
    note: str | None = Field(description="The operator's resolution; null while open.")


class ConversationOut(ResponseSchema):
    conversation_id: str
    kind: Literal["order", "product"] = Field(description="About a seller's part of an order, or a product.")
    order_id: str | None
    seller_id: str
    product_id: str | None
    subject: str
    counterpart: str = Field(description="The other side's name: the seller's shop, or the buyer's name.")
    unread: int = Field(description="Messages from the other side you have not marked read.")
    messages: int
    last_message: str = Field(description="The start of the latest message.")
    last_sender: Side | None
    last_message_at: str
    read_at: str | None
    dispute: DisputeSummary | None


class ConversationPage(PageSchema):
    items: list[ConversationOut]


class ConversationWithMessages(PageSchema):
    """A page of the conversation's messages, with the conversation beside it."""

    conversation: ConversationOut
    items: list[MessageOut] = Field(description="The messages, newest first; older ones with ?cursor=next_cursor.")


class Posted(ResponseSchema):
    conversation: ConversationOut
    message: MessageOut


class DisputeOut(ResponseSchema):
    dispute_id: str
    conversation_id: str
    order_id: str
    seller_id: str
    user_id: str
    reason: str
    status: Literal["open", "resolved"]
    opened_at: str
    resolved_at: str | None
    note: str | None
    refund_id: str | None
    refund: MoneySchema | None


class DisputePage(PageSchema):
    items: list[DisputeOut] = Field(description="Open disputes oldest first, then resolved ones newest first.")


class DisputeWithConversation(PageSchema):
    """A page of the disputed conversation's messages, with the dispute and the conversation beside it."""

    dispute: DisputeOut
    conversation: ConversationOut | None
    items: list[MessageOut] = Field(description="The messages, newest first; older ones with ?cursor=next_cursor.")


class Measures(ResponseSchema):
    on_time_shipping_rate_bp: int | None = Field(description=(
        "Sub-orders shipped in the window within the handling time after payment, per 10,000 shipped."))
    cancellation_rate_bp: int | None = Field(description=(
        "Sub-orders the seller cancelled after payment in the window, per 10,000 sub-orders paid in it."))
    return_rate_bp: int | None = Field(description=(
        "Return requests in the window, per 10,000 sub-orders delivered in it."))
    median_first_response_minutes: int | None = Field(description=(
        "Median time from a buyer's waiting message to the seller's first answer, as the upper bound of its "
        "bucket (15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320 minutes; 4321: longer). Conversations still "
        "unanswered count at their age now (see `counts.unanswered`)."))
    open_disputes: int = Field(description="Open now (not windowed).")
    average_rating: float | None = Field(description=(
        "Mean overall rating (two decimals) of the seller reviews published in the window that count now "
        "(not pending, hidden or deleted); null without any."))


class Counts(ResponseSchema):
    paid: int
    shipped: int
    shipped_on_time: int
    cancelled_by_seller: int
    delivered: int
    returns: int
    disputes_opened: int
    first_responses: int
    unanswered: int = Field(description=(
        "Conversations still waiting for the seller's first answer (begun in the last 90 days, the same in both "
        "windows): in the median at their age now."))
    ratings: int = Field(description="Seller reviews behind `average_rating`.")
    rating_sum: int = Field(description="The sum of their overall ratings.")


class WindowFigures(ResponseSchema):
    days: int
    measures: Measures
    counts: Counts


class PerformanceOut(ResponseSchema):
    seller_id: str
    as_of: str = Field(description="The UTC day the windows end with (inclusive).")
    windows: list[WindowFigures] = Field(description="30 and 90 days.")


class RankingQuery(QuerySchema):
    sort: Measure = "on_time_shipping_rate_bp"
    window: Literal["30", "90"] = "30"
    order: Literal["asc", "desc"] = "desc"
    cursor: Cursor | None = Field(default=None, description="`next_cursor` of the previous page.")
    limit: Limit = DEFAULT_LIMIT


class RankedSeller(ResponseSchema):
    seller_id: str
    value: int


class RankingPage(PageSchema):
    ranked_at: str | None = Field(description="When the nightly ranking was made; null before the first.")
    items: list[RankedSeller]


class PerformanceSettingsFields(RequestSchema):
    min_on_time_rate_bp: WholeNumber | None = Field(default=None, ge=0, le=10_000)
    max_cancellation_rate_bp: WholeNumber | None = Field(default=None, ge=0, le=10_000)
    max_return_rate_bp: WholeNumber | None = Field(default=None, ge=0, le=10_000)
    max_median_response_minutes: WholeNumber | None = Field(default=None, ge=1, le=10_000)
    max_open_disputes: WholeNumber | None = Field(default=None, ge=0, le=10_000)
    min_orders: WholeNumber = Field(default=10, ge=1, le=100_000, description=(
        "A rate is judged only when its denominator (shipped, paid, delivered) has at least this many."))
    auto_suspend: StrictBool = Field(default=False, description=(
        "Suspend a seller whose 30-day figures cross a threshold (through the usual suspension, with the "
        "breaches as its reason). Off by default: a warning event only."))
    handling_days: WholeNumber = Field(default=2, ge=1, le=30, description=(
        "The handling time of sellers without a default shipping profile."))


class PerformanceSettingsOut(ResponseSchema):
    min_on_time_rate_bp: int | None
    max_cancellation_rate_bp: int | None
    max_return_rate_bp: int | None
    max_median_response_minutes: int | None
    max_open_disputes: int | None
    min_orders: int
    auto_suspend: bool
    handling_days: int
    updated_at: str | None
    ranked_at: str | None


# --- shaping ----------------------------------------------------------------------------------

def conversation_out(copy: Any) -> ConversationOut:
    dispute = (DisputeSummary(dispute_id=copy.dispute_id, status=copy.dispute_status, reason=copy.dispute_reason,
                              note=copy.dispute_note) if copy.dispute_id else None)
    return ConversationOut(conversation_id=copy.conversation_id, kind=copy.kind, order_id=copy.order_id,
                           seller_id=copy.seller_id, product_id=copy.product_id, subject=copy.subject,
                           counterpart=copy.counterpart or "", unread=int(copy.unread or 0),
                           messages=int(copy.messages or 0), last_message=copy.last_message or "",
                           last_sender=copy.last_sender, last_message_at=copy.last_message_at,
                           read_at=copy.read_at, dispute=dispute)


def message_out(message: Any) -> MessageOut:
    return MessageOut(message_id=message.message_id, sender=message.sender, text=message.text, at=message.at)


def conversation_page(page: Any) -> ConversationPage:
    return ConversationPage(items=[conversation_out(c) for c in page.items], next_cursor=page.next_cursor)


def with_messages(copy: Any, page: Any) -> ConversationWithMessages:
    return ConversationWithMessages(conversation=conversation_out(copy),
                                    items=[message_out(m) for m in page.items], next_cursor=page.next_cursor)


def posted(copy: Any, message: Any) -> Posted:
    return Posted(conversation=conversation_out(copy), message=message_out(message))


def dispute_out(dispute: Any) -> DisputeOut:
    refund = (MoneySchema(amount=int(dispute.refund_amount), currency=dispute.currency)
              if dispute.refund_amount is not None else None)
    return DisputeOut(dispute_id=dispute.dispute_id, conversation_id=dispute.conversation_id,
                      order_id=dispute.order_id, seller_id=dispute.seller_id, user_id=dispute.user_id,
                      reason=dispute.reason, status=dispute.status, opened_at=dispute.opened_at,
                      resolved_at=dispute.resolved_at, note=dispute.note, refund_id=dispute.refund_id, refund=refund)


def dispute_page(page: Any) -> DisputePage:
    return DisputePage(items=[dispute_out(d) for d in page.items], next_cursor=page.next_cursor)


def dispute_with_conversation(dispute: Any, copy: Any, page: Any) -> DisputeWithConversation:
    return DisputeWithConversation(dispute=dispute_out(dispute),
                                   conversation=conversation_out(copy) if copy is not None else None,
                                   items=[message_out(m) for m in page.items], next_cursor=page.next_cursor)


def performance_out(seller_id: str, as_of: str, figures: Any) -> PerformanceOut:
    windows = []
    for window, figure in sorted(figures.items()):
        counts = {**figure.counts, "first_responses": sum(figure.responses.values()),
                  "unanswered": sum(figure.waiting.values())}
        measures = Measures(**figure.measures(), average_rating=figure.average_rating())
        windows.append(WindowFigures(days=window, measures=measures, counts=Counts(**counts)))
    return PerformanceOut(seller_id=seller_id, as_of=as_of, windows=windows)


def ranking_page(ranked_at: str | None, page: Any) -> RankingPage:
    return RankingPage(ranked_at=ranked_at, items=[RankedSeller(seller_id=r.seller_id, value=int(r.value))
                                                   for r in page.items], next_cursor=page.next_cursor)


def settings_out(current: Any) -> PerformanceSettingsOut:
    def number(value: Any) -> int | None:
        return None if value is None else int(value)

    return PerformanceSettingsOut(
        min_on_time_rate_bp=number(current.min_on_time_rate_bp),
        max_cancellation_rate_bp=number(current.max_cancellation_rate_bp),
        max_return_rate_bp=number(current.max_return_rate_bp),
        max_median_response_minutes=number(current.max_median_response_minutes),
        max_open_disputes=number(current.max_open_disputes), min_orders=int(current.min_orders or 10),
        auto_suspend=current.auto_suspend == "yes", handling_days=int(current.handling_days or 2),
        updated_at=current.updated_at, ranked_at=current.ranked_at)
