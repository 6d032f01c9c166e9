"""Sign-in by link ("magic link"): passwordless accounts are first-class.

The link is mailed to the address and points at the FRONTEND
(``<frontend_url>/sign-in/link?token=…``), whose page POSTs the token to
``/v1/auth/magic-link/verify``. Redemption is deliberately a POST and never a GET: mail
scanners (Outlook Safe Links, corporate gateways, antivirus) fetch every link in a mail
before the person reads it, so a link that signed in on GET would be spent — or worse,
redeemed — by the scanner.

Only a keyed hash of the 256-bit token is stored; it is single use (one conditional
UpdateItem flips ``used``) and expires after 15 minutes (checked in the condition; the
item itself leaves by TTL). Asking for a link never reveals whether the address has an
account: no account is even looked up, and the answer is always the same 202. An
address without an account gets one when its link is redeemed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from pynamodb.exceptions import UpdateError

from chalicelib.accounts import service
from chalicelib.accounts.emails import normalise_email
from chalicelib.accounts.models import MagicLink
from chalicelib.accounts.sessions import Session, start_session
from chalicelib.core import throttle
from chalicelib.core.auth import new_secret
from chalicelib.core.db import was_condition_failure
from chalicelib.core.errors import Unauthorized
from chalicelib.core.peppers import hash_secret
from chalicelib.core.settings import get_settings
from chalicelib.retention.service import EmailMessage, enqueue_email

LINK_SECONDS = 15 * 60
TOKEN_PREFIX = "agora_ml_"
LINK_REQUESTS_PER_EMAIL = throttle.Rule("magic-link-email", limit=5, window_seconds=3600)
LINK_REQUESTS_PER_SOURCE = throttle.Rule("magic-link-source", limit=20, window_seconds=3600)


def _key(token: str) -> tuple[str, str]:
    return f"MAGIC#{hash_secret(token)}", "MAGIC"


def request_link(*, email: str, source_ip: str) -> None:
    """Mail a sign-in link to ``email``.

    Round trips: UpdateItem per throttle counter (2), PutItem(link), SQS SendMessage(mail).
    """
    email = normalise_email(email)
    throttle.hit_all([(LINK_REQUESTS_PER_SOURCE, source_ip), (LINK_REQUESTS_PER_EMAIL, email)])
    token = new_secret(TOKEN_PREFIX)
    pk, sk = _key(token)
    MagicLink(PK=pk, SK=sk, email=email, requested_at=datetime.now(UTC).isoformat(),
              expires_at=int(time.time()) + LINK_SECONDS).save()
    link = f"{get_settings().frontend_url.rstrip('/')}/sign-in/link?{urlencode({'token': token})}"
    enqueue_email(EmailMessage(template="magic_link", to=email,
                               context={"link": link, "minutes": LINK_SECONDS // 60},
                               dedupe_key=f"magic_link:{pk}"))


def redeem_link(token: str) -> Session:
    """Exchange a link's token for a session, once.

    Round trips: UpdateItem(link, conditional: unused and unexpired; returns the email),
    then ``ensure_account`` (GetItem claim + GetItem user, or GetItem claim +
    TransactWriteItems for a new account), UpdateItem(email verified) the first time,
    TransactWriteItems(session).
    """
    pk, sk = _key(token)
    link = MagicLink(PK=pk, SK=sk)
    try:
        link.update(actions=[MagicLink.used.set(True)],
                    condition=MagicLink.PK.exists() & (MagicLink.used == False)  # noqa: E712 - a condition
                    & (MagicLink.expires_at > int(time.time())))
    except UpdateError as error:
        if was_condition_failure(error):
            raise Unauthorized("This sign-in link is used up or has expired; ask for a new one.",
                               code="invalid_magic_link") from None
        raise
    user, _ = service.ensure_account(link.email, method="magic_link")
    return start_session(service.mark_email_verified(user))
