"""Password hashing with argon2id at OWASP's recommended minimum (m=19 MiB, t=2, p=1)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

MIN_LENGTH = 10
MAX_LENGTH = 256


@lru_cache(maxsize=1)
def _hasher() -> Any:
    from argon2 import PasswordHasher, Type

    return PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1, hash_len=32, salt_len=16,
                          type=Type.ID)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """Constant work whether or not the account exists: a missing hash is checked against a
    dummy, so timing does not reveal which emails have accounts."""
    from argon2.exceptions import InvalidHashError, VerificationError

    target = stored or _dummy_hash()
    try:
        ok = _hasher().verify(target, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and stored is not None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password-just-for-equal-timing")


def password_problems(password: str, *, email: str | None = None) -> list[str]:
    """Why a new password is refused (empty when it is acceptable). NIST 800-63B: length
    matters, composition rules do not; refuse the obvious ones."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if email and email.split("@")[0].lower() in lowered and len(email.split("@")[0]) >= 4:
        problems.append("must not contain your email address")
    if len(set(password)) < 4 or lowered in _COMMON:
        problems.append("is too easy to guess")
    return problems


_COMMON = frozenset({
    "password123", "password1234", "1234567890", "qwertyuiop", "iloveyou123", "passwort123",
    "letmein1234", "welcome1234", "administrator", "qwertz12345", "0123456789",
})
