"""The order's payment: Stripe's verdict (webhooks) and the end of unpaid reservations.

Stripe's events are triggers, not facts to copy: each handler re-reads the order and only
moves it forward (``pending_payment`` -> ``paid`` or ``cancelled``) under a condition, so a
late or repeated event changes nothing. The webhook receiver already deduplicates on the
event id (:mod:`chalicelib.payments.webhooks`).

Paid: one TransactWriteItems moves the order and every sub-order to ``paid``, writes the
ledger (the charge; per seller its gross share and the marketplace fee), adds the
sellers' sales for volume tiers and records ``order.paid`` — whose subscribers make the
buyer each seller's customer and transfer each seller's share
(:mod:`chalicelib.orders.payouts`). Unpaid: the order and sub-orders are cancelled and the
stock goes back, in one transaction.

Reservations run out after ``checkout.PAYMENT_WINDOW``: :func:`release_expired` (scheduled)
Queries the payment-due index per day bucket — orders leave it when paid or cancelled —
cancels each PaymentIntent first and releases only what Stripe confirms is unpaid (a
payment that succeeded meanwhile is recorded as paid instead, even if its webhook is lost).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.catalog.stock import release_writes, stock_changed_event
from chalicelib.core.db import LabelledTransaction
from chalicelib.core.logging import logger
from chalicelib.core.money import Money
from chalicelib.events.service import new_event
from chalicelib.orders.lifecycle import holds_of, move, now_stamp, sub_orders_of
from chalicelib.orders.models import Order, SubOrder, order_sk, payment_due_key, user_key


def _order_of(intent: dict[str, Any]) -> Order | None:
    metadata = intent.get("metadata") or {}
    order_id, user_id = metadata.get("order_id"), metadata.get("user_id")
    if not order_id or not user_id:
        return None  # not a checkout's PaymentIntent
    try:
        return Order.get(user_key(user_id), order_sk(order_id), consistent_read=True)
    except Order.DoesNotExist:
        logger.warning("payment for an unknown order", extra={"order_id": order_id})
        return None


def _paid_event(order: Order, subs: list[SubOrder], paid_at: str) -> Any:
    return new_event("order.paid", {
        "order_id": order.order_id, "user_id": order.user_id, "paid_at": paid_at,
        "sellers": [{"seller_id": s.seller_id, "amount": int(s.total), "currency": s.currency} for s in subs]})


def mark_paid(order: Order, *, payment_intent_id: str, charge_id: str | None, amount_received: int) -> bool:
    """Record the payment of a pending order; False when it is not pending (any more)."""
    from chalicelib.fees.service import record_sale
    from chalicelib.ledger.postings import charge_posting, seller_share_postings
    from chalicelib.ledger.service import posting_items

    if order.status != "pending_payment":
        return False
    if amount_received != int(order.total):
        logger.error("payment amount differs from the order total",
                     extra={"order_id": order.order_id, "received": amount_received, "total": int(order.total)})
    subs = sub_orders_of([order])[order.order_id]
    now = datetime.now(UTC)
    at = now_stamp()
    transaction = LabelledTransaction()
    transaction.update("order", order, [
        Order.status.set("paid"), Order.paid_at.set(at), Order.payment_intent_id.set(payment_intent_id),
        Order.amount_captured.set(amount_received), Order.GSI1PK.remove(), Order.GSI1SK.remove(),
        *([Order.charge_id.set(charge_id)] if charge_id else [])], Order.status == "pending_payment")
    postings = [charge_posting(order.order_id, Money(order.currency, amount_received),
                               payment_intent_id=payment_intent_id, charge_id=charge_id, occurred_at=now)]
    for sub in subs:
        move(transaction, sub, "paid", at=at, changes={"paid_at": at})
        postings += seller_share_postings(order.order_id, sub.seller_id, Money(sub.currency, int(sub.total)),
                                          Money(sub.currency, int(sub.fee)), occurred_at=now)
        transaction.add("sales", record_sale(sub.seller_id, Money(sub.currency, int(sub.total)), now.date()))
    for write in posting_items(*postings):
        transaction.add("ledger", write)
    transaction.put("event", _paid_event(order, subs, at))
    failed = transaction.commit()
    if failed:
        logger.info("payment already recorded", extra={"order_id": order.order_id, "failed": sorted(failed)})
        return False
    return True


def release_unpaid(order: Order, subs: list[SubOrder] | None, reason: str, *, cancel_payment: bool = False) -> bool:
    """Cancel a pending order and give its stock back; False when it is not pending.
    With ``cancel_payment`` the PaymentIntent is cancelled first; if Stripe says it can no
    longer be cancelled (it succeeded), nothing is released."""
    if order.status != "pending_payment":
        return False
    if cancel_payment and order.payment_intent_id:
        from chalicelib.payments import stripe_gateway

        if stripe_gateway.cancel_payment_intent(order.payment_intent_id) is None:
            intent = stripe_gateway.retrieve_payment_intent(order.payment_intent_id)
            if intent.status == "succeeded":
                mark_paid(order, payment_intent_id=intent.id, charge_id=_charge_id(intent),
                          amount_received=int(intent.amount_received or 0))
                return False
            if intent.status != "canceled":
                return False  # processing: Stripe's verdict decides
    subs = subs if subs is not None else sub_orders_of([order])[order.order_id]
    at = now_stamp()
    transaction = LabelledTransaction()
    transaction.update("order", order, [Order.status.set("cancelled"), Order.cancel_reason.set(reason),
                                        Order.cancelled_at.set(at), Order.GSI1PK.remove(), Order.GSI1SK.remove()],
                       Order.status == "pending_payment")
    holds = []
    for sub in subs:
        move(transaction, sub, "cancelled", at=at, changes={"cancel_reason": reason})
        holds += holds_of(sub)
    for index, write in enumerate(release_writes(holds)):
        transaction.add(f"stock:{index}", write)
    transaction.put("event", stock_changed_event(holds))
    transaction.put("event", new_event("order.cancelled", {"order_id": order.order_id, "user_id": order.user_id,
                                                           "reason": reason}))
    return not transaction.commit()


def _charge_id(intent: Any) -> str | None:
    charge = intent.get("latest_charge") if isinstance(intent, dict) else getattr(intent, "latest_charge", None)
    if isinstance(charge, dict):
        return charge.get("id")
    return getattr(charge, "id", charge)


# --- webhooks -----------------------------------------------------------------------------

def on_payment_intent_succeeded(event: dict[str, Any]) -> None:
    intent = event["data"]["object"]
    order = _order_of(intent)
    if order is None:
        return
    if order.status == "cancelled":
        _refund_late_payment(order, intent)
        return
    mark_paid(order, payment_intent_id=intent["id"], charge_id=_charge_id(intent),
              amount_received=int(intent.get("amount_received") or intent["amount"]))


def on_payment_intent_failed(event: dict[str, Any]) -> None:
    """The payment was declined: the stock goes back at once and the order is cancelled (the
    PaymentIntent too, so a later attempt on it cannot pay a cancelled order)."""
    order = _order_of(event["data"]["object"])
    if order is not None:
        release_unpaid(order, None, "payment_failed", cancel_payment=True)


def _refund_late_payment(order: Order, intent: dict[str, Any]) -> None:
    """A payment that arrived after its order was cancelled goes back in full: the stock
    may be sold to somebody else already. The ledger records both movements."""
    from chalicelib.ledger.postings import charge_posting, refund_posting
    from chalicelib.ledger.service import apply_postings
    from chalicelib.payments import stripe_gateway

    amount = Money(order.currency, int(intent.get("amount_received") or intent["amount"]))
    refund = stripe_gateway.create_refund(order_id=order.order_id, refund_id="late_payment",
                                          payment_intent_id=intent["id"], amount=amount.amount)
    logger.warning("refunded a payment for a cancelled order", extra={"order_id": order.order_id})
    apply_postings(charge_posting(order.order_id, amount, payment_intent_id=intent["id"], charge_id=_charge_id(intent)),
                   refund_posting(order.order_id, f"{order.order_id}-late", amount, stripe_refund_id=refund.id))


# --- the reservation sweep ----------------------------------------------------------------

def due_orders(now: datetime) -> list[Order]:
    """Pending orders whose payment window has closed: one Query per day bucket (today and
    yesterday; the sweep runs every few minutes, so older buckets are empty)."""
    stamp = now.isoformat(timespec="microseconds")
    found = []
    for day in (now - timedelta(days=1), now):
        found += list(Order.by_payment_due.query(payment_due_key(day.date().isoformat()),
                                                 Order.GSI1SK <= f"{stamp}#~"))  # noqa: SIM300
    return found


def release_expired(now: datetime | None = None) -> int:
    """Scheduled: release every reservation whose payment did not arrive in time."""
    released = 0
    for stale in due_orders(now or datetime.now(UTC)):
        try:
            order = Order.get(stale.PK, stale.SK, consistent_read=True)
        except Order.DoesNotExist:
            continue
        if release_unpaid(order, None, "payment_expired", cancel_payment=True):
            released += 1
    logger.info("released expired reservations", extra={"released": released})
    return released
