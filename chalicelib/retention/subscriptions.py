"""What retention does when events arrive; registered when app.py imports this module.

The subscriber imports its domain module only when it runs (lazy, for cold start: app.py
imports this module, and ``import app`` loads no PynamoDB or Jinja2). ``marker`` keeps the
name the once-markers had before events were typed, so an event redelivered across that
deploy is not handled twice."""

from __future__ import annotations

from chalicelib.events.registry import Delivered, subscribe
from chalicelib.orders.events import OrderPaid, OrderStatusChanged, RefundRequested
from chalicelib.platform.events import PipelineCheck


@subscribe(PipelineCheck, marker="chalicelib.retention.service:on_pipeline_check")
def on_pipeline_check(check: Delivered[PipelineCheck]) -> None:
    """Mail the check's address, once per check."""
    from chalicelib.retention import service  # lazy: cold start

    service.on_pipeline_check(check)


@subscribe(OrderPaid)
def on_order_paid(paid: Delivered[OrderPaid]) -> None:
    """The buyer's order confirmation and each seller's new-order mail."""
    from chalicelib.retention import order_mails  # lazy: cold start

    order_mails.on_order_paid(paid)


@subscribe(OrderStatusChanged)
def on_order_status_changed(changed: Delivered[OrderStatusChanged]) -> None:
    """Shipped, delivered, return approved (to the buyer); return requested (to the seller)."""
    from chalicelib.retention import order_mails  # lazy: cold start

    order_mails.on_order_status_changed(changed)


@subscribe(RefundRequested)
def on_refund_requested(requested: Delivered[RefundRequested]) -> None:
    """Refund issued, to the buyer, once the refund is carried out."""
    from chalicelib.retention import order_mails  # lazy: cold start

    order_mails.on_refund_requested(requested)
