"""Opaque cursor pagination over DynamoDB queries.

A cursor is the query's ``LastEvaluatedKey``, bound to the partition it came from and
signed, so a client can neither forge a start key nor replay one against another
tenant's partition.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from pydantic import Field, ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import PydanticCustomError

from chalicelib.core.encoding import b64url, unb64url
from chalicelib.core.errors import BadRequest, Code
from chalicelib.core.secrets import get_secret

T = TypeVar("T")

# One page size and one maximum for every list of the API (README, "API overview").
DEFAULT_LIMIT = 20
MAX_LIMIT = 100

_LIMIT_MESSAGE = f"limit must be a whole number between 1 and {MAX_LIMIT}."
_CURSOR_MESSAGE = "The cursor is not valid for this listing."


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None

    def to_json(self, serialise: Any = None) -> dict[str, Any]:
        items = [serialise(i) for i in self.items] if serialise else self.items
        return {"items": items, "next_cursor": self.next_cursor}


def _key() -> bytes:
    return hashlib.sha256(b"agora-cursor:" + get_secret("token_signing_key").encode()).digest()


def encode_cursor(last_key: dict[str, Any] | None, *, scope: str) -> str | None:
    """``scope`` names the partition (e.g. ``SELLER#sel_1/products``) the key belongs to."""
    if not last_key:
        return None
    payload = json.dumps({"s": scope, "k": last_key}, separators=(",", ":"), sort_keys=True).encode()
    signature = hmac.new(_key(), payload, hashlib.sha256).digest()[:16]
    return b64url(payload) + "." + b64url(signature)


def decode_cursor(cursor: str | None, *, scope: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    invalid = BadRequest(_CURSOR_MESSAGE, code=Code.INVALID_CURSOR)
    try:
        payload_text, signature_text = cursor.split(".", 1)
        payload = unb64url(payload_text)
        signature = unb64url(signature_text)
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


def _refused_as(code: Code, message: str) -> Any:
    """A page parameter pydantic refuses is reported under our code, so that every list answers
    a bad ``?limit=`` or ``?cursor=`` alike (see :func:`page_refusal`)."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError(code, message) from None

    return WrapValidator(validate)


CURSOR_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
Cursor = Annotated[str, Field(
    min_length=3, max_length=4000, pattern=CURSOR_PATTERN,
    description="Opaque and signed by the server: send back a `next_cursor` exactly as it came, with the same "
                "filters. A cursor the server did not sign, or one from another listing, is 400 `invalid_cursor`."),
    _refused_as(Code.INVALID_CURSOR, _CURSOR_MESSAGE)]
# Query values arrive as text: "20" is the integer 20 there.
Limit = Annotated[int, Field(
    ge=1, le=MAX_LIMIT,
    description=f"Items per page, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT}); anything else is 400 `invalid_limit`."),
    _refused_as(Code.INVALID_LIMIT, _LIMIT_MESSAGE)]


def page_refusal(exc: ValidationError) -> BadRequest | None:
    """The 400 for a query whose ``limit`` or ``cursor`` is wrong, whatever else is wrong too."""
    for problem in exc.errors(include_url=False, include_context=False, include_input=False):
        if problem["type"] == Code.INVALID_LIMIT:
            return BadRequest(_LIMIT_MESSAGE, code=Code.INVALID_LIMIT)
        if problem["type"] == Code.INVALID_CURSOR:
            return BadRequest(_CURSOR_MESSAGE, code=Code.INVALID_CURSOR)
    return None
