"""Reviews and questions over real HTTP: a buyer reviews a delivered product and its seller,
the seller replies, the product's rating and its place in the rating sort change, and a
question gets a verified buyer's answer with the asker mailed."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from tests.support.stack import LocalStack, eventually, expect_json, onboarded_seller, operator_headers

ADDRESS = {"name": "Anna Käufer", "line1": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}


def test_a_delivered_product_is_reviewed_answered_and_rises_in_the_rating_sort(local_stack: LocalStack) -> None:
    api = local_stack.api
    expect_json(requests.put(f"{api}/v1/admin/reviews/settings", json={"publish": "immediately"},
                             headers=operator_headers(local_stack), timeout=10), 200)
    seller_id, seller = onboarded_seller(local_stack, 0)
    products = [expect_json(requests.post(f"{api}/v1/seller/products", headers=seller, timeout=10, json={
        "sku": f"E2E-{uuid.uuid4().hex[:6]}", "title": "Wanderschuh", "category": "fashion/shoes",
        "price": {"amount": 2_000, "currency": "EUR"}, "stock": 5, "status": "active"}), 201)["product_id"]
        for _ in range(2)]
    reviewed = products[0]
    email = f"anna-{uuid.uuid4().hex[:8]}@example.com"
    tokens = local_stack.sign_up(email, "anna-e2e-Lampe-2031", "Anna Käufer")
    buyer = {"Authorization": f"Bearer {tokens['access_token']}"}
    expect_json(requests.put(f"{api}/v1/cart/items/{reviewed}", json={"quantity": 1}, headers=buyer, timeout=10), 200)
    placed = expect_json(requests.post(f"{api}/v1/checkout", timeout=30, json={
        "shipping_address": ADDRESS, "payment_method_id": "pm_card_visa"},
        headers={**buyer, "Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}), 201)
    order_id = placed["order"]["order_id"]
    review = {"order_id": order_id, "product_id": reviewed, "rating": 5, "title": "Sehr bequem",
              "text": "Nach zwei Wanderungen ohne Blasen.", "language": "de"}

    def paid() -> Any:
        order = expect_json(requests.get(f"{api}/v1/me/orders/{order_id}", headers=buyer, timeout=10), 200)
        return order if order["status"] == "paid" else None

    eventually(paid, what="the payment webhook to mark the order paid")
    too_early = requests.post(f"{api}/v1/me/reviews", json=review, headers=buyer, timeout=10)
    assert (too_early.status_code, too_early.json()["error"]["code"]) == (409, "not_delivered_yet")
    for action, body in (("accept", None), ("ship", {"carrier": "DHL", "tracking_number": "JJD0001"}),
                         ("deliver", None)):
        expect_json(requests.post(f"{api}/v1/seller/orders/{order_id}/{action}", json=body, headers=seller,
                                  timeout=10), 200)

    # the buyer reviews the product and the seller; the seller replies
    written = expect_json(requests.post(f"{api}/v1/me/reviews", json=review, headers=buyer, timeout=10), 201)
    again = requests.post(f"{api}/v1/me/reviews", json=review, headers=buyer, timeout=10)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_reviewed")
    expect_json(requests.post(f"{api}/v1/me/seller-reviews", headers=buyer, timeout=10, json={
        "order_id": order_id, "seller_id": seller_id, "overall": 5, "delivery": 4, "communication": 5,
        "language": "de"}), 201)
    expect_json(requests.put(f"{api}/v1/seller/reviews/{written['review_id']}/reply", headers=seller, timeout=10,
                             json={"text": "Danke für das Lob!"}), 200)

    product = expect_json(requests.get(f"{api}/v1/products/{reviewed}", timeout=10), 200)
    assert (product["rating"]["count"], product["rating"]["average"]) == (1, 5.0)
    [listed] = expect_json(requests.get(f"{api}/v1/products/{reviewed}/reviews", timeout=10), 200)["items"]
    assert (listed["verified_purchase"], listed["reply"]["text"]) == (True, "Danke für das Lob!")
    storefront = expect_json(requests.get(f"{api}/v1/sellers/{seller_id}", timeout=10), 200)
    assert (storefront["seller_rating"]["count"], storefront["seller_rating"]["delivery"]) == (1, 4.0)
    by_rating = expect_json(requests.get(f"{api}/v1/products", params={"seller_id": seller_id, "sort": "rating"},
                                         timeout=10), 200)["items"]
    assert [p["product_id"] for p in by_rating][:1] == [reviewed]

    # a question about it gets the verified buyer's answer, and the asker is mailed
    asker_email = f"asker-{uuid.uuid4().hex[:8]}@example.com"
    asker_tokens = local_stack.sign_up(asker_email, "asker-e2e-Lampe-2031", "Bea Fragt")
    asker = {"Authorization": f"Bearer {asker_tokens['access_token']}"}
    question = expect_json(requests.post(f"{api}/v1/products/{reviewed}/questions", json={"text": "Wasserdicht?"},
                                         headers=asker, timeout=10), 201)
    answered = expect_json(requests.post(f"{api}/v1/questions/{question['question_id']}/answers", headers=buyer,
                                         timeout=10, json={"text": "Bei Regen ja.", "order_id": order_id}), 201)
    assert [(a["by"], a["verified_buyer"]) for a in answered["answers"]] == [("buyer", True)]
    eventually(lambda: [m for m in local_stack.outbox() if asker_email in m["to"]
                        and "has an answer" in (m["subject"] or "")] or None, what="the asker's answer mail")
