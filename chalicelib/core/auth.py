"""Who is calling: one authoriser for buyers, seller users, seller API keys and operators.

Access tokens are short-lived JWTs (RFC 8725 practice: one allowed algorithm, explicit
``typ``, ``iss``/``aud``/``exp`` always checked, a ``kid`` to rotate keys). Every other
credential (refresh tokens, magic links, API keys) is an opaque random secret of which
only a hash is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.errors import Code, Forbidden, Unauthorized
from chalicelib.core.ids import new_id
from chalicelib.core.secrets import get_secret

ISSUER = "agora"
AUDIENCE = "agora-api"
ACCESS_TOKEN_TYPE = "at+jwt"
ACCESS_TOKEN_SECONDS = 15 * 60
ALGORITHM = "HS256"  # the only one accepted; never taken from the token

API_KEY_PREFIX = "agora_sk_"

# What an API key may be given.
API_KEY_SCOPES = frozenset({
    "products:read", "products:write", "orders:read", "orders:write",
    "customers:read", "customers:write", "reports:read", "seller:read",
    "promotions:read", "promotions:write",
})
# What only a signed-in user of the seller may do: a leaked key must not change the
# seller's profile, its payouts account or its keys.
USER_ONLY_SCOPES = frozenset({"seller:manage", "api_keys:manage"})
SELLER_SCOPES = API_KEY_SCOPES | USER_ONLY_SCOPES

# What a seller may do in each standing. Pending: onboarding (profile, payouts account) and
# preparing a catalogue that stays hidden until approval; never customers' data or keys.
# Suspended: see the account, settle what buyers already paid for (orders, statements) and
# keep drafts (the catalogue refuses to list anything until it is reinstated).
STANDING_SCOPES: dict[str, frozenset[str]] = {
    "approved": SELLER_SCOPES,
    "pending": frozenset({"seller:read", "seller:manage", "products:read", "products:write"}),
    "suspended": frozenset({"seller:read", "orders:read", "orders:write", "reports:read", "products:read",
                            "products:write"}),
    "rejected": frozenset({"seller:read"}),
}
_STANDING_CODES = {"pending": Code.SELLER_PENDING, "suspended": Code.SELLER_SUSPENDED,
                   "rejected": Code.SELLER_REJECTED}
_STANDING_REASONS = {
    "pending": "Your seller account is waiting for approval; this is possible once it is approved.",
    "suspended": "Your seller account is suspended; this is possible again once an operator reinstates it.",
    "rejected": "Your seller application was rejected.",
}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. Tenant ids used by the data layer come only from here."""

    kind: str  # "user" or "api_key"
    user_id: str | None = None
    seller_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    key_id: str | None = None
    standing: str | None = None  # an API key's seller standing, read with the key
    session_id: str | None = None  # the sign-in a user's token belongs to (None for API keys)
    auth_time: int | None = None  # when that sign-in happened (epoch seconds)

    @property
    def is_operator(self) -> bool:
        return "operator" in self.roles

    def may(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def own_seller_id(self) -> str:
        """The seller a seller route acts for; authorize() lets no caller without one reach it."""
        if self.seller_id is None:
            raise Forbidden("This needs a seller account or a seller API key.", code=Code.SELLER_REQUIRED)
        return self.seller_id

    @property
    def own_user_id(self) -> str:
        """The signed-in person a user or buyer route acts for; authorize() lets no API key reach it."""
        if self.user_id is None:
            raise Forbidden("API keys cannot do this; sign in.", code=Code.USER_REQUIRED)
        return self.user_id


def key_ring() -> list[tuple[str, bytes]]:
    """The token signing keys as ``(kid, secret)`` pairs: the first signs, all verify.

    Public for every signer in agora (access tokens here, signed mail links in
    :mod:`chalicelib.accounts.signed_links`), so that one rotation covers them all. Read
    from the ``token_signing_key`` secret: ``kid=secret`` pairs separated by ``,``; a bare
    secret gets a kid derived from it, so a single-key setup needs no naming. Rotate by
    putting the new key first and keeping the old one until its tokens and links are gone.
    """
    raw = get_secret("token_signing_key")
    ring = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        kid, _, secret = part.partition("=") if "=" in part else ("", "", part)
        secret_bytes = secret.encode()
        ring.append((kid or hashlib.sha256(secret_bytes).hexdigest()[:8], secret_bytes))
    if not ring or any(len(secret) < 32 for _, secret in ring):
        raise RuntimeError("token signing keys must be at least 32 bytes")
    return ring


def issue_access_token(*, user_id: str, roles: frozenset[str] | set[str], seller_id: str | None = None,
                       now: float | None = None, session_id: str | None = None,
                       auth_time: int | None = None) -> tuple[str, int]:
    """``session_id`` (claim ``sid``) lets a sign-out end the token at once
    (:mod:`chalicelib.core.revocations`); ``auth_time`` is when the person last proved who
    they are, which sensitive actions ask to be recent."""
    import jwt

    issued = int(now if now is not None else time.time())
    kid, secret = key_ring()[0]
    claims: dict[str, Any] = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": user_id, "iat": issued, "nbf": issued,
        "exp": issued + ACCESS_TOKEN_SECONDS, "jti": new_id("tok"), "roles": sorted(roles),
        "auth_time": auth_time if auth_time is not None else issued,
    }
    if seller_id:
        claims["seller_id"] = seller_id
    if session_id:
        claims["sid"] = session_id
    token = jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": kid, "typ": ACCESS_TOKEN_TYPE})
    return token, ACCESS_TOKEN_SECONDS


def _user_principal(token: str) -> Principal:
    import jwt

    invalid = Unauthorized("The access token is not valid.", code=Code.INVALID_TOKEN)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise invalid from None
    if header.get("typ") != ACCESS_TOKEN_TYPE or header.get("alg") != ALGORITHM:
        raise invalid
    keys = dict(key_ring())
    secret = keys.get(header.get("kid", ""))
    if secret is None:
        raise invalid
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "iss", "aud", "jti"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired; refresh it.", code=Code.TOKEN_EXPIRED) from None
    except jwt.PyJWTError:
        raise invalid from None
    session_id = claims.get("sid")
    if session_id is not None:
        from chalicelib.core.revocations import is_revoked

        if is_revoked(claims["sub"], session_id):
            raise Unauthorized("This session has ended (signed out); sign in again.", code=Code.SESSION_REVOKED)
    roles = frozenset(claims.get("roles", []))
    seller_id = claims.get("seller_id")
    # A seller user's scopes are cut to the seller's standing when a seller route is authorised.
    return Principal(kind="user", user_id=claims["sub"], seller_id=seller_id, roles=roles,
                     scopes=SELLER_SCOPES if seller_id and "seller" in roles else frozenset(),
                     session_id=session_id, auth_time=claims.get("auth_time", claims["iat"]))


@dataclass(frozen=True)
class SellerHooks:
    """What the authoriser asks of sellers, which sits above core: sellers provides them
    (:func:`provide_seller_hooks`, from ``chalicelib/sellers/subscriptions.py``, which app.py
    imports)."""

    api_key_principal: Callable[[str], Principal]  # an API key's principal, or Unauthorized
    members_only: Callable[[], bool]  # whether buyers must sign in to browse
    standing_of: Callable[[str], str | None]  # pending, approved, suspended, rejected; None: no such seller


_seller_hooks: list[SellerHooks] = []  # the one provided, once it is


def provide_seller_hooks(hooks: SellerHooks) -> None:
    _seller_hooks[:] = [hooks]


def seller_hooks() -> SellerHooks:
    """The seller hooks. Without them, what only sellers can answer (an API key, the
    members-only gate, a seller user's standing) fails with a 500: closed, never open."""
    if not _seller_hooks:
        raise RuntimeError("core.auth has no seller hooks: chalicelib.sellers.subscriptions provides them "
                           "when app.py imports it")
    return _seller_hooks[0]


def admit_member(authorization: str | None) -> None:
    """The gate of buyer-facing public routes (``auth="member"``): anyone may pass while the
    marketplace is open to buyers; while it is members-only, only a caller with a valid
    credential (a signed-in buyer, seller user or operator, or a seller API key). The
    setting is cached per container (``SellerHooks.members_only``), and an open marketplace
    does not even look at the header, so anonymous browse costs nothing extra."""
    if not seller_hooks().members_only():
        return
    if not authorization:
        raise Unauthorized("This marketplace is open to members only: sign in to browse.", code=Code.MEMBERS_ONLY)
    authenticate(authorization)


def authenticate(authorization: str | None) -> Principal:
    """The principal behind an ``Authorization: Bearer …`` header, or 401."""
    if not authorization:
        raise Unauthorized("Sign in: this needs an Authorization: Bearer header.", code=Code.NOT_AUTHENTICATED)
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise Unauthorized("Use Authorization: Bearer <token>.", code=Code.INVALID_TOKEN)
    if credential.startswith(API_KEY_PREFIX):
        return seller_hooks().api_key_principal(credential)
    return _user_principal(credential)


def authorize(principal: Principal, requirement: str, scopes: tuple[str, ...] = ()) -> None:
    """``requirement`` is the role a route needs: buyer, seller, operator, user (any signed-in
    person, not an API key) or any. A seller route also checks the seller's standing now (one
    GetItem for a signed-in user; an API key's standing was read with the key)."""
    if requirement == "any":
        pass
    elif requirement == "user":
        if principal.kind != "user":
            raise Forbidden("API keys cannot do this; sign in.", code=Code.USER_REQUIRED)
    elif requirement == "seller":
        if principal.seller_id is None:
            raise Forbidden("This needs a seller account or a seller API key.", code=Code.SELLER_REQUIRED)
        if principal.kind == "user":
            _check_standing(principal.seller_id, scopes)
    elif requirement == "operator":
        if not principal.is_operator:
            raise Forbidden("This needs an operator account.", code=Code.OPERATOR_REQUIRED)
    elif requirement == "buyer":
        if principal.kind != "user" or "buyer" not in principal.roles:
            raise Forbidden("This needs a buyer account.", code=Code.BUYER_REQUIRED)
    else:  # pragma: no cover - a programming error in a route declaration
        raise ValueError(f"unknown auth requirement {requirement!r}")
    missing = [scope for scope in scopes if not principal.may(scope)]
    if missing and principal.kind == "api_key" and USER_ONLY_SCOPES & set(missing):
        raise Forbidden("API keys cannot do this; sign in as a user of the seller.", code=Code.USER_REQUIRED)
    if missing and principal.standing is not None and principal.standing != "approved" and any(
            scope not in STANDING_SCOPES.get(principal.standing, frozenset()) for scope in missing):
        raise standing_refusal(principal.standing, missing)
    if missing:
        raise Forbidden(f"This API key lacks the scope {', '.join(missing)}.", code=Code.MISSING_SCOPE,
                        details={"missing_scopes": missing})


def _check_standing(seller_id: str, scopes: tuple[str, ...]) -> None:
    standing = seller_hooks().standing_of(seller_id)
    if standing is None:
        raise Forbidden("This seller account no longer exists.", code=Code.SELLER_REQUIRED)
    refused = [scope for scope in scopes if scope not in STANDING_SCOPES.get(standing, frozenset())]
    if refused:
        raise standing_refusal(standing, refused)


def standing_refusal(standing: str, scopes: list[str]) -> Forbidden:
    """What a seller hears when its standing does not allow ``scopes``."""
    return Forbidden(_STANDING_REASONS.get(standing, "Your seller account cannot do this now."),
                     code=_STANDING_CODES.get(standing, Code.FORBIDDEN),
                     details={"status": standing, "refused_scopes": sorted(scopes)})


def scopes_for_standing(standing: str, scopes: frozenset[str]) -> frozenset[str]:
    return scopes & STANDING_SCOPES.get(standing, frozenset())


def new_secret(prefix: str = "") -> str:
    """A high-entropy opaque credential (256 bits)."""
    return prefix + secrets.token_urlsafe(32)
