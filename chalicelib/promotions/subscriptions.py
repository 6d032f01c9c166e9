"""What promotions adds to checkout and does when events arrive; registered when app.py
imports this module.

Light, for the cold start: the checkout contributor is named by path and loaded by
orders when checkout first uses it; the subscriber imports its module only when it runs."""

from __future__ import annotations

from chalicelib.events.registry import Delivered, subscribe
from chalicelib.orders.contributor_paths import register_contributor_later
from chalicelib.orders.events import OrderPaid, OrderStatusChanged

register_contributor_later("chalicelib.promotions.checkout:PromotionsContributor")


@subscribe(OrderPaid)
def on_order_paid(paid: Delivered[OrderPaid]) -> None:
    """Count the order in its promotions' orders and revenue (once)."""
    from chalicelib.promotions import stats  # lazy: cold start

    stats.on_order_paid(paid)


@subscribe(OrderStatusChanged)
def on_order_status_changed(changed: Delivered[OrderStatusChanged]) -> None:
    """A paid order cancelled part by part gives its promotions' uses back with its last part."""
    from chalicelib.promotions import checkout  # lazy: cold start

    checkout.give_use_back_when_cancelled(changed.event)
