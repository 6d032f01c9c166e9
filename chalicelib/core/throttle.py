"""Brute-force protection: fixed-window attempt counters, and quiet pacing, in the table.

A counter is one item per rule, subject and window: PK=THROTTLE#<rule>#<keyed hash of the
subject>, SK=WINDOW#<window start>. Counting is a single UpdateItem that ADDs 1 under the
condition that the limit has not been reached, so concurrent attempts can never overshoot
it; the counter expires by TTL when its window ends. Subjects (emails, source IPs) are
stored only as keyed hashes: the counters hold no personal data.

Access patterns:
- count an attempt: UpdateItem ADD 1 with a condition on the limit (1 round trip per counter),
  before the work it guards;
- refund an attempt that succeeded: UpdateItem ADD -1 (1 round trip per counter).

Fixed windows allow up to twice the limit across a window boundary; for the limits used
here (a handful of attempts per quarter hour) that is acceptable and keeps it to one write.

Limits on a person's email address must not become a weapon against that person: a
stranger could use up the limit and lock the owner out. So addresses are never blocked
with a 429. Mails to an address (sign-in links, sign-up confirmations) are *paced*
(:func:`pace`): a request inside the gap since the last mail is dropped quietly, the gap
doubles with each mail and is capped, and it resets after an hour of quiet, so the owner
always gets a link after a pause and a flood yields a handful of mails an hour (the owner
can use any of them). Password failures per address are *counted* (:func:`count`,
:func:`failures`) and make sign-in ask for a proof of work, never refuse the right password.

- pace: GetItem + conditional UpdateItem (2 round trips); count: UpdateItem; failures: GetItem.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import UpdateError

from chalicelib.core.db import TableModel, was_condition_failure
from chalicelib.core.errors import Code, TooManyRequests
from chalicelib.core.keys import PACE_SK, pace_key, throttle_window_key, throttle_window_sk
from chalicelib.core.peppers import hash_secret

UNKNOWN_SOURCE = "unknown"


@dataclass(frozen=True)
class Rule:
    """At most ``limit`` attempts per ``window_seconds`` for one subject."""

    name: str
    limit: int
    window_seconds: int


class ThrottleCounter(TableModel):
    hits = NumberAttribute(default=0)
    expires_at = NumberAttribute()


@dataclass(frozen=True)
class _Window:
    pk: str
    sk: str
    ends_at: int


def _subject_hash(rule: Rule | Pacing, subject: str) -> str:
    """Keyed, so a counter's key names no e-mail address or IP."""
    return hash_secret(f"{rule.name}:{subject}")[:40]


def _window(rule: Rule, subject: str, now: int) -> _Window:
    start = now - now % rule.window_seconds
    return _Window(pk=throttle_window_key(rule.name, _subject_hash(rule, subject)),
                   sk=throttle_window_sk(start), ends_at=start + rule.window_seconds)


def _too_many(window: _Window, now: int) -> TooManyRequests:
    retry_after = max(1, window.ends_at - now)
    return TooManyRequests(f"Too many attempts; try again in {retry_after} seconds.", retry_after=retry_after,
                           code=Code.TOO_MANY_ATTEMPTS)


def hit(rule: Rule, subject: str, *, now: float | None = None) -> None:
    """Count one attempt; TooManyRequests when the subject has used up its window already."""
    moment = int(now if now is not None else time.time())
    window = _window(rule, subject, moment)
    counter = ThrottleCounter(PK=window.pk, SK=window.sk)
    try:
        counter.update(
            actions=[ThrottleCounter.hits.add(1), ThrottleCounter.expires_at.set(window.ends_at)],
            condition=ThrottleCounter.hits.does_not_exist() | (ThrottleCounter.hits < rule.limit),
        )
    except UpdateError as error:
        if was_condition_failure(error):
            raise _too_many(window, moment) from None
        raise


def hit_all(attempts: Iterable[tuple[Rule, str]], *, now: float | None = None) -> None:
    """Count one attempt against each (rule, subject); the first exhausted one raises."""
    for rule, subject in attempts:
        hit(rule, subject, now=now)


def refund_all(attempts: Iterable[tuple[Rule, str]], *, now: float) -> None:
    """Give back attempts counted with :func:`hit_all` at ``now`` (same windows) because
    they succeeded: counting before the work is what stops a burst of parallel attempts
    from slipping past the limit, refunding afterwards is what makes only failures count."""
    moment = int(now)
    for rule, subject in attempts:
        window = _window(rule, subject, moment)
        try:
            ThrottleCounter(PK=window.pk, SK=window.sk).update(actions=[ThrottleCounter.hits.add(-1)],
                                                               condition=ThrottleCounter.hits > 0)
        except UpdateError as error:
            if not was_condition_failure(error):
                raise


def count(rule: Rule, subject: str, *, now: float | None = None) -> int:
    """Count one event against ``subject`` without any limit (one UpdateItem); returns how
    many there are in the current window."""
    moment = int(now if now is not None else time.time())
    window = _window(rule, subject, moment)
    counter = ThrottleCounter(PK=window.pk, SK=window.sk)
    counter.update(actions=[ThrottleCounter.hits.add(1), ThrottleCounter.expires_at.set(window.ends_at)])
    return int(counter.hits)


def failures(rule: Rule, subject: str, *, now: float | None = None) -> int:
    """How many events :func:`count` recorded for ``subject`` in the current window (GetItem)."""
    window = _window(rule, subject, int(now if now is not None else time.time()))
    try:
        return int(ThrottleCounter.get(window.pk, window.sk, consistent_read=True).hits)
    except ThrottleCounter.DoesNotExist:
        return 0


@dataclass(frozen=True)
class Pacing:
    """At most one event per gap for a subject; the gap starts at ``first_gap`` seconds,
    doubles after each event up to ``max_gap``, and starts over after ``quiet`` seconds
    without one."""

    name: str
    first_gap: int
    max_gap: int
    quiet: int = 3600


class PaceMarker(TableModel):
    last_at = NumberAttribute()
    level = NumberAttribute(default=0)
    expires_at = NumberAttribute()


def pace(rule: Pacing, subject: str, *, now: float | None = None) -> bool:
    """True: go ahead (recorded); False: too soon since the last one, drop it quietly.
    Of two parallel calls inside one gap, one goes ahead (the write is conditioned on the
    state read)."""
    moment = int(now if now is not None else time.time())
    pk, sk = pace_key(rule.name, _subject_hash(rule, subject)), PACE_SK
    try:
        marker: PaceMarker | None = PaceMarker.get(pk, sk, consistent_read=True)
    except PaceMarker.DoesNotExist:
        marker = None
    level = 0
    if marker is not None:
        since = moment - int(marker.last_at)
        level = int(marker.level)
        if since < rule.quiet:
            if since < min(rule.first_gap * 2 ** max(level - 1, 0), rule.max_gap):
                return False
        else:
            level = 0
    condition = (PaceMarker.PK.does_not_exist() if marker is None
                 else PaceMarker.last_at == int(marker.last_at))
    try:
        PaceMarker(pk, sk).update(actions=[PaceMarker.last_at.set(moment), PaceMarker.level.set(level + 1),
                                           PaceMarker.expires_at.set(moment + rule.quiet + rule.max_gap)],
                                  condition=condition)
    except UpdateError as error:
        if was_condition_failure(error):
            return False
        raise
    return True


def client_address(request_context: dict[str, Any] | None) -> str:
    """The caller's exact address as API Gateway saw it (never X-Forwarded-For, which the
    caller writes itself): what a record of who did something keeps, e.g. the consent log."""
    identity = (request_context or {}).get("identity") or {}
    return identity.get("sourceIp") or UNKNOWN_SOURCE


def source_ip(request_context: dict[str, Any] | None) -> str:
    """The caller as a unit to count attempts by: an IPv4 address as it is (also when written
    IPv4-mapped, ``::ffff:203.0.113.7``), an IPv6 address as its /64 network
    (``2001:db8:1:2::/64``), because one subscriber gets a whole /64 and could otherwise move
    to a fresh address for every attempt; ``unknown`` when API Gateway gave none."""
    raw = client_address(request_context)
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw  # "unknown", or not an address (API Gateway's console tests send a placeholder)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
