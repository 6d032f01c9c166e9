"""Marketing consent with double opt-in, one-click unsubscribe and a consent log for proof.

A consent is granted only when the person clicks the confirmation link mailed to them
(double opt-in, as German courts require for newsletters). Every change writes a log entry
— what (topic, action), when, how (method), from where (source IP) and which version of
the consent text — in the same transaction as the change; the log is kept even when the
account is erased, because it is the proof that mails were sent with consent.

Links in mails are stateless signed tokens (:mod:`chalicelib.accounts.signed_links`):
- confirmation: per request, valid 7 days, and only for the latest request (a pending
  consent remembers its request id; withdrawing or asking again voids older links);
- unsubscribe: per person and topic, valid for a year from the mail that carries it, so
  that it works from any recent mail without signing in (an expired one says so: the
  person signs in, or uses a newer mail). ``unsubscribe_url`` is what every marketing
  mail links to. Both are signed under the hash pepper, not the token signing key, so a
  signing-key rotation leaves links in sent mails working.

Both are redeemed by POST only, never GET: mail scanners prefetch GET links, and would
unsubscribe (or confirm!) on the person's behalf. RFC 8058 one-click unsubscription fits
this: the mail carries ``List-Unsubscribe: <https://<api>/v1/consents/unsubscribe?token=…>``
and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, and the mailbox provider POSTs
``List-Unsubscribe=One-Click`` (form-encoded) to that URL, which this API accepts. A GET on
that URL is refused (405), so a scanner cannot unsubscribe anybody.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from chalicelib.accounts import signed_links
from chalicelib.accounts.events import ConsentGranted
from chalicelib.accounts.models import Consent, ConsentLogEntry, User
from chalicelib.accounts.service import get_active_user
from chalicelib.core import clock, throttle
from chalicelib.core.db import LabelledTransaction
from chalicelib.core.errors import BadRequest, Code
from chalicelib.core.ids import new_id
from chalicelib.core.keys import CONSENT_LOG_PREFIX, CONSENT_PREFIX, consent_log_sk, consent_sk, user_key
from chalicelib.core.mail import EmailMessage, enqueue_email
from chalicelib.core.pagination import DEFAULT_LIMIT, Page, decode_cursor, encode_cursor
from chalicelib.core.settings import get_settings
from chalicelib.events.service import new_event

# Topic -> version of the consent text the person agreed to (change it with the text).
TOPICS = {"newsletter": "newsletter-2026-01"}
CONFIRM_SECONDS = 7 * 24 * 3600
UNSUBSCRIBE_SECONDS = 365 * 24 * 3600
CONFIRMATION_MAILS = throttle.Rule("consent-confirmation-mail", limit=5, window_seconds=3600)
# Confirm and unsubscribe links, per caller: generous (mailbox providers POST one-click
# unsubscriptions from shared addresses), but a forger cannot try tokens endlessly.
LINK_ATTEMPTS_PER_SOURCE = throttle.Rule("consent-link-source", limit=60, window_seconds=15 * 60)
_CONFIRM = "consent-confirm"
_UNSUBSCRIBE = "consent-unsubscribe"
LOG_PAGE_SIZE = DEFAULT_LIMIT  # the one page size of every list


@dataclass(frozen=True)
class ConsentState:
    topic: str
    status: str  # none | pending | granted | withdrawn
    text_version: str
    updated_at: str | None


@dataclass(frozen=True)
class ConsentsView:
    consents: list[ConsentState]
    log: Page[ConsentLogEntry]


def _consent_key(user_id: str, topic: str) -> tuple[str, str]:
    return user_key(user_id), consent_sk(topic)


def log_entry(user_id: str, topic: str, action: str, *, method: str, source_ip: str | None,
              at: str | None = None) -> ConsentLogEntry:
    entry_id = new_id("cns")
    return ConsentLogEntry(PK=user_key(user_id), SK=consent_log_sk(entry_id), entry_id=entry_id,
                           topic=topic, action=action, method=method, source_ip=source_ip,
                           text_version=TOPICS[topic], at=at or clock.stamp())


def _find(user_id: str, topic: str) -> Consent | None:
    try:
        return Consent.get(*_consent_key(user_id, topic))
    except Consent.DoesNotExist:
        return None


def current_consents(user_id: str) -> dict[str, Consent]:
    """Topic -> the consent's current state (one Query)."""
    return {c.topic: c for c in Consent.query(user_key(user_id), Consent.SK.startswith(CONSENT_PREFIX))}


def _state(topic: str, consent: Consent | None) -> ConsentState:
    if consent is None:
        return ConsentState(topic=topic, status="none", text_version=TOPICS[topic], updated_at=None)
    return ConsentState(topic=topic, status=consent.status, text_version=consent.text_version,
                        updated_at=consent.updated_at)


def get_consents(user_id: str, *, cursor: str | None = None, limit: int = LOG_PAGE_SIZE) -> ConsentsView:
    """Current consents and the log, newest first.

    Round trips: GetItem(user), Query(consents), Query(log page)."""
    get_active_user(user_id)
    current = current_consents(user_id)
    return ConsentsView(consents=[_state(topic, current.get(topic)) for topic in TOPICS],
                        log=_log_page(user_id, cursor=cursor, limit=limit))


def _log_page(user_id: str, *, cursor: str | None, limit: int) -> Page[ConsentLogEntry]:
    scope = f"{user_key(user_id)}/consent-log"
    result = ConsentLogEntry.query(user_key(user_id), ConsentLogEntry.SK.startswith(CONSENT_LOG_PREFIX),
                                   scan_index_forward=False, limit=limit,
                                   last_evaluated_key=decode_cursor(cursor, scope=scope))
    items = list(result)
    return Page(items=items, next_cursor=encode_cursor(result.last_evaluated_key, scope=scope))


def all_log_entries(user_id: str) -> list[ConsentLogEntry]:
    """The whole log, oldest first (the data export)."""
    return list(ConsentLogEntry.query(user_key(user_id), ConsentLogEntry.SK.startswith(CONSENT_LOG_PREFIX)))


def change(user_id: str, *, newsletter: bool, source_ip: str | None) -> ConsentsView:
    """The buyer's own choice in their account settings.

    Round trips: GetItem(user), GetItem(consent), then to ask: UpdateItem(throttle),
    TransactWriteItems(consent, log), SQS SendMessage(confirmation mail); to withdraw:
    TransactWriteItems(consent, log); then the reads of :func:`get_consents`.
    """
    user = get_active_user(user_id)
    if newsletter:
        request(user, "newsletter", method="account_settings", source_ip=source_ip)
    else:
        withdraw(user_id, "newsletter", method="account_settings", source_ip=source_ip)
    return get_consents(user_id)


def request(user: User, topic: str, *, method: str, source_ip: str | None, request_id: str | None = None,
            at: str | None = None) -> None:
    """Ask for a consent: pending until the link mailed to the person is clicked. Asking
    again for a granted consent does nothing; asking again for a pending one mails a new
    link (the old one stops working). ``request_id`` makes a retried caller idempotent."""
    consent = _find(user.user_id, topic)
    if consent is not None and consent.status == "granted":
        return
    throttle.hit(CONFIRMATION_MAILS, user.user_id)
    request_id = request_id or new_id("cnr")
    pk, sk = _consent_key(user.user_id, topic)
    transaction = LabelledTransaction()
    transaction.put("consent", Consent(PK=pk, SK=sk, user_id=user.user_id, topic=topic, status="pending",
                                       text_version=TOPICS[topic], request_id=request_id,
                                       updated_at=at or clock.stamp()))
    transaction.put("log", log_entry(user.user_id, topic, "requested", method=method, source_ip=source_ip, at=at))
    transaction.commit()
    token = signed_links.sign(_CONFIRM, {"u": user.user_id, "t": topic, "r": request_id},
                              expires_in=CONFIRM_SECONDS)
    enqueue_email(EmailMessage(template="newsletter_confirm", to=user.email,
                               context={"name": user.name, "link": _frontend_link("/newsletter/confirm", token),
                                        "days": CONFIRM_SECONDS // 86400},
                               dedupe_key=f"consent_confirm:{request_id}"))


def confirm(token: str, *, source_ip: str | None, throttle_by: str | None = None) -> ConsentState:
    """The person clicked the confirmation link: the consent is granted (double opt-in).
    Clicking again is fine; a link voided by a later request or a withdrawal is not.
    ``source_ip`` goes into the consent log; ``throttle_by`` (the caller as throttles count
    it) limits how often one caller may try.

    Round trips: UpdateItem(throttle), TransactWriteItems(consent, log) (+ GetItem(consent)
    when it failed)."""
    if throttle_by is not None:
        throttle.hit(LINK_ATTEMPTS_PER_SOURCE, throttle_by)
    claims = signed_links.verify(_CONFIRM, token)
    if claims is None or claims.get("t") not in TOPICS:
        raise BadRequest("This confirmation link is not valid.", code=Code.INVALID_CONSENT_TOKEN)
    user_id, topic = claims["u"], claims["t"]
    pk, sk = _consent_key(user_id, topic)
    now = clock.stamp()
    transaction = LabelledTransaction()
    transaction.update("consent", Consent(PK=pk, SK=sk),
                       [Consent.status.set("granted"), Consent.request_id.remove(), Consent.updated_at.set(now)],
                       (Consent.status == "pending") & (Consent.request_id == claims["r"]))
    transaction.put("log", log_entry(user_id, topic, "granted", method="email_confirmation", source_ip=source_ip,
                                     at=now))
    transaction.put("event", new_event(ConsentGranted(user_id=user_id, topic=topic, at=now)))
    if transaction.commit():
        current = _find(user_id, topic)
        if current is not None and current.status == "granted":
            return _state(topic, current)
        raise BadRequest("This confirmation link is no longer valid; ask for the newsletter again.",
                         code=Code.CONSENT_LINK_OUTDATED)
    return ConsentState(topic=topic, status="granted", text_version=TOPICS[topic], updated_at=now)


def withdraw(user_id: str, topic: str, *, method: str, source_ip: str | None) -> bool:
    """Withdraw a granted or pending consent; False when there was none to withdraw.

    Round trips: TransactWriteItems(consent, log)."""
    pk, sk = _consent_key(user_id, topic)
    transaction = LabelledTransaction()
    transaction.update("consent", Consent(PK=pk, SK=sk),
                       [Consent.status.set("withdrawn"), Consent.request_id.remove(),
                        Consent.updated_at.set(clock.stamp())],
                       Consent.status.is_in("pending", "granted"))
    transaction.put("log", log_entry(user_id, topic, "withdrawn", method=method, source_ip=source_ip))
    return not transaction.commit()


def unsubscribe(token: str, *, source_ip: str | None, throttle_by: str | None = None) -> ConsentState:
    """One-click unsubscribe from a mail, without signing in. Repeating it is fine.

    Round trips: UpdateItem(throttle), TransactWriteItems(consent, log)."""
    if throttle_by is not None:
        throttle.hit(LINK_ATTEMPTS_PER_SOURCE, throttle_by)
    claims = signed_links.verify(_UNSUBSCRIBE, token)
    if claims is None and signed_links.verify(_UNSUBSCRIBE, token, allow_expired=True) is not None:
        raise BadRequest("This unsubscribe link has expired; use the link in a newer mail, or sign in and change "
                         "your mail settings.", code=Code.UNSUBSCRIBE_LINK_EXPIRED)
    if claims is None or claims.get("t") not in TOPICS:
        raise BadRequest("This unsubscribe link is not valid.", code=Code.INVALID_UNSUBSCRIBE_TOKEN)
    withdraw(claims["u"], claims["t"], method="unsubscribe_link", source_ip=source_ip)
    return ConsentState(topic=claims["t"], status="withdrawn", text_version=TOPICS[claims["t"]],
                        updated_at=clock.stamp())


def unsubscribe_token(user_id: str, topic: str) -> str:
    return signed_links.sign(_UNSUBSCRIBE, {"u": user_id, "t": topic}, expires_in=UNSUBSCRIBE_SECONDS)


def is_granted(user_id: str, topic: str) -> bool:
    """Whether marketing mails of ``topic`` may go to the person now (one consistent GetItem,
    so that an unsubscription a moment ago is honoured)."""
    try:
        return Consent.get(*_consent_key(user_id, topic), consistent_read=True).status == "granted"
    except Consent.DoesNotExist:
        return False


def one_click_unsubscribe_url(user_id: str, topic: str) -> str:
    """The API address in a marketing mail's ``List-Unsubscribe`` header, which mailbox
    providers POST ``List-Unsubscribe=One-Click`` to (RFC 8058)."""
    query = urlencode({"token": unsubscribe_token(user_id, topic)})
    return f"{get_settings().api_url.rstrip('/')}/v1/consents/unsubscribe?{query}"


def unsubscribe_url(user_id: str, topic: str) -> str:
    """The link every marketing mail of ``topic`` carries (the frontend's unsubscribe page,
    which POSTs the token to ``/v1/consents/unsubscribe``)."""
    return _frontend_link("/unsubscribe", unsubscribe_token(user_id, topic))


def _frontend_link(path: str, token: str) -> str:
    return f"{get_settings().frontend_url.rstrip('/')}{path}?{urlencode({'token': token})}"
