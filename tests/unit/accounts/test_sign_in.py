"""Registration, password sign-in and rotating refresh tokens."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.accounts import service
from chalicelib.core.auth import authenticate
from tests.support.builders import ANNA, register
from tests.support.http import call
from tests.support.mail import deliver_mails, forget_pacing, mailed_link, mailed_token


def _register(api: Any, **overrides: Any) -> dict[str, Any]:
    return register(api, **overrides).tokens


def _login(api: Any, email: str, password: str) -> tuple[int, Any, dict[str, str]]:
    return call(api, "POST", "/v1/auth/login", {"email": email, "password": password})


def test_registration_returns_working_tokens_for_a_buyer(api: Any) -> None:
    body = _register(api)
    assert body["account"]["email"] == "anna.berg@example.com"
    assert body["account"]["roles"] == ["buyer"]
    assert body["token_type"] == "Bearer"
    principal = authenticate(f"Bearer {body['access_token']}")
    assert principal.user_id == body["account"]["user_id"]
    assert principal.roles == frozenset({"buyer"})
    assert principal.seller_id is None


def test_an_email_has_one_account_whatever_its_case(api: Any) -> None:
    first = _register(api)
    forget_pacing()
    fresh = call(api, "POST", "/v1/auth/register", {**ANNA, "email": "someone.new@example.com"})

    again = call(api, "POST", "/v1/auth/register", {**ANNA, "email": " anna.berg@EXAMPLE.com "})

    assert again[:2] == fresh[:2]  # 202, the same words: nobody learns the address has an account
    [mail] = [m for m in deliver_mails() if m["subject"] == "You already have an agora account"]
    assert mail["to"] == ["anna.berg@example.com"]
    status, body, _ = call(api, "POST", "/v1/auth/magic-link/verify", {"token": mailed_token("anna.berg@example.com")})
    assert (status, body["account"]["user_id"]) == (200, first["account"]["user_id"])


def _other_item(user_id: str) -> Any:
    """Some other item a caller creates together with an account (here: a claim on a second email)."""
    from chalicelib.accounts.models import EmailClaim
    from chalicelib.core.keys import email_key

    return EmailClaim(PK=email_key("anna.work@example.com"), SK="EMAIL", user_id=user_id)


@pytest.mark.parametrize(("email_free", "wrapped", "code"), [
    (True, True, "seat_taken"),             # only the caller's item: its own error
    (True, False, "concurrent_creation"),   # ... or a generic one when the caller gave none
    (False, True, "email_taken"),           # the email is checked first
])
def test_each_failed_condition_of_an_account_creation_has_its_own_error(
        email_free: bool, wrapped: bool, code: str) -> None:
    from chalicelib.core.errors import Conflict

    # given an item that already exists, and maybe an account with the email
    if not email_free:
        service.create_user(service.new_user("anna@example.com"))
    user = service.new_user("anna@example.com")
    existing = _other_item(user.user_id)
    existing.save()
    extra = service.NewItem(_other_item(user.user_id), Conflict("taken", code="seat_taken")) if wrapped \
        else _other_item(user.user_id)

    # when the account is created together with it, then the error names what was taken
    with pytest.raises(Conflict) as raised:
        service.create_user(user, together_with=[extra])
    assert raised.value.code == code


@pytest.mark.parametrize(("password", "reason"), [
    ("short", "Password must be at least 10 characters."),
    ("aaaaaaaaaaaa", "Password is too easy to guess. Repeats like \"aaa\" are easy to guess. Add another word or "
                     "two. Uncommon words are better. Avoid repeated words and characters."),
    ("Password1!", "Password is too easy to guess. This is similar to a commonly used password. Add another word "
                   "or two. Uncommon words are better. Capitalization doesn't help very much."),
    ("anna.berg-secret-2026", 'Password must not contain "anna.berg", the part of your email address before the @.'),
])
def test_weak_passwords_are_refused_with_the_reason(api: Any, password: str, reason: str) -> None:
    status, body, _ = call(api, "POST", "/v1/auth/register", {**ANNA, "password": password})
    assert status == 422
    assert body["error"]["code"] == "weak_password"
    assert reason in [d["message"] for d in body["error"]["details"]]


def test_invalid_email_is_a_422(api: Any) -> None:
    status, body, _ = call(api, "POST", "/v1/auth/register", {**ANNA, "email": "anna@"})
    assert (status, body["error"]["code"]) == (422, "invalid_email")


def test_login_with_the_right_password(api: Any) -> None:
    registered = _register(api)
    status, body, _ = call(api, "POST", "/v1/auth/login", {"email": "ANNA.BERG@example.com",
                                                           "password": ANNA["password"]})
    assert status == 200
    assert body["account"]["user_id"] == registered["account"]["user_id"]


def test_wrong_password_and_unknown_email_get_the_same_answer(api: Any) -> None:
    _register(api)
    wrong = call(api, "POST", "/v1/auth/login", {"email": ANNA["email"], "password": "not the password"})
    unknown = call(api, "POST", "/v1/auth/login", {"email": "nobody@example.com", "password": "whatever12345"})
    assert wrong[0] == unknown[0] == 401
    assert wrong[1] == unknown[1] == {"error": {"code": "invalid_credentials",
                                                "message": "The email or password is wrong.", "details": None}}


def test_refresh_rotates_the_refresh_token(api: Any) -> None:
    first = _register(api)
    status, second, _ = call(api, "POST", "/v1/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert status == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert authenticate(f"Bearer {second['access_token']}").user_id == first["account"]["user_id"]


def test_reusing_a_spent_refresh_token_revokes_the_whole_session(api: Any) -> None:
    first = _register(api)
    _, second, _ = call(api, "POST", "/v1/auth/refresh", {"refresh_token": first["refresh_token"]})

    status, body, _ = call(api, "POST", "/v1/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert (status, body["error"]["code"]) == (401, "refresh_token_reused")
    # the thief's replay also locks out the token issued after it
    status, body, _ = call(api, "POST", "/v1/auth/refresh", {"refresh_token": second["refresh_token"]})
    assert (status, body["error"]["code"]) == (401, "invalid_refresh_token")


def test_other_sessions_survive_a_revoked_one(api: Any) -> None:
    first = _register(api)
    _, other_device, _ = call(api, "POST", "/v1/auth/login", {"email": ANNA["email"], "password": ANNA["password"]})
    _, rotated, _ = call(api, "POST", "/v1/auth/refresh", {"refresh_token": first["refresh_token"]})

    reused = call(api, "POST", "/v1/auth/refresh", {"refresh_token": first["refresh_token"]})

    assert (reused[0], reused[1]["error"]["code"]) == (401, "refresh_token_reused")
    # the reused token's whole family is revoked: the token rotated from it is refused too
    status, body, _ = call(api, "POST", "/v1/auth/refresh", {"refresh_token": rotated["refresh_token"]})
    assert (status, body["error"]["code"]) == (401, "invalid_refresh_token")
    # the other device's session goes on, and its new access token works
    status, body, _ = call(api, "POST", "/v1/auth/refresh", {"refresh_token": other_device["refresh_token"]})
    assert status == 200
    assert body["refresh_token"] != other_device["refresh_token"]
    assert authenticate(f"Bearer {body['access_token']}").user_id == first["account"]["user_id"]


def test_logout_ends_the_session_and_is_repeatable(api: Any) -> None:
    tokens = _register(api)
    assert call(api, "POST", "/v1/auth/logout", {"refresh_token": tokens["refresh_token"]})[0] == 204
    assert call(api, "POST", "/v1/auth/logout", {"refresh_token": tokens["refresh_token"]})[0] == 204
    status, body, _ = call(api, "POST", "/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert (status, body["error"]["code"]) == (401, "invalid_refresh_token")


def test_an_unknown_refresh_token_is_a_401(api: Any) -> None:
    status, body, _ = call(api, "POST", "/v1/auth/refresh", {"refresh_token": "agora_rt_forged"})
    assert (status, body["error"]["code"]) == (401, "invalid_refresh_token")


def test_failures_for_an_email_never_lock_the_owner_out_but_ask_for_a_proof_of_work(api: Any) -> None:
    from chalicelib.accounts import challenges

    _register(api)
    for _ in range(challenges.FREE_FAILURES):
        assert _login(api, ANNA["email"], "not the password")[0] == 401

    status, body, _ = _login(api, ANNA["email"], ANNA["password"])  # the right one, without proof
    assert (status, body["error"]["code"]) == (401, "challenge_required")
    challenge, bits = body["error"]["details"]["challenge"], body["error"]["details"]["difficulty"]
    assert bits == challenges.BASE_BITS
    solution = challenges.solve(challenge, bits)

    status, body, _ = call(api, "POST", "/v1/auth/login", {"email": ANNA["email"], "password": ANNA["password"],
                                                           "challenge": challenge, "solution": solution})

    assert status == 200 and body["account"]["email"] == "anna.berg@example.com"
    replayed = call(api, "POST", "/v1/auth/login", {"email": ANNA["email"], "password": ANNA["password"],
                                                    "challenge": challenge, "solution": solution})
    assert replayed[1]["error"]["code"] == "challenge_required"  # one solution buys one attempt


def test_each_further_failure_doubles_the_work_of_the_next_guess(api: Any) -> None:
    from chalicelib.accounts import challenges

    _register(api)
    answers = [_login(api, ANNA["email"], "not the password")[1]["error"] for _ in range(challenges.FREE_FAILURES)]

    assert [a["details"] for a in answers[:-1]] == [None] * (challenges.FREE_FAILURES - 1)
    assert answers[-1]["details"]["difficulty"] == challenges.BASE_BITS
    challenge = answers[-1]["details"]["challenge"]
    solution = challenges.solve(challenge, challenges.BASE_BITS)
    status, body, _ = call(api, "POST", "/v1/auth/login", {"email": ANNA["email"], "password": "still wrong!",
                                                           "challenge": challenge, "solution": solution})
    assert (status, body["error"]["code"]) == (401, "invalid_credentials")
    assert body["error"]["details"]["difficulty"] == challenges.BASE_BITS + 1


def test_a_challenge_is_bound_to_its_address(api: Any) -> None:
    from chalicelib.accounts import challenges

    _register(api)
    _register(api, email="ben@example.com", name="Ben Vogel")
    for email in (ANNA["email"], "ben@example.com"):
        for _ in range(challenges.FREE_FAILURES):
            _login(api, email, "not the password")
    details = _login(api, "ben@example.com", "not the password")[1]["error"]["details"]
    bens, bits = details["challenge"], details["difficulty"]

    status, body, _ = call(api, "POST", "/v1/auth/login", {"email": ANNA["email"], "password": ANNA["password"],
                                                           "challenge": bens, "solution": challenges.solve(bens, bits)})

    assert (status, body["error"]["code"]) == (401, "challenge_required")


def test_the_right_password_on_an_unproven_address_mails_a_link_instead(api: Any) -> None:
    """Accounts made before the rule (or by someone who could not read the mail) keep a
    password nobody proved; it does not sign in."""
    service.create_user(service.new_user("legacy@example.com", password="correct horse battery staple"))

    status, body, _ = _login(api, "legacy@example.com", "correct horse battery staple")

    assert (status, body["error"]["code"]) == (403, "email_not_verified")
    assert mailed_link("legacy@example.com").startswith("http://127.0.0.1:3000/sign-in/link?token=")


def test_too_many_failures_from_one_source_get_429_whatever_the_email(api: Any) -> None:
    limit = service.LOGIN_FAILURES_PER_SOURCE.limit
    for i in range(limit):
        assert _login(api, f"guess{i}@example.com", "whatever12345")[0] == 401

    status, body, headers = _login(api, "one-more@example.com", "whatever12345")

    assert (status, body["error"]["code"]) == (429, "too_many_attempts")
    assert int(headers["Retry-After"]) > 0


def test_an_email_under_attack_does_not_slow_down_another_one(api: Any) -> None:
    from chalicelib.accounts import challenges

    _register(api)
    ben = _register(api, email="ben@example.com", name="Ben Vogel")
    for _ in range(challenges.FREE_FAILURES + 3):
        _login(api, ANNA["email"], "not the password")

    status, body, _ = _login(api, "ben@example.com", ANNA["password"])

    assert status == 200
    assert body["account"]["user_id"] == ben["account"]["user_id"]


def test_successful_sign_ins_do_not_count_as_failures(api: Any) -> None:
    from chalicelib.accounts import challenges

    _register(api)
    for _ in range(challenges.FREE_FAILURES + 2):
        assert _login(api, ANNA["email"], ANNA["password"])[0] == 200


def _account_with_hash(password_hash: str) -> Any:
    user = service.new_user("anna@example.com", password="correct horse battery")
    user.password_hash = password_hash
    return service.create_user(user)


def _weaker_hash(password: str) -> str:
    from argon2 import PasswordHasher, Type

    return PasswordHasher(time_cost=1, memory_cost=8_192, parallelism=1, type=Type.ID).hash(password)


def test_a_hash_made_with_weaker_parameters_is_replaced_after_sign_in() -> None:
    from chalicelib.core.passwords import needs_rehash, verify_password

    # given an account whose hash predates today's argon2 parameters
    user = _account_with_hash(_weaker_hash("correct horse battery"))

    # when the sign-in (having verified the password) upgrades it
    assert service.upgrade_password_hash(user, "correct horse battery") is True

    # then the stored hash has today's parameters and still takes the password
    stored = service.get_user(user.user_id).password_hash
    assert not needs_rehash(stored)
    assert verify_password("correct horse battery", stored)
    assert service.upgrade_password_hash(service.get_user(user.user_id), "correct horse battery") is False


def test_a_current_hash_is_left_alone() -> None:
    user = service.create_user(service.new_user("anna@example.com", password="correct horse battery"))
    before = user.password_hash

    assert service.upgrade_password_hash(user, "correct horse battery") is False
    assert service.get_user(user.user_id).password_hash == before


def test_a_password_changed_meanwhile_is_not_overwritten_by_the_upgrade() -> None:
    from chalicelib.accounts.models import User
    from chalicelib.core.passwords import hash_password, verify_password

    # given a sign-in that read the old hash, and a password change after that read
    signing_in = _account_with_hash(_weaker_hash("correct horse battery"))
    service.get_user(signing_in.user_id).update(actions=[User.password_hash.set(hash_password("new horse battery"))])

    # when the sign-in upgrades the hash it verified
    assert service.upgrade_password_hash(signing_in, "correct horse battery") is False

    # then the new password stays
    assert verify_password("new horse battery", service.get_user(signing_in.user_id).password_hash)


def test_a_passwordless_account_has_nothing_to_upgrade() -> None:
    user = service.create_user(service.new_user("anna@example.com"))
    assert service.upgrade_password_hash(user, "anything at all") is False
