"""Proof of work for sign-ins to an address under attack, instead of locking its owner out.

Locking an address after a few wrong passwords lets anybody lock anybody out. Instead,
after FREE_FAILURES failed passwords for an address within a quarter hour, every password
sign-in for it must carry a solved challenge: the answer to a failed (or unsolved)
attempt hands out a challenge, the client finds a ``solution`` such that
SHA-256(``<challenge>:<solution>``) starts with ``difficulty`` zero bits, and sends both
with the next attempt. The owner's browser solves one in about a second and always gets
in with the right password; a guesser pays that second for every guess, growing by one bit
(twice the work) per further failure up to MAX_BITS.

A challenge is a signed, stateless token bound to the address (by its keyed hash), its
difficulty and a nonce, valid CHALLENGE_SECONDS; redeeming it is a conditional PutItem of
its nonce, so one solution buys one attempt.
"""

from __future__ import annotations

import hashlib
import secrets

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import PutError

from chalicelib.accounts import signed_links
from chalicelib.core.db import TableModel, was_condition_failure
from chalicelib.core.keys import CHALLENGE_USED_SK, challenge_key
from chalicelib.core.peppers import hash_secret

FREE_FAILURES = 5
BASE_BITS = 16
MAX_BITS = 22
CHALLENGE_SECONDS = 300
_PURPOSE = "login-challenge"


class ChallengeUse(TableModel):
    """PK=CHALLENGE#<nonce>, SK=USED: a solved challenge was spent (expires with it)."""

    expires_at = NumberAttribute()


def difficulty(failures: int) -> int | None:
    """The zero bits a sign-in must prove after ``failures`` failed passwords; None: none."""
    if failures < FREE_FAILURES:
        return None
    return min(BASE_BITS + failures - FREE_FAILURES, MAX_BITS)


def _subject(email: str) -> str:
    return hash_secret(f"login-challenge:{email}")[-32:]


def issue(email: str, bits: int, *, now: float | None = None) -> str:
    return signed_links.sign(_PURPOSE, {"s": _subject(email), "d": bits, "n": secrets.token_urlsafe(12)},
                             expires_in=CHALLENGE_SECONDS, now=now)


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def solve(challenge: str, bits: int) -> str:
    """What a client does (tests and the local tools use it; browsers do the same in JS)."""
    counter = 0
    while leading_zero_bits(hashlib.sha256(f"{challenge}:{counter}".encode()).digest()) < bits:
        counter += 1
    return str(counter)


def redeem(challenge: str | None, solution: str | None, email: str, bits: int) -> bool:
    """Whether ``solution`` solves a genuine, unexpired, unspent challenge for ``email`` of at
    least ``bits``; spends it when it does."""
    if not challenge or not solution or len(solution) > 32:
        return False
    claims = signed_links.verify(_PURPOSE, challenge)
    if claims is None or claims.get("s") != _subject(email) or int(claims.get("d", 0)) < bits:
        return False
    digest = hashlib.sha256(f"{challenge}:{solution}".encode()).digest()
    if leading_zero_bits(digest) < int(claims["d"]):
        return False
    try:
        ChallengeUse(challenge_key(claims["n"]), CHALLENGE_USED_SK, expires_at=int(claims["exp"])).save(
            condition=ChallengeUse.PK.does_not_exist())
    except PutError as error:
        if was_condition_failure(error):
            return False
        raise
    return True
