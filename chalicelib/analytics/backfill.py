"""Rebuilding the customers' summaries, and with them the counters, from the orders.

For a marketplace that ran before analytics existed, or after the look-back window changed
(the counters hold each customer's active spans, so a new window needs ``reset``). Every
seller's sub-orders are read in pages (Query per seller, oldest order first); each paid one
is merged into its customer's summary in the seller's scope and, once per order (for the
order's first seller), in the marketplace's, through the same read-modify-write as the
events (:func:`chalicelib.analytics.summaries.update_summary`). Merging is idempotent — an
order is known by its id, a refund by its id — so live events may go on meanwhile, and a run
may stop anywhere: a checkpoint item after each page says where the next run goes on.

``reset`` first deletes every analytics item of every scope (the marketplace's and each
seller's shards). Run it while no order is paid or refunded (an event applied between the
deletion of its summary and of its counters would leave counters no summary explains).

Cost per sub-order: GetItem of the order, for a refunded one a Query of its refunds, and for
the order's first seller a BatchGetItem of its other parts; then one transaction per scope
whose summary changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.analytics.contributions import day_number
from chalicelib.analytics.models import AnalyticsBackfill, AnalyticsCounter
from chalicelib.analytics.summaries import Change, Rows, update_summary
from chalicelib.core import clock
from chalicelib.core.db import find_item
from chalicelib.core.keys import (
    ANALYTICS_BACKFILL_KEY,
    BACKFILL_CHECKPOINT_SK,
    ORDER_PREFIX,
    analytics_keys,
    order_sk,
    refund_prefix,
    seller_key,
    user_key,
)
from chalicelib.orders.models import Order, Refund, SubOrder
from chalicelib.sellers.models import every_seller_id

PAGE = 100


@dataclass(frozen=True)
class Outcome:
    sub_orders: int  # read in this run, over all its invocations
    resumed: bool  # went on from a checkpoint


def _delete_scope(seller_id: str | None) -> None:
    """Every summary and counter of a scope: a Query per shard (keys only), BatchWriteItem."""
    with AnalyticsCounter.batch_write() as batch:
        for partition in analytics_keys(seller_id):
            for item in AnalyticsCounter.query(partition, attributes_to_get=["PK", "SK"]):
                batch.delete(item)


def _merge(order_id: str, row: list[Any], refunds: Sequence[list[Any]]) -> Change:
    """Set the order's paid row to what the orders say, and add its refunds not yet known."""

    def change(paid: Rows, known: Rows) -> tuple[Rows, Rows] | None:
        kept = [r for r in paid if r[2] != order_id]
        before = [r for r in paid if r[2] == order_id]
        known_ids = {r[0] for r in known}
        added = [r for r in refunds if r[0] not in known_ids]
        if before == [row] and not added:
            return None
        return [*kept, row], [*known, *added]

    return change


def rebuild_sub_order(sub: SubOrder) -> None:
    """Merge one seller's part of an order (and, for the order's first seller, the whole
    order) into the customers' summaries; nothing for a part never paid."""
    if sub.paid_at is None:
        return
    day = day_number(clock.parse(sub.paid_at).date())
    order = find_item(Order, user_key(sub.user_id), order_sk(sub.order_id), consistent_read=True)
    refunds: list[Refund] = []
    if (order is not None and int(order.amount_refunded or 0) > 0) or int(sub.refunded or 0) > 0:
        refunds = list(Refund.query(user_key(sub.user_id), Refund.SK.startswith(refund_prefix(sub.order_id)),
                                    consistent_read=True))
    mine = [[r.refund_id, r.order_id, int(r.amount)] for r in refunds if r.seller_id == sub.seller_id]
    update_summary(sub.seller_id, sub.user_id, sub.currency,
                   _merge(sub.order_id, [day, int(sub.total), sub.order_id], mine))
    if order is None or not order.seller_ids or order.seller_ids[0] != sub.seller_id:
        return
    others = [seller_id for seller_id in order.seller_ids if seller_id != sub.seller_id]
    parts = [sub, *SubOrder.batch_get([(seller_key(s), order_sk(sub.order_id)) for s in others])] if others else [sub]
    gross = sum(int(part.total) for part in parts if part.paid_at is not None)
    update_summary(None, sub.user_id, sub.currency,
                   _merge(sub.order_id, [day, gross, sub.order_id],
                          [[r.refund_id, r.order_id, int(r.amount)] for r in refunds]))


def run(*, reset: bool = False, progress: Callable[[str], None] | None = None) -> Outcome:
    """Rebuild, going on from the checkpoint of a run that did not finish (with that run's
    ``reset``); else start a new run."""
    say = progress or (lambda _: None)
    checkpoint = find_item(AnalyticsBackfill, ANALYTICS_BACKFILL_KEY, BACKFILL_CHECKPOINT_SK, consistent_read=True)
    resumed = checkpoint is not None and checkpoint.phase != "done"
    if checkpoint is None or checkpoint.phase == "done":
        now = clock.stamp()
        checkpoint = AnalyticsBackfill(ANALYTICS_BACKFILL_KEY, BACKFILL_CHECKPOINT_SK,
                                       phase="reset" if reset else "orders", reset=reset, seller_id=None, page=None,
                                       sub_orders=0, started_at=now, updated_at=now)
        checkpoint.save()
    sellers = every_seller_id()
    if checkpoint.phase == "reset":
        for scope in (None, *sellers):
            _delete_scope(scope)
        say("deleted every summary and counter")
        _save(checkpoint, phase="orders", seller_id=None, page=None)
    start = sellers.index(checkpoint.seller_id) if checkpoint.seller_id in sellers else 0
    for number, seller_id in enumerate(sellers[start:], start=start):
        page = checkpoint.page if checkpoint.seller_id == seller_id else None
        while True:
            results = SubOrder.query(seller_key(seller_id), SubOrder.SK.startswith(ORDER_PREFIX), limit=PAGE,
                                     last_evaluated_key=page)
            count = 0
            for sub in results:
                rebuild_sub_order(sub)
                count += 1
            page = results.last_evaluated_key
            _save(checkpoint, seller_id=seller_id, page=page, sub_orders=int(checkpoint.sub_orders) + count)
            if page is None:
                break
        following = sellers[number + 1] if number + 1 < len(sellers) else None
        _save(checkpoint, seller_id=following, page=None)
        say(f"{seller_id}: done ({int(checkpoint.sub_orders):,} sub-orders so far)")
    _save(checkpoint, phase="done", seller_id=None, page=None)
    return Outcome(int(checkpoint.sub_orders), resumed)


def _save(checkpoint: AnalyticsBackfill, **changes: Any) -> None:
    for name, value in changes.items():
        setattr(checkpoint, name, value)
    checkpoint.updated_at = clock.stamp()
    checkpoint.save()
