"""Newsletter consent: double opt-in, one-click unsubscribe without sign-in, a log for proof."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.accounts import consents
from tests.support.builders import ANNA, Buyer, register
from tests.support.events import pump_events
from tests.support.http import call
from tests.support.mail import link_token, queued_mails

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _state(api: Any, buyer: Buyer) -> dict[str, Any]:
    status, body, _ = call(api, "GET", "/v1/me/consents", headers=buyer.headers)
    assert status == 200, body
    return body


def _newsletter(api: Any, buyer: Buyer, wanted: bool) -> dict[str, Any]:
    status, body, _ = call(api, "PUT", "/v1/me/consents", {"newsletter": wanted}, headers=buyer.headers)
    assert status == 200, body
    return body


def _confirmation_token(aws: dict[str, str]) -> str:
    [mail] = queued_mails("newsletter_confirm")
    assert mail["context"]["link"].startswith("http://127.0.0.1:3000/newsletter/confirm?token=")
    return link_token(mail["context"]["link"])


def _confirm(api: Any, token: str) -> tuple[int, Any, dict[str, str]]:
    return call(api, "POST", "/v1/consents/confirm", {"token": token})


def _status(body: dict[str, Any]) -> str:
    [newsletter] = body["consents"]
    return newsletter["status"]


def test_no_consent_until_asked(api: Any, buyer: Buyer) -> None:
    body = _state(api, buyer)
    assert body == {"consents": [{"topic": "newsletter", "status": "none", "text_version": "newsletter-2026-01",
                                  "updated_at": None}], "log": [], "next_cursor": None}


def test_asking_only_mails_a_link_and_the_link_grants(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    assert _status(_newsletter(api, buyer, True)) == "pending"
    token = _confirmation_token(aws)

    status, body, _ = _confirm(api, token)

    assert (status, body["topic"], body["status"]) == (200, "newsletter", "granted")
    state = _state(api, buyer)
    assert _status(state) == "granted"
    assert [(e["action"], e["method"], e["source_ip"], e["text_version"]) for e in state["log"]] == [
        ("granted", "email_confirmation", "127.0.0.1", "newsletter-2026-01"),
        ("requested", "account_settings", "127.0.0.1", "newsletter-2026-01"),
    ]


def test_confirming_twice_is_fine(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    _newsletter(api, buyer, True)
    token = _confirmation_token(aws)
    _confirm(api, token)

    status, body, _ = _confirm(api, token)

    assert (status, body["status"]) == (200, "granted")
    assert len(_state(api, buyer)["log"]) == 2


def test_asking_for_a_granted_consent_again_mails_nothing(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    _newsletter(api, buyer, True)
    _confirm(api, _confirmation_token(aws))

    assert _status(_newsletter(api, buyer, True)) == "granted"
    assert queued_mails("newsletter_confirm") == []


def test_a_link_voided_by_a_withdrawal_no_longer_grants(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    _newsletter(api, buyer, True)
    token = _confirmation_token(aws)
    assert _status(_newsletter(api, buyer, False)) == "withdrawn"

    status, body, _ = _confirm(api, token)

    assert (status, body["error"]["code"]) == (400, "consent_link_outdated")
    assert _status(_state(api, buyer)) == "withdrawn"


def test_only_the_latest_confirmation_link_works(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    _newsletter(api, buyer, True)
    _newsletter(api, buyer, True)
    first, second = (link_token(m["context"]["link"]) for m in queued_mails("newsletter_confirm"))

    assert _confirm(api, first)[0] == 400
    assert _confirm(api, second)[0] == 200


@pytest.mark.parametrize("token", ["forged", "k.eyJ1IjoidXNyXzEifQ.AAAA"])
def test_forged_confirmation_tokens_are_refused(api: Any, token: str) -> None:
    status, body, _ = _confirm(api, token)
    assert (status, body["error"]["code"]) == (400, "invalid_consent_token")


def test_an_unsubscribe_token_cannot_confirm(api: Any, buyer: Buyer) -> None:
    status, body, _ = _confirm(api, consents.unsubscribe_token(buyer.user_id, "newsletter"))
    assert (status, body["error"]["code"]) == (400, "invalid_consent_token")


def test_confirmation_mails_are_limited(api: Any, buyer: Buyer) -> None:
    for _ in range(consents.CONFIRMATION_MAILS.limit):
        _newsletter(api, buyer, True)
    status, body, headers = call(api, "PUT", "/v1/me/consents", {"newsletter": True}, headers=buyer.headers)
    assert (status, body["error"]["code"]) == (429, "too_many_attempts")
    assert int(headers["Retry-After"]) > 0


@pytest.fixture
def subscribed(api: Any, aws: dict[str, str], buyer: Buyer) -> Buyer:
    _newsletter(api, buyer, True)
    _confirm(api, _confirmation_token(aws))
    return buyer


def test_the_frontend_unsubscribes_with_the_token_from_a_mail(api: Any, subscribed: Buyer) -> None:
    token = link_token(consents.unsubscribe_url(subscribed.user_id, "newsletter"))

    status, body, _ = call(api, "POST", "/v1/consents/unsubscribe", {"token": token})

    assert (status, body["status"]) == (200, "withdrawn")
    log = _state(api, subscribed)["log"]
    assert (log[0]["action"], log[0]["method"], log[0]["source_ip"]) == ("withdrawn", "unsubscribe_link", "127.0.0.1")


def test_mailbox_providers_unsubscribe_with_one_click_rfc_8058(api: Any, subscribed: Buyer) -> None:
    token = consents.unsubscribe_token(subscribed.user_id, "newsletter")

    status, body, _ = call(api, "POST", f"/v1/consents/unsubscribe?token={token}", raw="List-Unsubscribe=One-Click",
                           headers=FORM)

    assert (status, body["status"]) == (200, "withdrawn")
    assert _status(_state(api, subscribed)) == "withdrawn"


def test_unsubscribing_twice_is_fine_and_logged_once(api: Any, subscribed: Buyer) -> None:
    token = consents.unsubscribe_token(subscribed.user_id, "newsletter")
    for _ in range(2):
        assert call(api, "POST", "/v1/consents/unsubscribe", {"token": token})[0] == 200
    assert [e["action"] for e in _state(api, subscribed)["log"]] == ["withdrawn", "granted", "requested"]


def test_a_get_never_unsubscribes(api: Any, subscribed: Buyer) -> None:
    """Mail scanners fetch GET links: unsubscribing takes a POST."""
    token = consents.unsubscribe_token(subscribed.user_id, "newsletter")
    status, _, _ = call(api, "GET", f"/v1/consents/unsubscribe?token={token}")
    assert status == 405
    assert _status(_state(api, subscribed)) == "granted"


@pytest.mark.parametrize("token", ["", "forged.token.here"])
def test_an_invalid_unsubscribe_token_is_refused(api: Any, token: str) -> None:
    status, body, _ = call(api, "POST", "/v1/consents/unsubscribe", {"token": token or "x"})
    assert (status, body["error"]["code"]) == (400, "invalid_unsubscribe_token")


def test_the_log_pages_newest_first(api: Any, aws: dict[str, str], subscribed: Buyer) -> None:
    _newsletter(api, subscribed, False)
    _, first, _ = call(api, "GET", "/v1/me/consents?limit=2", headers=subscribed.headers)
    _, rest, _ = call(api, "GET", f"/v1/me/consents?limit=2&cursor={first['next_cursor']}",
                      headers=subscribed.headers)
    assert [e["action"] for e in first["log"] + rest["log"]] == ["withdrawn", "granted", "requested"]


def test_registration_with_newsletter_sends_welcome_and_confirmation(api: Any, aws: dict[str, str]) -> None:
    anna = register(api, newsletter=True)

    pump_events()
    pump_events()  # a redelivered event sends nothing twice

    mails = queued_mails()
    assert sorted(m["template"] for m in mails) == ["account_welcome", "newsletter_confirm"]
    assert {m["to"] for m in mails} == {anna.email}
    [confirmation] = [m for m in mails if m["template"] == "newsletter_confirm"]
    assert _status(_state(api, anna)) == "pending"
    assert _confirm(api, link_token(confirmation["context"]["link"]))[0] == 200
    log = _state(api, anna)["log"]
    assert [(e["action"], e["method"], e["source_ip"]) for e in log] == [
        ("granted", "email_confirmation", "127.0.0.1"), ("requested", "registration", "127.0.0.1")]


def test_registration_without_newsletter_only_welcomes(api: Any, aws: dict[str, str]) -> None:
    register(api)
    pump_events()
    [welcome] = queued_mails()
    assert (welcome["template"], welcome["to"]) == ("account_welcome", ANNA["email"].lower())
    assert welcome["context"] == {"name": "Anna Berg", "sign_in_link": "http://127.0.0.1:3000/sign-in",
                                  "guest_checkout": False}


@pytest.mark.parametrize(("method", "roles", "welcomed"), [
    ("guest_checkout", ("buyer",), True), ("magic_link", ("buyer",), True), ("seller_import", ("buyer",), False),
    ("password", ("buyer", "seller"), False),
])
def test_who_is_welcomed_depends_on_how_the_account_came_to_be(aws: dict[str, str], method: str,
                                                               roles: tuple[str, ...], welcomed: bool) -> None:
    from chalicelib.accounts.service import create_user, new_user

    create_user(new_user("someone@example.com", name="Gast", roles=roles), event_payload={"method": method})
    pump_events()

    assert [m["template"] for m in queued_mails()] == (["account_welcome"] if welcomed else [])


@pytest.mark.parametrize("template", ["magic_link", "account_welcome", "newsletter_confirm"])
def test_account_mails_render(template: str) -> None:
    from chalicelib.retention.mailer import render

    context = {"magic_link": {"link": "https://shop/sign-in/link?token=t", "minutes": 15},
               "account_welcome": {"name": "Anna", "sign_in_link": "https://shop/sign-in", "guest_checkout": True},
               "newsletter_confirm": {"name": "Anna", "link": "https://shop/newsletter/confirm?token=t", "days": 7},
               }[template]
    for language in ("en", "de"):
        mail = render(template, context, language)
        assert mail.language == language
        assert mail.subject and "https://shop/" in mail.text and 'href="https://shop/' in mail.html


def test_an_unsubscribe_link_survives_rotating_the_signing_key_and_the_pepper(api: Any, subscribed: Buyer,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Mail links are signed under the hash pepper: a signing-key rotation does not touch them,
    and a new pepper version signs new links while old ones keep working."""
    from chalicelib.core.secrets import get_secret
    from chalicelib.core.settings import reset_settings

    old_pepper = get_secret("hash_pepper")
    token = consents.unsubscribe_token(subscribed.user_id, "newsletter")
    monkeypatch.setenv("AGORA_SECRET_TOKEN_SIGNING_KEY", "k2=new-signing-key-0123456789-0123456789")
    monkeypatch.setenv("AGORA_SECRET_HASH_PEPPER", f"2=new-pepper-0123456789-0123456789-0123,{old_pepper}")
    reset_settings()

    assert call(api, "POST", "/v1/consents/unsubscribe", {"token": token})[0] == 200
    assert consents.unsubscribe_token(subscribed.user_id, "newsletter").startswith("p2.")


def test_an_unsubscribe_link_expires_after_a_year_and_says_so(api: Any, subscribed: Buyer) -> None:
    from chalicelib.accounts import signed_links

    a_year_ago = time.time() - consents.UNSUBSCRIBE_SECONDS - 1
    year_old = signed_links.sign("consent-unsubscribe", {"u": subscribed.user_id, "t": "newsletter"},
                                 expires_in=consents.UNSUBSCRIBE_SECONDS, now=a_year_ago)
    status, body, _ = call(api, "POST", "/v1/consents/unsubscribe", {"token": year_old})

    assert (status, body["error"]["code"]) == (400, "unsubscribe_link_expired")
    assert consents.is_granted(subscribed.user_id, "newsletter")


@pytest.mark.parametrize("path", ["/v1/consents/unsubscribe", "/v1/consents/confirm"])
def test_a_non_ascii_signature_is_a_clear_400_not_a_500(api: Any, subscribed: Buyer, path: str) -> None:
    genuine = consents.unsubscribe_token(subscribed.user_id, "newsletter")
    forged = genuine[:-2] + "ßü"

    status, body, _ = call(api, "POST", path, {"token": forged})

    assert status == 400 and body["error"]["code"] in ("invalid_unsubscribe_token", "invalid_consent_token")
    assert consents.is_granted(subscribed.user_id, "newsletter")
