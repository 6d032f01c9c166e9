"""Mails in the buyer's preferred language (de or en), English when we have no better."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chalicelib.retention import mailer, service
from tests.support.builders import Buyer
from tests.support.http import call
from tests.support.mail import queued_mails, sent_mails


def _prefer(api: Any, buyer: Buyer, language: str) -> None:
    status, body, _ = call(api, "PATCH", "/v1/me", {"language": language}, headers=buyer.headers)
    assert status == 200, body


def _magic_link_mail(api: Any, aws: dict[str, str], email: str) -> dict[str, Any]:
    """Ask for a sign-in link, let the retention worker send it, return the mail as sent."""
    before = len(sent_mails())
    assert call(api, "POST", "/v1/auth/magic-link", {"email": email})[0] == 202
    [queued] = queued_mails("magic_link")
    assert service.deliver(queued) is True
    [mail] = [m for m in sent_mails()[before:] if m["to"] == [email]]
    return mail


def test_a_buyer_who_prefers_german_gets_german_mail(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    _prefer(api, buyer, "de")

    mail = _magic_link_mail(api, aws, buyer.email)

    assert mail["subject"] == "Ihr Anmeldelink für agora"
    assert mail["body"].startswith("Guten Tag,\n\nhier ist Ihr Link zur Anmeldung bei agora:")
    assert "Minuten lang gültig" in mail["body"]
    assert ">Bei agora anmelden</a>" in mail["html"]
    assert mail["headers"]["Content-Language"] == "de"


def test_a_buyer_who_prefers_english_gets_english_mail(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    _prefer(api, buyer, "en")

    mail = _magic_link_mail(api, aws, buyer.email)

    assert mail["subject"] == "Your sign-in link for agora"
    assert mail["headers"]["Content-Language"] == "en"


def test_an_unknown_preference_falls_back_to_english(api: Any, aws: dict[str, str], buyer: Buyer) -> None:
    from chalicelib.accounts.models import User

    # given a language we have no texts for (stored before the API limited it to de/en)
    User.get(f"USER#{buyer.user_id}", "PROFILE").update(actions=[User.language.set("fr")])

    mail = _magic_link_mail(api, aws, buyer.email)

    assert mail["subject"] == "Your sign-in link for agora"
    assert mail["body"].startswith("Hello,\n\nhere is your link to sign in to agora:")


def test_a_stranger_without_an_account_gets_english(api: Any, aws: dict[str, str]) -> None:
    mail = _magic_link_mail(api, aws, "new@example.com")

    assert mail["subject"] == "Your sign-in link for agora"


@pytest.mark.parametrize(("language", "subject"), [
    ("de", "agora-Pipeline-Prüfung k1"), ("fr", "agora pipeline check k1"), (None, "agora pipeline check k1"),
])
def test_a_message_may_name_its_language(language: str | None, subject: str) -> None:
    service.deliver({"template": "pipeline_check", "to": "ops@example.com", "context": {"check_id": "k1"},
                     "dedupe_key": f"check:{language}", "language": language})

    [mail] = sent_mails()
    assert mail["subject"] == subject


@pytest.mark.parametrize("preferred", ["de", "DE", "de-AT", "de_CH"])
def test_regional_preferences_get_their_language(preferred: str) -> None:
    assert mailer.language_of(preferred) == "de"


def test_every_mail_has_a_german_text() -> None:
    def names(language: str) -> set[str]:
        return {p.name for p in (Path(mailer.TEMPLATES) / language).iterdir()}

    assert names("de") == names("en")
