"""Payment methods beyond cards over real HTTP: the operator enables SEPA direct debit and
PayPal; a SEPA checkout waits `processing` (stock reserved, no seller paid) until the bank's
verdict, which the local Stripe's test endpoint gives and sends as Stripe's webhook; a
failed debit cancels the order, restocks and mails the buyer; PayPal pays at once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.support.stack import LocalStack, eventually, expect_json, onboarded_seller, operator_headers

ADDRESS = {"name": "Anna Käufer", "line1": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}
IBAN = "DE89370400440532013000"  # Stripe's test IBAN (the test endpoint decides the verdict here)


def _stripe(local_stack: LocalStack) -> Any:
    import stripe

    return stripe.StripeClient("sk_test_e2e", base_addresses={"api": local_stack.urls["stripe"]})


@pytest.fixture(scope="module")
def shop(local_stack: LocalStack) -> dict[str, Any]:
    """The operator enables card, SEPA and PayPal; one seller with one product (stock 5); a buyer."""
    api = local_stack.api
    settings = expect_json(requests.put(f"{api}/v1/admin/settings", headers=operator_headers(local_stack), json={
        "seller_access": "open", "buyer_access": "open", "payment_methods": ["card", "sepa_debit", "paypal"]},
        timeout=10), 200)
    assert settings["payment_methods"] == ["card", "sepa_debit", "paypal"]
    seller_id, seller = onboarded_seller(local_stack, 7)
    product = expect_json(requests.post(f"{api}/v1/seller/products", headers=seller, timeout=10, json={
        "sku": f"SEPA-{uuid.uuid4().hex[:6]}", "title": "Wanderstock", "category": "fashion/shoes",
        "price": {"amount": 2_500, "currency": "EUR"}, "stock": 5, "status": "active"}), 201)
    email = f"sepa-{uuid.uuid4().hex[:8]}@example.com"
    tokens = local_stack.sign_up(email, "sepa-e2e-Lampe-2031", "Anna")
    return {"seller_id": seller_id, "seller": seller, "product": product["product_id"], "email": email,
            "buyer": {"Authorization": f"Bearer {tokens['access_token']}"}}


def _checkout(local_stack: LocalStack, shop: dict[str, Any], method: str) -> dict[str, Any]:
    api, buyer = local_stack.api, shop["buyer"]
    expect_json(requests.put(f"{api}/v1/cart/items/{shop['product']}", json={"quantity": 1}, headers=buyer,
                             timeout=10), 200)
    return expect_json(requests.post(f"{api}/v1/checkout", timeout=30, json={
        "shipping_address": ADDRESS, "payment_method_type": method},
        headers={**buyer, "Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}), 201)


def _order(local_stack: LocalStack, shop: dict[str, Any], order_id: str) -> dict[str, Any]:
    return expect_json(requests.get(f"{local_stack.api}/v1/me/orders/{order_id}", headers=shop["buyer"], timeout=10),
                       200)


def _stock(local_stack: LocalStack, shop: dict[str, Any]) -> int:
    product = expect_json(requests.get(f"{local_stack.api}/v1/seller/products/{shop['product']}",
                                       headers=shop["seller"], timeout=10), 200)
    return int(product["stock"])


def _processing_sepa_order(local_stack: LocalStack, shop: dict[str, Any]) -> tuple[str, str]:
    """A SEPA checkout the buyer confirmed with an IBAN; waits until Stripe's processing event
    reached the order. Its order id and PaymentIntent id."""
    placed = _checkout(local_stack, shop, "sepa_debit")
    order_id, intent_id = placed["order"]["order_id"], placed["payment"]["payment_intent_id"]
    intent = _stripe(local_stack).v1.payment_intents.confirm(intent_id, {"payment_method_data": {
        "type": "sepa_debit", "sepa_debit": {"iban": IBAN},
        "billing_details": {"name": "Anna Käufer", "email": shop["email"]}}})
    assert intent.status == "processing"
    eventually(lambda: _order(local_stack, shop, order_id)["payment_status"] == "processing",
               what="the processing webhook to reach the order")
    return order_id, intent_id


def _bank(local_stack: LocalStack, intent_id: str, outcome: str) -> None:
    response = requests.post(f"{local_stack.urls['stripe']}/_test/payment_intents/{intent_id}/{outcome}", timeout=10)
    assert response.status_code == 200, response.text


def _transfers(local_stack: LocalStack, order_id: str) -> list[Any]:
    return list(_stripe(local_stack).v1.transfers.list({"transfer_group": order_id}).data)


def test_a_sepa_checkout_stays_processing_and_pays_the_seller_only_after_the_bank_said_yes(
        local_stack: LocalStack, shop: dict[str, Any]) -> None:
    before = _stock(local_stack, shop)
    order_id, intent_id = _processing_sepa_order(local_stack, shop)

    order = _order(local_stack, shop, order_id)
    assert (order["status"], order["sellers"][0]["status"]) == ("pending_payment", "pending_payment")
    assert _stock(local_stack, shop) == before - 1
    assert _transfers(local_stack, order_id) == []

    _bank(local_stack, intent_id, "succeed")

    paid = eventually(lambda: (lambda o: o if o["status"] == "paid" else None)(_order(local_stack, shop, order_id)),
                      what="the succeeded webhook to mark the order paid")
    assert paid["payment_status"] == "paid"
    transfers = eventually(lambda: _transfers(local_stack, order_id) or None, what="the seller's transfer")
    assert len(transfers) == 1
    assert _stock(local_stack, shop) == before - 1


def test_a_failed_sepa_debit_cancels_the_order_restocks_and_mails_the_buyer(
        local_stack: LocalStack, shop: dict[str, Any]) -> None:
    before = _stock(local_stack, shop)
    order_id, intent_id = _processing_sepa_order(local_stack, shop)
    assert _stock(local_stack, shop) == before - 1

    _bank(local_stack, intent_id, "fail")

    cancelled = eventually(lambda: (lambda o: o if o["status"] == "cancelled" else None)(
        _order(local_stack, shop, order_id)), what="the payment_failed webhook to cancel the order")
    assert (cancelled["payment_status"], cancelled["cancel_reason"]) == ("cancelled", "payment_failed")
    assert _stock(local_stack, shop) == before
    assert _transfers(local_stack, order_id) == []
    eventually(lambda: [m for m in local_stack.outbox()
                        if shop["email"] in m["to"] and order_id in (m["subject"] or "")],
               what="the payment-failed mail")


def test_paypal_pays_at_once(local_stack: LocalStack, shop: dict[str, Any]) -> None:
    placed = _checkout(local_stack, shop, "paypal")
    order_id = placed["order"]["order_id"]

    intent = _stripe(local_stack).v1.payment_intents.confirm(placed["payment"]["payment_intent_id"],
                                                             {"payment_method_data": {"type": "paypal"}})

    assert (intent.payment_method_types, intent.status) == (["paypal"], "succeeded")
    eventually(lambda: _order(local_stack, shop, order_id)["status"] == "paid", what="the PayPal payment")
    assert eventually(lambda: _transfers(local_stack, order_id) or None, what="the seller's transfer")
