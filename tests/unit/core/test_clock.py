"""One clock and one text form of a moment: stamps are fixed-width UTC with microseconds,
older stored forms still read, and tests move time through the ``clock`` fixture."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from chalicelib.core import clock as marketplace_clock
from tests.support.clock import FrozenClock

MOMENT = datetime(2026, 12, 7, 19, 10, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(("moment", "stamp"), [
    (MOMENT, "2026-12-07T19:10:00.123456+00:00"),
    (MOMENT.replace(microsecond=0), "2026-12-07T19:10:00.000000+00:00"),  # same width on the second
    (datetime(2026, 12, 7, 20, 10, tzinfo=timezone(timedelta(hours=1))), "2026-12-07T19:10:00.000000+00:00"),
])
def test_a_moment_is_stamped_in_utc_with_microseconds(moment: datetime, stamp: str) -> None:
    assert marketplace_clock.stamp(moment) == stamp


def test_a_naive_moment_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="naive"):
        marketplace_clock.stamp(datetime(2026, 12, 7, 19, 10))


@pytest.mark.parametrize("stored", [
    "2026-12-07T19:10:00.123456+00:00",  # today's form
    "2026-12-07T19:10:00.123456Z",  # the ledger's and the API's form
    "2026-12-07T20:10:00.123456+01:00",  # another offset
])
def test_stored_forms_read_back_as_the_same_utc_moment(stored: str) -> None:
    assert marketplace_clock.parse(stored) == MOMENT
    assert marketplace_clock.parse(stored).tzinfo == UTC


@pytest.mark.parametrize("stored", ["2026-12-07T19:10:00+00:00", "2026-12-07T19:10:00Z"])
def test_older_stamps_without_microseconds_still_read(stored: str) -> None:
    assert marketplace_clock.parse(stored) == MOMENT.replace(microsecond=0)


def test_a_moment_without_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        marketplace_clock.parse("2026-12-07T19:10:00")


def test_stamps_sort_as_text_in_time_order_also_beside_older_stamps() -> None:
    moments = [MOMENT + timedelta(microseconds=step) for step in (-123457, -1, 0, 876543, 876544, 10**6 * 3600)]
    stamps = [marketplace_clock.stamp(m) for m in moments]
    assert sorted(stamps) == stamps
    # an item stamped before microseconds were kept sorts where its moment belongs
    older = "2026-12-07T19:10:00+00:00"
    assert marketplace_clock.stamp(MOMENT - timedelta(seconds=1)) < older < marketplace_clock.stamp(MOMENT)
    assert older < "2026-12-07T19:10:01+00:00" < marketplace_clock.stamp(MOMENT + timedelta(seconds=1))


def test_the_clock_runs_with_the_system_time_unless_frozen() -> None:
    assert abs(marketplace_clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
    assert marketplace_clock.now().tzinfo == UTC


def test_a_frozen_clock_stands_still_until_moved(clock: FrozenClock) -> None:
    clock.set("2026-12-31T23:59:59.500000+00:00")
    assert marketplace_clock.now() == marketplace_clock.now()
    assert marketplace_clock.stamp() == "2026-12-31T23:59:59.500000+00:00"
    assert marketplace_clock.today() == date(2026, 12, 31)

    clock.advance(seconds=1)

    assert marketplace_clock.stamp() == "2027-01-01T00:00:00.500000+00:00"
    assert marketplace_clock.today() == date(2027, 1, 1)
    assert marketplace_clock.epoch() == datetime(2027, 1, 1, 0, 0, 0, 500000, tzinfo=UTC).timestamp()


def test_domain_code_reads_the_frozen_clock(clock: FrozenClock) -> None:
    from chalicelib.events.service import new_event
    from chalicelib.platform.events import PipelineCheck

    clock.set(MOMENT)

    event = new_event(PipelineCheck(check_id="chk_1", notify="ops@agora.example"))
    assert event.occurred_at == "2026-12-07T19:10:00.123456+00:00"


def test_no_module_but_core_clock_reads_the_time_of_day() -> None:
    import ast
    from pathlib import Path

    chalicelib = Path(marketplace_clock.__file__).parents[1]
    readings = []
    for path in sorted(chalicelib.rglob("*.py")):
        if path == Path(marketplace_clock.__file__):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"now", "utcnow", "today"}
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in {"datetime", "date"}):
                readings.append(f"{path.relative_to(chalicelib)}:{node.lineno}")
    assert readings == []
