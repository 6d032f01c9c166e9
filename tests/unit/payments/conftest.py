"""Stripe webhook deliveries as Stripe makes them: a JSON body signed with the endpoint's secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from tests.conftest import TEST_SECRETS
from tests.unit.conftest import call

CONNECT = "/v1/webhooks/stripe/connect"
PLATFORM = "/v1/webhooks/stripe"
CONNECT_SECRET = TEST_SECRETS["AGORA_SECRET_STRIPE_CONNECT_WEBHOOK_SECRET"]
PLATFORM_SECRET = TEST_SECRETS["AGORA_SECRET_STRIPE_WEBHOOK_SECRET"]


def signed(payload: bytes, secret: str = CONNECT_SECRET, *, at: int | None = None) -> dict[str, str]:
    """The Stripe-Signature header for ``payload``: ``t=<time>,v1=HMAC-SHA256(secret, "<time>.<payload>")``."""
    timestamp = int(time.time()) if at is None else at
    signature = hmac.new(secret.encode(), b"%d.%s" % (timestamp, payload), hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={signature}"}


def post(api: Any, payload: bytes, headers: dict[str, str], endpoint: str = CONNECT) -> tuple[int, Any]:
    status, body, _ = call(api, "POST", endpoint, raw=payload,
                           headers={"Content-Type": "application/json; charset=utf-8", **headers})
    return status, body


def deliver(api: Any, event: dict[str, Any], *, endpoint: str = CONNECT,
            secret: str = CONNECT_SECRET) -> tuple[int, Any]:
    """Post ``event`` to a webhook endpoint as Stripe would; returns status and answer."""
    payload = json.dumps(event, ensure_ascii=False).encode()
    return post(api, payload, signed(payload, secret), endpoint)
