"""Stripe's ``Idempotency-Key`` for every POST, which localstripe ignores.

As Stripe does: the first response to a key is saved and replayed (with ``Idempotent-Replayed: true``) for a
retry with the same endpoint and parameters; reusing the key for another endpoint or other parameters is a 400
``idempotency_error``; a retry while the first request still runs is a 409. Keys are scoped to the API key and
the Stripe-Account header and expire after 24 hours. Requests rejected before anything happened (400, 401, 404)
are not saved, so a corrected retry with the same key goes through; successes and card declines (402) are.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from localstripe.errors import UserError
from localstripe.server import get_api_key

from dev.fake_stripe.errors import stripe_error

KEY_TTL_SECONDS = 24 * 60 * 60
MAX_KEY_LENGTH = 255
SAVED_STATUSES = frozenset({402}) | frozenset(range(200, 300))


@dataclass
class SavedResponse:
    path: str
    params: Any
    created: float
    status: int | None = None  # None while the first request is still running
    body: bytes = b""
    content_type: str = "application/json"


class IdempotencyKeys:
    """The saved responses of one server, oldest first."""

    def __init__(self, ttl_seconds: float = KEY_TTL_SECONDS) -> None:
        self.ttl_seconds = ttl_seconds
        self._saved: OrderedDict[tuple[str | None, str | None, str], SavedResponse] = OrderedDict()

    def get(self, scope: tuple[str | None, str | None, str]) -> SavedResponse | None:
        self._expire()
        return self._saved.get(scope)

    def start(self, scope: tuple[str | None, str | None, str], saved: SavedResponse) -> None:
        self._saved[scope] = saved

    def forget(self, scope: tuple[str | None, str | None, str]) -> None:
        self._saved.pop(scope, None)

    def clear(self) -> None:
        self._saved.clear()

    def _expire(self) -> None:
        deadline = time.monotonic() - self.ttl_seconds
        while self._saved:
            scope, saved = next(iter(self._saved.items()))
            if saved.created >= deadline:
                break
            del self._saved[scope]


KEYS: web.AppKey[IdempotencyKeys] = web.AppKey("fake_stripe_idempotency_keys", IdempotencyKeys)


def _canonical_params(body: bytes) -> Any:
    """Parameters in an order-independent form, for form-encoded (the SDK) and JSON bodies alike."""
    text = body.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        try:
            return json.dumps(json.loads(text), sort_keys=True)
        except ValueError:
            return text
    return tuple(sorted(parse_qsl(text, keep_blank_values=True)))


def _replay(key: str, saved: SavedResponse) -> web.Response:
    response = web.Response(status=saved.status or 200, body=saved.body, content_type=saved.content_type)
    response.headers["Idempotency-Key"] = key
    response.headers["Idempotent-Replayed"] = "true"
    return response


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    if len(key) > MAX_KEY_LENGTH:
        raise stripe_error(400, f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters long.",
                           error_type="idempotency_error")
    keys = request.app[KEYS]
    scope = (get_api_key(request), request.headers.get("Stripe-Account"), key)
    params = _canonical_params(await request.read())
    saved = keys.get(scope)
    if saved is not None:
        if saved.status is None:
            raise stripe_error(409, "There is currently another in-progress request using this Idempotent Key "
                                    f"(that probably means you submitted twice, and the other request is still "
                                    f"going through): '{key}'. Please try again later.",
                               error_type="idempotency_error")
        if saved.path != request.path:
            raise stripe_error(400, "Keys for idempotent requests can only be used for the same endpoint they were "
                                    f"first used for ('{request.path}' vs '{saved.path}'). Try using a key other "
                                    f"than '{key}' if you meant to execute a different request.",
                               error_type="idempotency_error")
        if saved.params != params:
            raise stripe_error(400, "Keys for idempotent requests can only be used with the same parameters they "
                                    f"were first used with. Try using a key other than '{key}' if you meant to "
                                    "execute a different request.", error_type="idempotency_error")
        return _replay(key, saved)
    saved = SavedResponse(path=request.path, params=params, created=time.monotonic())
    keys.start(scope, saved)
    try:
        try:
            response = await handler(request)
        except UserError as error:
            response = error.to_response()
    except BaseException:
        keys.forget(scope)
        raise
    if response.status in SAVED_STATUSES and isinstance(response, web.Response):
        saved.status = response.status
        saved.body = bytes(response.body or b"")
        saved.content_type = response.content_type
    else:
        keys.forget(scope)
    response.headers["Idempotency-Key"] = key
    return response
