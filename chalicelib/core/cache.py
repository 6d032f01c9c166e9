"""Values a Lambda container keeps for a few seconds instead of reading them per request.

For figures every request needs and that may lag a little (the marketplace's buyer access,
category counts): each container reads them at most once per ``seconds``. Thread-safe
(bulk writes and count queries run on threads); ``clear_all`` starts afresh (tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from threading import Lock
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_registry: list[Expiring[Any]] = []


class Expiring(Generic[T]):
    def __init__(self, seconds: float, compute: Callable[[], T]) -> None:
        self.seconds = seconds
        self._compute = compute
        self._lock = Lock()
        self._value: tuple[float, T] | None = None
        _registry.append(self)

    def get(self) -> T:
        with self._lock:
            now = time.monotonic()
            if self._value is None or now - self._value[0] >= self.seconds:
                self._value = (now, self._compute())
            return self._value[1]

    def set(self, value: T) -> None:
        """What this container now knows to be current (e.g. it just saved it)."""
        with self._lock:
            self._value = (time.monotonic(), value)

    def clear(self) -> None:
        with self._lock:
            self._value = None


def clear_all() -> None:
    for cached in _registry:
        cached.clear()
