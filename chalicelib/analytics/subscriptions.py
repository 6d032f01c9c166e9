"""What analytics does when orders' events arrive; registered when app.py imports this module.

Paid orders and refunds change the customers' summaries (:mod:`chalicelib.analytics.summaries`).
``order.cancelled`` is not subscribed: it ends only unpaid orders, which never counted; a
paid part that is cancelled or returned is refunded, and ``order.refund_requested`` says so
(a refund counts once agora has committed to it, as in the order's payment status). Each
subscriber imports the domain module only when it runs (lazy, for cold start)."""

from __future__ import annotations

from chalicelib.events.registry import Delivered, subscribe
from chalicelib.orders.events import OrderPaid, RefundRequested


@subscribe(OrderPaid)
def on_order_paid(paid: Delivered[OrderPaid]) -> None:
    from chalicelib.analytics import summaries  # lazy: cold start
    from chalicelib.core import clock

    event = paid.event
    summaries.record_paid(event.user_id, event.order_id, clock.parse(event.paid_at).date(),
                          [summaries.Share(s.seller_id, s.amount, s.currency) for s in event.sellers])


@subscribe(RefundRequested)
def on_refund_requested(requested: Delivered[RefundRequested]) -> None:
    from chalicelib.analytics import summaries  # lazy: cold start

    event = requested.event
    summaries.record_refund(event.user_id, event.order_id, event.refund_id, event.seller_id, event.amount,
                            event.currency)
