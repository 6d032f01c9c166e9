"""The daily loyalty sweeps: lots that expire today, reminders 30 days before, and the
members' yearly re-qualification (:func:`chalicelib.loyalty.tiers.requalify_due`).

Each finds what is due by querying an index keyed by the due day, every shard of it in
parallel (``core.db.query_shards``), never by a Scan; yesterday's bucket too, for a run
that was missed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, query_shards, retrying
from chalicelib.core.keys import loyalty_expiry_keys, until_sort_key
from chalicelib.events.service import new_event
from chalicelib.loyalty.events import PointsExpiring
from chalicelib.loyalty.models import LoyaltyLot
from chalicelib.loyalty.store import Movement, expiry_release, read_lot, take_from_lot
from chalicelib.loyalty.tiers import requalify_due

REMINDER_DAYS = 30


def _lots_expiring(days: list[str], until: str | None = None) -> list[LoyaltyLot]:
    partitions = [key for day in days for key in loyalty_expiry_keys(day)]

    def query(partition: str) -> Any:
        if until is None:
            return LoyaltyLot.by_expiry.query(partition)
        return LoyaltyLot.by_expiry.query(partition, LoyaltyLot.GSI1SK <= until)  # noqa: SIM300

    return query_shards(query, partitions, order_by=lambda lot: str(lot.GSI1SK))


def expire_due(now: datetime | None = None) -> int:
    """Expire the lots whose time has come: what is left of each leaves the balance and its
    value becomes breakage (Dr loyalty_liability / Cr loyalty_breakage). Per lot a GetItem
    and a transaction; once per lot (the movement ``expire:<lot>``)."""
    now = now or clock.now()
    days = [(now - timedelta(days=1)).date().isoformat(), now.date().isoformat()]
    expired = 0
    for due in _lots_expiring(days, until_sort_key(clock.stamp(now))):
        def attempt(user_id: str = due.user_id, lot_id: str = due.lot_id) -> bool:
            lot = read_lot(user_id, lot_id)
            if lot is None or lot.state != "available" or int(lot.remaining) <= 0 or not lot.expires_at \
                    or lot.expires_at > clock.stamp(now):
                return False
            movement = Movement(user_id=user_id, movement_id=f"expire:{lot_id}", kind="expired", reason="expiry",
                                at=lot.expires_at, order_id=lot.order_id, seller_id=lot.seller_id)
            movement.count(expired=int(lot.remaining))
            take_from_lot(movement, lot, int(lot.remaining), release=expiry_release(movement),
                          state_when_empty="expired")
            return movement.commit()

        expired += retrying(attempt, what="loyalty lot", exhausted=lambda error: error)
    return expired


def remind_due(now: datetime | None = None) -> int:
    """``loyalty.points_expiring`` for the lots that expire in 30 days (and 29, for a missed
    run), once per lot: the lot's ``reminded_at`` is set under ``attribute_not_exists`` in the
    event's transaction."""
    now = now or clock.now()
    days = [(now + timedelta(days=REMINDER_DAYS - 1)).date().isoformat(),
            (now + timedelta(days=REMINDER_DAYS)).date().isoformat()]
    reminded = 0
    for lot in _lots_expiring(days):
        if lot.reminded_at or int(lot.remaining) <= 0 or not lot.expires_at:
            continue
        transaction = LabelledTransaction()
        transaction.update("lot", LoyaltyLot(PK=lot.PK, SK=lot.SK), [LoyaltyLot.reminded_at.set(clock.stamp(now))],
                           LoyaltyLot.reminded_at.does_not_exist() & LoyaltyLot.PK.exists())
        transaction.put("event", new_event(PointsExpiring(user_id=lot.user_id, lot_id=lot.lot_id,
                                                          points=int(lot.remaining), expires_at=lot.expires_at)))
        reminded += 0 if transaction.commit() else 1
    return reminded


def daily(now: datetime | None = None) -> dict[str, int]:
    """The scheduled run: expiry, reminders, re-qualification."""
    now = now or clock.now()
    return {"expired": expire_due(now), "reminded": remind_due(now), "requalified": requalify_due(now)}
