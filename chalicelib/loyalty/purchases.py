"""Members' and non-members' orders per month, for the report's ``member_comparison``: counted
as they are paid and refunded (loyalty's subscriptions), so the report reads 16 small items a
month instead of every order.

- A *member* order: the buyer had a loyalty membership (points earned before) when the order
  was paid; an order that makes a buyer a member (their first points) is a non-member's.
- A *repeat* order: the buyer had paid an order before (any seller, any time since counting
  began). Events may arrive out of order; an order that is older than the buyer's first
  counted one is counted as a first order.
- Revenue: what the order charged (goods, shipping, VAT); refunds are counted against the
  month and group of the order they refund. Only orders in the programme's currency count.
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, Stale, find_item, retrying
from chalicelib.core.keys import LOYALTY_PURCHASES_SK, loyalty_order_sk, loyalty_orders_month_key, order_sk, user_key
from chalicelib.loyalty.earning import LATE_EARNING_SECONDS, EarningNotYetRecorded
from chalicelib.loyalty.models import LoyaltyOrder, LoyaltyOrderMonth, LoyaltyPurchases
from chalicelib.loyalty.programme import get_programme
from chalicelib.loyalty.store import read_member
from chalicelib.orders.models import Order

MEMBER, NON_MEMBER = "MEMBER", "NON_MEMBER"
GROUPS = (MEMBER, NON_MEMBER)


def count_paid(user_id: str, order_id: str, *, paid_at: str, amounts: Sequence[tuple[int, str]]) -> bool:
    """Count a paid order once: its group, whether it repeats, its revenue. GetItem (programme,
    member, purchases) and one transaction. False when counted before or not counted (another
    currency than the programme's)."""
    currency = get_programme().currency
    if not amounts or any(code != currency for _, code in amounts):
        return False
    amount = sum(value for value, _ in amounts)
    member = read_member(user_id)
    group = MEMBER if member is not None and member.joined_at < paid_at else NON_MEMBER
    month = paid_at[:7]

    def attempt() -> bool:
        purchases = find_item(LoyaltyPurchases, user_key(user_id), LOYALTY_PURCHASES_SK, consistent_read=True)
        first = purchases.first_paid_at if purchases is not None else None
        repeat = first is not None and first < paid_at
        transaction = LabelledTransaction()
        transaction.put("order", LoyaltyOrder(PK=user_key(user_id), SK=loyalty_order_sk(order_id), order_id=order_id,
                                              group=group, month=month, amount=amount),
                        LoyaltyOrder.PK.does_not_exist())
        version = int(purchases.version or 0) if purchases is not None else 0
        transaction.update("purchases", LoyaltyPurchases(PK=user_key(user_id), SK=LOYALTY_PURCHASES_SK),
                           [LoyaltyPurchases.orders.add(1), LoyaltyPurchases.version.add(1),
                            LoyaltyPurchases.first_paid_at.set(first if repeat and first else paid_at)],
                           (LoyaltyPurchases.version == version) if purchases is not None
                           else LoyaltyPurchases.PK.does_not_exist())
        transaction.update("month", LoyaltyOrderMonth(PK=loyalty_orders_month_key(month, user_id), SK=group),
                           [LoyaltyOrderMonth.orders.add(1), LoyaltyOrderMonth.repeat_orders.add(1 if repeat else 0),
                            LoyaltyOrderMonth.revenue.add(amount)])
        failed = transaction.commit()
        if "order" in failed:
            return False  # counted before
        if failed:
            raise Stale(", ".join(sorted(failed)))
        return True

    return retrying(attempt, what="loyalty purchases", exhausted=lambda error: error)


def count_refund(user_id: str, order_id: str, refund_id: str, amount: int) -> bool:
    """Count a refund against its order's month and group, once per refund. GetItem (the
    counted order) and one transaction. Raises :class:`EarningNotYetRecorded` when the order's
    payment, paid within the hour, is not counted yet (the event comes again)."""
    counted = find_item(LoyaltyOrder, user_key(user_id), loyalty_order_sk(order_id), consistent_read=True)
    if counted is None:
        order = find_item(Order, user_key(user_id), order_sk(order_id), consistent_read=True)
        if order is not None and order.paid_at and order.currency == get_programme().currency \
                and (clock.now() - clock.parse(order.paid_at)).total_seconds() < LATE_EARNING_SECONDS:
            raise EarningNotYetRecorded(f"{order_id} (counting)")
        return False  # paid before counting began, or in another currency
    if refund_id in (counted.refund_ids or set()):
        return False
    transaction = LabelledTransaction()
    transaction.update("order", LoyaltyOrder(PK=counted.PK, SK=counted.SK), [LoyaltyOrder.refund_ids.add({refund_id})],
                       LoyaltyOrder.PK.exists() & ~LoyaltyOrder.refund_ids.contains(refund_id))
    transaction.update("month", LoyaltyOrderMonth(PK=loyalty_orders_month_key(counted.month, user_id),
                                                  SK=counted.group), [LoyaltyOrderMonth.refunded.add(amount)])
    return not transaction.commit()
