"""Order limits, the sub-order state machine and payment statuses. Pure, so request schemas
load without PynamoDB."""

from __future__ import annotations

from typing import Any

MAX_CART_LINES = 50
MAX_LINE_QUANTITY = 99

# Sub-order states and the moves between them; anything else is a 409.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending_payment": ("paid", "cancelled"),
    "paid": ("accepted", "cancelled"),
    "accepted": ("shipped", "cancelled"),
    "shipped": ("delivered",),
    "delivered": ("completed", "return_requested"),
    "completed": ("return_requested",),
    "return_requested": ("returned",),
    "returned": ("refunded",),
    "cancelled": (),
    "refunded": (),
}
STATUSES = tuple(TRANSITIONS)

# What happened to the money of an order (and of each seller's part of it). ``processing``:
# a delayed method (SEPA direct debit) was confirmed and the bank's verdict is awaited, days
# perhaps; the order stays ``pending_payment`` with its stock reserved, but no longer expires.
# ``cancelled``: the order ended before any payment was captured. A refund counts once agora has committed
# to it: it is requested in the same transaction as the cancellation or approved return and
# carried out from its event (:mod:`chalicelib.orders.refunds`).
PAYMENT_STATUSES = ("pending", "paid", "partially_refunded", "refunded", "cancelled", "processing")


def refund_status(captured: int, refunded: int) -> str:
    """``paid``, ``partially_refunded`` or ``refunded`` for money that was captured."""
    if refunded <= 0:
        return "paid"
    return "refunded" if refunded >= captured else "partially_refunded"


def order_payment_status(order: Any) -> str:
    """The order's stored payment status, or derived from its totals for an order written
    before it was stored (so no migration is needed)."""
    if order.payment_status:
        return str(order.payment_status)
    if order.status == "pending_payment":
        return "pending"
    if order.status == "cancelled":
        return "cancelled"
    return refund_status(int(order.amount_captured or 0), int(order.amount_refunded or 0))


def part_payment_status(sub: Any) -> str:
    """One seller's part, derived from the part alone: its refunded total moves only with the
    part's own version-conditioned writes, so nothing needs storing."""
    if sub.status == "pending_payment":
        return "pending"
    if sub.paid_at is None:
        return "cancelled"
    return refund_status(int(sub.total), int(sub.refunded or 0))
