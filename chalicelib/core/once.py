"""At-most-once markers for work that AWS or Stripe may deliver twice.

A marker is a conditional put on ``ONCE#<key>``; the first caller wins and later
callers learn the work was already claimed. Markers expire by TTL after the window in
which redeliveries can happen.
"""

from __future__ import annotations

import contextlib
import time

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError

from chalicelib.core.db import TableModel, was_condition_failure

DEFAULT_WINDOW_SECONDS = 7 * 24 * 3600


class OnceMarker(TableModel):
    """PK=ONCE#<key>, SK=ONCE. Access: GetItem/conditional PutItem by key only."""

    kind = UnicodeAttribute(default="once")
    expires_at = NumberAttribute()


def claim(key: str, *, window_seconds: int = DEFAULT_WINDOW_SECONDS) -> bool:
    """Claim ``key``; False if somebody already did."""
    marker = OnceMarker(PK=f"ONCE#{key}", SK="ONCE", expires_at=int(time.time()) + window_seconds)
    try:
        marker.save(condition=OnceMarker.PK.does_not_exist())
    except PutError as error:
        if was_condition_failure(error):
            return False
        raise
    return True


def release(key: str) -> None:
    """Give a claim back after the work failed, so a retry may do it."""
    with contextlib.suppress(DeleteError):
        OnceMarker(PK=f"ONCE#{key}", SK="ONCE").delete()
