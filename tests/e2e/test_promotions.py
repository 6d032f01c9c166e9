"""Promotions and shipping over real HTTP (issue 13's "done means"): a cart from two sellers
shows what each lacks for free shipping; a seller's 10 % code and the marketplace's automatic
5.00 apply in the documented order; checkout charges goods after both plus shipping; after
the webhook each seller's transfer and the ledger show who paid for what; a partial return
refunds goods, VAT and discount in proportion.

The amounts, worked by hand from the prices set here (10 % fee on what a seller is credited,
none on shipping; both sellers ship 4.90 from a threshold of 50.00 on the goods after
discounts):

- A: 2 shoes at 35.00 (19 % VAT) = 70.00; its code takes 10 % (7.00) -> 63.00. B: a book at
  27.00 (7 %). The marketplace's 5.00 then splits 63:27 -> 3.50 on A, 1.50 on B.
- A pays 59.50 (VAT 9.50; 59.50 >= 50.00: free shipping); B 25.50 + 4.90 shipping (25.50 is
  24.50 short of 50.00). Charged: 59.50 + 25.50 + 4.90 = 89.90.
- A is credited 59.50 + 3.50 (the marketplace's) = 63.00: fee 6.30, transfer 56.70 (its own
  7.00 lowers its payout, the marketplace's 5.00 does not). B: 25.50 + 4.90 + 1.50 = 31.90,
  fee on 27.00 = 2.70, transfer 29.20. The marketplace's revenue: fees 9.00, discounts 5.00.
- One shoe back: half of A's line, 29.75 (VAT 4.75, discount 5.25 in it); A gives back half
  the marketplace's 3.50 (1.75) and gets half its fee (3.15): reversal 29.75 + 1.75 - 3.15 = 28.35.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.support.stack import LocalStack, eventually, expect_json, onboarded_seller, operator_headers

ADDRESS = {"name": "Anna Käufer", "line1": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


def _stripe(local_stack: LocalStack) -> Any:
    import stripe

    return stripe.StripeClient("sk_test_e2e", base_addresses={"api": local_stack.urls["stripe"]})


def _ledger_accounts(local_stack: LocalStack, order_id: str, names: dict[str, str]) -> dict[str, int]:
    """Every account's balance over the order's postings (debit positive), read from the
    table's order index as the ledger keeps it; seller ids replaced by ``names``."""
    dynamodb = local_stack.boto3_client("dynamodb")
    items = dynamodb.query(TableName=local_stack.outputs["TableName"], IndexName="GSI1",
                           KeyConditionExpression="GSI1PK = :order",
                           ExpressionAttributeValues={":order": {"S": f"LEDGER_ORDER#{order_id}"}})["Items"]
    balances: Counter[str] = Counter()
    for item in items:
        postings = [json.loads(item["entries"]["S"])]
        postings += [together[4] for together in json.loads(item["together"]["S"])] if "together" in item else []
        for entries in postings:
            assert sum(amount for _, _, amount in entries) == 0, entries  # each posting balances
            for account, _, amount in entries:
                base, _, seller_id = account.partition(":")
                balances[f"{base}:{names[seller_id]}" if seller_id else base] += amount
    return {account: amount for account, amount in balances.items() if amount}


def test_promotions_and_shipping_charge_pay_and_refund_who_funds_what(local_stack: LocalStack) -> None:
    api = local_stack.api
    operator = operator_headers(local_stack)
    (a_id, a), (b_id, b) = onboarded_seller(local_stack, 0), onboarded_seller(local_stack, 1)
    names = {a_id: "A", b_id: "B"}
    products = {}
    for seller_id, headers, price, category in ((a_id, a, 3_500, "fashion/shoes"), (b_id, b, 2_700, "books/fiction")):
        expect_json(requests.put(f"{api}/v1/admin/fees/sellers/{seller_id}", json={"percent_bp": 1_000},
                                 headers=operator, timeout=10), 200)
        expect_json(requests.post(f"{api}/v1/seller/shipping-profiles", headers=headers, timeout=10, json={
            "name": "Paket", "zones": [{"countries": ["DE"], "standard": eur(490), "per_extra_item": eur(100),
                                        "free_shipping_threshold": eur(5_000)}]}), 201)
        products[seller_id] = expect_json(requests.post(f"{api}/v1/seller/products", headers=headers, timeout=10, json={
            "sku": f"E2E-{uuid.uuid4().hex[:6]}", "title": "Artikel", "category": category, "price": eur(price),
            "stock": 5, "status": "active"}), 201)["product_id"]
    sommer = expect_json(requests.post(f"{api}/v1/seller/promotions", headers=a, timeout=10, json={
        "name": "Sommer -10 %", "kind": "percentage", "percent_bp": 1_000, "currency": "EUR", "priority": 10}), 201)
    code = f"SOMMER{uuid.uuid4().hex[:6].upper()}"
    expect_json(requests.post(f"{api}/v1/seller/promotions/{sommer['promotion_id']}/codes", json={"code": code},
                              headers=a, timeout=10), 201)
    # automatic, for these two sellers' items only: the shared marketplace's other tests see no discount
    five_off = expect_json(requests.post(f"{api}/v1/admin/promotions", headers=operator, timeout=10, json={
        "name": "5 € off", "kind": "fixed_amount", "amount_off": eur(500), "currency": "EUR", "automatic": True,
        "priority": 20, "target": {"kind": "sellers", "values": [a_id, b_id]}}), 201)

    # the cart: what each part lacks for free shipping, at current prices and after the discounts
    tokens = local_stack.sign_up(f"anna-{uuid.uuid4().hex[:8]}@example.com", "anna-e2e-Lampe-2031", "Anna")
    buyer = {"Authorization": f"Bearer {tokens['access_token']}"}
    for seller_id, quantity in ((a_id, 2), (b_id, 1)):
        expect_json(requests.put(f"{api}/v1/cart/items/{products[seller_id]}", json={"quantity": quantity},
                                 headers=buyer, timeout=10), 200)
    cart = expect_json(requests.post(f"{api}/v1/cart/promo-code", params={"country": "DE"},
                                     json={"code": code.lower()}, headers=buyer, timeout=10), 200)
    shown = {part["seller_id"]: part["shipping"]["free_shipping"] for part in cart["parts"]}
    assert shown == {a_id: [{"threshold": eur(5_000), "amount_left": eur(0)}],
                     b_id: [{"threshold": eur(5_000), "amount_left": eur(2_300)}]}
    pricing = cart["pricing"]
    lines = {line["seller_id"]: line for line in pricing["lines"]}
    # the code first (priority 10), then the 5.00 on what it left: 63:27
    assert [(adj["amount"], adj["marketplace_funded"]) for adj in lines[a_id]["adjustments"]] == [
        (eur(700), eur(0)), (eur(350), eur(350))]
    assert [(adj["amount"], adj["marketplace_funded"]) for adj in lines[b_id]["adjustments"]] == [
        (eur(150), eur(150))]
    parts = {part["seller_id"]: part for part in pricing["sellers"]}
    assert parts[a_id]["shipping"]["amount"] == eur(0)
    assert (parts[b_id]["shipping"]["amount"], parts[b_id]["shipping"]["free_shipping"][0]["amount_left"]) == (
        eur(490), eur(2_450))
    charged = 5_950 + 2_550 + 490
    assert pricing["total"] == eur(charged)

    # checkout charges the same
    window = {"from": datetime.now(UTC).isoformat()}
    placed = expect_json(requests.post(f"{api}/v1/checkout", timeout=30,
                                       json={"shipping_address": ADDRESS, "payment_method_id": "pm_card_visa"},
                                       headers={**buyer, "Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}), 201)
    order_id = placed["order"]["order_id"]
    assert (placed["order"]["discount"], placed["order"]["shipping"], placed["order"]["total"]) == (
        eur(700 + 500), eur(490), eur(charged))
    stripe = _stripe(local_stack)
    assert stripe.v1.payment_intents.retrieve(placed["payment"]["payment_intent_id"]).amount == charged

    # after the webhook: A's code lowers its transfer, the marketplace's 5.00 does not
    transfers = eventually(lambda: (lambda found: found if len(found) == 2 else None)(
        stripe.v1.transfers.list({"transfer_group": order_id}).data), what="a transfer to each seller")
    accounts = {expect_json(requests.get(f"{api}/v1/seller", headers=h, timeout=10), 200)["payments"]
                ["stripe_account_id"]: sid for sid, h in ((a_id, a), (b_id, b))}
    assert {accounts[t.destination]: t.amount for t in transfers} == {a_id: 6_300 - 630, b_id: 2_700 + 490 - 270}
    views = {sid: expect_json(requests.get(f"{api}/v1/seller/orders/{order_id}", headers=h, timeout=10), 200)
             for sid, h in ((a_id, a), (b_id, b))}
    assert [(views[sid]["discount"], views[sid]["marketplace_discount"], views[sid]["fee"]) for sid in (a_id, b_id)] \
        == [(eur(1_050), eur(350), eur(630)), (eur(150), eur(150), eur(270))]

    # one shoe comes back: half of A's line, its VAT and its discounts
    for action, body in (("accept", None), ("ship", {"carrier": "DHL", "tracking_number": "JJD0013"}),
                         ("deliver", None)):
        expect_json(requests.post(f"{api}/v1/seller/orders/{order_id}/{action}", json=body, headers=a, timeout=10),
                    200)
    expect_json(requests.post(f"{api}/v1/me/orders/{order_id}/returns", headers=buyer, timeout=10, json={
        "seller_id": a_id, "lines": [{"line": 1, "quantity": 1}], "reason": "zu klein"}), 200)
    expect_json(requests.post(f"{api}/v1/seller/orders/{order_id}/returns/approve", json={"restock": True},
                              headers=a, timeout=10), 200)
    eventually(lambda: expect_json(requests.get(f"{api}/v1/seller/orders/{order_id}", headers=a, timeout=10),
                                   200)["status"] == "refunded", what="the return to be refunded")
    refund = (7_000 - 700 - 350) // 2  # 29.75: goods 35.00 less half of each discount, 4.75 VAT in it
    assert [r.amount for r in stripe.v1.refunds.list({"payment_intent": placed["payment"]["payment_intent_id"]})
            .data] == [refund]
    [reversed_a] = [t for t in stripe.v1.transfers.list({"transfer_group": order_id}).data
                    if accounts[t.destination] == a_id]
    assert reversed_a.amount_reversed == refund + 175 - 315

    # the books: each seller's statement, the operator's revenue and the order's accounts
    window["to"] = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    statement = expect_json(requests.get(f"{api}/v1/seller/statements", params=window, headers=a, timeout=10), 200)
    earned = Counter[str]()
    for entry in statement["items"]:
        if entry["order_id"] == order_id and entry["account"] == "seller_payable":
            earned[entry["kind"]] += entry["amount"]["amount"]
    assert earned == {"seller_payable": 5_950, "marketplace_discount": 350, "fee": -630, "refund": -refund,
                      "marketplace_discount_refund": -175, "fee_refund": 315}
    [revenue] = [r for r in expect_json(requests.get(f"{api}/v1/admin/revenue", params=window, headers=operator,
                                                     timeout=10), 200)["currencies"] if r["currency"] == "EUR"]
    assert (revenue["net_fees"], revenue["marketplace_discounts"]) == (eur(900 - 315), eur(500 - 175))
    assert _ledger_accounts(local_stack, order_id, names) == {
        "stripe_clearing": charged - refund - 5_670 - 2_920 + 2_835,  # what the marketplace keeps: 5.85 - 3.25
        "marketplace_discounts": 500 - 175, "platform_fees": -(900 - 315),
        "seller_payable:A": -2_835, "transfers_out:A": 2_835, "seller_payable:B": -2_920, "transfers_out:B": 2_920}
    stats = expect_json(requests.get(f"{api}/v1/admin/promotions/{five_off['promotion_id']}", headers=operator,
                                     timeout=10), 200)["stats"]
    assert (stats["uses"], stats["discount_given"]) == (1, eur(500 - 175))
