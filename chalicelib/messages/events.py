"""What happens in conversations, disputes and to sellers' performance.

Consumers: messages itself mails the other side of a new message and keeps the sellers'
performance counters (first response times, disputes); ``seller.performance_warning`` is for
the operator's tools and mails."""

from pydantic import BaseModel, ConfigDict

from chalicelib.events.registry import DomainEvent


class PerformanceFigures(BaseModel):
    """A seller's 30-day measures as the warning saw them (null: nothing to measure)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    on_time_shipping_rate_bp: int | None = None
    cancellation_rate_bp: int | None = None
    return_rate_bp: int | None = None
    median_first_response_minutes: int | None = None
    open_disputes: int | None = None


class MessagePosted(DomainEvent):
    """A buyer or a seller wrote in a conversation. ``response_seconds``: set on the seller's
    first answer to a buyer's waiting message (the first response time)."""

    event_type = "message.posted"

    conversation_id: str
    message_id: str
    kind: str  # order | product
    sender: str  # buyer | seller
    user_id: str
    seller_id: str
    order_id: str | None = None
    product_id: str | None = None
    at: str
    response_seconds: int | None = None


class DisputeOpened(DomainEvent):
    """A buyer opened a case on a sub-order's conversation; the operator may read it now."""

    event_type = "dispute.opened"

    dispute_id: str
    conversation_id: str
    order_id: str
    seller_id: str
    user_id: str
    reason: str
    at: str


class DisputeResolved(DomainEvent):
    """The operator closed a case, with a note and maybe a refund (carried out by orders from
    its own ``order.refund_requested``)."""

    event_type = "dispute.resolved"

    dispute_id: str
    conversation_id: str
    order_id: str
    seller_id: str
    user_id: str
    note: str
    refund_id: str | None = None
    refund_amount: int | None = None
    currency: str | None = None
    at: str


class SellerPerformanceWarning(DomainEvent):
    """A seller's 30-day figures crossed an operator threshold (once per seller and day);
    ``suspended`` when the marketplace suspends such sellers automatically."""

    event_type = "seller.performance_warning"

    seller_id: str
    day: str
    breaches: list[str]  # the measures past their threshold
    figures: PerformanceFigures
    suspended: bool = False
