"""Operators sign in with a password and a second factor (TOTP); a code works once."""

from __future__ import annotations

from typing import Any

from chalicelib.accounts import mfa, service
from tests.support.http import call

EMAIL, PASSWORD = "olga@agora.example", "steady-Lantern-ops-2031"


def _operator(*, enrolled: bool = True) -> str:
    user = service.new_user(EMAIL, name="Olga", password=PASSWORD, roles=("operator",), email_verified=True)
    service.create_user(user)
    return mfa.enrol(user.user_id)[0] if enrolled else ""


def _login(api: Any, otp: str | None = None) -> tuple[int, Any]:
    status, body, _ = call(api, "POST", "/v1/auth/login", {"email": EMAIL, "password": PASSWORD, "otp": otp})
    return status, body


def test_an_operator_needs_the_code_of_their_authenticator(api: Any) -> None:
    secret = _operator()

    status, body = _login(api)
    assert (status, body["error"]["code"]) == (401, "mfa_required")

    status, body = _login(api, mfa.code_at(secret))
    assert (status, body["account"]["roles"]) == (200, ["operator"])


def test_a_wrong_code_is_a_failed_sign_in_and_a_used_code_does_not_work_twice(api: Any) -> None:
    secret = _operator()
    code = mfa.code_at(secret)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    assert _login(api, wrong)[1]["error"]["code"] == "invalid_credentials"
    assert _login(api, code)[0] == 200
    assert _login(api, code)[1]["error"]["code"] == "invalid_credentials"  # replayed


def test_an_operator_without_a_second_factor_cannot_sign_in_until_enrolled(api: Any) -> None:
    _operator(enrolled=False)

    status, body = _login(api, "123456")

    assert (status, body["error"]["code"]) == (403, "mfa_enrolment_required")


def test_a_wrong_password_is_refused_before_any_code_is_asked_for(api: Any) -> None:
    _operator()

    status, body, _ = call(api, "POST", "/v1/auth/login", {"email": EMAIL, "password": "not-the-password-2031"})

    assert (status, body["error"]["code"]) == (401, "invalid_credentials")
