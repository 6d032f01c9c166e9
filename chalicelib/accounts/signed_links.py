"""Stateless signed tokens for links in mails (newsletter confirmation, unsubscribe).

``<kid>.<payload>.<signature>``: the payload is base64url JSON, the signature a truncated
HMAC-SHA256 under a key derived from the token signing key and the token's purpose, so a
token made for one purpose never verifies for another (and never passes as an access
token, which is a JWT). The ``kid`` names the signing key, so links in old mails keep
working after the signing key is rotated, as long as the old key stays in the ring.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from chalicelib.core.auth import key_ring

_SIGNATURE_BYTES = 16


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, purpose: str, payload: str) -> str:
    key = hashlib.sha256(b"agora-link:" + purpose.encode() + b":" + secret).digest()
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES])


def sign(purpose: str, claims: dict[str, Any], *, expires_in: int | None = None, now: float | None = None) -> str:
    """A token carrying ``claims`` for ``purpose``; without ``expires_in`` it never expires."""
    body = dict(claims)
    if expires_in is not None:
        body["exp"] = int(now if now is not None else time.time()) + expires_in
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    kid, secret = key_ring()[0]
    return f"{kid}.{payload}.{_signature(secret, purpose, payload)}"


def verify(purpose: str, token: str, *, now: float | None = None) -> dict[str, Any] | None:
    """The claims of a genuine, unexpired token for ``purpose``; None otherwise."""
    try:
        kid, payload, signature = token.rsplit(".", 2)
    except ValueError:
        return None
    secret = dict(key_ring()).get(kid)
    if secret is None or not hmac.compare_digest(signature, _signature(secret, purpose, payload)):
        return None
    try:
        claims = json.loads(_unb64(payload))
    except ValueError:
        return None
    if not isinstance(claims, dict):
        return None
    if "exp" in claims and claims["exp"] <= int(now if now is not None else time.time()):
        return None
    return claims
