"""Finishing refunds and transfers that were left half-way.

Normally the ``order.refund_requested`` and ``order.paid`` subscribers carry them out, and
SQS retries them when they fail. What is left: a Lambda that died mid-work after SQS gave up,
a message that went to the dead-letter queue, an event lost before the fixes of the stream
relay. A refund still ``requested``, or a paid seller's share still without a transfer,
STUCK_AFTER after it was due is finished here by the same functions, with the same Stripe
idempotency keys (``order:<id>:refund:<refund>``, ``order:<id>:transfer:<seller>``): a
Refund or Transfer Stripe made already is returned, never made twice.

Round trips: one Query per index and day bucket, per shard of a sharded one and in
parallel (the last LOOKBACK_DAYS days, sparse indexes
that hold only what is still due: items leave them when done), then per stuck item the
subscriber's own work. Never a Scan.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.core import clock
from chalicelib.core.db import query_shards
from chalicelib.core.keys import refund_due_key, transfer_due_keys
from chalicelib.core.logging import logger
from chalicelib.orders.models import Refund, SubOrder

# Longer than SQS takes to redeliver (visibility timeout 180 s) a few times: before, the
# subscribers are still on it.
STUCK_AFTER = timedelta(minutes=15)
LOOKBACK_DAYS = 7  # a refund or transfer due longer than this is an operator's finding


def _days(now: datetime) -> list[str]:
    return [(now - timedelta(days=back)).date().isoformat() for back in range(LOOKBACK_DAYS, -1, -1)]


def stuck_refunds(now: datetime) -> list[Refund]:
    before = clock.stamp(now - STUCK_AFTER)
    return [refund for day in _days(now)
            for refund in Refund.by_due.query(refund_due_key(day), Refund.GSI1SK < before)]  # noqa: SIM300


def stuck_transfers(now: datetime) -> list[SubOrder]:
    """Every shard of each day bucket, in parallel, oldest payment first."""
    before = clock.stamp(now - STUCK_AFTER)
    return query_shards(lambda partition: SubOrder.by_transfer_due.query(partition, SubOrder.GSI1SK < before),  # noqa: SIM300
                        [key for day in _days(now) for key in transfer_due_keys(day)], order_by=lambda sub: sub.GSI1SK)


def finish_stuck(now: datetime | None = None) -> dict[str, int]:
    """Scheduled: carry out stuck refunds and transfers; returns how many were finished and
    how many are still waiting (a transfer for a seller without a Stripe account, a refund
    whose transfer is not made yet, Stripe unavailable: the next run tries again)."""
    from chalicelib.orders.lifecycle import get_order
    from chalicelib.orders.payouts import transfer_share
    from chalicelib.orders.refunds import execute_refund

    now = now or clock.now()
    finished = waiting = 0
    # Transfers first: a refund waits for its seller's transfer (refunds.TransferPending).
    for sub in stuck_transfers(now):
        try:
            transfer_share(get_order(sub.user_id, sub.order_id), sub.seller_id)
            finished += 1
        except Exception:  # this one waits for the next run; the others go on
            logger.exception("stuck transfer not finished", extra={"order_id": sub.order_id,
                                                                   "seller_id": sub.seller_id})
            waiting += 1
    for refund in stuck_refunds(now):
        try:
            execute_refund(refund.user_id, refund.order_id, refund.refund_id)
            finished += 1
        except Exception:
            logger.exception("stuck refund not finished", extra={"order_id": refund.order_id,
                                                                 "refund_id": refund.refund_id})
            waiting += 1
    if finished or waiting:
        logger.warning("finished stuck refunds and transfers", extra={"finished": finished, "waiting": waiting})
    return {"finished": finished, "waiting": waiting}
