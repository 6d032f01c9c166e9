"""Opaque cursor pagination over DynamoDB queries.

A cursor is the query's ``LastEvaluatedKey``, bound to the partition it came from and
signed, so a client can neither forge a start key nor replay one against another
tenant's partition.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from chalicelib.core.errors import BadRequest
from chalicelib.core.secrets import get_secret

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None

    def to_json(self, serialise: Any = None) -> dict[str, Any]:
        items = [serialise(i) for i in self.items] if serialise else self.items
        return {"items": items, "next_cursor": self.next_cursor}


def _key() -> bytes:
    return hashlib.sha256(b"agora-cursor:" + get_secret("token_signing_key").encode()).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(last_key: dict[str, Any] | None, *, scope: str) -> str | None:
    """``scope`` names the partition (e.g. ``SELLER#sel_1/products``) the key belongs to."""
    if not last_key:
        return None
    payload = json.dumps({"s": scope, "k": last_key}, separators=(",", ":"), sort_keys=True).encode()
    signature = hmac.new(_key(), payload, hashlib.sha256).digest()[:16]
    return _b64(payload) + "." + _b64(signature)


def decode_cursor(cursor: str | None, *, scope: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    invalid = BadRequest("The cursor is not valid for this listing.", code="invalid_cursor")
    try:
        payload_text, signature_text = cursor.split(".", 1)
        payload = _unb64(payload_text)
        signature = _unb64(signature_text)
    except (ValueError, TypeError):
        raise invalid from None
    expected = hmac.new(_key(), payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(signature, expected):
        raise invalid
    data = json.loads(payload)
    if data.get("s") != scope:
        raise invalid
    key: dict[str, Any] | None = data["k"]
    return key


def parse_limit(raw: str | int | None) -> int:
    """A page size from a query schema's ``Limit`` (already an int) or a raw string."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise BadRequest("limit must be a whole number.", code="invalid_limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}.", code="invalid_limit")
    return limit
