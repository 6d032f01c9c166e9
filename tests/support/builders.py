"""Sellers, products, buyers and orders, made as agora makes them: through its API or its
domain functions. Only a seller's profile is written as an item (the sellers domain would
need an application, a confirmation mail and an operator's approval for each one)."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import requests

from chalicelib.core.money import Money
from tests.support.auth import bearer, buyer_headers, operator_headers, seller_headers
from tests.support.events import pump_events
from tests.support.http import call
from tests.support.mail import mailed_token
from tests.support.stripe import PLATFORM, PLATFORM_SECRET, deliver, stripe_client

_serial = itertools.count(1)

# -- sellers and their products ---------------------------------------------------------------


def put_seller(seller_id: str, *, status: str = "approved", charges_enabled: bool | None = None,
               display_name: str | None = None, currency: str = "EUR", stripe_account_id: str | None = None,
               approved_at: str | None = "2026-01-02T00:00:00+00:00") -> None:
    """A seller's profile as the sellers domain stores it, listed in its status index (in
    the order made); charges are enabled for an approved seller unless said otherwise, and
    it joined early in 2026, so monthly fees are due from then on."""
    from chalicelib.core.keys import seller_key, seller_status_index_key
    from chalicelib.sellers.models import Seller

    serial = next(_serial)
    created_at = f"2026-01-01T{serial // 3600 % 24:02d}:{serial // 60 % 60:02d}:{serial % 60:02d}+00:00"
    Seller(PK=seller_key(seller_id), SK="PROFILE", seller_id=seller_id, status=status,
           business_name=f"{seller_id} GmbH", display_name=display_name or f"Shop {seller_id}",
           contact_email=f"{seller_id}@example.com", country="DE", default_currency=currency,
           stripe_account_id=stripe_account_id,
           charges_enabled=status == "approved" if charges_enabled is None else charges_enabled,
           created_at=created_at, approved_at=approved_at if status in ("approved", "suspended") else None,
           GSI1PK=seller_status_index_key(status), GSI1SK=f"{created_at}#{seller_id}").save()


def approved_seller_headers(seller_id: str) -> dict[str, str]:
    """A seller user's headers, its seller put in the table as approved unless the test made
    it already (seller routes check the seller's standing)."""
    from chalicelib.sellers.standing import standing_of

    if standing_of(seller_id) is None:
        put_seller(seller_id)
    return seller_headers(seller_id, roles=("buyer", "seller"))


def eur(amount: int) -> Money:
    return Money("EUR", amount)


def product_body(**overrides: Any) -> dict[str, Any]:
    """A product create; ``price=`` (an int) and ``currency=`` fill the money object, and a
    field given as ``...`` is left out."""
    currency = overrides.pop("currency", "EUR")
    if isinstance(overrides.get("price"), int):
        overrides["price"] = {"amount": overrides["price"], "currency": currency}
    body = {
        "sku": f"SKU-{next(_serial)}", "title": "Trail running shoe", "description": "Grippy and light.",
        "category": "fashion/shoes", "brand": "Salomon", "attributes": {"colour": "blue", "size": "42"},
        "images": ["https://img.example.com/shoe.jpg"], "price": {"amount": 12_999, "currency": currency},
        "stock": 5, "status": "active",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def create_product(api: Any, seller_id: str = "sel_a", **overrides: Any) -> dict[str, Any]:
    """A product the seller created through the catalog's API (see :func:`product_body`)."""
    status, body, _ = call(api, "POST", "/v1/seller/products", product_body(**overrides),
                           headers=seller_headers(seller_id))
    assert status == 201, body
    return body


def seller_with_product(api: Any, seller_id: str = "sel_a", *, seller: dict[str, Any] | None = None,
                        **product: Any) -> dict[str, Any]:
    """An approved seller that can take payments, with one active product (``product`` and
    ``seller`` override the defaults of :func:`product_body` and :func:`put_seller`);
    returns the product as the API answered its creation."""
    put_seller(seller_id, **(seller or {}))
    return create_product(api, seller_id, **product)


def onboarded_seller(stripe_url: str, seller_id: str, *, country: str = "DE", **profile: Any) -> str:
    """An approved seller whose connected account on the fake Stripe finished onboarding (it
    can receive transfers); returns the account id."""
    from chalicelib.core.keys import seller_key
    from chalicelib.payments import stripe_gateway
    from chalicelib.sellers.models import Seller

    account = stripe_gateway.create_express_account(seller_id=seller_id, email=f"{seller_id}@example.com",
                                                    country=country, business_name=f"{seller_id} GmbH")
    requests.post(f"{stripe_url}/_connect/accounts/{account.id}/onboard", json={}, timeout=10).raise_for_status()
    put_seller(seller_id, stripe_account_id=account.id, **profile)
    if country != "DE":
        Seller.get(seller_key(seller_id), "PROFILE").update(actions=[Seller.country.set(country)])
    return account.id


# -- sellers through their own sign-up --------------------------------------------------------

APPLICATION = {"business_name": "Nordwind Outdoor GmbH", "email": "Shop@Nordwind.example", "password": "nordwind-2026!",
               "country": "DE", "default_currency": "eur", "vat_id": "DE 123.456.789"}


def apply(api: Any, **overrides: Any) -> dict[str, Any]:
    """A seller's application, confirmed with the link mailed to its address; returns the
    confirmation's 201 body (seller and tokens)."""
    application = {**APPLICATION, **overrides}
    status, body, _ = call(api, "POST", "/v1/sellers", application)
    assert status == 202, body
    status, body, _ = call(api, "POST", "/v1/sellers/confirm", {"token": mailed_token(application["email"])})
    assert status == 201, body
    return body


def signed_up_headers(signed_up: dict[str, Any]) -> dict[str, str]:
    """The headers of the user who applied (from :func:`apply`)."""
    return bearer(signed_up["tokens"]["access_token"])


def own(api: Any, headers: dict[str, str]) -> dict[str, Any]:
    """The seller as its own user sees it."""
    status, body, _ = call(api, "GET", "/v1/seller", headers=headers)
    assert status == 200, body
    return body


def approve(api: Any, signed_up: dict[str, Any]) -> dict[str, Any]:
    """An operator approves the (pending) seller; returns the seller as operators see it."""
    status, body, _ = call(api, "POST", f"/v1/admin/sellers/{signed_up['seller']['seller_id']}/approve",
                           headers=operator_headers())
    assert status == 200, body
    return body


def api_key(api: Any, signed_up: dict[str, Any],
            scopes: tuple[str, ...] = ("products:read", "seller:read")) -> dict[str, Any]:
    """A key of an approved seller (only those may create keys): approves a pending one first."""
    if own(api, signed_up_headers(signed_up))["status"] == "pending":
        approve(api, signed_up)
    status, body, _ = call(api, "POST", "/v1/seller/api-keys", {"name": "ERP", "scopes": list(scopes)},
                           headers=signed_up_headers(signed_up))
    assert status == 201, body
    return body


def set_mode(api: Any, seller_access: str, buyer_access: str = "open") -> None:
    """The operator opens or closes the marketplace to sellers and buyers."""
    status, body, _ = call(api, "PUT", "/v1/admin/settings",
                           {"seller_access": seller_access, "buyer_access": buyer_access}, headers=operator_headers())
    assert status == 200, body


# -- buyers -----------------------------------------------------------------------------------

ANNA = {"email": "Anna.Berg@Example.com", "password": "correct horse battery", "name": "Anna Berg"}


@dataclass
class Buyer:
    """A buyer signed in through the API, with the tokens the sign-in answered."""

    user_id: str
    email: str
    tokens: dict[str, Any]
    card: str | None = None  # the saved card's payment method, when one was saved

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.tokens["access_token"])


def register(api: Any, *, card_at: str | None = None, **overrides: Any) -> Buyer:
    """A buyer signed up through the API (Anna unless overridden): the sign-up, then the
    link mailed to the address, used; with ``card_at`` (the fake Stripe's URL) a card
    saved as well."""
    details = {**ANNA, **overrides}
    status, body, _ = call(api, "POST", "/v1/auth/register", details)
    assert status == 202, body
    status, body, _ = call(api, "POST", "/v1/auth/magic-link/verify", {"token": mailed_token(details["email"])})
    assert status == 200, body
    buyer = Buyer(user_id=body["account"]["user_id"], email=body["account"]["email"], tokens=body)
    if card_at is not None:
        buyer.card = save_card(api, buyer, card_at)
    return buyer


def save_card(api: Any, buyer: Buyer, stripe_url: str, card: str = "pm_card_visa") -> str:
    """Save a card the way the frontend does: SetupIntent from agora, confirmed at Stripe."""
    status, body, _ = call(api, "POST", "/v1/me/payment-methods/setup-intent", headers=buyer.headers)
    assert status == 201, body
    intent = stripe_client(stripe_url).v1.setup_intents.confirm(body["setup_intent_id"],
                                                                params={"payment_method": card})
    assert intent.status == "succeeded"
    return intent.payment_method


def buyer_account(email: str, *, name: str = "", password: str | None = None, language: str | None = None) -> Any:
    """A buyer who signed up themselves (address proven, perhaps with a password), made by
    the accounts domain without the API; returns the stored user."""
    from chalicelib.accounts.service import create_user, new_user

    user = new_user(email, name=name, password=password, email_verified=True)
    user.language = language
    return create_user(user, event_payload={"method": "password"})


def user_of(headers: dict[str, str]) -> str:
    """The user id an Authorization header speaks for."""
    import jwt

    return jwt.decode(headers["Authorization"].split()[1], options={"verify_signature": False})["sub"]


# -- a marketplace with orders ----------------------------------------------------------------

ADDRESS = {"name": "Anna Käufer", "line1": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin",
           "country": "DE"}
ORDER_STATES = ("pending_payment", "paid", "shipped", "delivered", "cancelled", "refunded")


@dataclass
class Marketplace:
    """Sellers, products and buyers for one test, made through the domains' own functions."""

    api: Any
    stripe_url: str
    accounts: dict[str, str] = field(default_factory=dict)  # seller id -> Stripe account
    seen_events: set[str] = field(default_factory=set)

    def seller(self, seller_id: str, *, country: str = "DE") -> str:
        self.accounts[seller_id] = onboarded_seller(self.stripe_url, seller_id, country=country)
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
        return pump_events(seen=self.seen_events)

    def order_of_seller(self, seller_id: str, order_id: str) -> dict[str, Any]:
        status, body, _ = call(self.api, "GET", f"/v1/seller/orders/{order_id}", headers=seller_headers(seller_id))
        assert status == 200, body
        return body

    def order_of_buyer(self, buyer: dict[str, str], order_id: str) -> dict[str, Any]:
        status, body, _ = call(self.api, "GET", f"/v1/me/orders/{order_id}", headers=buyer)
        assert status == 200, body
        return body

    def act(self, seller_id: str, order_id: str, action: str, body: Any = None) -> tuple[int, Any]:
        """A seller's action on its part of an order (accept, ship, deliver, cancel…)."""
        status, answer, _ = call(self.api, "POST", f"/v1/seller/orders/{order_id}/{action}", body if body else {},
                                 headers=seller_headers(seller_id))
        return status, answer

    def deliver_order(self, seller_id: str, order_id: str) -> None:
        """The seller accepts, ships and delivers its part."""
        for action, body in (("accept", None), ("ship", {"carrier": "DHL", "tracking_number": "JJD0001"}),
                             ("deliver", None)):
            status, answer = self.act(seller_id, order_id, action, body)
            assert status == 200, answer

    def paid_order(self, sellers: tuple[str, ...] = ("sel_a", "sel_b"), price: int = 2_000,
                   quantity: int = 2) -> dict[str, Any]:
        """A buyer's paid order of one product each from ``sellers``."""
        placed = self.placed_order(sellers, price, quantity)
        self.pay(placed["checkout"])
        return placed

    def placed_order(self, sellers: tuple[str, ...] = ("sel_a",), price: int = 2_000, quantity: int = 1,
                     payment_method_id: str | None = "pm_card_visa") -> dict[str, Any]:
        """A buyer's order, checked out and not yet paid: with a saved card (charged at
        Stripe, its payment_intent.succeeded not yet delivered), or without one (the
        buyer has yet to pay)."""
        buyer = self.buyer()
        products = {}
        for seller_id in sellers:
            if seller_id not in self.accounts:
                self.seller(seller_id)
            products[seller_id] = self.product(seller_id, price=price)
            self.add(buyer, products[seller_id], quantity)
        paying = {"payment_method_id": payment_method_id} if payment_method_id else {}
        status, body, _ = self.checkout(buyer, **paying)
        assert status == 201, body
        return {"buyer": buyer, "order": body["order"], "products": products, "checkout": body,
                "payment_intent_id": body["payment"]["payment_intent_id"]}

    def order_in_state(self, state: str, *, seller_id: str = "sel_a", price: int = 2_000,
                       quantity: int = 1) -> dict[str, Any]:
        """A one-seller order brought to ``state`` (one of :data:`ORDER_STATES`) by the buyer's,
        the seller's and Stripe's own steps: cancelled by the buyer before payment, refunded
        after the buyer returned all of it and the seller approved the return."""
        assert state in ORDER_STATES, state
        unpaid = state in ("pending_payment", "cancelled")
        placed = self.placed_order((seller_id,), price, quantity, payment_method_id=None if unpaid else "pm_card_visa")
        order_id = placed["order"]["order_id"]
        if state == "cancelled":
            status, body, _ = call(self.api, "POST", f"/v1/me/orders/{order_id}/cancel", {}, headers=placed["buyer"])
            assert status == 200, body
        if state in ("paid", "shipped", "delivered", "refunded"):
            self.pay(placed["checkout"])
        if state == "shipped":
            for action, body in (("accept", None), ("ship", {"carrier": "DHL", "tracking_number": "JJD0001"})):
                status, answer = self.act(seller_id, order_id, action, body)
                assert status == 200, answer
        if state in ("delivered", "refunded"):
            self.deliver_order(seller_id, order_id)
        if state == "refunded":
            status, body, _ = call(self.api, "POST", f"/v1/me/orders/{order_id}/returns", {
                "seller_id": seller_id, "lines": [{"line": 1, "quantity": quantity}], "reason": "Too small"},
                headers=placed["buyer"])
            assert status == 200, body
            status, answer = self.act(seller_id, order_id, "returns/approve", {"restock": True})
            assert status == 200, answer
        self.events()
        return {**placed, "order": self.order_of_buyer(placed["buyer"], order_id)}


def stock_of(api: Any, seller_id: str, product_id: str) -> int:
    """The product's stock as its seller reads it."""
    status, body, _ = call(api, "GET", f"/v1/seller/products/{product_id}", headers=seller_headers(seller_id))
    assert status == 200, body
    return body["stock"]


def known_buyer() -> tuple[dict[str, str], str]:
    """A signed-in buyer with a default shipping and billing address, who names neither."""
    from chalicelib.accounts.addresses import add_address
    from chalicelib.accounts.service import ensure_account

    user, _ = ensure_account("stammkundin@example.com", name="Anna Käufer")
    add_address(user.user_id, ADDRESS, default_shipping=True, default_billing=True)
    return buyer_headers(user.user_id), user.user_id
