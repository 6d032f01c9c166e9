"""Expiry per lot: spent oldest first, a reminder 30 days before (once), breakage in the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.loyalty import earning, programme, store, sweeps
from tests.support.clock import FrozenClock

START = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
USER = "usr_expiry"


def liability(account: str = "loyalty_liability") -> int:
    from chalicelib.ledger.service import _platform_entries

    return -sum(int(e.amount) for e in _platform_entries(account, START - timedelta(days=1),
                                                         START + timedelta(days=800)))


@pytest.fixture
def points(aws: Any, clock: FrozenClock) -> FrozenClock:
    """A programme whose lots expire 12 months after they became available, and three
    birthday bonuses of 100 points a month apart (available at once)."""
    programme.save_programme(programme.Programme(enabled=True, event_points={"birthday": 100}, expiry_months=12),
                             by="usr_operator")
    for month in range(3):
        clock.set(START + timedelta(days=31 * month))
        assert earning.award_event_points(USER, "birthday", f"year-{month}") == 100
    return clock


def balance() -> tuple[int, int]:
    item = store.read_balance(USER)
    assert item is not None
    return int(item.available), int(item.pending)


def test_points_are_spent_from_the_oldest_lot_first(points: FrozenClock) -> None:
    movement = store.Movement(user_id=USER, movement_id="spend:1", kind="redeemed", reason="test",
                              at="2026-04-01T00:00:00.000000+00:00")
    store.consume(USER, 150, movement=movement, release=store.reversal_release(movement))
    assert movement.commit()

    remaining = {lot.lot_id: int(lot.remaining) for lot in store.lots_of(USER)}
    assert remaining == {"event:birthday:year-0": 0, "event:birthday:year-1": 50, "event:birthday:year-2": 100}
    assert balance() == (150, 0)
    assert liability() == 150  # 1 cent a point; the spent part released


def test_consuming_more_than_is_available_is_refused_and_changes_nothing(points: FrozenClock) -> None:
    from chalicelib.core.errors import Conflict

    movement = store.Movement(user_id=USER, movement_id="spend:2", kind="redeemed", reason="test",
                              at="2026-04-01T00:00:00.000000+00:00")
    with pytest.raises(Conflict) as refused:
        store.consume(USER, 301, movement=movement, release=store.reversal_release(movement))
    assert refused.value.code == "insufficient_points"
    assert balance() == (300, 0)


def test_a_reminder_goes_30_days_before_a_lot_expires_and_only_once(points: FrozenClock) -> None:
    from tests.support.events import outbox

    first_expiry = START + timedelta(days=365)
    assert sweeps.remind_due(first_expiry - timedelta(days=31)) == 0
    assert sweeps.remind_due(first_expiry - timedelta(days=30)) == 1
    assert sweeps.remind_due(first_expiry - timedelta(days=30)) == 0
    assert sweeps.remind_due(first_expiry - timedelta(days=29)) == 0  # the same lot, from the day-29 bucket

    [reminder] = outbox("loyalty.points_expiring")
    assert (reminder["user_id"], reminder["lot_id"], reminder["points"]) == (USER, "event:birthday:year-0", 100)
    assert reminder["expires_at"].startswith("2027-01-10")


def test_an_expired_lot_leaves_the_balance_and_becomes_breakage(points: FrozenClock) -> None:
    first_expiry = START + timedelta(days=365)
    assert sweeps.expire_due(first_expiry - timedelta(minutes=1)) == 0
    assert sweeps.expire_due(first_expiry + timedelta(minutes=1)) == 1
    assert sweeps.expire_due(first_expiry + timedelta(minutes=2)) == 0  # once

    assert balance() == (200, 0)
    assert liability() == 200
    assert liability("loyalty_breakage") == 100
    from chalicelib.loyalty.reading import history

    newest = history(USER, cursor=None, limit=1).items[0]
    assert (newest.kind, newest.reason, int(newest.points)) == ("expired", "expiry", -100)


def test_what_was_spent_of_a_lot_does_not_expire(points: FrozenClock) -> None:
    movement = store.Movement(user_id=USER, movement_id="spend:3", kind="redeemed", reason="test",
                              at="2026-04-01T00:00:00.000000+00:00")
    store.consume(USER, 60, movement=movement, release=store.reversal_release(movement))
    movement.commit()

    assert sweeps.expire_due(START + timedelta(days=365, minutes=1)) == 1

    assert balance() == (200, 0)
    assert liability("loyalty_breakage") == 40
    assert liability() == 200


def test_under_the_inactivity_policy_all_points_expire_months_after_the_last_activity(aws: Any,
                                                                                       clock: FrozenClock) -> None:
    from tests.support.events import outbox

    programme.save_programme(programme.Programme(enabled=True, event_points={"birthday": 100},
                                                 expiry_policy="inactivity", expiry_months=6), by="usr_operator")
    clock.set(START)
    earning.award_event_points(USER, "birthday", "a")
    clock.set(START + timedelta(days=59))  # 2026-03-10: active again, points now expire on 2026-09-10
    earning.award_event_points(USER, "birthday", "b")
    last_day = datetime(2026, 9, 10, 0, 30, tzinfo=UTC)

    assert sweeps.daily(datetime(2026, 7, 10, 1, 0, tzinfo=UTC)) == {"expired": 0, "reminded": 0, "requalified": 0}
    assert sweeps.remind_inactive(last_day - timedelta(days=30)) == 1
    assert sweeps.remind_inactive(last_day - timedelta(days=29)) == 0  # once
    [reminder] = outbox("loyalty.points_expiring")
    assert (reminder["lot_id"], reminder["points"], reminder["expires_at"][:10]) == (None, 200, "2026-09-10")

    from chalicelib.loyalty.reading import overview

    clock.set(last_day - timedelta(days=10))
    assert (overview(USER).expiring_points, overview(USER).expiring_at[:10]) == (200, "2026-09-10")
    assert sweeps.expire_inactive(last_day - timedelta(days=1)) == 0
    assert sweeps.expire_inactive(last_day) == 200
    assert sweeps.expire_inactive(last_day) == 0

    assert balance() == (0, 0)
    assert liability() == 0
    assert liability("loyalty_breakage") == 200


def test_the_buyer_sees_what_expires_within_30_days(points: FrozenClock) -> None:
    from chalicelib.loyalty.reading import overview

    points.set(START + timedelta(days=340))  # the first lot expires in 25 days, the second in 56
    view = overview(USER)

    assert (view.available, view.expiring_points, view.expiring_at[:10]) == (300, 100, "2027-01-10")
