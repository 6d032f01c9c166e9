"""The order's payment: Stripe's verdict (webhooks) and the end of unpaid reservations.

Stripe's events are triggers, not facts to copy: each handler re-reads the order and only
moves it forward (``pending_payment`` -> ``paid`` or ``cancelled``) under a condition, so a
late or repeated event changes nothing. The webhook receiver already deduplicates on the
event id (:mod:`chalicelib.payments.webhooks`).

Paid: one TransactWriteItems moves the order and every sub-order to ``paid``, writes the
ledger (the charge; per seller its gross share and the marketplace fee), adds the
sellers' sales for volume tiers and records ``order.paid`` — whose subscribers make the
buyer each seller's customer and transfer each seller's share
(:mod:`chalicelib.orders.payouts`). Unpaid: the order and sub-orders are cancelled, the
stock goes back and the checkout contributors release what they took, in one transaction.

Delayed methods (SEPA direct debit) report ``payment_intent.processing`` first:
:func:`mark_processing` sets the order's payment status to ``processing`` and takes it off
the payment-due index, so its stock stays reserved without the payment window until
Stripe's verdict — ``succeeded`` is the usual paid path (no transfer to any seller before
it), ``payment_failed`` (days later) the usual cancellation, which then also records
``order.payment_status_changed`` (processing -> cancelled) for the buyer's payment-failed mail.

Reservations run out after ``checkout.PAYMENT_WINDOW``: :func:`release_expired` (scheduled)
Queries the payment-due index per day bucket (every shard of it) — orders leave it when paid or cancelled —
cancels each PaymentIntent first and releases only what Stripe confirms is unpaid (a
payment that succeeded meanwhile is recorded as paid instead, even if its webhook is lost).

A payment that does not match its order is refused, never recorded as paid: its amount
received or currency differ from the order's total, or it is another PaymentIntent than
the order's (an order whose id is not stored yet — Stripe's event can beat checkout's
write — takes the one its metadata names). The order keeps its state, nothing goes to
the ledger and nobody is transferred anything; instead the order's ``payment_problems``
records what was expected and what was received (once per PaymentIntent), an
``order.payment_mismatch`` event is written with it, and an error is logged. A declined
payment (``payment_failed``) of another PaymentIntent than the order's cancels nothing.

The captured money of a refused payment is **not refunded automatically**: a mismatch
means a bug or a PaymentIntent agora did not make, and refunding what nobody can explain
may be wrong too. It stays in the platform's Stripe balance for an operator, who learns of
it from the error log, the event, the order and ``agora ledger reconcile`` (a succeeded
PaymentIntent without a charge posting: ``payment_not_in_ledger``). When it was the order's
own PaymentIntent the order leaves the payment-due index, so its stock stays reserved
until the operator decides (the sweep cannot cancel a PaymentIntent that succeeded).
Only a *matching* payment for an order cancelled meanwhile is refunded at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.catalog.stock import release_writes, stock_changed_event
from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, Stale, query_shards, retrying
from chalicelib.core.keys import order_sk, payment_due_keys, timed_sort_key, transfer_due_key, until_sort_key, user_key
from chalicelib.core.logging import logger
from chalicelib.core.mail import EmailMessage, enqueue_email
from chalicelib.core.money import CURRENCY_EXPONENTS, Money
from chalicelib.core.settings import get_settings
from chalicelib.events.service import new_event
from chalicelib.fees.service import record_sale
from chalicelib.ledger.postings import charge_posting, refund_posting, seller_share_postings
from chalicelib.ledger.service import apply_postings, posting_items
from chalicelib.orders.contributors import contributors
from chalicelib.orders.events import (
    OrderCancelled,
    OrderPaid,
    PaymentMismatch,
    PaymentStatusChanged,
    SellerShare,
)
from chalicelib.orders.models import Order, SubOrder
from chalicelib.orders.states import order_payment_status
from chalicelib.orders.transitions import holds_of, move, sub_orders_of
from chalicelib.payments import stripe_gateway


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
    return new_event(OrderPaid(
        order_id=order.order_id, user_id=order.user_id, paid_at=paid_at,
        sellers=[SellerShare(seller_id=s.seller_id, amount=int(s.total), currency=s.currency) for s in subs]))


@dataclass(frozen=True)
class Payment:
    """What Stripe says a PaymentIntent captured."""

    payment_intent_id: str
    charge_id: str | None
    amount: int  # minor units received
    currency: str  # upper case, as agora writes currencies

    @classmethod
    def of(cls, intent: Mapping[str, Any]) -> Payment:
        return cls(intent["id"], _charge_id(intent), int(intent.get("amount_received") or intent["amount"]),
                   str(intent["currency"]).upper())

    def to_json(self) -> dict[str, Any]:
        return {"payment_intent_id": self.payment_intent_id, "amount": self.amount, "currency": self.currency}


def mismatch(order: Order, payment: Payment) -> list[str]:
    """What of ``payment`` does not match ``order`` (empty: it pays the order exactly)."""
    found = []
    if order.payment_intent_id is not None and payment.payment_intent_id != order.payment_intent_id:
        found.append("payment_intent")
    if payment.currency != order.currency.upper():
        found.append("currency")
    if payment.amount != int(order.total):
        found.append("amount")
    return found


def settle(order: Order, payment: Payment) -> str:
    """Stripe says ``payment`` succeeded for ``order``: refuse it when it does not match the
    order, refund it when the order was cancelled meanwhile, else record the order paid.
    What happened: "refused", "refunded", "paid" or "unchanged" (paid before)."""
    wrong = mismatch(order, payment)
    if wrong:
        refuse_payment(order, payment, wrong)
        return "refused"
    if order.status == "cancelled":
        _refund_late_payment(order, payment)
        return "refunded"
    return "paid" if mark_paid(order, payment) else "unchanged"


def mark_paid(order: Order, payment: Payment) -> bool:
    """Record the payment of a pending order; False when it is not pending (any more).
    Callers check the payment first (:func:`settle`); the write is conditioned on the
    PaymentIntent still being the order's."""
    if order.status != "pending_payment":
        return False
    subs = sub_orders_of([order])[order.order_id]
    now = clock.now()
    at = clock.stamp()
    transaction = LabelledTransaction()
    transaction.update("order", order, [
        Order.status.set("paid"), Order.payment_status.set("paid"), Order.paid_at.set(at),
        Order.payment_intent_id.set(payment.payment_intent_id),
        Order.amount_captured.set(payment.amount), Order.GSI1PK.remove(), Order.GSI1SK.remove(),
        *([Order.charge_id.set(payment.charge_id)] if payment.charge_id else [])],
        (Order.status == "pending_payment")
        & (Order.payment_intent_id.does_not_exist() | (Order.payment_intent_id == payment.payment_intent_id)))
    postings = [charge_posting(order.order_id, Money(order.currency, payment.amount),
                               payment_intent_id=payment.payment_intent_id, charge_id=payment.charge_id,
                               occurred_at=now)]
    for sub in subs:
        # A seller with a share to be paid is on the transfer-due index until its transfer is
        # recorded (orders/recovery.py finishes transfers a dead Lambda left undone).
        credited = int(sub.total) + int(sub.marketplace_discount or 0)
        due = {"GSI1PK": transfer_due_key(at[:10], order.order_id),
               "GSI1SK": timed_sort_key(at, sub.seller_id, order.order_id)} if credited > int(sub.fee) else {}
        move(transaction, sub, "paid", at=at, changes={"paid_at": at, **due})
        funded_shipping = int((sub.shipping or {}).get("marketplace_discount", 0))  # within marketplace_discount
        funded_goods = int(sub.marketplace_discount or 0) - funded_shipping
        postings += seller_share_postings(order.order_id, sub.seller_id, Money(sub.currency, int(sub.total)),
                                          Money(sub.currency, int(sub.fee)), occurred_at=now,
                                          shipping=Money(sub.currency, int((sub.shipping or {}).get("amount", 0))),
                                          marketplace_discount=Money(sub.currency, funded_goods),
                                          marketplace_shipping=Money(sub.currency, funded_shipping))
        transaction.add("sales", record_sale(sub.seller_id, Money(sub.currency, int(sub.total)), now.date()))
    for write in posting_items(*postings, together=True):  # one record (and marker) for the order's postings
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
    longer be cancelled (it succeeded), nothing is released: the payment is settled instead
    (paid, or refused when it does not match the order)."""
    if order.status != "pending_payment":
        return False
    if cancel_payment and order.payment_intent_id and \
            stripe_gateway.cancel_payment_intent(order.payment_intent_id) is None:
        intent = stripe_gateway.retrieve_payment_intent(order.payment_intent_id)
        if intent.status == "succeeded":
            settle(order, Payment.of(intent.to_dict()))
            return False
        if intent.status != "canceled":
            return False  # processing: Stripe's verdict decides
    subs = subs if subs is not None else sub_orders_of([order])[order.order_id]
    at = clock.stamp()
    transaction = LabelledTransaction()
    transaction.update("order", order, [Order.status.set("cancelled"), Order.payment_status.set("cancelled"),
                                        Order.cancel_reason.set(reason),
                                        Order.cancelled_at.set(at), Order.GSI1PK.remove(), Order.GSI1SK.remove()],
                       Order.status == "pending_payment")
    holds = []
    for sub in subs:
        move(transaction, sub, "cancelled", at=at, changes={"cancel_reason": reason})
        holds += holds_of(sub)
    for index, write in enumerate(release_writes(holds)):
        transaction.add(f"stock:{index}", write)
    for contributor in contributors:  # what checkout's contributors took (in this transaction: once)
        for write in contributor.release(order, subs):
            transaction.add(f"release:{contributor.name}", write)
    transaction.put("event", stock_changed_event(holds))
    transaction.put("event", new_event(OrderCancelled(order_id=order.order_id, user_id=order.user_id, reason=reason)))
    if order_payment_status(order) == "processing":  # the bank refused a debit the buyer thought done: mailed
        transaction.put("event", new_event(PaymentStatusChanged(
            order_id=order.order_id, user_id=order.user_id, from_="processing", to="cancelled", amount_refunded=0,
            currency=order.currency, at=at)))
    return not transaction.commit()


def mark_processing(order: Order, payment_intent_id: str) -> bool:
    """Stripe accepted a delayed payment and awaits the bank: the order's payment status becomes
    ``processing`` and it leaves the payment-due index (the sweep no longer ends it). False when
    it is not pending (any more) or processing already. One TransactWriteItems."""
    if order.status != "pending_payment" or order_payment_status(order) != "pending":
        return False
    at = clock.stamp()
    transaction = LabelledTransaction()
    transaction.update("order", order, [Order.payment_status.set("processing"),
                                        Order.payment_intent_id.set(payment_intent_id),
                                        Order.GSI1PK.remove(), Order.GSI1SK.remove()],
                       (Order.status == "pending_payment") & (Order.payment_status == "pending")
                       & (Order.payment_intent_id.does_not_exist() | (Order.payment_intent_id == payment_intent_id)))
    transaction.put("event", new_event(PaymentStatusChanged(
        order_id=order.order_id, user_id=order.user_id, from_="pending", to="processing", amount_refunded=0,
        currency=order.currency, at=at)))
    return not transaction.commit()


def _charge_id(intent: Mapping[str, Any]) -> str | None:
    charge = intent.get("latest_charge")
    return charge.get("id") if isinstance(charge, Mapping) else charge


def refuse_payment(order: Order, payment: Payment, wrong: list[str]) -> None:
    """Record on the order that ``payment`` does not match it (once per PaymentIntent), with
    an ``order.payment_mismatch`` event, and log an error: no state change, no ledger entry,
    no transfer, no refund (see the module docstring). GetItem + TransactWriteItems."""
    problem = {"mismatch": wrong, "received": payment.to_json(),
               "expected": {"payment_intent_id": order.payment_intent_id, "amount": int(order.total),
                            "currency": order.currency.upper()}}
    logger.error("payment refused: it does not match its order",
                 extra={"order_id": order.order_id, "user_id": order.user_id, "order_status": order.status, **problem})

    def attempt() -> None:
        current = Order.get(order.PK, order.SK, consistent_read=True)
        recorded = list(current.payment_problems or [])
        if any(p["received"]["payment_intent_id"] == payment.payment_intent_id for p in recorded):
            return  # a redelivery or the sweep finding it again
        entry = {**problem, "order_status": current.status, "at": clock.stamp()}
        actions: list[Action] = [Order.payment_problems.set([*recorded, entry])]
        if current.status == "pending_payment" and payment.payment_intent_id == current.payment_intent_id:
            actions += [Order.GSI1PK.remove(), Order.GSI1SK.remove()]  # the sweep cannot end it: an operator does
        transaction = LabelledTransaction()
        transaction.update("order", current, actions,
                           Order.payment_problems == recorded if recorded else Order.payment_problems.does_not_exist())
        transaction.put("event", new_event(PaymentMismatch(order_id=order.order_id, user_id=order.user_id,
                                                           **entry)))
        if transaction.commit():
            raise Stale

    retrying(attempt, what="order")


# --- webhooks -----------------------------------------------------------------------------

def on_payment_intent_succeeded(event: dict[str, Any]) -> str | None:
    """"refused" when the payment does not match its order (recorded, see :func:`refuse_payment`)."""
    intent = event["data"]["object"]
    order = _order_of(intent)
    if order is None:
        return None
    return "refused" if settle(order, Payment.of(intent)) == "refused" else None


def on_payment_intent_processing(event: dict[str, Any]) -> str | None:
    """A delayed payment (SEPA) awaits the bank: the order waits with it, beyond the payment
    window. Another PaymentIntent than the order's says nothing about the order: "refused"."""
    intent = event["data"]["object"]
    order = _order_of(intent)
    if order is None:
        return None
    if order.payment_intent_id is not None and intent["id"] != order.payment_intent_id:
        logger.warning("payment_intent.processing of another PaymentIntent than the order's ignored",
                       extra={"order_id": order.order_id, "payment_intent_id": intent["id"],
                              "order_payment_intent_id": order.payment_intent_id})
        return "refused"
    mark_processing(order, intent["id"])
    return None


def on_payment_intent_failed(event: dict[str, Any]) -> str | None:
    """The payment was declined: the stock goes back at once and the order is cancelled (the
    PaymentIntent too, so a later attempt on it cannot pay a cancelled order). A decline of
    another PaymentIntent than the order's says nothing about the order's: "refused"."""
    intent = event["data"]["object"]
    order = _order_of(intent)
    if order is None:
        return None
    if intent["id"] != order.payment_intent_id:
        logger.warning("payment_failed of another PaymentIntent than the order's ignored",
                       extra={"order_id": order.order_id, "payment_intent_id": intent["id"],
                              "order_payment_intent_id": order.payment_intent_id})
        return "refused"
    release_unpaid(order, None, "payment_failed", cancel_payment=True)
    return None


def mail_payment_failed(changed: PaymentStatusChanged) -> None:
    """The payment-failed mail (transactional), once per order: the buyer thought it paid,
    so the order's cancellation must not go unnoticed. GetItem(order) + SQS."""
    try:
        order = Order.get(user_key(changed.user_id), order_sk(changed.order_id), consistent_read=True)
    except Order.DoesNotExist:
        return
    frontend = get_settings().frontend_url.rstrip("/")
    enqueue_email(EmailMessage(
        template="payment_failed", to=order.email,
        context={"name": order.buyer_name or "", "order_id": order.order_id,
                 "total": _shown(int(order.total), order.currency),
                 "link": f"{frontend}/orders/{order.order_id}"},
        dedupe_key=f"payment_failed:{order.order_id}"))


def _shown(amount: int, currency: str) -> str:
    """``12.34 EUR`` for a mail, from minor units without a float."""
    exponent = CURRENCY_EXPONENTS.get(currency.upper(), 2)
    whole, minor = divmod(amount, 10 ** exponent)
    return f"{whole}.{minor:0{exponent}d} {currency.upper()}" if exponent else f"{whole} {currency.upper()}"


def _refund_late_payment(order: Order, payment: Payment) -> None:
    """A payment that arrived after its order was cancelled goes back in full: the stock
    may be sold to somebody else already. The ledger records both movements."""
    amount = Money(order.currency, payment.amount)
    refund_id = late_refund_id(order.order_id)  # one id for Stripe's metadata and the posting, so reconcile pairs them
    refund = stripe_gateway.create_refund(order_id=order.order_id, refund_id=refund_id,
                                          payment_intent_id=payment.payment_intent_id, amount=amount.amount)
    logger.warning("refunded a payment for a cancelled order", extra={"order_id": order.order_id})
    apply_postings(charge_posting(order.order_id, amount, payment_intent_id=payment.payment_intent_id,
                                  charge_id=payment.charge_id),
                   refund_posting(order.order_id, refund_id, amount, stripe_refund_id=refund.id))


def late_refund_id(order_id: str) -> str:
    """The refund of a payment that arrived after its order was cancelled (one per order)."""
    return f"{order_id}-late"


# --- the reservation sweep ----------------------------------------------------------------

def due_orders(now: datetime) -> list[Order]:
    """Pending orders whose payment window has closed, due first: one Query per shard of
    each day bucket (today and yesterday; the sweep runs every few minutes, so older
    buckets are empty), in parallel."""
    until = until_sort_key(clock.stamp(now))
    partitions = [key for day in (now - timedelta(days=1), now) for key in payment_due_keys(day.date().isoformat())]
    return query_shards(lambda partition: Order.by_payment_due.query(partition, Order.GSI1SK <= until),  # noqa: SIM300
                        partitions, order_by=lambda order: order.GSI1SK)


def release_expired(now: datetime | None = None) -> int:
    """Scheduled: release every reservation whose payment did not arrive in time."""
    released = 0
    for stale in due_orders(now or clock.now()):
        try:
            order = Order.get(stale.PK, stale.SK, consistent_read=True)
        except Order.DoesNotExist:
            continue
        if order_payment_status(order) == "processing":  # left the index as it began processing: the bank decides
            continue
        if release_unpaid(order, None, "payment_expired", cancel_payment=True):
            released += 1
    logger.info("released expired reservations", extra={"released": released})
    return released
