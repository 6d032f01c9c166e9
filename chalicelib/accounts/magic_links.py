"""Mailed one-time links ("magic links"): sign-in, sign-up confirmation, seller applications
and customer invitations. Passwordless accounts are first-class.

A link points at the FRONTEND (``<frontend_url><path>?token=…``), whose page POSTs the
token to the API (``/v1/auth/magic-link/verify``; seller applications to
``/v1/sellers/confirm``). Redemption is deliberately a POST and never a GET: mail scanners
(Outlook Safe Links, corporate gateways, antivirus) fetch every link in a mail before the
person reads it, so a link that signed in on GET would be spent — or worse, redeemed — by
the scanner.

The token is minted by the mail worker when it sends the mail (:func:`mint`), so no live
link ever sits in the mail queue, its dead-letter queue or their logs; the request only
queues a mail that names what the link will do. Only a keyed hash of the 256-bit token is
stored; it is single use (one conditional UpdateItem flips ``used``), valid for a purpose
only, and short-lived (LIFETIMES, checked in the condition; the item leaves by TTL).

Asking for a link never reveals whether the address has an account: the answer is always
the same 202. Requests are limited per source address (429), and mails per address are
paced: a request inside the gap since the last mail is dropped quietly, so nobody can
flood a mailbox or use up its owner's links (any link in the mailbox works).

Redeeming a link for a session is the accounts service's (:func:`chalicelib.accounts.service.redeem_link`):
what a link does to an account is account logic, and this module stays below it.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from pynamodb.exceptions import UpdateError

from chalicelib.accounts.emails import normalise_email
from chalicelib.accounts.models import MagicLink
from chalicelib.core import clock, throttle
from chalicelib.core.auth import new_secret
from chalicelib.core.db import was_condition_failure
from chalicelib.core.errors import Code, Unauthorized
from chalicelib.core.ids import new_id
from chalicelib.core.keys import MAGIC_SK, magic_link_key
from chalicelib.core.mail import EmailMessage, LinkPurpose, MailLink, enqueue_email
from chalicelib.core.peppers import hash_secret, secret_hashes
from chalicelib.core.settings import get_settings

TOKEN_PREFIX = "agora_ml_"
SIGN_IN_PATH = "/sign-in/link"
# How long a minted link works, by what it does.
LIFETIMES: dict[str, int] = {
    "sign_in": 15 * 60,
    "sign_up": 24 * 3600,
    "seller_application": 24 * 3600,
    "customer_invite": 14 * 24 * 3600,
}
LINK_REQUESTS_PER_SOURCE = throttle.Rule("magic-link-source", limit=20, window_seconds=3600)
SIGN_IN_MAILS = throttle.Pacing("magic-link-email", first_gap=60, max_gap=10 * 60)
VERIFY_ATTEMPTS_PER_SOURCE = throttle.Rule("magic-link-verify-source", limit=30, window_seconds=15 * 60)


def _key(digest: str) -> tuple[str, str]:
    return magic_link_key(digest), MAGIC_SK


def send_link_mail(email: str, *, template: str, purpose: LinkPurpose, ref: str | None = None,
                   path: str = SIGN_IN_PATH, context: dict[str, Any] | None = None,
                   dedupe_key: str | None = None) -> None:
    """Queue a mail whose ``link`` the mail worker mints when it sends it."""
    enqueue_email(EmailMessage(template=template, to=email, context=context or {},
                               link=MailLink(purpose=purpose, ref=ref, path=path),
                               dedupe_key=dedupe_key or f"{template}:{new_id('lnk')}"))


def mail_sign_in_link(email: str) -> bool:
    """Mail a sign-in link unless one went to the address too recently; whether it was queued."""
    if not throttle.pace(SIGN_IN_MAILS, email):
        return False
    send_link_mail(email, template="magic_link", purpose="sign_in")
    return True


def request_link(*, email: str, source_ip: str) -> None:
    """Mail a sign-in link to ``email`` (quietly nothing when one went there a moment ago).

    Round trips: UpdateItem(source throttle), GetItem + UpdateItem(pacing), SQS SendMessage."""
    email = normalise_email(email)
    throttle.hit(LINK_REQUESTS_PER_SOURCE, source_ip)
    mail_sign_in_link(email)


def mint(email: str, link: MailLink) -> tuple[str, int]:
    """The mail worker's side: a fresh token for ``link``, its hash stored (one PutItem).
    Returns the URL and how many seconds it works."""
    seconds = LIFETIMES[link.purpose]
    token = new_secret(TOKEN_PREFIX)
    pk, sk = _key(hash_secret(token))
    MagicLink(PK=pk, SK=sk, email=email, purpose=link.purpose, ref=link.ref,
              requested_at=clock.stamp(), expires_at=int(time.time()) + seconds).save()
    return f"{get_settings().frontend_url.rstrip('/')}{link.path}?{urlencode({'token': token})}", seconds


def consume(token: str, purposes: tuple[str, ...]) -> MagicLink:
    """Spend a link of one of ``purposes``, once. One conditional UpdateItem (one more per
    older pepper version while a rotation is in progress). Links stored before purposes
    existed are sign-in links."""
    now = int(time.time())
    purpose_ok = MagicLink.purpose.is_in(*purposes)
    if "sign_in" in purposes:
        purpose_ok = purpose_ok | MagicLink.purpose.does_not_exist()
    for digest in secret_hashes(token):
        link = MagicLink(*_key(digest))
        try:
            link.update(actions=[MagicLink.used.set(True)],
                        condition=MagicLink.PK.exists() & (MagicLink.used == False)  # noqa: E712 - a condition
                        & (MagicLink.expires_at > now) & purpose_ok)
        except UpdateError as error:
            if was_condition_failure(error):
                continue
            raise
        return link
    raise Unauthorized("This link is used up or has expired; ask for a new one.", code=Code.INVALID_MAGIC_LINK)
