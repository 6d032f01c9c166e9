"""The daily loyalty sweeps: lots that expire today (or, under the inactivity policy, the
points of buyers inactive since the policy's months), reminders 30 days before, and the
members' yearly re-qualification (:func:`chalicelib.loyalty.tiers.requalify_due`).

Each finds what is due by querying an index keyed by the due day, every shard of it in
parallel (``core.db.query_shards``), never by a Scan; yesterday's bucket too, for a run
that was missed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, Stale, query_shards, retrying, was_condition_failure
from chalicelib.core.keys import loyalty_expiry_key, loyalty_expiry_keys, loyalty_inactive_keys, until_sort_key
from chalicelib.events.service import new_event
from chalicelib.loyalty.events import PointsExpiring
from chalicelib.loyalty.models import LoyaltyBalance, LoyaltyLot
from chalicelib.loyalty.programme import get_programme
from chalicelib.loyalty.store import (
    MAX_LOTS_PER_MOVEMENT,
    Movement,
    expiry_release,
    lots_of,
    read_balance,
    read_lot,
    spendable,
    take_from_lot,
)
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
    value becomes breakage (Dr loyalty_liability / Cr loyalty_breakage). Per lot 2 GetItems
    (lot, balance) and a transaction; once per lot (the movement ``expire:<lot>``). While a
    buyer's checkout holds redeemed points (unpaid), their lots wait a day: the held points
    come from the lots spendable at checkout (:mod:`chalicelib.loyalty.redemption`)."""
    now = now or clock.now()
    days = [(now - timedelta(days=1)).date().isoformat(), now.date().isoformat()]
    expired = 0
    for due in _lots_expiring(days, until_sort_key(clock.stamp(now))):
        def attempt(user_id: str = due.user_id, lot_id: str = due.lot_id) -> bool:
            lot = read_lot(user_id, lot_id)
            if lot is None or lot.state != "available" or int(lot.remaining) <= 0 or not lot.expires_at \
                    or lot.expires_at > clock.stamp(now):
                return False
            balance = read_balance(user_id)
            if balance is not None and int(balance.reserved or 0) > 0:
                # points held by an unpaid checkout are taken from the oldest lots once it is paid:
                # this lot waits for tomorrow's run
                tomorrow = (now + timedelta(days=1)).date().isoformat()
                try:
                    lot.update(actions=[LoyaltyLot.GSI1PK.set(loyalty_expiry_key(tomorrow, user_id))],
                               condition=LoyaltyLot.version == int(lot.version or 0))
                except UpdateError as error:
                    if not was_condition_failure(error):
                        raise
                    raise Stale("lot") from None  # changed meanwhile (spent, say): look again
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


def _inactive_on(days: list[str]) -> list[LoyaltyBalance]:
    partitions = [key for day in days for key in loyalty_inactive_keys(day)]
    return query_shards(lambda partition: LoyaltyBalance.by_inactivity.query(partition), partitions,
                        order_by=lambda balance: str(balance.GSI1SK))


def expire_inactive(now: datetime | None = None) -> int:
    """Under the inactivity policy: the available points of buyers inactive for
    ``expiry_months`` expire, each lot's rest as breakage. Per buyer a GetItem, a Query of the
    lots and a transaction per 20 lots; once (the movement names the day and the first lot)."""
    now = now or clock.now()
    if get_programme().expiry_policy != "inactivity":
        return 0
    today = now.date().isoformat()
    expired = 0
    for due in _inactive_on([(now - timedelta(days=1)).date().isoformat(), today]):
        def attempt(user_id: str = str(due.user_id)) -> int:
            balance = read_balance(user_id)
            if balance is None or not balance.inactive_on or balance.inactive_on > today:
                return 0  # active again meanwhile
            if int(balance.reserved or 0) > 0:
                return 0  # an unpaid checkout holds points: its payment makes the buyer active
            lots = spendable(lots_of(user_id), clock.stamp(now))[:MAX_LOTS_PER_MOVEMENT]
            if not lots:
                return 0
            movement = Movement(user_id=user_id, movement_id=f"inactive:{balance.inactive_on}:{lots[0].lot_id}",
                                kind="expired", reason="inactivity", at=f"{balance.inactive_on}T00:00:00.000000+00:00")
            for lot in lots:
                movement.count(expired=int(lot.remaining))
                take_from_lot(movement, lot, int(lot.remaining), release=expiry_release(movement),
                              state_when_empty="expired")
            return -movement.available if movement.commit() else 0

        while (points := retrying(attempt, what="loyalty balance", exhausted=lambda error: error)):
            expired += points
    return expired


def remind_inactive(now: datetime | None = None) -> int:
    """Under the inactivity policy: ``loyalty.points_expiring`` (``lot_id`` None) 30 days before a
    buyer's points expire, once per inactivity day (``reminded_for``, conditional)."""
    now = now or clock.now()
    if get_programme().expiry_policy != "inactivity":
        return 0
    days = [(now + timedelta(days=REMINDER_DAYS - 1)).date().isoformat(),
            (now + timedelta(days=REMINDER_DAYS)).date().isoformat()]
    reminded = 0
    for balance in _inactive_on(days):
        day = balance.inactive_on
        if not day or balance.reminded_for == day or int(balance.available or 0) <= 0:
            continue
        transaction = LabelledTransaction()
        transaction.update("balance", LoyaltyBalance(PK=balance.PK, SK=balance.SK),
                           [LoyaltyBalance.reminded_for.set(day)],
                           (LoyaltyBalance.inactive_on == day)
                           & (LoyaltyBalance.reminded_for.does_not_exist() | (LoyaltyBalance.reminded_for != day)))
        transaction.put("event", new_event(PointsExpiring(user_id=str(balance.user_id), lot_id=None,
                                                          points=int(balance.available),
                                                          expires_at=f"{day}T00:00:00.000000+00:00")))
        reminded += 0 if transaction.commit() else 1
    return reminded


def daily(now: datetime | None = None) -> dict[str, int]:
    """The scheduled run: expiry, reminders, re-qualification."""
    now = now or clock.now()
    return {"expired": expire_due(now) + expire_inactive(now), "reminded": remind_due(now) + remind_inactive(now),
            "requalified": requalify_due(now)}
