"""Orders' unit tests: a small marketplace of onboarded sellers (real Connect accounts in the
fake Stripe), their products, buyers, and the Stripe events that pay orders."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.unit.catalog.conftest import put_seller, seller_headers
from tests.unit.conftest import call, pump_events
from tests.unit.payments.conftest import PLATFORM, PLATFORM_SECRET, deliver

_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _stripe(fake_stripe: str) -> str:
    return fake_stripe


def buyer_headers(user_id: str) -> dict[str, str]:
    from chalicelib.core.auth import issue_access_token

    token, _ = issue_access_token(user_id=user_id, roles={"buyer"})
    return {"Authorization": f"Bearer {token}"}


ADDRESS = {"name": "Anna Käufer", "line1": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin",
           "country": "DE"}


@dataclass
class Marketplace:
    """Sellers, products and buyers for one test, made through the domains' own functions."""

    api: Any
    stripe_url: str
    accounts: dict[str, str] = field(default_factory=dict)  # seller id -> Stripe account
    seen_events: set[str] = field(default_factory=set)

    def seller(self, seller_id: str, *, country: str = "DE") -> str:
        from chalicelib.payments import stripe_gateway
        from chalicelib.sellers.models import Seller, seller_key

        put_seller(seller_id)
        account = stripe_gateway.create_express_account(seller_id=seller_id, email=f"{seller_id}@example.com",
                                                        country=country, business_name=seller_id)
        requests.post(f"{self.stripe_url}/_connect/accounts/{account.id}/onboard", json={}, timeout=10)
        seller = Seller.get(seller_key(seller_id), "PROFILE")
        seller.update(actions=[Seller.stripe_account_id.set(account.id), Seller.country.set(country)])
        self.accounts[seller_id] = account.id
        return seller_id

    def product(self, seller_id: str, *, price: int = 2_000, stock: int = 10, category: str = "fashion/shoes",
                currency: str = "EUR", title: str | None = None) -> str:
        status, body, _ = call(self.api, "POST", "/v1/seller/products", {
            "sku": f"SKU-{next(_serial)}", "title": title or f"Product {next(_serial)}", "category": category,
            "price": {"amount": price, "currency": currency}, "stock": stock, "status": "active"},
            headers=seller_headers(seller_id))
        assert status == 201, body
        return body["product_id"]

    def buyer(self, email: str | None = None) -> dict[str, str]:
        from chalicelib.accounts.service import ensure_account

        user, _ = ensure_account(email or f"buyer{next(_serial)}@example.com", name="Anna Käufer")
        return buyer_headers(user.user_id)

    def add(self, headers: dict[str, str], product_id: str, quantity: int = 1) -> dict[str, Any]:
        status, body, _ = call(self.api, "PUT", f"/v1/cart/items/{product_id}", {"quantity": quantity},
                               headers=headers)
        assert status == 200, body
        return body

    def checkout(self, headers: dict[str, str], key: str | None = None, **body: Any) -> tuple[int, Any, dict]:
        payload = {"shipping_address": ADDRESS, **body}
        return call(self.api, "POST", "/v1/checkout", payload,
                    headers={**headers, "Idempotency-Key": key or f"key-{next(_serial):08d}"})

    def stripe_event(self, event_type: str, obj: dict[str, Any]) -> tuple[int, Any]:
        """Deliver a platform event about ``obj`` as Stripe would."""
        event = {"id": f"evt_{next(_serial)}", "object": "event", "type": event_type, "data": {"object": obj},
                 "created": 0}
        return deliver(self.api, event, endpoint=PLATFORM, secret=PLATFORM_SECRET)

    def payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        from chalicelib.payments import stripe_gateway

        return json.loads(json.dumps(stripe_gateway.retrieve_payment_intent(payment_intent_id).to_dict()))

    def pay(self, order: dict[str, Any]) -> dict[str, Any]:
        """Stripe's payment_intent.succeeded for a checkout made with a saved card, then the
        events it causes (customers, transfers)."""
        intent = self.payment_intent(order["payment"]["payment_intent_id"])
        assert intent["status"] == "succeeded", intent
        status, body = self.stripe_event("payment_intent.succeeded", intent)
        assert status == 200, body
        self.events()
        return intent

    def events(self) -> list[str]:
        return pump_events(self.seen_events)

    def order_of_seller(self, seller_id: str, order_id: str) -> dict[str, Any]:
        status, body, _ = call(self.api, "GET", f"/v1/seller/orders/{order_id}", headers=seller_headers(seller_id))
        assert status == 200, body
        return body


@pytest.fixture
def market(api: Any, fake_stripe: str) -> Marketplace:
    return Marketplace(api=api, stripe_url=fake_stripe)


@pytest.fixture
def paid_order(market: Marketplace) -> Callable[..., dict[str, Any]]:
    """A buyer's paid order of one product each from ``sellers`` (default two)."""

    def make(sellers: tuple[str, ...] = ("sel_a", "sel_b"), price: int = 2_000, quantity: int = 2) -> dict[str, Any]:
        buyer = market.buyer()
        products = {}
        for seller_id in sellers:
            if seller_id not in market.accounts:
                market.seller(seller_id)
            products[seller_id] = market.product(seller_id, price=price)
            market.add(buyer, products[seller_id], quantity)
        status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")
        assert status == 201, body
        market.pay(body)
        return {"buyer": buyer, "order": body["order"], "products": products,
                "payment_intent_id": body["payment"]["payment_intent_id"]}

    return make
