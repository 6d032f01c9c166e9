"""Retention analytics' items: one summary per customer and scope, and the counters the
summaries add to. Reports read counters only, never orders.

A **scope** is one seller (their customers: what the buyer paid that seller) or the whole
marketplace (every buyer: what they paid for the order), in one currency. Its items are
spread over shards by the customer (``n`` below; 4 for a seller, 16 for the marketplace,
:mod:`chalicelib.core.keys`), because every paid order adds to the same period counters.

Keys and access patterns (RT = DynamoDB round trips; spellings in :mod:`chalicelib.core.keys`):

- ``AnalyticsSummary``: PK=SELLER#<sid>#ANALYTICS#<n> (or ANALYTICS#MARKETPLACE#<n>),
  SK=CUSTOMER#<uid>#<currency> — the customer's paid orders and refunds as received, and
  from them the orders that count (day number, net amount, order id), first and last order
  day, order count and net monetary value. An event's subscriber reads it (GetItem, consistent),
  recomputes it and puts it back conditioned on its ``version``, in the transaction that
  adds the counters' difference. A scope's customers, for the models' fit and the backfill:
  Query every shard, SK begins_with CUSTOMER#.
- ``AnalyticsCounter``: same PK as the customer's summary (``n`` of the customer, so one
  customer's writes stay in one shard).
  - SK=COUNT#<currency>#<kind>#<period>: what the scope's customers add to one day, ISO
    week, month, quarter or year (``active`` is a change of the active customers: +1 on the
    day a customer becomes active, -1 on the day they stop). A retention report Queries per
    shard: the month items before its first period (the running totals at its start), for
    day and week periods the day items of the first period's month before it, and the items
    of its own kind in its range — at most 3 Queries per shard, whatever the number of
    customers or orders.
  - SK=COHORT#<currency>#<cohort month>#<month>: the customers whose first counted order
    falls in the cohort month, buying in a month (distinct customers) and their revenue.
    The cohort report: one Query per shard (SK between the first and the last cohort month).
  Counters are only ever ADDed, with the difference between a summary's contribution before
  and after a change, in the summary's transaction: a redelivered or late event changes the
  summary (and so the counters) once, and in any order the counters equal what the
  summaries contribute.
- ``AnalyticsBackfill``: PK=ANALYTICS#BACKFILL, SK=CHECKPOINT — how far the backfill got
  (:mod:`chalicelib.analytics.backfill`), so a run that stopped goes on from there.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.db import TableModel


class AnalyticsSummary(TableModel):
    customer_id = UnicodeAttribute()
    seller_id = UnicodeAttribute(null=True)  # None: the marketplace's summary
    currency = UnicodeAttribute()
    paid: ListAttribute[list[Any]] = ListAttribute(default=list)  # [day number, gross amount, order id] per paid order
    refunds: ListAttribute[list[Any]] = ListAttribute(default=list)  # [refund id, order id, amount] per refund
    # [day number, net amount, order id]: the orders that count, oldest first
    orders: ListAttribute[list[Any]] = ListAttribute(default=list)
    first_day = NumberAttribute(null=True)  # day numbers: days since 1970-01-01
    last_day = NumberAttribute(null=True)
    order_count = NumberAttribute(default=0)
    monetary = NumberAttribute(default=0)  # net, minor units of ``currency``
    version = NumberAttribute(default=0)


class AnalyticsCounter(TableModel):
    """Absent counters are 0. ``g<b>``: the histogram of gaps between a customer's
    consecutive orders (:data:`chalicelib.analytics.contributions.GAP_BOUNDS`)."""

    active = NumberAttribute(null=True)
    new = NumberAttribute(null=True)  # customers whose first counted order is in the period
    orders = NumberAttribute(null=True)
    revenue = NumberAttribute(null=True)
    revenue_new = NumberAttribute(null=True)  # of first orders
    revenue_returning = NumberAttribute(null=True)  # of second and later orders
    repeaters = NumberAttribute(null=True)  # customers whose second counted order is in the period
    buyers = NumberAttribute(null=True)  # distinct customers with an order in the period
    g0 = NumberAttribute(null=True)
    g1 = NumberAttribute(null=True)
    g2 = NumberAttribute(null=True)
    g3 = NumberAttribute(null=True)
    g5 = NumberAttribute(null=True)
    g7 = NumberAttribute(null=True)
    g10 = NumberAttribute(null=True)
    g14 = NumberAttribute(null=True)
    g21 = NumberAttribute(null=True)
    g30 = NumberAttribute(null=True)
    g45 = NumberAttribute(null=True)
    g60 = NumberAttribute(null=True)
    g90 = NumberAttribute(null=True)
    g120 = NumberAttribute(null=True)
    g180 = NumberAttribute(null=True)
    g270 = NumberAttribute(null=True)
    g365 = NumberAttribute(null=True)
    g_more = NumberAttribute(null=True)


class AnalyticsBackfill(TableModel):
    phase = UnicodeAttribute()  # reset, orders or done
    reset = BooleanAttribute(default=False)  # whether the run began by deleting every analytics item
    seller_id = UnicodeAttribute(null=True)  # the seller whose orders are being read
    page = JSONAttribute(null=True)  # the last evaluated key of that seller's orders, None: from the start
    sub_orders = NumberAttribute(default=0)  # read so far in this run
    started_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
