"""Password hashing with argon2id at OWASP's recommended minimum (m=19 MiB, t=2, p=1), and the
rules a new password must meet.

Password rules (what :func:`password_problems` checks; the README quotes this list):

- 10 to 256 characters. Spaces and any Unicode characters are allowed; there are no
  composition rules (upper case, digits, symbols), as NIST SP 800-63B advises.
- Hard to guess: the zxcvbn estimator (Dropbox's, whose word lists include the passwords most
  common in breaches, names, words and keyboard patterns) must rate it at least 3 of 4, i.e.
  about 10^8 guesses or more, counting the person's name, the name in their email address
  and "agora" as words an attacker tries first. Only the first 100 characters are rated.
  The refusal names the words of the person it found and where they come from.
- It must not contain the part of the email address before the @ (when that has 4
  characters or more); the refusal names that part.
- No breach-list lookup (such as Have I Been Pwned) beyond zxcvbn's own lists.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_LENGTH = 10
MAX_LENGTH = 256
MIN_SCORE = 3  # zxcvbn: 3 means about 10^8 to 10^10 guesses, 4 more
# zxcvbn's matching grows faster than linearly with length. Measured on the shared 2-core dev
# machine, the slowest inputs tried (digits, "a1a1…", random) took 0.1-0.25 s at 100
# characters, 0.2-0.4 s at 128 and 1-2.7 s at 256; a typical 20-character password takes
# 3-8 ms, plus ~50 ms once per process to load zxcvbn's word lists. A password longer than
# 100 characters is strong by its length; rating its start is enough to refuse "aaaa…".
SCORED_LENGTH = 100

# zxcvbn keeps the user inputs of the current call in a module-level dict: one call at a time.
_ZXCVBN_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
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


def needs_rehash(stored_hash: str) -> bool:
    """Whether a hash that just verified was made with other parameters than today's, so the
    sign-in should store a new one (the only moment the plain password is at hand). A hash
    whose parameters cannot be read is not one this module makes: True."""
    from argon2.exceptions import InvalidHashError

    try:
        return bool(_hasher().check_needs_rehash(stored_hash))
    except (InvalidHashError, ValueError):
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password-just-for-equal-timing")


def password_problems(password: str, *, email: str | None = None, name: str | None = None) -> list[str]:
    """Why a new password is refused (empty when it is acceptable), each reason worded to
    follow "Password …". The one place of the rules listed in this module's docstring."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    local_part = email.split("@")[0].lower() if email else ""
    if len(local_part) >= 4 and local_part in password.lower():
        problems.append(f'must not contain "{local_part}", the part of your email address before the @')
    if MIN_LENGTH <= len(password) <= MAX_LENGTH:  # else the length is the reason to fix first
        guessable = _guessability(password, _user_inputs(local_part, name or ""))
        if guessable:
            problems.append(guessable)
    return problems


NAME, EMAIL, MARKETPLACE = "your name", "your email address", "this marketplace's name"


def _user_inputs(local_part: str, name: str) -> dict[str, set[str]]:
    """Words an attacker who knows the person tries first, with where each comes from: whole,
    in pieces and run together ("anna.berg" gives "anna.berg", "anna", "berg", "annaberg")."""
    words: dict[str, set[str]] = {"agora": {MARKETPLACE}}
    for text, source in ((local_part, EMAIL), (name.lower(), NAME)):
        pieces = [piece for piece in re.split(r"[\W_]+", text) if piece]
        if pieces:
            found = {text.strip(), "".join(pieces), *(piece for piece in pieces if len(piece) >= 3)}
            for word in found:
                words.setdefault(word, set()).add(source)
    return words


def _where_from(sources: set[str]) -> str:
    if sources >= {NAME, EMAIL}:
        return "your name and email address"
    return next(iter(sources))


def _personal_words(result: Mapping[str, Any], user_inputs: dict[str, set[str]]) -> str | None:
    """'It contains "anna" (your name) and "agora" (this marketplace's name), …' for the
    person's words zxcvbn found, or None."""
    found: list[str] = []
    for match in result["sequence"]:
        word = match.get("matched_word")
        if match.get("dictionary_name") == "user_inputs" and word in user_inputs and word not in found:
            found.append(word)
    if not found:
        return None
    named = [f'"{word}" ({_where_from(user_inputs[word])})' for word in found]
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    return f"It contains {listed}, among the first words an attacker tries."


def _guessability(password: str, user_inputs: dict[str, set[str]]) -> str | None:
    """"is too easy to guess" with zxcvbn's reason and advice, or None when it is rated well.
    zxcvbn is imported here, not at module import: its word lists take ~50 ms to load."""
    from zxcvbn import zxcvbn

    with _ZXCVBN_LOCK:
        result = zxcvbn(password[:SCORED_LENGTH], user_inputs=sorted(user_inputs), max_length=SCORED_LENGTH)
    if result["score"] >= MIN_SCORE:
        return None
    sentences = []
    personal = _personal_words(result, user_inputs)
    if personal:
        sentences.append(personal)
    feedback = result.get("feedback") or {}
    sentences += [text for text in [feedback.get("warning"), *feedback.get("suggestions", [])] if text]
    text = " ".join(sentence if sentence.endswith((".", "!", "?")) else f"{sentence}." for sentence in sentences)
    return f"is too easy to guess. {text.removesuffix('.')}" if text else "is too easy to guess"
