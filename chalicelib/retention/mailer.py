"""Rendering mails in the recipient's language and sending them through SES.

Templates live in ``templates/<language>/<name>.subject.txt``, ``.txt`` and ``.html``.
English is complete; a template that is missing in another language is sent in English
(the whole mail, never a mix). ``language_of`` maps a stored preference to a language we
have texts for.

Marketing mails (given an :class:`Unsubscribe`) carry RFC 8058 one-click unsubscription:
``List-Unsubscribe: <https://<api>/v1/consents/unsubscribe?token=…>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, which mailbox providers turn into
an "unsubscribe" button that POSTs to the API, plus a visible footer linking to the
frontend's unsubscribe page. Transactional mails (sign-in links, confirmations) carry
neither. Custom headers need a raw MIME message, so every mail goes out through SES
``SendRawEmail``. (Mailbox providers honour one-click only on DKIM-signed mail: verify the
sender's domain in SES, not just the address, in production.)
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.core.aws import client
from chalicelib.core.settings import get_settings
from chalicelib.retention.formatting import money_of

if TYPE_CHECKING:  # imported where used, for cold start
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"
UNSUBSCRIBE_FOOTER = "_unsubscribe"


@dataclass(frozen=True)
class Unsubscribe:
    """How the recipient of a marketing mail leaves its topic."""

    one_click_url: str  # the API, POSTed to by the mailbox provider (List-Unsubscribe)
    page_url: str  # the frontend's unsubscribe page, linked in the mail's footer


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
    from jinja2.runtime import Context

    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )

    @pass_context
    def money(context: Context, value: dict[str, Any]) -> str:
        """``{{ total|money }}``: in the language the mail is written in (not the one asked
        for: a text missing in German goes out in English, amounts included)."""
        return money_of(value, context["mail_language"])

    environment.filters["money"] = money
    return environment


def language_of(preferred: str | None) -> str:
    """The language we write to someone who prefers ``preferred`` (``de``, ``DE-at`` -> de;
    unknown or none -> English)."""
    primary = (preferred or "").replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def _language_having(template: str, language: str) -> str:
    from jinja2 import TemplateNotFound

    try:
        _environment().get_template(f"{language}/{template}.subject.txt")
    except TemplateNotFound:
        return DEFAULT_LANGUAGE
    return language


def render(template: str, context: dict[str, Any], language: str | None = None, *,
           unsubscribe: Unsubscribe | None = None) -> Rendered:
    """Subject, text and HTML of ``template`` in ``language`` (or English), with the
    unsubscribe footer when it is a marketing mail."""
    env = _environment()
    chosen = _language_having(template, language_of(language))

    def part(name: str) -> str:
        return env.get_template(f"{chosen}/{name}").render(**context, mail_language=chosen)

    subject, text, html = part(f"{template}.subject.txt").strip(), part(f"{template}.txt"), part(f"{template}.html")
    if unsubscribe is not None:
        footer = {"unsubscribe_link": unsubscribe.page_url}
        text += env.get_template(f"{chosen}/{UNSUBSCRIBE_FOOTER}.txt").render(**footer)
        html += env.get_template(f"{chosen}/{UNSUBSCRIBE_FOOTER}.html").render(**footer)
    return Rendered(language=chosen, subject=subject, text=text, html=html)


def compose(to: str, rendered: Rendered, *, unsubscribe: Unsubscribe | None = None) -> EmailMessage:
    """The MIME message: text and HTML alternatives, and the RFC 8058 headers of a marketing mail."""
    message = EmailMessage(policy=SMTP)
    message["From"] = get_settings().sender_email
    message["To"] = to
    message["Subject"] = rendered.subject
    if unsubscribe is not None:
        message["List-Unsubscribe"] = f"<{unsubscribe.one_click_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # quoted-printable, not the 8bit Python picks for short non-ASCII lines: 7-bit clean on any
    # relay, and the local outbox (moto) reads it back intact
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    message["Content-Language"] = rendered.language  # after the parts: making them moves Content-* headers
    return message


def send(to: str, template: str, context: dict[str, Any], *, language: str | None = None,
         unsubscribe: Unsubscribe | None = None) -> str:
    """Render and send one mail; returns SES's message id. The recipients come from the
    ``To`` header (SES reads them from the raw message)."""
    rendered = render(template, context, language, unsubscribe=unsubscribe)
    response = client("ses").send_raw_email(
        Source=get_settings().sender_email,
        RawMessage={"Data": compose(to, rendered, unsubscribe=unsubscribe).as_bytes()},
    )
    message_id: str = response["MessageId"]
    return message_id
