"""The life of a sub-order, and the buyer's and seller's actions on it.

States and moves are :data:`chalicelib.orders.models.TRANSITIONS`; any other move is a 409
``invalid_transition``. Every move is one TransactWriteItems: the sub-order (conditioned
on the version read, so two actions racing cannot both apply), what goes with the move
(stock given back, a refund requested, the order's refunded total and payment status) and
an ``order.status_changed`` outbox event for mails and loyalty.

The order's payment status (:data:`chalicelib.orders.states.PAYMENT_STATUSES`) follows its
parts in that same transaction, at no extra round trip: a refund requested makes it
``partially_refunded`` or, once everything captured is refunded, ``refunded`` (with an
``order.payment_status_changed`` event). ``order.status`` stays what checkout and payment made
it (``paid``): ``payment_status`` says what happened to the money afterwards.

Money moves after the commit: a requested refund is carried out by
:func:`chalicelib.orders.refunds.on_refund_requested` from its outbox event (Stripe refund,
transfer reversal, ledger), so a crash between the two loses nothing and a retry repeats
nothing.

Round trips: seller actions GetItem sub-order (+ GetItem order when money moves, + GetItem
seller for the return window on delivery) + TransactWriteItems, answered from the moved
copy (:func:`move`); buyer cancel GetItem order + BatchGetItem sub-orders +
TransactWriteItems + the same two reads for the answer; a return request GetItem order,
sub-order and seller + TransactWriteItems (the route then reads the order to answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.catalog.stock import release_writes, stock_changed_event
from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, Stale, get_item, newest_first, query_shards, retrying
from chalicelib.core.errors import Code, Conflict, FieldProblem, NotFound, ValidationFailed
from chalicelib.core.ids import has_prefix, new_id
from chalicelib.core.keys import (
    ORDER_PREFIX,
    completion_due_key,
    completion_due_keys,
    order_sk,
    refund_due_key,
    refund_sk,
    seller_key,
    sub_order_status_index_key,
    timed_sort_key,
    until_sort_key,
    user_key,
)
from chalicelib.core.money import Money, divide_half_up
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.events.service import new_event
from chalicelib.orders.events import PaymentStatusChanged, RefundRequested
from chalicelib.orders.models import Order, Refund, SubOrder
from chalicelib.orders.payment import release_unpaid
from chalicelib.orders.states import TRANSITIONS, order_payment_status, refund_status
from chalicelib.orders.transitions import (
    fill_lines,
    find_sub_order,
    holds_of,
    invalid_transition,
    move,
    sub_orders_of,
)
from chalicelib.sellers.service import get_seller

MAX_ATTEMPTS = 4
BUYER_CANCELLABLE = ("pending_payment", "paid", "accepted")
SELLER_CANCELLABLE = ("paid", "accepted")


class _Stale(Stale):
    """The sub-order or order changed since it was read."""


def order_not_found() -> NotFound:
    """One answer for "missing" and "someone else's"."""
    return NotFound("No such order.", code=Code.ORDER_NOT_FOUND)


# --- reading ----------------------------------------------------------------------------

def get_order(user_id: str, order_id: str) -> Order:
    if not has_prefix(order_id, "ord"):
        raise order_not_found()
    return get_item(Order, user_key(user_id), order_sk(order_id), order_not_found(), consistent_read=True)


def get_sub_order(seller_id: str, order_id: str) -> SubOrder:
    """With its lines: one BatchGetItem (1 RT)."""
    if not has_prefix(order_id, "ord"):
        raise order_not_found()
    sub = find_sub_order(seller_id, order_id)
    if sub is None:
        raise order_not_found()
    return sub


def buyer_orders(user_id: str, *, cursor: str | None, limit: int) -> Page[tuple[Order, list[SubOrder]]]:
    """Newest first: Query + BatchGetItem (2 RT)."""
    scope = f"{user_key(user_id)}/orders"
    results = Order.query(user_key(user_id), Order.SK.startswith(ORDER_PREFIX), scan_index_forward=False,
                          limit=limit, last_evaluated_key=decode_cursor(cursor, scope=scope))
    orders = list(results)
    parts = sub_orders_of(orders)
    return Page([(o, parts[o.order_id]) for o in orders], encode_cursor(results.last_evaluated_key, scope=scope))


def buyer_order(user_id: str, order_id: str) -> tuple[Order, list[SubOrder]]:
    order = get_order(user_id, order_id)
    return order, sub_orders_of([order])[order.order_id]


def seller_orders(seller_id: str, *, status: str | None, cursor: str | None, limit: int) -> Page[SubOrder]:
    """Newest first, optionally of one status: one Query, then one BatchGetItem of the page's
    lines (none when every sub-order on it carries them inline)."""
    page = newest_first(SubOrder, seller_key(seller_id), ORDER_PREFIX,
                        by=(SubOrder.by_status, sub_order_status_index_key(seller_id, status)) if status else None,
                        scope=f"{seller_key(seller_id)}/orders/{status or 'all'}", cursor=cursor, limit=limit)
    fill_lines(list(page.items))
    return page


# --- moves ------------------------------------------------------------------------------

def commit(transaction: LabelledTransaction) -> None:
    if transaction.commit():
        raise _Stale


# --- refunds requested with a move ----------------------------------------------------------

@dataclass(frozen=True)
class RefundPlan:
    refund: Refund
    lines: list[dict[str, Any]]  # the sub-order's lines after the refund
    shipping_refunded: int  # the part's shipping refunded after this refund

    def changes(self, sub: SubOrder) -> dict[str, Any]:
        """The sub-order's changing fields once this refund is requested."""
        changes: dict[str, Any] = {"lines": self.lines, "refunded": int(sub.refunded) + int(self.refund.amount)}
        if self.shipping_refunded != int(sub.shipping_refunded or 0):
            changes["shipping_refunded"] = self.shipping_refunded
        return changes


def shipping_left(sub: SubOrder) -> int:
    """The part's shipping paid and not yet refunded (0 for parts without shipping)."""
    return int((sub.shipping or {}).get("amount", 0)) - int(sub.shipping_refunded or 0)


def _shipping_refund(sub: SubOrder, amount: int) -> dict[str, Any]:
    """The refund's entry for ``amount`` of the part's shipping: its fee goes back in proportion
    like a line's (``ledger.postings.proportional_fee_refund``), and so does its VAT (``tax``
    on the refund record: cumulatively ``VAT * refunded / paid``, half-up). More than is left
    is a 422."""
    shipping = sub.shipping or {}
    paid, before = int(shipping.get("amount", 0)), int(sub.shipping_refunded or 0)
    if not 0 < amount <= paid - before:
        raise ValidationFailed("A shipping refund cannot exceed the shipping paid and not yet refunded.",
                               code=Code.SHIPPING_REFUND_EXCEEDS_PAID,
                               details=[{"field": "body.shipping", "message": f"at most {paid - before}",
                                         "type": "shipping_refund_exceeds_paid"}])
    vat = int(shipping.get("tax", 0))
    tax = divide_half_up(vat * (before + amount), paid) - divide_half_up(vat * before, paid)
    return {"line": 0, "shipping": True, "quantity": 0, "amount": amount, "line_total": paid,
            "fee": int(shipping.get("fee", 0)), "refunded_before": before, "tax": tax, **_funded(shipping)}


def _funded(shipping: Mapping[str, Any]) -> dict[str, int]:
    """The marketplace-funded part of the shipping's discount, as a refund entry carries it."""
    funded = int(shipping.get("marketplace_discount", 0))
    return {"marketplace_discount": funded} if funded else {}


def _free_shipping_refund(sub: SubOrder) -> dict[str, Any] | None:
    """The entry of a part's shipping that a promotion made free (the buyer paid 0), refunded
    whole with the part: nothing to the buyer, but the fee on it and the marketplace-funded
    part go back, and the promotions' shipping discount returns to their budgets. None when
    the part's shipping was not made free."""
    shipping = sub.shipping or {}
    if int(shipping.get("amount", 0)) or not int(shipping.get("discount", 0)):
        return None
    return {"line": 0, "shipping": True, "quantity": 0, "amount": 0, "line_total": 0,
            "fee": int(shipping.get("fee", 0)), "refunded_before": 0, "tax": 0, **_funded(shipping)}


def plan_refund(order: Order, sub: SubOrder, quantities: Mapping[int, int] | None, reason: str, *,
                at: str, shipping: int | None = 0) -> RefundPlan | None:
    """What refunding ``quantities`` per line (None: everything not yet refunded) and
    ``shipping`` of the part's shipping (None: all not yet refunded, and shipping a promotion
    made free) pays back.
    Per line, cumulatively: after refunding ``k`` of ``n`` units of a line of total ``T``, the
    refunded amount is ``T * k / n`` (largest-remainder split, so all ``n`` give back exactly
    ``T``). None when nothing is left to refund (or nothing was paid)."""
    if order.payment_intent_id is None or order.status == "pending_payment":
        return None
    lines, covered = [], []
    for line in sub.lines:
        number, quantity = int(line["line"]), int(line["quantity"])
        done = int(line.get("refunded_quantity", 0))
        wanted = quantity - done if quantities is None else quantities.get(number, 0)
        if wanted < 0 or done + wanted > quantity:
            raise Conflict("A refund cannot exceed what was bought.", code=Code.REFUND_EXCEEDS_CAPTURED,
                           details={"line": number, "quantity": quantity, "refunded_quantity": done})
        updated = dict(line)
        if wanted:
            total = Money(sub.currency, int(line["total"]))
            after = total if done + wanted == quantity else total.allocate([done + wanted, quantity - done - wanted])[0]
            # an amount refund (plan_amount_refund) may have paid back more than these units are worth
            refunded = max(after.amount, int(line.get("refunded_amount", 0)))
            amount = refunded - int(line.get("refunded_amount", 0))
            updated.update(refunded_quantity=done + wanted, refunded_amount=refunded)
            if amount > 0:
                covered.append({"line": number, "quantity": wanted, "amount": amount, "line_total": int(line["total"]),
                                "fee": int(line["fee"]), "refunded_before": int(line.get("refunded_amount", 0)),
                                **({"marketplace_discount": int(line["marketplace_discount"])}
                                   if line.get("marketplace_discount") else {})})
        lines.append(updated)
    whole = shipping is None
    shipping = shipping_left(sub) if shipping is None else shipping
    if shipping:
        covered.append(_shipping_refund(sub, shipping))
    elif whole and (made_free := _free_shipping_refund(sub)) is not None:
        covered.append(made_free)  # once: the whole shipping is refunded only when the part is cancelled
    if not covered:
        return None
    refund_id = new_id("rfd")
    refund = Refund(user_key(order.user_id), refund_sk(order.order_id, refund_id), refund_id=refund_id,
                    order_id=order.order_id, user_id=order.user_id, seller_id=sub.seller_id, reason=reason,
                    currency=sub.currency, amount=sum(c["amount"] for c in covered), lines=covered, created_at=at,
                    GSI1PK=refund_due_key(at[:10]), GSI1SK=timed_sort_key(at, order.user_id, order.order_id, refund_id))
    return RefundPlan(refund=refund, lines=lines, shipping_refunded=int(sub.shipping_refunded or 0) + shipping)


def plan_amount_refund(order: Order, sub: SubOrder, amount: int, reason: str, *, at: str) -> RefundPlan | None:
    """What refunding ``amount`` of the part, no units named (a dispute's goodwill or partial
    refund), pays back: split over what is left to refund of its lines and its shipping, in
    proportion (largest remainder), so each line's VAT (``tax`` on the refund's line:
    cumulatively ``VAT * refunded / total``, half-up), fee, marketplace discount and
    contributors' adjustments go back in proportion as they do for units. The lines' units
    stay unrefunded; a later refund of units pays only what they are worth beyond this.
    More than is left is a 409 ``refund_exceeds_captured``; None when nothing was paid."""
    if order.payment_intent_id is None or order.status == "pending_payment":
        return None
    left = [int(line["total"]) - int(line.get("refunded_amount", 0)) for line in sub.lines]
    weights = [max(part, 0) for part in [*left, shipping_left(sub)]]
    if not 0 < amount <= sum(weights):
        raise Conflict("A refund cannot exceed what was paid for this part and not yet refunded.",
                       code=Code.REFUND_EXCEEDS_CAPTURED, details={"amount": amount, "refundable": sum(weights)})
    shares = [share.amount for share in Money(sub.currency, amount).allocate(weights)]
    lines, covered = [], []
    for line, share in zip(sub.lines, shares, strict=False):
        updated = dict(line)
        if share:
            total, before, vat = int(line["total"]), int(line.get("refunded_amount", 0)), int(line.get("tax", 0))
            updated["refunded_amount"] = before + share
            covered.append({"line": int(line["line"]), "quantity": 0, "amount": share, "line_total": total,
                            "fee": int(line["fee"]), "refunded_before": before,
                            "tax": divide_half_up(vat * (before + share), total) - divide_half_up(vat * before, total),
                            **({"marketplace_discount": int(line["marketplace_discount"])}
                               if line.get("marketplace_discount") else {})})
        lines.append(updated)
    if shares[-1]:
        covered.append(_shipping_refund(sub, shares[-1]))
    refund_id = new_id("rfd")
    refund = Refund(user_key(order.user_id), refund_sk(order.order_id, refund_id), refund_id=refund_id,
                    order_id=order.order_id, user_id=order.user_id, seller_id=sub.seller_id, reason=reason,
                    currency=sub.currency, amount=amount, lines=covered, created_at=at,
                    GSI1PK=refund_due_key(at[:10]), GSI1SK=timed_sort_key(at, order.user_id, order.order_id, refund_id))
    return RefundPlan(refund=refund, lines=lines, shipping_refunded=int(sub.shipping_refunded or 0) + shares[-1])


def add_refund(transaction: LabelledTransaction, plan: RefundPlan) -> int:
    """The refund's record and its event; returns the amount for :func:`add_refunded_total`."""
    amount = int(plan.refund.amount)
    transaction.put("refund", plan.refund, Refund.PK.does_not_exist())
    transaction.put("event", new_event(RefundRequested(
        order_id=plan.refund.order_id, user_id=plan.refund.user_id, seller_id=plan.refund.seller_id,
        refund_id=plan.refund.refund_id, amount=amount, currency=plan.refund.currency)))
    return amount


def add_refunded_total(transaction: LabelledTransaction, order: Order, amount: int, *, at: str) -> None:
    """The order's refunded total and payment status (one update per transaction). Conditioned
    on the total read, so a concurrent refund of another part makes this attempt stale (its
    retry reads again) instead of overpaying or writing a status computed from an old total.
    A change of payment status is an ``order.payment_status_changed`` event."""
    if not amount:
        return
    before = order_payment_status(order)
    refunded = int(order.amount_refunded) + amount
    after = refund_status(int(order.amount_captured), refunded)
    transaction.update("order", order, [Order.amount_refunded.add(amount), Order.payment_status.set(after)],
                       (Order.amount_refunded == int(order.amount_refunded))
                       & (Order.amount_refunded <= int(order.amount_captured) - amount))
    if after != before:
        transaction.put("event", new_event(PaymentStatusChanged(
            order_id=order.order_id, user_id=order.user_id, from_=before, to=after,
            amount_refunded=refunded, currency=order.currency, at=at)))


# --- seller actions -----------------------------------------------------------------------

def _seller_move(seller_id: str, order_id: str, to: str, changes: Mapping[str, Any] | None = None) -> SubOrder:
    def attempt() -> SubOrder:
        sub = get_sub_order(seller_id, order_id)
        transaction = LabelledTransaction()
        after = move(transaction, sub, to, at=clock.stamp(), changes=changes)
        commit(transaction)
        return after

    return retrying(attempt, what="order", attempts=MAX_ATTEMPTS)


def accept(seller_id: str, order_id: str) -> SubOrder:
    return _seller_move(seller_id, order_id, "accepted")


def ship(seller_id: str, order_id: str, *, carrier: str, tracking_number: str) -> SubOrder:
    return _seller_move(seller_id, order_id, "shipped", {"carrier": carrier, "tracking_number": tracking_number})


def mark_delivered(seller_id: str, order_id: str) -> SubOrder:
    """Delivered: the return window starts; when it ends the part completes by itself
    (:func:`complete_due`)."""
    window = int(get_seller(seller_id).return_window_days)
    now = clock.now()
    due = clock.stamp(now + timedelta(days=window))
    return _seller_move(seller_id, order_id, "delivered", {
        "delivered_at": clock.stamp(now), "GSI2PK": completion_due_key(due[:10], order_id),
        "GSI2SK": timed_sort_key(due, seller_id, order_id)})


def complete_due(now: datetime | None = None) -> int:
    """Scheduled: complete delivered parts whose return window has ended (one Query per
    shard of each day bucket, today's and yesterday's, in parallel; parts leave the index
    when they complete or a return is requested). Per part a GetItem and a TransactWriteItems."""
    now = now or clock.now()
    until = until_sort_key(clock.stamp(now))
    completed = 0
    days = [key for day in (now - timedelta(days=1), now) for key in completion_due_keys(day.date().isoformat())]
    for due in query_shards(lambda partition: SubOrder.by_completion_due.query(partition, SubOrder.GSI2SK <= until),  # noqa: SIM300
                            days, order_by=lambda sub: sub.GSI2SK):
        def attempt(due: SubOrder = due) -> bool:
            # the sub-order alone (GetItem): completing it changes nothing on its lines
            sub = get_item(SubOrder, seller_key(due.seller_id), order_sk(due.order_id), order_not_found(),
                           consistent_read=True)
            if sub.status != "delivered":
                return False
            transaction = LabelledTransaction()
            move(transaction, sub, "completed", at=clock.stamp(), changes={"GSI2PK": None, "GSI2SK": None})
            commit(transaction)
            return True

        completed += retrying(attempt, what="order", attempts=MAX_ATTEMPTS)
    return completed


def _cancel_paid(transaction: LabelledTransaction, order: Order, sub: SubOrder, reason: str,
                 at: str) -> tuple[SubOrder, int]:
    """Cancel a paid sub-order: back to stock, and everything not yet refunded refunded, its
    shipping too (it never left)."""
    plan = plan_refund(order, sub, None, "cancelled", at=at, shipping=None)
    changes: dict[str, Any] = {"cancel_reason": reason}
    if plan is not None:
        changes.update(plan.changes(sub))
    after = move(transaction, sub, "cancelled", at=at, changes=changes)
    holds = holds_of(sub)
    for index, write in enumerate(release_writes(holds)):
        transaction.add(f"stock:{index}", write)
    transaction.put("event", stock_changed_event(holds))
    return after, (add_refund(transaction, plan) if plan is not None else 0)


def seller_cancel(seller_id: str, order_id: str, *, reason: str) -> SubOrder:
    """Before shipping: restock and refund the seller's whole part."""

    def attempt() -> SubOrder:
        sub = get_sub_order(seller_id, order_id)
        if sub.status not in SELLER_CANCELLABLE:
            raise invalid_transition(sub, "cancelled")
        order = get_order(sub.user_id, order_id)
        at = clock.stamp()
        transaction = LabelledTransaction()
        after, refunded = _cancel_paid(transaction, order, sub, reason, at)
        add_refunded_total(transaction, order, refunded, at=at)
        commit(transaction)
        return after

    return retrying(attempt, what="order", attempts=MAX_ATTEMPTS)


def approve_return(seller_id: str, order_id: str, *, restock: bool, shipping: int = 0) -> SubOrder:
    """The seller received the returned lines: refund them (and put them back in stock), and
    ``shipping`` of the part's shipping when the seller chooses to (at most what is left: 422)."""

    def attempt() -> SubOrder:
        sub = get_sub_order(seller_id, order_id)
        if sub.status != "return_requested":
            raise invalid_transition(sub, "returned")
        order = get_order(sub.user_id, order_id)
        quantities = {int(line["line"]): int(line.get("return_quantity", 0)) for line in sub.lines}
        at = clock.stamp()
        plan = plan_refund(order, sub, quantities, "returned", at=at, shipping=shipping)
        transaction = LabelledTransaction()
        changes: dict[str, Any] = plan.changes(sub) if plan is not None else {}
        after = move(transaction, sub, "returned", at=at, changes=changes)
        if restock:
            holds = holds_of(sub, quantities)
            for index, write in enumerate(release_writes(holds)):
                transaction.add(f"stock:{index}", write)
            transaction.put("event", stock_changed_event(holds))
        if plan is not None:
            add_refunded_total(transaction, order, add_refund(transaction, plan), at=at)
        commit(transaction)
        return after

    return retrying(attempt, what="order", attempts=MAX_ATTEMPTS)


# --- buyer actions ------------------------------------------------------------------------

def buyer_cancel(user_id: str, order_id: str) -> tuple[Order, list[SubOrder]]:
    """Cancel the whole order before anything shipped: an unpaid one releases its stock and
    its PaymentIntent; a paid one is refunded per seller."""
    def attempt() -> tuple[Order, list[SubOrder]]:
        order, subs = buyer_order(user_id, order_id)
        late = [s for s in subs if s.status not in BUYER_CANCELLABLE]
        if late:
            raise Conflict("Part of this order has shipped or ended; it can no longer be cancelled.",
                           code=Code.ORDER_NOT_CANCELLABLE,
                           details={"sellers": [{"seller_id": s.seller_id, "status": s.status} for s in late]})
        if order.status == "pending_payment" and order_payment_status(order) == "processing":
            raise Conflict("The payment of this order is being processed by the bank; it cannot be cancelled now.",
                           code=Code.ORDER_NOT_CANCELLABLE, details={"payment_status": "processing"})
        if order.status == "pending_payment":
            if not release_unpaid(order, subs, "cancelled_by_buyer", cancel_payment=True):
                raise _Stale
            return buyer_order(user_id, order_id)
        at = clock.stamp()
        transaction = LabelledTransaction()
        refunded = sum(_cancel_paid(transaction, order, sub, "cancelled_by_buyer", at)[1] for sub in subs)
        add_refunded_total(transaction, order, refunded, at=at)
        commit(transaction)
        return buyer_order(user_id, order_id)

    return retrying(attempt, what="order", attempts=MAX_ATTEMPTS)


def request_return(user_id: str, order_id: str, *, seller_id: str, quantities: Mapping[int, int],
                   reason: str) -> SubOrder:
    """Within the seller's return window after delivery; at most what was bought and not refunded."""
    def attempt() -> SubOrder:
        order = get_order(user_id, order_id)
        if seller_id not in order.seller_ids:
            raise order_not_found()
        sub = get_sub_order(seller_id, order_id)
        if "return_requested" not in TRANSITIONS[sub.status]:
            raise invalid_transition(sub, "return_requested")
        window = int(get_seller(seller_id).return_window_days)
        delivered = clock.parse(sub.delivered_at) if sub.delivered_at else None
        if delivered is None or clock.now() > delivered + timedelta(days=window):
            raise Conflict(f"The return window of {window} days after delivery has passed.",
                           code=Code.RETURN_WINDOW_CLOSED, details={"delivered_at": sub.delivered_at,
                                                                 "return_window_days": window})
        by_number = {int(line["line"]): line for line in sub.lines}
        problems: list[FieldProblem] = []
        for number, quantity in quantities.items():
            line = by_number.get(number)
            if line is None:
                problems.append({"field": f"body.lines.{number}", "message": "no such line", "type": "value_error"})
            elif quantity > int(line["quantity"]) - int(line.get("refunded_quantity", 0)):
                problems.append({"field": f"body.lines.{number}", "message": "more than was bought and not refunded",
                                 "type": "value_error"})
        if problems:
            raise ValidationFailed("Some return lines are not possible.", code=Code.INVALID_RETURN, details=problems)
        lines = [{**line, "return_quantity": quantities.get(int(line["line"]), 0)} for line in sub.lines]
        transaction = LabelledTransaction()
        after = move(transaction, sub, "return_requested", at=clock.stamp(),
             changes={"lines": lines, "return_reason": reason, "GSI2PK": None, "GSI2SK": None},
             payload={"reason": reason})
        commit(transaction)
        return after

    return retrying(attempt, what="order", attempts=MAX_ATTEMPTS)
