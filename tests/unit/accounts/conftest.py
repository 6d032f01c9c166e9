"""Accounts fixtures: registered buyers with tokens, the mails they were sent, the fake Stripe."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.unit.conftest import call, mailed_token, received

ANNA = {"email": "Anna.Berg@Example.com", "password": "correct horse battery", "name": "Anna Berg"}
_serial = itertools.count(1)


@dataclass
class Buyer:
    user_id: str
    email: str
    tokens: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.tokens["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(api: Any, **overrides: Any) -> Buyer:
    """A buyer signed up through the API (Anna unless overridden): the sign-up, then the
    link mailed to the address, used."""
    details = {**ANNA, **overrides}
    status, body, _ = call(api, "POST", "/v1/auth/register", details)
    assert status == 202, body
    status, body, _ = call(api, "POST", "/v1/auth/magic-link/verify", {"token": mailed_token(details["email"])})
    assert status == 200, body
    return Buyer(user_id=body["account"]["user_id"], email=body["account"]["email"], tokens=body)


@pytest.fixture
def buyer(api: Any) -> Buyer:
    return register(api)


@pytest.fixture
def other_buyer(api: Any) -> Buyer:
    return register(api, email="ben@example.com", name="Ben Vogel")


def queued_mails(aws: dict[str, str], template: str | None = None) -> list[dict[str, Any]]:
    """Mails waiting on the retention queue (optionally of one template)."""
    mails = received(aws["RetentionQueueName"])
    return [m for m in mails if template is None or m["template"] == template]


def link_token(link: str) -> str:
    return parse_qs(urlparse(link).query)["token"][0]


def stripe_client(stripe_url: str) -> Any:
    """The real SDK against the fake Stripe, as Stripe.js would confirm a SetupIntent."""
    import stripe

    return stripe.StripeClient("sk_test_agora_unit", base_addresses={"api": stripe_url})


def save_card(api: Any, buyer: Buyer, stripe_url: str, card: str = "pm_card_visa") -> str:
    """Save a card the way the frontend does: SetupIntent from agora, confirmed at Stripe."""
    status, body, _ = call(api, "POST", "/v1/me/payment-methods/setup-intent", headers=buyer.headers)
    assert status == 201, body
    intent = stripe_client(stripe_url).v1.setup_intents.confirm(body["setup_intent_id"],
                                                                params={"payment_method": card})
    assert intent.status == "succeeded"
    return intent.payment_method


def listed_product(api: Any, *, price: int = 4_999, stock: int = 3, title: str = "Wool socks") -> str:
    """An active product of an approved seller, created through the catalog's API."""
    from chalicelib.core.auth import issue_access_token
    from chalicelib.core.keys import seller_key
    from chalicelib.sellers.models import Seller

    seller_id = "sel_wool"
    Seller(PK=seller_key(seller_id), SK="PROFILE", seller_id=seller_id, status="approved", business_name="Wool GmbH",
           display_name="Wool", contact_email="shop@wool.example", country="DE", default_currency="EUR",
           charges_enabled=True, created_at="2026-11-01T00:00:00+00:00").save()
    token, _ = issue_access_token(user_id="usr_wool", roles={"seller"}, seller_id=seller_id)
    status, body, _ = call(api, "POST", "/v1/seller/products", {
        "sku": f"SOCK-{next(_serial)}", "title": title, "category": "fashion/clothing",
        "price": {"amount": price, "currency": "EUR"}, "stock": stock, "status": "active",
    }, headers=bearer(token))
    assert status == 201, body
    return body["product_id"]
