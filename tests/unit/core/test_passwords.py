"""The password rules (one place: password_problems) and argon2 parameter upgrades."""

from __future__ import annotations

import pytest

from chalicelib.core import passwords
from chalicelib.core.passwords import hash_password, needs_rehash, password_problems, verify_password

ANNA = {"email": "anna.berg@example.com", "name": "Anna Berg"}


@pytest.mark.parametrize("password", [
    "correct horse battery",
    "blue-cactus-morning-42",
    "Kaffee mit Milch um vier",
    "steady-lantern-demo-7",
    "ünïcödé-wörter-sind-erlaubt",
    "x7#Lq9!vR2@m",
])
def test_long_uncommon_passwords_are_accepted(password: str) -> None:
    assert password_problems(password, **ANNA) == []


@pytest.mark.parametrize("password", [
    "Password1!",      # the breach lists' favourite with the usual decorations
    "password1234",
    "qwertyuiop123",
    "iloveyou2026",
    "1234567890",
    "aaaaaaaaaaaa",
    "abcabcabcabc",
    "letmein12345",
])
def test_common_and_patterned_passwords_are_too_easy_to_guess(password: str) -> None:
    [problem] = password_problems(password, **ANNA)
    assert problem.startswith("is too easy to guess")


def test_the_reason_is_zxcvbns_warning_and_advice_in_plain_words() -> None:
    assert password_problems("Password1!") == [
        "is too easy to guess. This is similar to a commonly used password. Add another word or two. "
        "Uncommon words are better. Capitalization doesn't help very much"]


@pytest.mark.parametrize(("password", "named"), [
    ("AnnaBerg1990", '"annaberg" (your name and email address)'),
    ("anna berg 1990", '"anna berg" (your name)'),
    ("annabergagora", '"annaberg" (your name and email address) and "agora" (this marketplace\'s name)'),
    ("agora-2026", '"agora" (this marketplace\'s name)'),
])
def test_the_persons_name_and_agora_count_as_easy_guesses_and_are_named(password: str, named: str) -> None:
    [problem] = password_problems(password, **ANNA)
    assert problem.startswith(f"is too easy to guess. It contains {named}, among the first words an attacker "
                              "tries. ")


def test_the_same_password_is_fine_for_somebody_else() -> None:
    assert password_problems("AnnaBerg1990", email="ben@example.com", name="Ben Vogel") == []
    assert password_problems("AnnaBerg1990", **ANNA) != []


def test_the_part_of_the_email_address_before_the_at_is_refused_and_named() -> None:
    assert password_problems("anna.berg-secret-2026", **ANNA) == [
        'must not contain "anna.berg", the part of your email address before the @']


def test_a_short_local_part_is_not_a_rule_of_its_own() -> None:
    assert password_problems("abc-lantern-harbour", email="abc@example.com") == []


@pytest.mark.parametrize(("password", "expected"), [
    ("", ["must be at least 10 characters"]),
    ("aaaa", ["must be at least 10 characters"]),  # the length first: rated once it is long enough
    ("Xq7!kPz-9", ["must be at least 10 characters"]),
    ("Xq7!kPz-9w", []),
    ("Xq7!kPz-9w" * 25 + "abcdef", []),                             # 256 characters
    ("Xq7!kPz-9w" * 25 + "abcdefg", ["must be at most 256 characters"]),
    ("a" * 300, ["must be at most 256 characters"]),
])
def test_length_bounds(password: str, expected: list[str]) -> None:
    assert password_problems(password) == expected


def test_only_the_first_characters_are_rated() -> None:
    weak_start = "a" * passwords.SCORED_LENGTH
    assert password_problems(weak_start + "Xq7!kPz-9w-lantern")[0].startswith("is too easy to guess")
    assert password_problems("Xq7!kPz-9w-lantern" + "a" * 200) == []


def test_a_hash_with_todays_parameters_needs_no_rehash() -> None:
    assert needs_rehash(hash_password("correct horse battery")) is False


def test_a_hash_with_weaker_parameters_needs_a_rehash() -> None:
    from argon2 import PasswordHasher, Type

    weaker = PasswordHasher(time_cost=1, memory_cost=8_192, parallelism=1, type=Type.ID).hash("correct horse battery")

    assert verify_password("correct horse battery", weaker)  # still signs in ...
    assert needs_rehash(weaker) is True                       # ... and is then upgraded


def test_an_unreadable_hash_needs_a_rehash() -> None:
    assert needs_rehash("not-an-argon2-hash") is True
