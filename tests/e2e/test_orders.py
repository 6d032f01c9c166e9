"""The money path over real HTTP: a buyer buys from three sellers in one checkout; the local
Stripe's signed payment_intent.succeeded reaches the platform webhook; the worker transfers
each seller's share; sellers ship; a partial return is refunded with a transfer reversal;
statements and balances agree with Stripe."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.support.stack import LocalStack, eventually, expect_json, onboarded_seller, operator_headers

ADDRESS = {"name": "Anna Käufer", "line1": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}


def _stripe(local_stack: LocalStack) -> Any:
    import stripe

    return stripe.StripeClient("sk_test_e2e", base_addresses={"api": local_stack.urls["stripe"]})


def test_a_buyer_buys_from_three_sellers_and_everyone_is_paid_exactly(local_stack: LocalStack) -> None:
    api = local_stack.api
    operator = operator_headers(local_stack)
    expect_json(requests.put(f"{api}/v1/admin/settings", json={"seller_access": "open", "buyer_access": "open"},
                       headers=operator, timeout=10), 200)
    sellers = [onboarded_seller(local_stack, n) for n in range(3)]
    products = []
    for _, headers in sellers:
        product = expect_json(requests.post(f"{api}/v1/seller/products", headers=headers, timeout=10, json={
            "sku": f"E2E-{uuid.uuid4().hex[:6]}", "title": "Wanderschuh", "category": "fashion/shoes",
            "price": {"amount": 2_000, "currency": "EUR"}, "stock": 5, "status": "active"}), 201)
        products.append(product["product_id"])

    # a buyer fills a cart from three sellers and checks out with a saved-card stand-in
    tokens = local_stack.sign_up(f"anna-{uuid.uuid4().hex[:8]}@example.com", "anna-e2e-Lampe-2031", "Anna")
    buyer = {"Authorization": f"Bearer {tokens['access_token']}"}
    for product_id, quantity in zip(products, (2, 1, 1), strict=True):
        expect_json(requests.put(f"{api}/v1/cart/items/{product_id}", json={"quantity": quantity}, headers=buyer,
                           timeout=10), 200)
    checkout = {"shipping_address": ADDRESS, "payment_method_id": "pm_card_visa"}
    key = {"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}
    placed = expect_json(requests.post(f"{api}/v1/checkout", json=checkout, headers={**buyer, **key}, timeout=30), 201)
    order_id = placed["order"]["order_id"]
    assert placed["order"]["total"]["amount"] == 8_000
    replay = expect_json(requests.post(f"{api}/v1/checkout", json=checkout, headers={**buyer, **key}, timeout=30), 201)
    assert replay["order"]["order_id"] == order_id

    # Stripe's webhook marks it paid; the worker transfers each seller's share
    def paid() -> Any:
        order = expect_json(requests.get(f"{api}/v1/me/orders/{order_id}", headers=buyer, timeout=10), 200)
        return order if order["status"] == "paid" else None

    order = eventually(paid, what="the payment webhook to mark the order paid")
    assert {p["status"] for p in order["sellers"]} == {"paid"}
    stripe = _stripe(local_stack)
    transfers = eventually(lambda: (lambda found: found if len(found) == 3 else None)(
        stripe.v1.transfers.list({"transfer_group": order_id}).data), what="three transfers")
    views = {sid: expect_json(requests.get(f"{api}/v1/seller/orders/{order_id}", headers=h, timeout=10), 200)
             for sid, h in sellers}
    profiles = {sid: expect_json(requests.get(f"{api}/v1/seller", headers=h, timeout=10), 200) for sid, h in sellers}
    accounts = {sid: profile["payments"]["stripe_account_id"] for sid, profile in profiles.items()}
    expected = sorted((accounts[sid], v["total"]["amount"] - v["fee"]["amount"]) for sid, v in views.items())
    assert sorted((t.destination, t.amount) for t in transfers) == expected
    for _, headers in sellers:
        balance = expect_json(requests.get(f"{api}/v1/seller/balance", headers=headers, timeout=10), 200)
        assert [b["owed"]["amount"] for b in balance["balances"]] == [0]

    # sellers ship, the buyer follows
    for _, headers in sellers:
        expect_json(requests.post(f"{api}/v1/seller/orders/{order_id}/accept", headers=headers, timeout=10), 200)
        expect_json(requests.post(f"{api}/v1/seller/orders/{order_id}/ship", headers=headers, timeout=10,
                            json={"carrier": "DHL", "tracking_number": f"JJD{uuid.uuid4().hex[:10]}"}), 200)
    order = expect_json(requests.get(f"{api}/v1/me/orders/{order_id}", headers=buyer, timeout=10), 200)
    assert {p["status"] for p in order["sellers"]} == {"shipped"}

    # one unit of the first seller's line comes back and is refunded
    first_id, first = sellers[0]
    expect_json(requests.post(f"{api}/v1/seller/orders/{order_id}/deliver", headers=first, timeout=10), 200)
    expect_json(requests.post(f"{api}/v1/me/orders/{order_id}/returns", headers=buyer, timeout=10, json={
        "seller_id": first_id, "lines": [{"line": 1, "quantity": 1}], "reason": "zu klein"}), 200)
    expect_json(requests.post(f"{api}/v1/seller/orders/{order_id}/returns/approve", headers=first, timeout=10,
                        json={"restock": True}), 200)

    def refunded() -> Any:
        view = expect_json(requests.get(f"{api}/v1/seller/orders/{order_id}", headers=first, timeout=10), 200)
        return view if view["status"] == "refunded" else None

    view = eventually(refunded, what="the return to be refunded")
    assert view["refunded"]["amount"] == 2_000
    refunds = stripe.v1.refunds.list({"payment_intent": placed["payment"]["payment_intent_id"]}).data
    assert [r.amount for r in refunds] == [2_000]
    [transfer] = [t for t in stripe.v1.transfers.list({"transfer_group": order_id}).data
                  if t.destination == accounts[first_id]]
    # one of two units: half the line's fee, the odd cent with the refunded half (Money.allocate); the
    # demo marketplace charges fees (dev/demo_data.py), so the line's fee is not 0
    fee_back = -(-views[first_id]["fee"]["amount"] // 2)
    assert transfer.amount_reversed == 2_000 - fee_back

    # the statement tells the same story and nothing is owed either way
    window = {"from": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
              "to": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    statement = expect_json(requests.get(f"{api}/v1/seller/statements", params=window, headers=first, timeout=10), 200)
    kinds = sorted(e["kind"] for e in statement["items"])
    assert {"seller_payable", "transfer", "refund", "transfer_reversal"} <= set(kinds)
    earned = sum(e["amount"]["amount"] for e in statement["items"] if e["account"] == "seller_payable")
    paid_out = sum(e["amount"]["amount"] for e in statement["items"] if e["account"] == "transfers_out")
    assert earned == transfer.amount - transfer.amount_reversed == -paid_out  # transfers lower what is owed
    balance = expect_json(requests.get(f"{api}/v1/seller/balance", headers=first, timeout=10), 200)
    assert [b["owed"]["amount"] for b in balance["balances"]] == [0]
