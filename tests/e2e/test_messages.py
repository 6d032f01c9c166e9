"""Buyer-seller messages over real HTTP: a thread on an order shows unread counts on both sides
and mails each side through the mail worker; a dispute is opened and resolved by a refund that
reaches the local Stripe; another buyer gets 404."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from tests.support.stack import LocalStack, eventually, expect_json, onboarded_seller, operator_headers

ADDRESS = {"name": "Anna Käufer", "line1": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}


def _buyer(local_stack: LocalStack, name: str) -> tuple[str, dict[str, str]]:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    tokens = local_stack.sign_up(email, f"{name.lower()}-e2e-Lampe-2031", name)
    return email, {"Authorization": f"Bearer {tokens['access_token']}"}


def test_a_thread_on_an_order_and_a_dispute_resolved_by_a_refund(local_stack: LocalStack) -> None:
    import stripe

    api = local_stack.api
    operator = operator_headers(local_stack)
    expect_json(requests.put(f"{api}/v1/admin/settings", json={"seller_access": "open", "buyer_access": "open"},
                             headers=operator, timeout=10), 200)
    seller_id, seller = onboarded_seller(local_stack, 90)
    product = expect_json(requests.post(f"{api}/v1/seller/products", headers=seller, timeout=10, json={
        "sku": f"E2E-{uuid.uuid4().hex[:6]}", "title": "Regenjacke", "category": "fashion/shoes",
        "price": {"amount": 3_000, "currency": "EUR"}, "stock": 5, "status": "active"}), 201)["product_id"]
    email, buyer = _buyer(local_stack, "Berta")
    expect_json(requests.put(f"{api}/v1/cart/items/{product}", json={"quantity": 2}, headers=buyer, timeout=10), 200)
    placed = expect_json(requests.post(f"{api}/v1/checkout", timeout=30, headers={
        **buyer, "Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}, json={
        "shipping_address": ADDRESS, "payment_method_id": "pm_card_visa"}), 201)
    order_id = placed["order"]["order_id"]
    eventually(lambda: expect_json(requests.get(f"{api}/v1/me/orders/{order_id}", headers=buyer, timeout=10),
                                   200)["status"] == "paid", what="the order to be paid")

    # a thread: unread counts on both sides, a mail to each (a message read before the mail worker
    # got to it is not mailed, so each side reads after its mail came)
    # a bound on waiting, not a timing goal: on the shared local stack the one worker may still be
    # paying out the hundred parallel checkouts of tests/e2e/test_local_api.py (minutes on a loaded machine)
    backlog = 300

    def mailed(to: str) -> Any:
        return [m for m in local_stack.outbox() if to in m["to"] and "wrote to you" in (m["subject"] or "")] or None

    seller_email = expect_json(requests.get(f"{api}/v1/seller", headers=seller, timeout=10), 200)["contact_email"]
    started = expect_json(requests.post(f"{api}/v1/me/conversations", headers=buyer, timeout=10, json={
        "order_id": order_id, "seller_id": seller_id, "text": "Is the jacket really waterproof?"}), 201)
    conversation_id = started["conversation"]["conversation_id"]
    threads = expect_json(requests.get(f"{api}/v1/seller/conversations", headers=seller, timeout=10), 200)
    assert [(c["conversation_id"], c["unread"]) for c in threads["items"]] == [(conversation_id, 1)]
    seller_mail = eventually(lambda: mailed(seller_email), timeout=backlog, what="the seller's mail")
    assert "waterproof" in seller_mail[0]["body"]
    expect_json(requests.post(f"{api}/v1/seller/conversations/{conversation_id}/messages", headers=seller,
                              timeout=10, json={"text": "Yes, 10,000 mm."}), 201)
    mine = expect_json(requests.get(f"{api}/v1/me/conversations", headers=buyer, timeout=10), 200)
    assert [(c["conversation_id"], c["unread"]) for c in mine["items"]] == [(conversation_id, 1)]
    assert "10,000 mm" in eventually(lambda: mailed(email), timeout=backlog, what="the buyer's mail")[0]["body"]
    read = expect_json(requests.post(f"{api}/v1/seller/conversations/{conversation_id}/read", headers=seller,
                                     timeout=10), 200)
    assert read["unread"] == 0
    _, stranger = _buyer(local_stack, "Carl")
    refused = requests.get(f"{api}/v1/me/conversations/{conversation_id}", headers=stranger, timeout=10)
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "conversation_not_found")

    # a dispute, read by the operator and resolved by refunding one unit
    dispute = expect_json(requests.post(f"{api}/v1/me/conversations/{conversation_id}/dispute", headers=buyer,
                                        timeout=10, json={"reason": "It leaks."}), 201)
    seen = expect_json(requests.get(f"{api}/v1/admin/disputes/{dispute['dispute_id']}", headers=operator,
                                    timeout=10), 200)
    assert [m["text"] for m in seen["items"]][-1] == "Is the jacket really waterproof?"
    resolved = expect_json(requests.post(f"{api}/v1/admin/disputes/{dispute['dispute_id']}/resolve",
                                         headers=operator, timeout=30, json={
                                             "note": "One jacket refunded.",
                                             "refund": {"lines": [{"line": 1, "quantity": 1}]}}), 200)
    assert resolved["refund"] == {"amount": 3_000, "currency": "EUR"}
    client = stripe.StripeClient("sk_test_e2e", base_addresses={"api": local_stack.urls["stripe"]})
    refunds = eventually(lambda: client.v1.refunds.list({"payment_intent": placed["payment"]["payment_intent_id"]})
                         .data or None, what="the dispute's refund at Stripe")
    assert [r.amount for r in refunds] == [3_000]
    order = expect_json(requests.get(f"{api}/v1/me/orders/{order_id}", headers=buyer, timeout=10), 200)
    assert order["payment_status"] == "partially_refunded"
