from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chalice import Cron, Rate

from dev.schedules import next_run

NOON = datetime(2026, 11, 25, 12, 0, 30, tzinfo=UTC).timestamp()  # a Wednesday


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("rate(15 minutes)", NOON + 900),
        (Rate(1, unit=Rate.HOURS), NOON + 3600),
        ("rate(2 days)", NOON + 2 * 86400),
        ("cron(0 3 * * ? *)", _at("2026-11-26T03:00:00")),
        (Cron(30, 12, "*", "*", "?", "*"), _at("2026-11-25T12:30:00")),
        ("cron(0/20 * * * ? *)", _at("2026-11-25T12:20:00")),
        ("cron(0 9 ? * MON *)", _at("2026-11-30T09:00:00")),
        ("cron(0 8 1 * ? *)", _at("2026-12-01T08:00:00")),
    ],
)
def test_next_run_follows_eventbridge_expressions(schedule: object, expected: float) -> None:
    assert next_run(schedule, NOON) == expected


def test_unknown_expressions_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        next_run("every tuesday", NOON)
