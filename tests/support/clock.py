"""A clock for tests: the marketplace's time stands still until the test moves it."""

from __future__ import annotations

from datetime import datetime, timedelta


class FrozenClock:
    """The marketplace's time standing still until the test moves it: ``clock.set(...)``
    (an aware datetime or a stored stamp), ``clock.advance(seconds=…)``."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, moment: datetime | str) -> None:
        from chalicelib.core import clock

        self.moment = clock.parse(moment) if isinstance(moment, str) else moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)
