"""What orders does when events and Stripe's payment webhooks arrive; registered when
app.py imports this module.

Each subscriber imports its domain module only when it runs (lazy, for cold start: app.py
imports this module, and ``import app`` loads no PynamoDB or Stripe). ``marker`` keeps the
names the once-markers had before events were typed, so an event redelivered across that
deploy is not handled twice."""

from __future__ import annotations

from typing import Any

from chalicelib.accounts.events import AccountErased
from chalicelib.events.registry import Delivered, subscribe
from chalicelib.orders.events import OrderPaid, PaymentStatusChanged, RefundRequested
from chalicelib.payments.webhooks import handles


@subscribe(OrderPaid, marker="chalicelib.orders.payouts:on_order_paid")
def on_order_paid(paid: Delivered[OrderPaid]) -> None:
    from chalicelib.orders import payouts  # lazy: cold start

    payouts.on_order_paid(paid)


@subscribe(OrderPaid)
def on_first_order_paid(paid: Delivered[OrderPaid]) -> None:
    """The buyer's first paid order with the marketplace is marked (once)."""
    from chalicelib.orders import first_orders  # lazy: cold start

    first_orders.on_order_paid(paid)


@subscribe(RefundRequested, marker="chalicelib.orders.refunds:on_refund_requested")
def on_refund_requested(requested: Delivered[RefundRequested]) -> None:
    from chalicelib.orders import refunds  # lazy: cold start

    refunds.on_refund_requested(requested)


@subscribe(PaymentStatusChanged)
def on_payment_status_changed(changed: Delivered[PaymentStatusChanged]) -> None:
    """A delayed payment that failed: the buyer learns the order is cancelled (a mail)."""
    if (changed.event.from_, changed.event.to) != ("processing", "cancelled"):
        return
    from chalicelib.orders import payment  # lazy: cold start

    payment.mail_payment_failed(changed.event)


@subscribe(AccountErased, marker="chalicelib.orders.privacy:on_account_erased")
def on_account_erased(erased: Delivered[AccountErased]) -> None:
    from chalicelib.orders import privacy  # lazy: cold start

    privacy.on_account_erased(erased)


@handles("payment_intent.succeeded", endpoint="platform",
         marker="chalicelib.orders.payment:on_payment_intent_succeeded")
def on_payment_intent_succeeded(event: dict[str, Any]) -> str | None:
    """The order is paid (or the payment recorded as not matching it: "refused")."""
    from chalicelib.orders import payment  # lazy: cold start

    return payment.on_payment_intent_succeeded(event)


@handles("payment_intent.payment_failed", endpoint="platform",
         marker="chalicelib.orders.payment:on_payment_intent_failed")
def on_payment_intent_failed(event: dict[str, Any]) -> str | None:
    """The order's stock goes back and the order is cancelled."""
    from chalicelib.orders import payment  # lazy: cold start

    return payment.on_payment_intent_failed(event)


@handles("payment_intent.processing", endpoint="platform")
def on_payment_intent_processing(event: dict[str, Any]) -> str | None:
    """A delayed payment (SEPA) awaits the bank: the order waits, beyond the payment window."""
    from chalicelib.orders import payment  # lazy: cold start

    return payment.on_payment_intent_processing(event)
