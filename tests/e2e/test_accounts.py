"""A buyer's account over real HTTP against the local marketplace: sign-up and sign-in (password
and link from the outbox), rotating refresh tokens, profile, addresses, a card saved through
the local Stripe, newsletter double opt-in and one-click unsubscribe, wishlist, export, erasure."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.stack import LocalStack, eventually, expect_json

PASSWORD = "e2e correct horse battery"
SIGN_IN_LINK = r"/sign-in/link\?token=(agora_ml_[\w-]+)"
CONFIRM_LINK = r"/newsletter/confirm\?token=([\w.-]+)"


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _mailed_token(local_stack: LocalStack, to: str, subject: str, pattern: str) -> str:
    """The token in the newest mail to ``to`` with ``subject`` (read from the local outbox)."""

    def find() -> str | None:
        for mail in reversed(local_stack.outbox()):
            if to in mail["to"] and subject in (mail["subject"] or ""):
                found = re.search(pattern, mail["body"] or "")
                return found.group(1) if found else None
        return None

    return eventually(find, what=f"the mail {subject!r} to {to}")


@pytest.fixture
def stack_signing_key(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Sign tokens in this process as the local marketplace does (a seller's token, the
    unsubscribe token that newsletters carry)."""
    from chalicelib.core.settings import reset_settings

    for name in ("AGORA_SECRET_TOKEN_SIGNING_KEY", "AGORA_SECRET_HASH_PEPPER"):
        monkeypatch.setenv(name, local_stack.env[name])
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
def seller_product(local_stack: LocalStack, stack_signing_key: None) -> str:
    """An active product of an approved seller. The seller's standing is written straight to
    the table (sellers' own flow has its own e2e test); the product goes through the API."""
    from chalicelib.core.auth import issue_access_token
    from chalicelib.core.keys import seller_key
    from chalicelib.sellers.models import Seller

    seller_id = f"sel_e2e{uuid.uuid4().hex[:8]}"
    seller = Seller(PK=seller_key(seller_id), SK="PROFILE", seller_id=seller_id, status="approved",
                    business_name="Wool GmbH", display_name="Wool", contact_email="shop@wool.example", country="DE",
                    default_currency="EUR", charges_enabled=True, created_at="2026-11-01T00:00:00+00:00")
    local_stack.boto3_client("dynamodb").put_item(TableName=local_stack.outputs["TableName"], Item=seller.serialize())
    token, _ = issue_access_token(user_id=f"usr_{seller_id}", roles={"seller"}, seller_id=seller_id)
    product = expect_json(requests.post(f"{local_stack.api}/v1/seller/products", timeout=10, json={
        "sku": "SOCK-1", "title": "Wool socks", "category": "fashion/clothing",
        "price": {"amount": 1_299, "currency": "EUR"},
        "stock": 4, "status": "active"}, headers={"Authorization": f"Bearer {token}"}), 201)
    return product["product_id"]


def test_a_buyer_account_from_sign_up_to_erasure(local_stack: LocalStack, seller_product: str) -> None:
    import stripe

    from chalicelib.accounts import consents

    api = local_stack.api
    email = f"anna-{uuid.uuid4().hex[:8]}@example.com"

    # registration with the newsletter wish (confirmed by the mailed link), then a password sign-in
    registered = local_stack.sign_up(email, PASSWORD, "Anna Berg", newsletter=True)
    user_id = registered["account"]["user_id"]
    signed_in = expect_json(requests.post(f"{api}/v1/auth/login", json={"email": email, "password": PASSWORD},
                                    timeout=20), 200)
    assert signed_in["account"]["user_id"] == user_id

    # sign-in by link: the same answer as for an unknown address; the link works once
    asked = expect_json(requests.post(f"{api}/v1/auth/magic-link", json={"email": email}, timeout=10), 202)
    assert asked == expect_json(requests.post(f"{api}/v1/auth/magic-link", timeout=10,
                                        json={"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com"}), 202)
    token = _mailed_token(local_stack, email, "Your sign-in link", SIGN_IN_LINK)
    by_link = expect_json(requests.post(f"{api}/v1/auth/magic-link/verify", json={"token": token}, timeout=20), 200)
    assert by_link["account"]["user_id"] == user_id
    reused = expect_json(requests.post(f"{api}/v1/auth/magic-link/verify", json={"token": token}, timeout=10), 401)
    assert reused["error"]["code"] == "invalid_magic_link"

    # refresh tokens rotate; replaying a spent one revokes its session
    rotated = expect_json(requests.post(f"{api}/v1/auth/refresh", json={"refresh_token": by_link["refresh_token"]},
                                  timeout=10), 200)
    replay = expect_json(requests.post(f"{api}/v1/auth/refresh", json={"refresh_token": by_link["refresh_token"]},
                                 timeout=10), 401)
    assert replay["error"]["code"] == "refresh_token_reused"
    assert requests.post(f"{api}/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]},
                         timeout=10).status_code == 401
    me = _bearer(signed_in)

    # profile and address book
    profile = expect_json(requests.patch(f"{api}/v1/me", headers=me, timeout=10, json={
        "phone": "+49 151 1234567", "birthday": {"day": 29, "month": 2}, "language": "de",
        "vat_id": "DE 123 456 789"}), 200)
    assert (profile["phone"], profile["vat_id"], profile["email_verified"]) == ("+491511234567", "DE123456789", True)
    home = expect_json(requests.post(f"{api}/v1/me/addresses", headers=me, timeout=10, json={
        "name": "Anna Berg", "line1": "Torstraße 1", "postal_code": "10119", "city": "Berlin", "country": "DE",
        "is_default_shipping": True}), 201)
    book = expect_json(requests.get(f"{api}/v1/me/addresses", headers=me, timeout=10), 200)["items"]
    assert [(a["address_id"], a["is_default_shipping"]) for a in book] == [(home["address_id"], True)]

    # a card saved through a SetupIntent that the local Stripe confirms (Stripe.js's part)
    setup = expect_json(requests.post(f"{api}/v1/me/payment-methods/setup-intent", headers=me, timeout=20), 201)
    client = stripe.StripeClient(local_stack.env["AGORA_SECRET_STRIPE_SECRET_KEY"],
                                 base_addresses={"api": local_stack.urls["stripe"]})
    confirmed = client.v1.setup_intents.confirm(setup["setup_intent_id"], params={"payment_method": "pm_card_visa"})
    assert confirmed.status == "succeeded"
    [card] = expect_json(requests.get(f"{api}/v1/me/payment-methods", headers=me, timeout=20), 200)["items"]
    assert (card["brand"], card["last4"]) == ("visa", "4242")

    # the newsletter asked for at registration: confirmed by link, then one-click unsubscribed
    pending = expect_json(requests.get(f"{api}/v1/me/consents", headers=me, timeout=10), 200)
    assert pending["consents"][0]["status"] == "pending"
    confirm = _mailed_token(local_stack, email, "confirm your agora newsletter", CONFIRM_LINK)
    consent = expect_json(requests.post(f"{api}/v1/consents/confirm", json={"token": confirm}, timeout=10), 200)
    assert consent["status"] == "granted"
    unsubscribe = consents.unsubscribe_token(user_id, "newsletter")  # what every newsletter's header carries
    one_click = requests.post(f"{api}/v1/consents/unsubscribe", params={"token": unsubscribe},
                              data="List-Unsubscribe=One-Click", timeout=10,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert expect_json(one_click, 200)["status"] == "withdrawn"
    log = expect_json(requests.get(f"{api}/v1/me/consents", headers=me, timeout=10), 200)["log"]
    assert [(e["action"], e["method"]) for e in log] == [
        ("withdrawn", "unsubscribe_link"), ("granted", "email_confirmation"), ("requested", "registration")]

    # wishlist with today's price
    expect_json(requests.put(f"{api}/v1/me/wishlist/{seller_product}", headers=me, timeout=10), 200)
    [wish] = expect_json(requests.get(f"{api}/v1/me/wishlist", headers=me, timeout=10), 200)["items"]
    assert (wish["title"], wish["price"], wish["in_stock"]) == ("Wool socks", {"amount": 1_299, "currency": "EUR"},
                                                                True)

    # everything in one export, then erasure
    export = expect_json(requests.get(f"{api}/v1/me/export", headers=me, timeout=20), 200)
    assert export["profile"]["email"] == email
    assert [a["city"] for a in export["addresses"]] == ["Berlin"]
    assert [w["product_id"] for w in export["wishlist"]] == [seller_product]
    assert len(export["consent_log"]) == 3 and len(export["payment_methods"]) == 1
    assert export["sessions"]["count"] == 3

    expect_json(requests.delete(f"{api}/v1/me", headers=me, timeout=20), 204)
    closed = expect_json(requests.get(f"{api}/v1/me", headers=me, timeout=10), 401)
    assert closed["error"]["code"] == "account_closed"
    assert requests.post(f"{api}/v1/auth/login", json={"email": email, "password": PASSWORD},
                         timeout=20).status_code == 401
    local_stack.forget_pacing()
    again = local_stack.sign_up(email, PASSWORD, "Anna")
    assert again["account"]["user_id"] != user_id

