"""Stateless signed tokens for links in mails (newsletter confirmation, unsubscribe).

``p<version>.<payload>.<signature>``: the payload is base64url JSON, the signature a
truncated HMAC-SHA256 under a key derived from the hash pepper (:mod:`chalicelib.core.peppers`)
and the token's purpose, so a token made for one purpose never verifies for another (and
never passes as an access token, which is a JWT). The version names the pepper version, so
links in old mails keep working when a pepper version is added; rotating the token signing
key does not touch them. Links signed before the pepper existed (``<signing kid>.…``) still
verify while their signing key stays in the ring.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from chalicelib.core.auth import key_ring
from chalicelib.core.encoding import b64url, unb64url
from chalicelib.core.peppers import current_purpose_key, purpose_key

_SIGNATURE_BYTES = 16
_VERSION_PREFIX = "p"


def _signature(key: bytes, payload: str) -> str:
    return b64url(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES])


def _legacy_key(secret: bytes, purpose: str) -> bytes:
    """The per-purpose key of links signed before the pepper: from a token signing key."""
    return hashlib.sha256(b"agora-link:" + purpose.encode() + b":" + secret).digest()


def _key(purpose: str, kid: str) -> bytes | None:
    if kid.startswith(_VERSION_PREFIX):
        return purpose_key(purpose, kid[len(_VERSION_PREFIX):])
    secret = dict(key_ring()).get(kid)
    return _legacy_key(secret, purpose) if secret is not None else None


def sign(purpose: str, claims: dict[str, Any], *, expires_in: int | None = None, now: float | None = None) -> str:
    """A token carrying ``claims`` for ``purpose``; without ``expires_in`` it never expires."""
    body = dict(claims)
    if expires_in is not None:
        body["exp"] = int(now if now is not None else time.time()) + expires_in
    payload = b64url(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    version, key = current_purpose_key(purpose)
    return f"{_VERSION_PREFIX}{version}.{payload}.{_signature(key, payload)}"


def verify(purpose: str, token: str, *, now: float | None = None, allow_expired: bool = False) -> dict[str, Any] | None:
    """The claims of a genuine, unexpired token for ``purpose``; None otherwise.
    ``allow_expired`` tells a genuine but expired link from a forged one (to say which)."""
    try:
        kid, payload, signature = token.rsplit(".", 2)
    except ValueError:
        return None
    key = _key(purpose, kid)
    # Bytes, not str: compare_digest refuses non-ASCII text, and a token is attacker input.
    if key is None or not hmac.compare_digest(signature.encode(), _signature(key, payload).encode()):
        return None
    try:
        claims = json.loads(unb64url(payload))
    except ValueError:
        return None
    if not isinstance(claims, dict):
        return None
    if not allow_expired and "exp" in claims and claims["exp"] <= int(now if now is not None else time.time()):
        return None
    return claims
