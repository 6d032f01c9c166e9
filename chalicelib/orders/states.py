"""Order limits and the sub-order state machine. Pure, so request schemas load without PynamoDB."""

from __future__ import annotations

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
