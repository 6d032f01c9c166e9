"""Keeping each customer's summary, per seller and for the marketplace, from the orders'
events, and the scope's counters with it.

Each change is a read-modify-write of one summary: GetItem (consistent), then one
TransactWriteItems with the summary's versioned put and an ADD of the difference on each
counter item it changes (:mod:`chalicelib.analytics.contributions`). A paid order is known
by its order id and a refund by its refund id, so a redelivered event changes nothing; a
refund that arrives before its order's payment waits in the summary until it comes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.analytics.contributions import (
    COHORT,
    Contribution,
    contribution,
    counted_orders,
    day_number,
    difference,
)
from chalicelib.analytics.models import AnalyticsCounter, AnalyticsSummary
from chalicelib.core.db import LabelledTransaction, Stale, find_item, retrying
from chalicelib.core.keys import analytics_cohort_sk, analytics_counter_sk, analytics_customer_sk, analytics_key
from chalicelib.core.settings import get_settings

# One summary's transaction: its put and up to 99 counter items. A change that touches more
# (an order arriving long after later ones, moving a customer with years of orders to
# another cohort) fails and is retried, then dead-lettered; the backfill repairs it.
MAX_TRANSACTION_ITEMS = 100
ATTEMPTS = 5

Rows = list[list[Any]]
Change = Callable[[Rows, Rows], tuple[Rows, Rows] | None]


@dataclass(frozen=True)
class Share:
    """What one customer paid in one scope (None: the marketplace) for one order."""

    seller_id: str | None
    amount: int
    currency: str


def record_paid(customer_id: str, order_id: str, day: date, shares: Sequence[Share]) -> None:
    """An order paid: each seller's share in the seller's scope, their sum per currency in the
    marketplace's."""
    totals: dict[str, int] = defaultdict(int)
    for share in shares:
        totals[share.currency] += share.amount
    scopes = [*shares, *(Share(None, amount, currency) for currency, amount in totals.items())]
    for scope in scopes:
        def add(paid: Rows, refunds: Rows, amount: int = scope.amount) -> tuple[Rows, Rows] | None:
            if any(row[2] == order_id for row in paid):
                return None
            return [*paid, [day_number(day), amount, order_id]], refunds

        update_summary(scope.seller_id, customer_id, scope.currency, add)


def record_refund(customer_id: str, order_id: str, refund_id: str, seller_id: str, amount: int,
                  currency: str) -> None:
    """A refund of one seller's part: in the seller's scope and the marketplace's."""

    def add(paid: Rows, refunds: Rows) -> tuple[Rows, Rows] | None:
        if any(row[0] == refund_id for row in refunds):
            return None
        return paid, [*refunds, [refund_id, order_id, amount]]

    for scope in (seller_id, None):
        update_summary(scope, customer_id, currency, add)


def update_summary(seller_id: str | None, customer_id: str, currency: str, change: Change) -> bool:
    """Apply ``change`` to the customer's paid orders and refunds in a scope, with the
    counters' difference; False when it changed nothing. A summary changed meanwhile is read
    again; after :data:`ATTEMPTS` the error reaches the events worker (the message comes back)."""
    partition = analytics_key(seller_id, customer_id)
    sort_key = analytics_customer_sk(customer_id, currency)
    active_days = get_settings().analytics_active_days

    def attempt() -> bool:
        summary = find_item(AnalyticsSummary, partition, sort_key, consistent_read=True)
        paid: Rows = [list(row) for row in summary.paid] if summary else []
        refunds: Rows = [list(row) for row in summary.refunds] if summary else []
        changed = change(paid, refunds)
        if changed is None:
            return False
        new_paid, new_refunds = changed
        before = contribution(counted_orders(paid, refunds), active_days)
        orders = counted_orders(new_paid, new_refunds)
        version = int(summary.version) if summary else 0
        item = AnalyticsSummary(
            partition, sort_key, customer_id=customer_id, seller_id=seller_id, currency=currency,
            paid=new_paid, refunds=new_refunds, orders=[[o.day, o.net, o.order_id] for o in orders],
            first_day=orders[0].day if orders else None, last_day=orders[-1].day if orders else None,
            order_count=len(orders), monetary=sum(o.net for o in orders), version=version + 1)
        transaction = LabelledTransaction()
        transaction.put("summary", item, AnalyticsSummary.version == version if summary
                        else AnalyticsSummary.PK.does_not_exist())
        add_counters(transaction, partition, currency, difference(before, contribution(orders, active_days)))
        if transaction.commit():
            raise Stale
        return True

    return retrying(attempt, what="customer summary", attempts=ATTEMPTS, exhausted=lambda raced: raced)


def add_counters(transaction: LabelledTransaction, partition: str, currency: str, change: Contribution) -> None:
    """ADD ``change`` to the counter items of one shard of a scope."""
    if len(transaction) + len(change) > MAX_TRANSACTION_ITEMS:
        raise RuntimeError(f"a summary change touches {len(change)} counter items; run the analytics backfill")
    for (kind, period), counters in sorted(change.items()):
        if kind == COHORT:
            cohort, month = period.split("#")
            sort_key = analytics_cohort_sk(currency, cohort, month)
        else:
            sort_key = analytics_counter_sk(currency, kind, period)
        transaction.update(f"counter:{sort_key}", AnalyticsCounter(partition, sort_key),
                           [getattr(AnalyticsCounter, name).add(value) for name, value in sorted(counters.items())])
