"""Sign-in by link: single use, 15 minutes, no account enumeration, passwordless sign-up."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.accounts import magic_links
from chalicelib.core.auth import authenticate
from tests.unit.accounts.conftest import ANNA, Buyer, link_token, queued_mails
from tests.unit.conftest import call


def _ask(api: Any, email: str) -> tuple[int, Any, dict[str, str]]:
    return call(api, "POST", "/v1/auth/magic-link", {"email": email})


def _redeem(api: Any, token: str) -> tuple[int, Any, dict[str, str]]:
    return call(api, "POST", "/v1/auth/magic-link/verify", {"token": token})


def _mailed_token(aws: dict[str, str], email: str) -> str:
    [mail] = [m for m in queued_mails(aws, "magic_link") if m["to"] == email]
    return link_token(mail["context"]["link"])


def test_the_answer_is_the_same_for_known_and_unknown_addresses(api: Any, buyer: Buyer) -> None:
    known = _ask(api, ANNA["email"])
    unknown = _ask(api, "nobody@example.com")

    assert known[0] == unknown[0] == 202
    assert known[1] == unknown[1]
    assert "sign-in link" in known[1]["message"]


def test_the_mailed_link_points_at_the_frontend_and_signs_in(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    _ask(api, ANNA["email"])
    [mail] = queued_mails(aws, "magic_link")
    assert mail["to"] == buyer.email
    assert mail["context"]["link"].startswith("http://127.0.0.1:3000/sign-in/link?token=agora_ml_")
    assert mail["context"]["minutes"] == 15

    status, body, _ = _redeem(api, link_token(mail["context"]["link"]))

    assert status == 200
    assert body["account"]["user_id"] == buyer.user_id
    assert authenticate(f"Bearer {body['access_token']}").user_id == buyer.user_id


def test_only_a_hash_of_the_token_is_stored(api: Any, aws: dict[str, str]) -> None:
    import boto3

    _ask(api, "anna@example.com")
    token = _mailed_token(aws, "anna@example.com")

    items = boto3.client("dynamodb").scan(TableName=aws["TableName"])["Items"]  # a test may scan
    [link] = [i for i in items if i["PK"]["S"].startswith("MAGIC#")]
    assert token not in str(items)
    assert link["email"] == {"S": "anna@example.com"}
    assert int(link["expires_at"]["N"]) - time.time() == pytest.approx(15 * 60, abs=5)


def test_a_link_works_once(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    _ask(api, ANNA["email"])
    token = _mailed_token(aws, buyer.email)
    assert _redeem(api, token)[0] == 200

    status, body, _ = _redeem(api, token)

    assert (status, body["error"]["code"]) == (401, "invalid_magic_link")


def test_an_expired_link_fails(api: Any, aws: dict[str, str], buyer: Buyer, monkeypatch: pytest.MonkeyPatch) -> None:
    _ask(api, ANNA["email"])
    token = _mailed_token(aws, buyer.email)
    later = time.time() + magic_links.LINK_SECONDS + 1
    monkeypatch.setattr(magic_links.time, "time", lambda: later)

    status, body, _ = _redeem(api, token)

    assert (status, body["error"]["code"]) == (401, "invalid_magic_link")


@pytest.mark.parametrize("token", ["agora_ml_forged", "x"])
def test_an_unknown_token_fails(api: Any, token: str) -> None:
    status, body, _ = _redeem(api, token)
    assert (status, body["error"]["code"]) == (401, "invalid_magic_link")


def test_a_link_for_a_new_address_creates_a_verified_passwordless_account(api: Any, aws: dict[str, str]) -> None:
    _ask(api, " New.Buyer@Example.com ")
    token = _mailed_token(aws, "new.buyer@example.com")

    status, body, _ = _redeem(api, token)

    assert status == 200
    assert body["account"]["email"] == "new.buyer@example.com"
    assert body["account"]["roles"] == ["buyer"]
    _, me, _ = call(api, "GET", "/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert (me["has_password"], me["email_verified"]) == (False, True)


def test_requesting_a_link_creates_no_account(api: Any, aws: dict[str, str]) -> None:
    _ask(api, "curious@example.com")
    from chalicelib.accounts.service import find_user_by_email

    assert find_user_by_email("curious@example.com") is None


def test_too_many_link_requests_for_one_address_get_429(api: Any) -> None:
    for _ in range(magic_links.LINK_REQUESTS_PER_EMAIL.limit):
        assert _ask(api, "anna@example.com")[0] == 202

    status, body, headers = _ask(api, "ANNA@example.com")

    assert (status, body["error"]["code"]) == (429, "too_many_attempts")
    assert 0 < int(headers["Retry-After"]) <= 3600
    assert _ask(api, "ben@example.com")[0] == 202  # another address is not affected


def test_too_many_link_requests_from_one_source_get_429(api: Any) -> None:
    for i in range(magic_links.LINK_REQUESTS_PER_SOURCE.limit):
        assert _ask(api, f"person{i}@example.com")[0] == 202

    status, body, headers = _ask(api, "one-more@example.com")

    assert (status, body["error"]["code"]) == (429, "too_many_attempts")
    assert int(headers["Retry-After"]) > 0


def test_an_invalid_address_is_a_422(api: Any) -> None:
    status, body, _ = _ask(api, "anna@")
    assert (status, body["error"]["code"]) == (422, "invalid_email")
