"""Values a Lambda container keeps for a few seconds instead of reading them per request.

For figures every request needs and that may lag a little (the marketplace's buyer access,
category counts): each container reads them at most once per ``seconds``. Thread-safe
(bulk writes and count queries run on threads). ``forget_all`` makes every value stale at
once (each test starts as a fresh container) without a list of the caches: a cache need not
have been imported, nor registered itself, to be forgotten.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from threading import Lock
from typing import Generic, TypeVar

T = TypeVar("T")

# Values from an earlier generation are stale; forget_all starts a new one.
_generation = 0


class Expiring(Generic[T]):
    def __init__(self, seconds: float, compute: Callable[[], T]) -> None:
        self.seconds = seconds
        self._compute = compute
        self._lock = Lock()
        self._value: tuple[int, float, T] | None = None  # (generation, read at, value)

    def get(self) -> T:
        with self._lock:
            now = time.monotonic()
            if self._value is None or self._value[0] != _generation or now - self._value[1] >= self.seconds:
                self._value = (_generation, now, self._compute())
            return self._value[2]

    def set(self, value: T) -> None:
        """What this container now knows to be current (e.g. it just saved it)."""
        with self._lock:
            self._value = (_generation, time.monotonic(), value)

    def clear(self) -> None:
        with self._lock:
            self._value = None


def forget_all() -> None:
    """Every :class:`Expiring` value is read afresh on its next use."""
    global _generation
    _generation += 1
