"""Stripe as agora meets it in tests: the real SDK against the fake Stripe, and webhook
deliveries signed as Stripe signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import requests

from tests.conftest import TEST_SECRETS
from tests.support.http import call

CONNECT = "/v1/webhooks/stripe/connect"
PLATFORM = "/v1/webhooks/stripe"
CONNECT_SECRET = TEST_SECRETS["AGORA_SECRET_STRIPE_CONNECT_WEBHOOK_SECRET"]
PLATFORM_SECRET = TEST_SECRETS["AGORA_SECRET_STRIPE_WEBHOOK_SECRET"]


def stripe_client(stripe_url: str) -> Any:
    """The real SDK against the fake Stripe, as Stripe.js or the dashboard would use it."""
    import stripe

    return stripe.StripeClient(TEST_SECRETS["AGORA_SECRET_STRIPE_SECRET_KEY"], base_addresses={"api": stripe_url})


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


def onboard(stripe_url: str, account_id: str, **state: Any) -> dict[str, Any]:
    """Finish (or partly finish, with ``state``) the account's onboarding on the fake Stripe;
    returns the ``account.updated`` event it sent."""
    response = requests.post(f"{stripe_url}/_connect/accounts/{account_id}/onboard", json=state, timeout=10)
    assert response.status_code == 200, response.text
    events = stripe_client(stripe_url).v1.events.list({"type": "account.updated", "limit": 100})
    return next(e.to_dict() for e in events.data if e.data.object.id == account_id)


def account_updated(account_id: str, *, created: int, seller_id: str | None = None, charges_enabled: bool = True,
                    payouts_enabled: bool = True, currently_due: tuple[str, ...] = (),
                    event_id: str | None = None) -> dict[str, Any]:
    """A Connect ``account.updated`` event with the fields agora reads."""
    return {
        "id": event_id or f"evt_{account_id}_{created}_{charges_enabled}", "object": "event",
        "type": "account.updated", "created": created, "account": account_id, "livemode": False,
        "data": {"object": {"id": account_id, "object": "account", "charges_enabled": charges_enabled,
                            "payouts_enabled": payouts_enabled, "details_submitted": True,
                            "metadata": {"seller_id": seller_id} if seller_id else {},
                            "requirements": {"currently_due": list(currently_due)}}},
    }
