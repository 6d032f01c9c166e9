"""Sign-in by link: single use, 15 minutes, no account enumeration, passwordless sign-up."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest

from chalicelib.accounts import magic_links
from chalicelib.core.auth import authenticate
from tests.support.builders import ANNA, Buyer
from tests.support.http import call
from tests.support.mail import deliver_mails, link_token, mailed_link, mailed_token, queued_mails, sent_mails


def _mails_to(email: str) -> list[dict[str, Any]]:
    return [m for m in deliver_mails() if email in m["to"]]


def _items_with_prefix(aws: dict[str, str], prefix: str) -> list[dict[str, Any]]:
    import boto3

    items = boto3.client("dynamodb").scan(TableName=aws["TableName"])["Items"]  # a test may scan
    return [i for i in items if i["PK"]["S"].startswith(prefix)]


def _ask(api: Any, email: str) -> tuple[int, Any, dict[str, str]]:
    return call(api, "POST", "/v1/auth/magic-link", {"email": email})


def _redeem(api: Any, token: str) -> tuple[int, Any, dict[str, str]]:
    return call(api, "POST", "/v1/auth/magic-link/verify", {"token": token})


def _mailed_token(aws: dict[str, str], email: str) -> str:
    return mailed_token(email)


def test_the_answer_is_the_same_for_known_and_unknown_addresses(api: Any, buyer: Buyer) -> None:
    known = _ask(api, ANNA["email"])
    unknown = _ask(api, "nobody@example.com")

    assert known[0] == unknown[0] == 202
    assert known[1] == unknown[1]
    assert "sign-in link" in known[1]["message"]


def test_the_mailed_link_points_at_the_frontend_and_signs_in(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    _ask(api, ANNA["email"])
    link = mailed_link(buyer.email)
    [mail] = [m for m in sent_mails() if m["subject"] == "Your sign-in link for agora"]
    assert link.startswith("http://127.0.0.1:3000/sign-in/link?token=agora_ml_")
    assert "15 minutes" in mail["body"]

    status, body, _ = _redeem(api, link_token(link))

    assert status == 200
    assert body["account"]["user_id"] == buyer.user_id
    assert authenticate(f"Bearer {body['access_token']}").user_id == buyer.user_id


def test_no_live_link_waits_in_the_mail_queue(api: Any, aws: dict[str, str]) -> None:
    """The mail worker mints the token when it sends the mail: the queue and its dead-letter
    queue only ever hold what the link will do."""
    _ask(api, "anna@example.com")

    [queued] = queued_mails("magic_link")

    assert queued["link"] == {"purpose": "sign_in", "ref": None, "path": "/sign-in/link"}
    assert "token" not in json.dumps(queued) and "agora_ml_" not in json.dumps(queued)
    assert _items_with_prefix(aws, "MAGIC#") == []  # nothing redeemable exists before the mail is sent


def test_only_a_hash_of_the_token_is_stored(api: Any, aws: dict[str, str]) -> None:
    import boto3

    _ask(api, "anna@example.com")
    token = _mailed_token(aws, "anna@example.com")

    items = boto3.client("dynamodb").scan(TableName=aws["TableName"])["Items"]  # a test may scan
    [link] = _items_with_prefix(aws, "MAGIC#")
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
    later = time.time() + magic_links.LIFETIMES["sign_in"] + 1
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


def test_extra_link_requests_for_one_address_are_dropped_quietly_and_the_owner_gets_one_after_a_pause(
        api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nobody can block an owner's sign-in or flood their mailbox: no 429 for an address."""
    answers = [_ask(api, "anna@example.com") for _ in range(8)]

    assert {a[0] for a in answers} == {202} and len({json.dumps(a[1]) for a in answers}) == 1
    assert len(_mails_to("anna@example.com")) == 1
    assert _ask(api, "ben@example.com")[0] == 202 and len(_mails_to("ben@example.com")) == 1

    later = time.time() + 61
    monkeypatch.setattr(magic_links.time, "time", lambda: later)
    assert _ask(api, "anna@example.com")[0] == 202
    assert len(_mails_to("anna@example.com")) == 2


def test_pacing_gaps_grow_so_a_flood_yields_a_handful_of_mails_an_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.core import throttle

    start = 1_800_000_000
    sent = [t for t in range(start, start + 3600, 20)
            if throttle.pace(magic_links.SIGN_IN_MAILS, "anna@example.com", now=t)]

    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert gaps == sorted(gaps) and gaps[0] == 60 and max(gaps) == magic_links.SIGN_IN_MAILS.max_gap
    assert len(sent) <= 10


def test_too_many_link_requests_from_one_source_get_429(api: Any) -> None:
    for i in range(magic_links.LINK_REQUESTS_PER_SOURCE.limit):
        assert _ask(api, f"person{i}@example.com")[0] == 202

    status, body, headers = _ask(api, "one-more@example.com")

    assert (status, body["error"]["code"]) == (429, "too_many_attempts")
    assert int(headers["Retry-After"]) > 0


def test_an_invalid_address_is_a_422(api: Any) -> None:
    status, body, _ = _ask(api, "anna@")
    assert (status, body["error"]["code"]) == (422, "invalid_email")
