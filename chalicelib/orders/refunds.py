"""Carrying out a refund that a cancellation or an approved return requested.

Policy (see :mod:`chalicelib.ledger.postings`): the buyer gets back what they paid for the
refunded units (and the refunded shipping, an entry of its own in the refund's lines); the
seller bears it, and gives back the marketplace-funded discount on those units in
proportion; the marketplace fee on those units is refunded to the seller in proportion; the
seller's transfer is reversed by what the seller had been paid for them. A refund can never
exceed what was captured: the request
was conditioned on the order's refunded total (``lifecycle.add_refunded_total``), Stripe
refuses more than the charge, and each line refunds at most its total.

Runs as a subscriber of ``order.refund_requested``. Steps, each repeatable: Stripe refund
(key ``order:<id>:refund:<refund>``), transfer reversal (key
``order:<id>:reversal:<refund>:<seller>``), then one transaction: the ledger postings (their
markers make a repeat fail harmlessly), the refund marked done, the seller's sales
reduced, what the checkout contributors reverse (given their adjustments' part of the
refunded amounts) and a returned sub-order moved to ``refunded``.
"""

from __future__ import annotations

from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction
from chalicelib.core.keys import refund_sk, user_key
from chalicelib.core.logging import logger
from chalicelib.core.money import Money
from chalicelib.events.registry import Delivered
from chalicelib.fees.service import record_sale
from chalicelib.ledger.postings import (
    RefundedLine,
    discount_given_back,
    refund_posting,
    refund_split,
    seller_refund_postings,
    transfer_reversal_posting,
)
from chalicelib.ledger.service import posting_items
from chalicelib.orders.contributors import contributors
from chalicelib.orders.events import RefundRequested
from chalicelib.orders.extensions import reversed_adjustments
from chalicelib.orders.lifecycle import get_order, get_sub_order
from chalicelib.orders.models import Refund
from chalicelib.orders.transitions import move
from chalicelib.payments import stripe_gateway


class TransferPending(Exception):
    """The seller's transfer is not made yet; SQS retries the refund after it."""


def execute_refund(user_id: str, order_id: str, refund_id: str) -> bool:
    """Carry out one requested refund; False when it was done before."""
    refund = Refund.get(user_key(user_id), refund_sk(order_id, refund_id), consistent_read=True)
    if refund.status == "refunded":
        return False
    order = get_order(user_id, order_id)
    sub = get_sub_order(refund.seller_id, order_id)
    currency = refund.currency
    lines = [RefundedLine(line_total=Money(currency, int(line["line_total"])), fee=Money(currency, int(line["fee"])),
                          refunded_before=Money(currency, int(line["refunded_before"])),
                          amount=Money(currency, int(line["amount"])), shipping=bool(line.get("shipping")),
                          marketplace_discount=Money(currency, int(line.get("marketplace_discount", 0))))
             for line in refund.lines]
    refunded, fee_back = refund_split(lines)
    seller_part = refunded + discount_given_back(lines) - fee_back  # what the seller had been paid for them
    if seller_part.amount > 0 and not sub.transfer_id:
        raise TransferPending(f"{order_id}/{refund.seller_id}")
    stripe_refund = stripe_gateway.create_refund(order_id=order_id, refund_id=refund_id,
                                                 payment_intent_id=order.payment_intent_id, amount=refunded.amount)
    now = clock.now()
    postings = [refund_posting(order_id, refund_id, refunded, stripe_refund_id=stripe_refund.id, occurred_at=now),
                *seller_refund_postings(order_id, refund_id, refund.seller_id, lines, occurred_at=now)]
    reversal_id = None
    if seller_part.amount > 0:
        reversal = stripe_gateway.create_transfer_reversal(order_id=order_id, refund_id=refund_id,
                                                           seller_id=refund.seller_id, transfer_id=sub.transfer_id,
                                                           amount=seller_part.amount)
        reversal_id = reversal.id
        postings.append(transfer_reversal_posting(order_id, refund_id, refund.seller_id, seller_part,
                                                  reversal_id=reversal.id, occurred_at=now))
    at = clock.stamp()
    transaction = LabelledTransaction()
    transaction.update("refund", refund, [
        Refund.status.set("refunded"), Refund.stripe_refund_id.set(stripe_refund.id), Refund.refunded_at.set(at),
        Refund.GSI1PK.remove(), Refund.GSI1SK.remove(),  # off the stuck-refund sweep's index
        *([Refund.reversal_id.set(reversal_id)] if reversal_id else [])], Refund.status == "requested")
    for write in posting_items(*postings, together=True):  # one record (and marker) for the refund's postings
        transaction.add("ledger", write)
    transaction.add("sales", record_sale(refund.seller_id, -refunded, now.date()))
    reversed_parts = reversed_adjustments(sub, refund)
    for contributor in contributors:  # in the refund's transaction: once per refund
        for write in contributor.reverse(order, refund, reversed_parts.get(contributor.name, [])):
            transaction.add(f"reverse:{contributor.name}", write)
    if sub.status == "returned":
        move(transaction, sub, "refunded", at=at, payload={"refund_id": refund_id, "amount": refunded.amount})
    failed = transaction.commit()
    if failed:
        logger.info("refund already recorded", extra={"refund_id": refund_id, "failed": sorted(failed)})
        if "sub:" + refund.seller_id in failed and "refund" not in failed:
            raise RuntimeError("the sub-order changed while its refund was recorded; retrying")
        return False
    return True


def on_refund_requested(delivered: Delivered[RefundRequested]) -> None:
    """Subscriber of ``order.refund_requested``."""
    refund = delivered.event
    execute_refund(refund.user_id, refund.order_id, refund.refund_id)
