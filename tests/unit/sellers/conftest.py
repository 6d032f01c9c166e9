"""Sellers' unit tests: the app through Chalice's test client, moto in-process, and the local
fake Stripe (localstripe + Connect) on 127.0.0.1, driven by the real Stripe SDK."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.conftest import TEST_SECRETS
from tests.unit.conftest import call, mailed_token

APPLICATION = {"business_name": "Nordwind Outdoor GmbH", "email": "Shop@Nordwind.example", "password": "nordwind-2026!",
               "country": "DE", "default_currency": "eur", "vat_id": "DE 123.456.789"}


@pytest.fixture(autouse=True)
def _stripe(fake_stripe: str) -> str:
    """Every sellers test talks to the fake Stripe (tests/unit/conftest.py)."""
    return fake_stripe


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def operator() -> dict[str, str]:
    from chalicelib.core.auth import issue_access_token

    token, _ = issue_access_token(user_id="usr_operator", roles={"operator"})
    return bearer(token)


def apply(api: Any, **overrides: Any) -> dict[str, Any]:
    """A seller's application, confirmed with the link mailed to its address; returns the
    confirmation's 201 body (seller and tokens)."""
    application = {**APPLICATION, **overrides}
    status, body, _ = call(api, "POST", "/v1/sellers", application)
    assert status == 202, body
    status, body, _ = call(api, "POST", "/v1/sellers/confirm", {"token": mailed_token(application["email"])})
    assert status == 201, body
    return body


def seller_headers(signed_up: dict[str, Any]) -> dict[str, str]:
    return bearer(signed_up["tokens"]["access_token"])


def own(api: Any, headers: dict[str, str]) -> dict[str, Any]:
    status, body, _ = call(api, "GET", "/v1/seller", headers=headers)
    assert status == 200, body
    return body


def approve(api: Any, signed_up: dict[str, Any]) -> dict[str, Any]:
    """An operator approves the (pending) seller; returns the seller as operators see it."""
    status, body, _ = call(api, "POST", f"/v1/admin/sellers/{signed_up['seller']['seller_id']}/approve",
                           headers=operator())
    assert status == 200, body
    return body


def api_key(api: Any, signed_up: dict[str, Any],
            scopes: tuple[str, ...] = ("products:read", "seller:read")) -> dict[str, Any]:
    """A key of an approved seller (only those may create keys): approves a pending one first."""
    if own(api, seller_headers(signed_up))["status"] == "pending":
        approve(api, signed_up)
    status, body, _ = call(api, "POST", "/v1/seller/api-keys", {"name": "ERP", "scopes": list(scopes)},
                           headers=seller_headers(signed_up))
    assert status == 201, body
    return body


def set_mode(api: Any, seller_access: str, buyer_access: str = "open") -> None:
    status, body, _ = call(api, "PUT", "/v1/admin/settings",
                           {"seller_access": seller_access, "buyer_access": buyer_access}, headers=operator())
    assert status == 200, body


# --- Stripe ----------------------------------------------------------------------------------

def stripe_client(stripe_url: str) -> Any:
    import stripe

    return stripe.StripeClient(TEST_SECRETS["AGORA_SECRET_STRIPE_SECRET_KEY"], base_addresses={"api": stripe_url})


def onboard(stripe_url: str, account_id: str, **state: Any) -> dict[str, Any]:
    """Finish (or partly finish, with ``state``) the account's onboarding on the fake Stripe;
    returns the ``account.updated`` event it sent."""
    response = requests.post(f"{stripe_url}/_connect/accounts/{account_id}/onboard", json=state, timeout=5)
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


def outbox(event_type: str) -> list[dict[str, Any]]:
    """Payloads of the domain events of one type written so far (tests may scan)."""
    import boto3

    from chalicelib.core.settings import get_settings

    items = boto3.client("dynamodb").scan(TableName=get_settings().table_name)["Items"]
    return [json.loads(i["payload"]["S"]) for i in items
            if i["PK"]["S"].startswith("EVENT#") and i["type"]["S"] == event_type]


def deliver_events(*event_types: str) -> int:
    """Hand the outbox events of these types to their subscribers, as the events queue does,
    again and again until no new one appears (subscribers may record follow-up events).
    Returns how many distinct events were delivered."""
    import boto3

    from chalicelib.core.settings import get_settings
    from chalicelib.events.service import dispatch

    delivered: set[str] = set()
    while True:
        items = boto3.client("dynamodb").scan(TableName=get_settings().table_name)["Items"]
        new = sorted((i for i in items if i["PK"]["S"].startswith("EVENT#") and i["type"]["S"] in event_types
                      and i["event_id"]["S"] not in delivered), key=lambda i: i["event_id"]["S"])
        if not new:
            return len(delivered)
        for item in new:
            delivered.add(item["event_id"]["S"])
            dispatch({"event_id": item["event_id"]["S"], "type": item["type"]["S"],
                      "occurred_at": item["occurred_at"]["S"], "payload": json.loads(item["payload"]["S"])})
