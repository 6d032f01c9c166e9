"""What happens to orders: placed, paid, moved by their sellers, cancelled, refunded.

Consumers: orders itself pays sellers out (``order.paid``) and carries refunds out
(``order.refund_requested``); customers makes the buyer each paid seller's customer
(``order.paid``, subscribed by type name, as customers sits below orders). The rest are
for the retention packages (mails, loyalty, analytics) as they arrive. Amounts are minor
units of ``currency``."""

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.events.registry import DomainEvent


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


class SellerShare(_Part):
    """What the buyer pays one seller of the order (that seller's lines)."""

    seller_id: str
    amount: int
    currency: str


class OrderedProduct(_Part):
    product_id: str
    seller_id: str
    quantity: int


class OrderPlaced(DomainEvent):
    """A checkout reserved stock and wrote the order; payment follows."""

    event_type = "order.placed"

    order_id: str
    user_id: str
    guest: bool
    total: int
    currency: str
    sellers: list[SellerShare]
    products: list[OrderedProduct]


class OrderPaid(DomainEvent):
    """Stripe captured the buyer's payment for the whole order."""

    event_type = "order.paid"

    order_id: str
    user_id: str
    paid_at: str  # ISO 8601 with zone
    sellers: list[SellerShare]


class OrderCancelled(DomainEvent):
    """An unpaid order ended (payment failed or expired, or the buyer cancelled it); its
    stock went back."""

    event_type = "order.cancelled"

    order_id: str
    user_id: str
    reason: str


class PaymentSeen(_Part):
    payment_intent_id: str | None
    amount: int
    currency: str


class PaymentMismatch(DomainEvent):
    """A payment that does not match its order was recorded and not applied: for an operator."""

    event_type = "order.payment_mismatch"

    order_id: str
    user_id: str
    mismatch: list[str]  # what differs: payment_intent, amount, currency, status
    received: PaymentSeen
    expected: PaymentSeen
    order_status: str
    at: str


class RefundRequested(DomainEvent):
    """A cancellation or an approved return owes the buyer money: orders carries it out
    (Stripe refund, the seller's transfer reversed, ledger)."""

    event_type = "order.refund_requested"

    order_id: str
    user_id: str
    seller_id: str
    refund_id: str
    amount: int
    currency: str


class PaymentStatusChanged(DomainEvent):
    """The order's payment status moved (paid, partially refunded, refunded)."""

    event_type = "order.payment_status_changed"

    order_id: str
    user_id: str
    from_: str = Field(alias="from")
    to: str
    amount_refunded: int
    currency: str
    at: str


class OrderStatusChanged(DomainEvent):
    """One seller's part of an order moved (shipped, delivered, returned, refunded...)."""

    event_type = "order.status_changed"

    order_id: str
    seller_id: str
    user_id: str
    from_: str = Field(alias="from")
    to: str
    at: str
    reason: str | None = None  # a return's reason
    refund_id: str | None = None  # a refund's, with the amount refunded
    amount: int | None = None
