"""Shipping in checkout, the order, the ledger, the seller's transfer and refunds: a part pays
its seller's rate for the shipping address's country, VAT split over the goods' rates."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.auth import seller_headers
from tests.support.builders import ADDRESS, Marketplace, known_buyer, stock_of
from tests.support.http import call
from tests.support.shipping import eur, name_profile, shipping_profile, two_profiles_a_seller


def _mixed_cart(market: Marketplace) -> tuple[dict[str, str], dict[str, str]]:
    """sel_a (DE, a default profile) sells 2 shoes at 20.00 (19 %) and a book at 10.00 (7 %)."""
    market.seller("sel_a")
    shipping_profile("sel_a")
    shoe = market.product("sel_a", price=2_000, stock=5)
    book = market.product("sel_a", price=1_000, stock=5, category="books/fiction")
    buyer = market.buyer()
    market.add(buyer, shoe, 2)
    market.add(buyer, book, 1)
    return buyer, {"shoe": shoe, "book": book}


def test_checkout_charges_goods_and_standard_shipping_with_its_vat_split_over_the_goods_rates(
        market: Marketplace) -> None:
    buyer, _ = _mixed_cart(market)

    status, body, _ = market.checkout(buyer)

    assert status == 201, body
    order = body["order"]
    # standard 4.90 for the first item + 1.00 for each of two more = 6.90 on 50.00 of goods
    assert order["shipping"] == eur(690)
    assert order["total"] == eur(5_000 + 690)
    [part] = order["sellers"]
    assert part["total"] == eur(5_690)
    assert part["shipping"] == {"option": "standard", "price": eur(690), "discount": eur(0), "amount": eur(690),
                                "tax": eur(9 + 88), "refunded": eur(0), "handling_days": 1,
                                "delivery_days_min": 2, "delivery_days_max": 3}
    # 6.90 split 10.00 : 40.00 over 7 % and 19 %: 1.38 (0.09 VAT) and 5.52 (0.88 VAT)
    assert part["tax"] == eur(639 + 65 + 9 + 88)
    intent = market.payment_intent(body["payment"]["payment_intent_id"])
    assert intent["amount"] == 5_690


def test_the_buyer_chooses_express_per_seller(market: Marketplace) -> None:
    buyer, _ = _mixed_cart(market)

    status, body, _ = market.checkout(buyer, shipping={"sel_a": "express"})

    assert status == 201, body
    shipping = body["order"]["sellers"][0]["shipping"]
    assert (shipping["option"], shipping["amount"], shipping["delivery_days_max"]) == ("express", eur(1_190), 1)
    assert market.payment_intent(body["payment"]["payment_intent_id"])["amount"] == 5_000 + 1_190


def test_an_option_the_seller_does_not_offer_or_a_seller_not_in_the_cart_is_a_422(market: Marketplace) -> None:
    market.seller("sel_a")
    shipping_profile("sel_a", {"countries": ["DE"], "standard": eur(490)})
    buyer = market.buyer()
    market.add(buyer, market.product("sel_a"))

    no_express = market.checkout(buyer, shipping={"sel_a": "express"})
    stranger = market.checkout(buyer, shipping={"sel_z": "standard"})

    assert (no_express[0], no_express[1]["error"]["code"]) == (422, "shipping_option_unavailable")
    assert no_express[1]["error"]["details"][0]["field"] == "body.shipping.sel_a"
    assert stranger[0] == 422 and stranger[1]["error"]["details"][0]["field"] == "body.shipping.sel_z"


def test_a_part_that_cannot_go_to_the_address_is_refused_naming_seller_and_products_and_nothing_is_written(
        market: Marketplace) -> None:
    market.seller("sel_a")
    market.seller("sel_b")
    shipping_profile("sel_a")
    austria_only = shipping_profile("sel_a", {"countries": ["AT"], "standard": eur(990)})
    shoe, sofa = market.product("sel_a", stock=5), market.product("sel_a", stock=5)
    name_profile(market, "sel_a", sofa, austria_only)
    book = market.product("sel_b", stock=5)  # sel_b has no profiles: free, everywhere
    buyer = market.buyer()
    for product in (shoe, sofa, book):
        market.add(buyer, product)

    status, body, _ = market.checkout(buyer)

    assert status == 422, body
    assert body["error"]["code"] == "undeliverable"
    assert body["error"]["details"] == [{"field": "cart", "message": "not delivered to DE", "type": "undeliverable",
                                         "seller_id": "sel_a", "products": [sofa]}]
    assert [stock_of(market.api, s, p) for s, p in (("sel_a", shoe), ("sel_a", sofa), ("sel_b", book))] == [5, 5, 5]
    assert call(market.api, "GET", "/v1/me/orders", headers=buyer)[1]["items"] == []
    assert len(call(market.api, "GET", "/v1/cart", headers=buyer)[1]["lines"]) == 3

    status, body, _ = market.checkout(buyer, shipping_address={**ADDRESS, "country": "AT", "postal_code": "1010",
                                                               "city": "Wien"})
    assert status == 422 and body["error"]["details"][0]["products"] == [shoe]  # the default ships to DE only


def test_free_shipping_once_the_goods_reach_the_threshold_and_a_seller_without_profiles_ships_free(
        market: Marketplace) -> None:
    market.seller("sel_a")
    market.seller("sel_b")
    shipping_profile("sel_a")
    buyer = market.buyer()
    market.add(buyer, market.product("sel_a", price=5_000), 2)  # 100.00: the threshold
    market.add(buyer, market.product("sel_b", price=1_000), 1)

    status, body, _ = market.checkout(buyer)

    assert status == 201, body
    assert body["order"]["shipping"] == eur(0)
    assert [part["shipping"] for part in body["order"]["sellers"]] == [None, None]
    assert body["order"]["total"] == eur(11_000)


def _paid(market: Marketplace, buyer: dict[str, str], **body: Any) -> dict[str, Any]:
    status, placed, _ = market.checkout(buyer, payment_method_id="pm_card_visa", **body)
    assert status == 201, placed
    market.pay(placed)
    return placed


def test_a_paid_orders_shipping_is_the_sellers_revenue_in_the_ledger_and_its_transfer(market: Marketplace) -> None:
    from chalicelib.fees.service import set_schedule
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings, seller_balance
    from chalicelib.payments import stripe_gateway

    set_schedule("default", {"percent_bp": 1_000})  # no fee on shipping: the default
    buyer, _ = _mixed_cart(market)

    placed = _paid(market, buyer)

    order_id = placed["order"]["order_id"]
    postings = order_postings(order_id)
    assert sum_by_currency(postings) == {"EUR": 0}
    amounts = {p.kind: sum(e.amount.amount for e in p.entries if e.account == "seller_payable:sel_a")
               for p in postings}
    assert (amounts["seller_payable"], amounts["shipping"], amounts["fee"]) == (-5_000, -690, 500)
    [transfer] = stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
    assert transfer.amount == 5_690 - 500
    assert seller_balance("sel_a", "EUR").owed.amount == 0
    statement = call(market.api, "GET", "/v1/seller/statements?from=2000-01-01T00:00:00Z&"
                     "to=2100-01-01T00:00:00Z", headers=seller_headers("sel_a"))[1]
    assert {(e["kind"], e["amount"]["amount"]) for e in statement["items"]} >= {("shipping", 690),
                                                                                ("seller_payable", 5_000)}


def test_the_fee_schedule_can_charge_the_fee_on_shipping(market: Marketplace) -> None:
    from chalicelib.fees.service import set_schedule
    from chalicelib.payments import stripe_gateway

    set_schedule("default", {"percent_bp": 1_000, "fee_on_shipping": True})
    buyer, _ = _mixed_cart(market)

    placed = _paid(market, buyer)

    order_id = placed["order"]["order_id"]
    part = market.order_of_seller("sel_a", order_id)
    assert (part["fee"], part["shipping_fee"]) == (eur(500 + 69), eur(69))
    [transfer] = stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
    assert transfer.amount == 5_690 - 569


def test_a_part_cancelled_before_shipping_refunds_its_shipping_too(market: Marketplace) -> None:
    from chalicelib.fees.service import set_schedule
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings, seller_balance
    from chalicelib.payments import stripe_gateway

    set_schedule("default", {"percent_bp": 1_000, "fee_on_shipping": True})
    buyer, _ = _mixed_cart(market)
    placed = _paid(market, buyer)
    order_id = placed["order"]["order_id"]

    status, body = market.act("sel_a", order_id, "cancel", {"reason": "out of stock"})
    market.events()

    assert status == 200, body
    intent = placed["payment"]["payment_intent_id"]
    assert [r.amount for r in stripe_gateway.client().v1.refunds.list({"payment_intent": intent}).data] == [5_690]
    [transfer] = stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
    assert transfer.amount_reversed == transfer.amount == 5_690 - 569
    postings = order_postings(order_id)
    assert sum_by_currency(postings) == {"EUR": 0}
    assert [p.kind for p in postings if p.kind == "shipping_refund"] == ["shipping_refund"]
    assert seller_balance("sel_a", "EUR").owed.amount == 0
    part = market.order_of_seller("sel_a", order_id)
    assert (part["refunded"], part["shipping"]["refunded"], part["payment_status"]) == (eur(5_690), eur(690),
                                                                                       "refunded")


def test_a_return_can_refund_part_of_the_shipping_with_its_fee_in_proportion_never_more_than_paid(
        market: Marketplace) -> None:
    from chalicelib.fees.service import set_schedule
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings, seller_balance
    from chalicelib.payments import stripe_gateway

    set_schedule("default", {"percent_bp": 1_000, "fee_on_shipping": True})
    buyer, _ = _mixed_cart(market)
    placed = _paid(market, buyer)
    order_id = placed["order"]["order_id"]
    market.deliver_order("sel_a", order_id)
    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
                           {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "too small"},
                           headers=buyer)
    assert status == 200, body

    too_much = market.act("sel_a", order_id, "returns/approve", {"shipping": 691})
    status, body = market.act("sel_a", order_id, "returns/approve", {"shipping": 345})
    market.events()

    assert too_much[0] == 422 and too_much[1]["error"]["code"] == "shipping_refund_exceeds_paid"
    assert status == 200, body
    intent = placed["payment"]["payment_intent_id"]
    assert [r.amount for r in stripe_gateway.client().v1.refunds.list({"payment_intent": intent}).data] == [
        2_000 + 345]
    [transfer] = stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
    # the shoe's 2.00 fee and half the shipping's 0.69 fee (0.35, half-up) go back to the seller
    assert transfer.amount_reversed == 2_000 + 345 - 200 - 35
    assert sum_by_currency(order_postings(order_id)) == {"EUR": 0}
    assert seller_balance("sel_a", "EUR").owed.amount == 0
    part = market.order_of_seller("sel_a", order_id)
    assert (part["refunded"], part["shipping"]["refunded"]) == (eur(2_345), eur(345))


# --- round trips ----------------------------------------------------------------------------------

@pytest.mark.parametrize("sellers", [1, 4])
def test_shipping_profiles_cost_a_known_buyers_checkout_no_round_trip(
        market: Marketplace, round_trips: list[str], sellers: int) -> None:
    buyer, _ = known_buyer()
    two_profiles_a_seller(market, buyer, sellers)
    round_trips.clear()

    status, body, _ = call(market.api, "POST", "/v1/checkout", {},
                           headers={**buyer, "Idempotency-Key": f"key-{time.time_ns()}"})

    assert status == 201, body
    # per seller: the default's 4.90 for one product, the bulky profile's 19.90 for the other
    assert body["order"]["shipping"] == eur(sellers * (490 + 1_990))
    assert round_trips == ["BatchGetItem", "UpdateItem", "UpdateItem", "BatchGetItem", "TransactWriteItems",
                           "UpdateItem"]


def test_a_product_that_names_another_profile_than_its_cart_line_costs_one_read_more(
        market: Marketplace, round_trips: list[str]) -> None:
    buyer, _ = known_buyer()
    market.seller("sel_a")
    shipping_profile("sel_a")
    bulky = shipping_profile("sel_a", {"countries": ["DE"], "standard": eur(1_990)})
    product = market.product("sel_a")
    market.add(buyer, product)
    name_profile(market, "sel_a", product, bulky)  # after it was put in the cart
    round_trips.clear()

    status, body, _ = call(market.api, "POST", "/v1/checkout", {},
                           headers={**buyer, "Idempotency-Key": f"key-{time.time_ns()}"})

    assert status == 201, body
    assert body["order"]["shipping"] == eur(1_990)
    assert round_trips == ["BatchGetItem", "UpdateItem", "UpdateItem", "BatchGetItem",
                           "BatchGetItem",  # the profile the product names now
                           "TransactWriteItems", "UpdateItem"]


def test_the_buyer_cancelling_a_paid_order_gets_the_shipping_back_too(market: Marketplace) -> None:
    from chalicelib.payments import stripe_gateway

    buyer, _ = _mixed_cart(market)
    placed = _paid(market, buyer, shipping={"sel_a": "express"})
    order_id = placed["order"]["order_id"]

    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/cancel", {}, headers=buyer)
    market.events()

    assert status == 200, body
    intent = placed["payment"]["payment_intent_id"]
    assert [r.amount for r in stripe_gateway.client().v1.refunds.list({"payment_intent": intent}).data] == [6_190]
    order = market.order_of_buyer(buyer, order_id)
    assert (order["amount_refunded"], order["payment_status"]) == (eur(6_190), "refunded")
    assert order["sellers"][0]["shipping"]["refunded"] == eur(1_190)
