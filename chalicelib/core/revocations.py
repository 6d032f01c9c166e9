"""A short deny-list of sign-in sessions, so that signing out ends access tokens at once.

Access tokens are JWTs checked without a read, valid for 15 minutes. Revoking a session
(sign-out, refresh-token reuse, password change, "sign out everywhere", an account
claimed by its owner) also writes one item per session here; a token naming a revoked
session (its ``sid`` claim) is refused from then on. The items expire by TTL when the
last access token they could stop has expired, so the list stays as short as the
sessions revoked in the last quarter hour.

Keys: PK=REVOKED#<user_id>, SK=SESSION#<session id> (GetItem per authenticated request,
strongly consistent so a sign-out a moment ago is honoured; BatchWriteItem to revoke).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from pynamodb.attributes import NumberAttribute

from chalicelib.core.db import TableModel
from chalicelib.core.keys import revoked_sessions_key, session_sk

# As long as the longest-lived access token (core.auth.ACCESS_TOKEN_SECONDS), plus clock skew.
KEEP_SECONDS = 15 * 60 + 60


class RevokedSession(TableModel):
    expires_at = NumberAttribute()


def _key(user_id: str, session_id: str) -> tuple[str, str]:
    return revoked_sessions_key(user_id), session_sk(session_id)


def revoke(user_id: str, session_ids: Iterable[str], *, now: float | None = None) -> None:
    """Deny the access tokens of these sessions from now on (BatchWriteItem, 25 a call)."""
    until = int(now if now is not None else time.time()) + KEEP_SECONDS
    with RevokedSession.batch_write() as writer:
        for session_id in dict.fromkeys(session_ids):
            writer.save(RevokedSession(*_key(user_id, session_id), expires_at=until))


def is_revoked(user_id: str, session_id: str) -> bool:
    try:
        RevokedSession.get(*_key(user_id, session_id), consistent_read=True)
    except RevokedSession.DoesNotExist:
        return False
    return True
