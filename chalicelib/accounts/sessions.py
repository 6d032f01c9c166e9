"""Sign-in sessions: a short-lived access JWT plus a rotating refresh token.

Each sign-in starts a session family. Refreshing spends the presented refresh token and
issues a new one in the same family; presenting a spent token again means it was
copied, so the whole family is revoked (RFC 6819 §5.2.2.3 / OAuth 2.0 Security BCP).

Access tokens name their family (``sid``) and the time of the sign-in (``auth_time``).
Revoking a family also puts it on the deny-list (:mod:`chalicelib.core.revocations`), so
its access tokens stop at once, not up to 15 minutes later. ``revoke_all`` ends every
session of a person (sign out everywhere, a password change, an account claimed by its
owner): one Query of the families, one UpdateItem each, one BatchWriteItem per 25.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pynamodb.exceptions import UpdateError

from chalicelib.accounts.models import RefreshToken, SessionFamily, User
from chalicelib.core import clock, revocations, throttle
from chalicelib.core.auth import issue_access_token, new_secret
from chalicelib.core.db import LabelledTransaction, was_condition_failure
from chalicelib.core.errors import Code, Unauthorized
from chalicelib.core.ids import new_id
from chalicelib.core.keys import PROFILE_SK, REFRESH_SK, SESSION_PREFIX, refresh_token_key, session_sk, user_key
from chalicelib.core.peppers import hash_secret, secret_hashes

REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
REFRESH_PREFIX = "agora_rt_"


@dataclass(frozen=True)
class Session:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    user: User


def _refresh_item(token: str, *, user_id: str, family_id: str, now: int) -> RefreshToken:
    return RefreshToken(PK=refresh_token_key(hash_secret(token)), SK=REFRESH_SK, user_id=user_id, family_id=family_id,
                        expires_at=now + REFRESH_TOKEN_SECONDS)


def _presented(token: str) -> RefreshToken | None:
    """The stored refresh token under any pepper version (one BatchGetItem)."""
    keys = [(refresh_token_key(digest), REFRESH_SK) for digest in secret_hashes(token)]
    return next(iter(RefreshToken.batch_get(keys)), None)


def family_key(user_id: str, family_id: str) -> tuple[str, str]:
    return user_key(user_id), session_sk(family_id)


def _access(user: User, family_id: str, auth_time: int) -> tuple[str, int]:
    return issue_access_token(user_id=user.user_id, roles=set(user.roles), seller_id=user.seller_id,
                              session_id=family_id, auth_time=auth_time)


def _auth_time(family: SessionFamily) -> int:
    if family.auth_time is not None:
        return int(family.auth_time)
    return int(clock.parse(family.created_at).timestamp()) if family.created_at else 0


def start_session(user: User) -> Session:
    """One TransactWrite: the family and its first refresh token."""
    now = int(time.time())
    family_id = new_id("ses")
    token = new_secret(REFRESH_PREFIX)
    pk, sk = family_key(user.user_id, family_id)
    family = SessionFamily(PK=pk, SK=sk, user_id=user.user_id, created_at=clock.stamp(),
                           auth_time=now, expires_at=now + REFRESH_TOKEN_SECONDS * 12)
    transaction = LabelledTransaction()
    transaction.put("family", family)
    transaction.put("refresh_token", _refresh_item(token, user_id=user.user_id, family_id=family_id, now=now))
    transaction.commit()
    access, expires_in = _access(user, family_id, now)
    return Session(access, expires_in, token, REFRESH_TOKEN_SECONDS, user)


def _invalid() -> Unauthorized:
    return Unauthorized("The refresh token is not valid; sign in again.", code=Code.INVALID_REFRESH_TOKEN)


def _mark_revoked(user_id: str, family_id: str) -> None:
    """Conditional, so that a family already gone (expired, account erased) is not re-created."""
    pk, sk = family_key(user_id, family_id)
    try:
        SessionFamily(PK=pk, SK=sk).update(actions=[SessionFamily.revoked.set(True)],
                                           condition=SessionFamily.PK.exists())
    except UpdateError as error:
        if not was_condition_failure(error):
            raise


def _revoke_family(user_id: str, family_id: str) -> None:
    """The family's refresh tokens stop, and its access tokens are denied from now on."""
    _mark_revoked(user_id, family_id)
    revocations.revoke(user_id, [family_id])


def revoke_all(user_id: str) -> int:
    """End every session of ``user_id``, refresh and access tokens alike; returns how many
    were still open."""
    families = [f for f in SessionFamily.query(user_key(user_id), SessionFamily.SK.startswith(SESSION_PREFIX))
                if not f.revoked]
    ids = [f.SK.removeprefix(SESSION_PREFIX) for f in families]
    for family_id in ids:
        _mark_revoked(user_id, family_id)
    revocations.revoke(user_id, ids)
    return len(ids)


REFRESHES_PER_SOURCE = throttle.Rule("refresh-source", limit=120, window_seconds=60)


def refresh(token: str, *, source_ip: str | None = None) -> Session:
    """Round trips: UpdateItem(throttle) when called over HTTP, BatchGetItem(token),
    BatchGetItem(family), BatchGetItem(user), TransactWriteItems."""
    if source_ip is not None:
        throttle.hit(REFRESHES_PER_SOURCE, source_ip)
    now = int(time.time())
    presented = _presented(token)
    if presented is None or presented.expires_at <= now:
        raise _invalid()
    if presented.used:
        _revoke_family(presented.user_id, presented.family_id)
        raise Unauthorized("This refresh token was already used; every session of this sign-in is now "
                           "revoked. Sign in again.", code=Code.REFRESH_TOKEN_REUSED)
    family_pk, family_sk = family_key(presented.user_id, presented.family_id)
    family = next(iter(SessionFamily.batch_get([(family_pk, family_sk)])), None)
    user = next(iter(User.batch_get([(user_key(presented.user_id), PROFILE_SK)])), None)
    if family is None or family.revoked or user is None or user.status != "active":
        raise _invalid()
    replacement = new_secret(REFRESH_PREFIX)
    transaction = LabelledTransaction()
    transaction.update("presented", presented, [RefreshToken.used.set(True)],
                       RefreshToken.used == False)  # noqa: E712 - a DynamoDB condition
    transaction.check("family", SessionFamily, family_pk, family_sk, SessionFamily.revoked == False)  # noqa: E712
    transaction.put("replacement", _refresh_item(replacement, user_id=user.user_id, family_id=presented.family_id,
                                                 now=now))
    if transaction.commit():  # spent concurrently: the same token presented twice
        _revoke_family(presented.user_id, presented.family_id)
        raise Unauthorized("This refresh token was already used; sign in again.", code=Code.REFRESH_TOKEN_REUSED)
    access, expires_in = _access(user, presented.family_id, _auth_time(family))
    return Session(access, expires_in, replacement, REFRESH_TOKEN_SECONDS, user)


def end_session(token: str) -> None:
    """Sign out: revoke the family of this refresh token. Unknown tokens are ignored, so
    signing out twice is not an error."""
    presented = _presented(token)
    if presented is None:
        return
    _revoke_family(presented.user_id, presented.family_id)
