"""Per promotion, the paid orders it applied to and their revenue, counted from ``order.paid``.

Once per order: the order's ``PromoRedemption`` is marked ``paid_at`` in the transaction that
adds to the promotions' counters, on the condition that it was not marked before, so a
redelivered event counts nothing twice. GetItem + TransactWriteItems, only for orders a
promotion applied to.
"""

from __future__ import annotations

from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, find_item
from chalicelib.core.keys import PROMO_ORDER_SK, promo_order_key, promotion_sk
from chalicelib.events.registry import Delivered
from chalicelib.orders.events import OrderPaid
from chalicelib.promotions.models import PromoRedemption, Promotion


def count_paid_order(paid: OrderPaid) -> bool:
    """Add the order to each of its promotions' orders and revenue; False when counted before
    or no promotion applied."""
    record = find_item(PromoRedemption, promo_order_key(paid.order_id), PROMO_ORDER_SK, consistent_read=True)
    if record is None or record.paid_at:
        return False
    revenue = sum(share.amount for share in paid.sellers)
    transaction = LabelledTransaction()
    transaction.update("redemption", record, [PromoRedemption.paid_at.set(clock.stamp())],
                       PromoRedemption.paid_at.does_not_exist())
    for owner, promotion_id, _, _ in record.uses:
        transaction.update(f"promotion:{promotion_id}", Promotion(owner, promotion_sk(promotion_id)),
                           [Promotion.orders.add(1), Promotion.revenue.add(revenue)])
    return not transaction.commit()


def on_order_paid(delivered: Delivered[OrderPaid]) -> None:
    count_paid_order(delivered.event)
