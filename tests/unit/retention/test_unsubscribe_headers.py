"""Marketing mails carry RFC 8058 one-click unsubscribe; transactional mails do not."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from chalicelib.retention import service
from tests.support.builders import Buyer
from tests.support.http import call
from tests.support.mail import link_token, queued_mails, sent_mails

ONE_CLICK = re.compile(r"^<http://127\.0\.0\.1:8000/v1/consents/unsubscribe\?token=([\w.-]+)>$")


def _send_queued(aws: dict[str, str], template: str) -> dict[str, Any]:
    """Let the retention worker send the queued mail of ``template``; the mail as sent."""
    [queued] = queued_mails(template)
    assert service.deliver(queued) is True
    return sent_mails()[-1]


def _subscribe(api: Any, aws: dict[str, str], buyer: Buyer) -> dict[str, Any]:
    """Newsletter double opt-in through the API; returns the confirmation mail as sent."""
    assert call(api, "PUT", "/v1/me/consents", {"newsletter": True}, headers=buyer.headers)[0] == 200
    confirmation = _send_queued(aws, "newsletter_confirm")
    token = link_token(re.search(r"http\S+/newsletter/confirm\?token=\S+", confirmation["body"]).group(0))
    assert call(api, "POST", "/v1/consents/confirm", {"token": token})[0] == 200
    return confirmation


def _marketing(buyer: Buyer, key: str = "m1") -> bool:
    """Queue-and-send a marketing mail of the newsletter topic. (No marketing template exists
    yet — the retention issue adds them; any template sent under a topic is one.)"""
    return service.deliver({"template": "pipeline_check", "to": buyer.email, "context": {"check_id": key},
                            "dedupe_key": f"newsletter:{key}", "topic": "newsletter"})


def _newsletter_status(api: Any, buyer: Buyer) -> str:
    _, body, _ = call(api, "GET", "/v1/me/consents", headers=buyer.headers)
    return body["consents"][0]["status"]


def test_a_marketing_mail_carries_one_click_unsubscribe(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    _subscribe(api, aws, buyer)

    assert _marketing(buyer) is True

    mail = sent_mails()[-1]
    assert ONE_CLICK.match(mail["headers"]["List-Unsubscribe"])
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Unsubscribe with one click: http://127.0.0.1:3000/unsubscribe?token=" in mail["body"]
    assert 'href="http://127.0.0.1:3000/unsubscribe?token=' in mail["html"]


def test_the_mailbox_providers_one_click_post_unsubscribes(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    # given a marketing mail in the buyer's mailbox
    _subscribe(api, aws, buyer)
    _marketing(buyer)
    header = sent_mails()[-1]["headers"]["List-Unsubscribe"]
    url = urlsplit(header.strip("<>"))

    # when the mailbox provider POSTs to its List-Unsubscribe URL as RFC 8058 says
    status, _, _ = call(api, "POST", f"{url.path}?{url.query}", raw="List-Unsubscribe=One-Click",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})

    # then the buyer is unsubscribed, and the next marketing mail is not sent
    assert status == 200
    assert _newsletter_status(api, buyer) == "withdrawn"
    sent = len(sent_mails())
    assert _marketing(buyer, "m2") is False
    assert len(sent_mails()) == sent


def test_no_marketing_mail_without_consent(buyer: Buyer) -> None:
    before = len(sent_mails())  # the sign-up's confirmation
    assert _marketing(buyer) is False
    assert len(sent_mails()) == before


def test_the_footer_speaks_the_buyers_language(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    assert call(api, "PATCH", "/v1/me", {"language": "de"}, headers=buyer.headers)[0] == 200
    _subscribe(api, aws, buyer)

    _marketing(buyer)

    assert "Mit einem Klick abmelden: http://127.0.0.1:3000/unsubscribe?token=" in sent_mails()[-1]["body"]


@pytest.mark.parametrize("template", ["magic_link", "newsletter_confirm"])
def test_transactional_mails_carry_no_unsubscribe(api: Any, aws: dict[str, str], buyer: Buyer,
                                                  template: str) -> None:
    if template == "magic_link":
        assert call(api, "POST", "/v1/auth/magic-link", {"email": buyer.email})[0] == 202
        mail = _send_queued(aws, "magic_link")
    else:
        mail = _subscribe(api, aws, buyer)

    assert "List-Unsubscribe" not in mail["headers"]
    assert "List-Unsubscribe-Post" not in mail["headers"]
    assert "/unsubscribe?token=" not in mail["body"]
