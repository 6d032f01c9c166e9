"""Paying sellers: one Stripe Transfer per seller of a paid order, for what the seller is
credited (its lines and its shipping: shipping is the seller's revenue; plus the
marketplace-funded discount on its lines and shipping) minus the marketplace fee (on shipping too where
the fee schedule says so), with the order's charge as ``source_transaction`` (the transfer
waits for the charge's funds) and the order in its metadata. A seller part with a
marketplace-funded discount is paid from the platform's balance instead (no
``source_transaction``): Stripe refuses transfers from a charge beyond its amount, and the
marketplace's part is not in the charge.

Runs as a subscriber of ``order.paid`` (through the outbox and SQS), not in the webhook:
Stripe waits for the webhook's answer, and a failed transfer is retried by SQS. The
Stripe key ``order:<id>:transfer:<seller>`` and the conditional record make a repeat
create and record nothing new.
"""

from __future__ import annotations

from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction
from chalicelib.core.errors import NotFound
from chalicelib.core.logging import logger
from chalicelib.core.money import Money
from chalicelib.events.registry import Delivered
from chalicelib.ledger.postings import transfer_posting
from chalicelib.ledger.service import posting_items
from chalicelib.orders.events import OrderPaid
from chalicelib.orders.lifecycle import get_order, get_sub_order
from chalicelib.orders.models import Order
from chalicelib.payments import stripe_gateway
from chalicelib.sellers.service import get_seller


class SellerNotPayable(Exception):
    """The seller has no Stripe account to pay into yet; SQS retries later."""


def transfer_share(order: Order, seller_id: str) -> str | None:
    """Transfer one seller's share of a paid order (once); returns the transfer id.
    GetItem sub-order, GetItem seller, Stripe transfer, TransactWriteItems."""
    from chalicelib.orders.models import SubOrder

    order_id = order.order_id
    sub = get_sub_order(seller_id, order_id)
    if sub.transfer_id:
        return sub.transfer_id
    amount = int(sub.total) + int(sub.marketplace_discount or 0) - int(sub.fee)
    if amount <= 0 or order.status != "paid":
        return None
    seller = get_seller(seller_id)
    if not seller.stripe_account_id:
        raise SellerNotPayable(seller_id)
    transfer = stripe_gateway.create_transfer(order_id=order_id, seller_id=seller_id, amount=amount,
                                              currency=sub.currency, destination=seller.stripe_account_id,
                                              source_transaction=None if sub.marketplace_discount else order.charge_id)
    transaction = LabelledTransaction()
    transaction.update("sub", sub, [SubOrder.transfer_id.set(transfer.id), SubOrder.transferred.set(amount),
                                    SubOrder.GSI1PK.remove(), SubOrder.GSI1SK.remove()],  # off the sweep's index
                       SubOrder.transfer_id.does_not_exist())
    for write in posting_items(transfer_posting(order_id, seller_id, Money(sub.currency, amount),
                                                transfer_id=transfer.id, occurred_at=clock.now())):
        transaction.add("ledger", write)
    if transaction.commit():
        logger.info("transfer already recorded", extra={"order_id": order_id, "seller_id": seller_id})
    return str(transfer.id)


def on_order_paid(delivered: Delivered[OrderPaid]) -> None:
    """Subscriber of ``order.paid``: each paid seller's share goes to its Stripe account."""
    paid = delivered.event
    try:
        order = get_order(paid.user_id, paid.order_id)
    except NotFound:  # not a checkout's order (nothing to pay out)
        logger.warning("order.paid for an unknown order", extra={"order_id": paid.order_id})
        return
    for share in paid.sellers:
        transfer_share(order, share.seller_id)
