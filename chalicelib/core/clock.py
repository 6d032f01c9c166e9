"""The one clock of agora's domain code, and the one text form of a moment.

Stored moments are ISO-8601 UTC with microseconds and an explicit offset,
``2026-12-07T19:10:00.123456+00:00`` (what ``datetime.isoformat(timespec="microseconds")``
writes, and what most stored data already holds): fixed width, so string order is time
order, which the sort keys of the time-ordered indexes rely on. :func:`parse` also reads
the older forms (without microseconds, or with ``Z``), so items written before keep reading.

Tests freeze and move time through the ``clock`` fixture, which replaces :data:`_source`
(the one indirection every reading of the time here goes through).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime


def _system_now() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system_now


def now() -> datetime:
    """The current moment, timezone-aware UTC."""
    return _source()


def stamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as stored: ``2026-12-07T19:10:00.123456+00:00``."""
    moment = now() if moment is None else moment
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in the marketplace's time")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse(text: str) -> datetime:
    """A stored moment read back (aware UTC), in the current or an older form."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"moment without an offset: {text!r}")
    return moment.astimezone(UTC)


def epoch() -> float:
    """Now as seconds since 1970 (what TTL attributes and leases count in)."""
    return now().timestamp()


def today() -> date:
    """Today's date in UTC."""
    return now().date()
