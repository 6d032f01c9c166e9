"""Sessions end when the person says so: sign-out, reuse detection, sign-out everywhere and a
password change stop access tokens at once, and sensitive changes need a recent sign-in."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.core.auth import issue_access_token
from tests.support.auth import bearer
from tests.support.builders import ANNA, Buyer
from tests.support.http import call


def _me(api: Any, access_token: str) -> tuple[int, Any]:
    status, body, _ = call(api, "GET", "/v1/me", headers=bearer(access_token))
    return status, body


def _sign_in(api: Any, password: str = ANNA["password"]) -> dict[str, Any]:
    status, body, _ = call(api, "POST", "/v1/auth/login", {"email": ANNA["email"], "password": password})
    assert status == 200, body
    return body


def test_signing_out_ends_the_access_token_at_once(api: Any, buyer: Buyer) -> None:
    assert _me(api, buyer.tokens["access_token"])[0] == 200

    assert call(api, "POST", "/v1/auth/logout", {"refresh_token": buyer.tokens["refresh_token"]})[0] == 204

    status, body = _me(api, buyer.tokens["access_token"])
    assert (status, body["error"]["code"]) == (401, "session_revoked")


def test_a_reused_refresh_token_ends_the_access_tokens_of_its_session(api: Any, buyer: Buyer) -> None:
    rotated = call(api, "POST", "/v1/auth/refresh", {"refresh_token": buyer.tokens["refresh_token"]})[1]

    stolen = call(api, "POST", "/v1/auth/refresh", {"refresh_token": buyer.tokens["refresh_token"]})

    assert (stolen[0], stolen[1]["error"]["code"]) == (401, "refresh_token_reused")
    for token in (buyer.tokens["access_token"], rotated["access_token"]):
        assert _me(api, token)[1]["error"]["code"] == "session_revoked"
    assert call(api, "POST", "/v1/auth/refresh", {"refresh_token": rotated["refresh_token"]})[0] == 401


def test_signing_out_everywhere_ends_every_session_and_no_other_persons(api: Any, buyer: Buyer,
                                                                        other_buyer: Buyer) -> None:
    laptop = _sign_in(api)

    assert call(api, "POST", "/v1/me/sign-out-everywhere", headers=buyer.headers)[0] == 204

    for session in (buyer.tokens, laptop):
        assert _me(api, session["access_token"])[1]["error"]["code"] == "session_revoked"
        assert call(api, "POST", "/v1/auth/refresh", {"refresh_token": session["refresh_token"]})[0] == 401
    assert _me(api, other_buyer.tokens["access_token"])[0] == 200
    assert _me(api, _sign_in(api)["access_token"])[0] == 200  # signing in again works


def test_changing_the_password_needs_the_current_one_and_ends_the_other_sessions(api: Any, buyer: Buyer) -> None:
    laptop = _sign_in(api)
    wrong = call(api, "PUT", "/v1/me/password", {"current_password": "not it at all", "new_password": "x"},
                 headers=buyer.headers)
    missing = call(api, "PUT", "/v1/me/password", {"new_password": "a-new-Lantern-2031"}, headers=buyer.headers)

    status, fresh, _ = call(api, "PUT", "/v1/me/password", {"current_password": ANNA["password"],
                                                            "new_password": "a-new-Lantern-2031"},
                            headers=buyer.headers)

    assert (wrong[0], wrong[1]["error"]["code"]) == (401, "invalid_credentials")
    assert (missing[0], missing[1]["error"]["code"]) == (422, "current_password_required")
    assert status == 200 and _me(api, fresh["access_token"])[0] == 200
    assert _me(api, laptop["access_token"])[1]["error"]["code"] == "session_revoked"
    assert call(api, "POST", "/v1/auth/login", {"email": ANNA["email"], "password": ANNA["password"]})[0] == 401
    assert _sign_in(api, "a-new-Lantern-2031")["account"]["user_id"] == buyer.user_id


def test_a_weak_new_password_is_refused_and_changes_nothing(api: Any, buyer: Buyer) -> None:
    status, body, _ = call(api, "PUT", "/v1/me/password", {"current_password": ANNA["password"],
                                                           "new_password": "Password1!"}, headers=buyer.headers)

    assert (status, body["error"]["code"]) == (422, "weak_password")
    assert _me(api, buyer.tokens["access_token"])[0] == 200
    assert _sign_in(api)["account"]["user_id"] == buyer.user_id


def _stale_token(user_id: str) -> dict[str, str]:
    """A valid access token of a sign-in an hour ago (refreshed since)."""
    token, _ = issue_access_token(user_id=user_id, roles={"buyer"}, auth_time=int(time.time()) - 3600)
    return bearer(token)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("DELETE", "/v1/me", None),
])
def test_deleting_the_account_needs_a_recent_sign_in(api: Any, buyer: Buyer, method: str, path: str,
                                                     body: Any) -> None:
    status, answer, _ = call(api, method, path, body, headers=_stale_token(buyer.user_id))

    assert (status, answer["error"]["code"]) == (403, "reauthentication_required")
    assert _me(api, buyer.tokens["access_token"])[0] == 200
    assert call(api, method, path, body, headers=buyer.headers)[0] == 204  # just signed in: fine


def test_a_passwordless_account_sets_its_first_password_only_after_a_recent_sign_in(api: Any) -> None:
    from chalicelib.accounts.service import ensure_account

    user, _ = ensure_account("linkonly@example.com")

    status, answer, _ = call(api, "PUT", "/v1/me/password", {"new_password": "first-Lantern-2031"},
                             headers=_stale_token(user.user_id))

    assert (status, answer["error"]["code"]) == (403, "reauthentication_required")
