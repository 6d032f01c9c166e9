"""Exactly-once markers for work that AWS or Stripe may deliver twice.

A marker on ``ONCE#<key>`` goes through two states, as Powertools' idempotency does:

- ``in_progress`` with a lease: written by a conditional put when the work starts. If the
  process dies mid-work (a Lambda timeout raises nothing, so nothing can clean up), the
  lease runs out and the next delivery may take the work over. While the lease holds,
  another delivery is told :class:`InProgress` and must come back later — never that the
  work is done.
- ``done``: written only after the work succeeded; later deliveries skip it.

Work that fails with an exception gives its marker back (:func:`release`), so that a retry
does it at once. The work must be repeatable (idempotent): a process killed after its
effect but before :func:`complete` is done again after the lease. Markers expire by TTL
after the window in which redeliveries can happen.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError

from chalicelib.core import clock
from chalicelib.core.db import TableModel, was_condition_failure
from chalicelib.core.keys import ONCE_SK, once_key

DEFAULT_WINDOW_SECONDS = 7 * 24 * 3600
# Longer than any Lambda that does such work may run (30 s, .chalice/config.json), shorter
# than the worker queues' visibility timeout (180 s, infra/template.yaml): when SQS hands a
# message out again, a dead invocation's lease has run out.
DEFAULT_LEASE_SECONDS = 90

IN_PROGRESS = "in_progress"
DONE = "done"


class InProgress(Exception):
    """Another invocation is doing this work now (or died doing it and its lease has not run
    out yet): try again later; it is not done."""

    def __init__(self, key: str, lease_until: int) -> None:
        super().__init__(f"{key} is in progress until {lease_until}")
        self.key, self.lease_until = key, lease_until


class OnceMarker(TableModel):
    """PK=ONCE#<key>, SK=ONCE. Access: GetItem/conditional PutItem/UpdateItem by key only.
    Markers written before the lease existed have no ``status``: they count as done."""

    kind = UnicodeAttribute(default="once")
    status = UnicodeAttribute(null=True)  # in_progress | done
    lease_until = NumberAttribute(null=True)  # epoch seconds, while in_progress
    expires_at = NumberAttribute()


def _marker(key: str) -> OnceMarker:
    return OnceMarker(PK=once_key(key), SK=ONCE_SK)


def begin(key: str, *, lease_seconds: int = DEFAULT_LEASE_SECONDS,
          window_seconds: int = DEFAULT_WINDOW_SECONDS) -> bool:
    """Start the work named ``key``: True when this caller should do it now, False when it
    was done before. Raises :class:`InProgress` while another caller's lease holds.
    One conditional PutItem; a GetItem more only when the key was taken."""
    now = int(clock.epoch())
    marker = _marker(key)
    marker.status, marker.lease_until, marker.expires_at = IN_PROGRESS, now + lease_seconds, now + window_seconds
    taken_over = (OnceMarker.status == IN_PROGRESS) & (OnceMarker.lease_until < now)
    try:
        marker.save(condition=OnceMarker.PK.does_not_exist() | taken_over)
    except PutError as error:
        if not was_condition_failure(error):
            raise
    else:
        return True
    try:
        current = OnceMarker.get(marker.PK, marker.SK, consistent_read=True)
    except OnceMarker.DoesNotExist:  # released between our put and this read: try again later
        raise InProgress(key, now) from None
    if current.status == IN_PROGRESS:
        raise InProgress(key, int(current.lease_until or 0))
    return False


def complete(key: str, *, window_seconds: int = DEFAULT_WINDOW_SECONDS) -> None:
    """Mark the work done, after it succeeded. One PutItem."""
    marker = _marker(key)
    marker.status, marker.expires_at = DONE, int(clock.epoch()) + window_seconds
    marker.save()


def claim(key: str, *, window_seconds: int = DEFAULT_WINDOW_SECONDS) -> bool:
    """Claim ``key`` for work that is done in the same step (one conditional PutItem);
    False if somebody claimed it before, whatever its state."""
    marker = _marker(key)
    marker.status, marker.expires_at = DONE, int(clock.epoch()) + window_seconds
    try:
        marker.save(condition=OnceMarker.PK.does_not_exist())
    except PutError as error:
        if was_condition_failure(error):
            return False
        raise
    return True


@contextlib.contextmanager
def doing(key: str) -> Iterator[None]:
    """The work that :func:`begin` gave this caller: done when the block ends, given back
    when it raises (so a retry does it again), never done half."""
    try:
        yield
    except Exception:
        release(key)
        raise
    complete(key)


def release(key: str) -> None:
    """Give a claim back after the work failed, so a retry may do it (a marker already
    done stays done)."""
    with contextlib.suppress(DeleteError):
        _marker(key).delete(condition=OnceMarker.status != DONE)
