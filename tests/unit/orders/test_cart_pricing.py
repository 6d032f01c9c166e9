"""The cart's `pricing` is what checkout charges for the default options and the cart's code:
goods after every discount plus each part's standard shipping, quoted on the discounted goods,
after shipping promotions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.builders import Marketplace, known_buyer
from tests.support.http import call
from tests.support.shipping import GERMANY, eur, shipping_profile


def _sommer_cart(market: Marketplace, buyer: dict[str, str], *, free_shipping_at_b: bool) -> None:
    """sel_a: 2 shoes at 55.00 and its code SOMMER10 (10 %, priority 10); sel_b: a book at
    25.00; the marketplace's automatic 5.00 off (priority 20). Both ship 4.90 + 1.00 per extra
    item, free from 100.00."""
    from chalicelib.promotions import service

    for seller_id in ("sel_a", "sel_b"):
        market.seller(seller_id)
        shipping_profile(seller_id, GERMANY)
    market.add(buyer, market.product("sel_a", price=5_500), 2)
    market.add(buyer, market.product("sel_b", price=2_500, category="books/fiction"))
    code = service.create_promotion("sel_a", {"name": "Sommer", "kind": "percentage", "percent_bp": 1_000,
                                              "currency": "EUR", "priority": 10})
    service.add_public_code("sel_a", code.promotion_id, "SOMMER10")
    service.create_promotion(None, {"name": "5 € off", "kind": "fixed_amount", "amount": 500, "currency": "EUR",
                                    "automatic": True, "priority": 20})
    if free_shipping_at_b:
        service.create_promotion("sel_b", {"name": "Versandkostenfrei", "kind": "free_shipping", "currency": "EUR",
                                           "automatic": True, "priority": 30})
    status, body, _ = call(market.api, "POST", "/v1/cart/promo-code", {"code": "sommer10"}, headers=buyer)
    assert status == 200, body


def _parts(pricing: dict[str, Any]) -> dict[str, Any]:
    return {part["seller_id"]: part for part in pricing["sellers"]}


@pytest.mark.parametrize(("free_shipping_at_b", "b_shipping", "charged"), [
    # A: 110.00 - 11.00 = 99.00, minus 3.99 of the 5.00 (99:25) = 95.01; B: 25.00 - 1.01 = 23.99;
    # shipping A 4.90 + 1.00 (95.01 is under 100.00 again), B 4.90
    (False, {"price": eur(490), "discount": eur(0), "amount": eur(490)}, 9_501 + 2_399 + 590 + 490),
    (True, {"price": eur(490), "discount": eur(490), "amount": eur(0)}, 9_501 + 2_399 + 590),
])
def test_the_carts_total_is_what_checkout_charges_for_standard_shipping_and_the_carts_code(
        market: Marketplace, free_shipping_at_b: bool, b_shipping: dict[str, Any], charged: int) -> None:
    buyer, _ = known_buyer()  # default shipping address in DE
    _sommer_cart(market, buyer, free_shipping_at_b=free_shipping_at_b)

    status, cart, _ = call(market.api, "GET", "/v1/cart", headers=buyer)

    assert status == 200, cart
    pricing = cart["pricing"]
    parts = _parts(pricing)
    b_shipping_paid = b_shipping["amount"]["amount"]
    assert (parts["sel_a"]["total"], parts["sel_b"]["total"]) == (eur(9_501 + 590), eur(2_399 + b_shipping_paid))
    # at current prices A's goods (110.00) reach free shipping; after the discounts they do not
    assert cart["parts"][0]["shipping"]["free_shipping"] == [{"threshold": eur(10_000), "amount_left": eur(0)}]
    assert parts["sel_a"]["shipping"] == {"option": "standard", "price": eur(590), "discount": eur(0),
                                          "amount": eur(590), "tax": eur(94),
                                          "free_shipping": [{"threshold": eur(10_000), "amount_left": eur(499)}]}
    assert {key: parts["sel_b"]["shipping"][key] for key in b_shipping} == b_shipping
    assert pricing["shipping"] == eur(590 + b_shipping_paid)
    assert pricing["total"] == eur(charged)

    status, placed, _ = market.checkout(buyer, payment_method_id="pm_card_visa")

    assert status == 201, placed
    assert placed["order"]["total"] == pricing["total"]
    assert market.payment_intent(placed["payment"]["payment_intent_id"])["amount"] == charged
    assert {part["seller_id"]: part["total"] for part in placed["order"]["sellers"]} == {
        seller_id: part["total"] for seller_id, part in parts.items()}


def test_without_a_destination_the_pricing_has_no_shipping(market: Marketplace) -> None:
    market.seller("sel_a")
    shipping_profile("sel_a", GERMANY)
    status, created, _ = call(market.api, "PUT", f"/v1/cart/items/{market.product('sel_a', price=3_000)}",
                              {"quantity": 1})
    assert status == 200, created
    token = {"X-Cart-Token": created["cart_token"]}

    unknown = call(market.api, "GET", "/v1/cart", headers=token)[1]["pricing"]
    germany = call(market.api, "GET", "/v1/cart?country=DE", headers=token)[1]["pricing"]

    assert (unknown["shipping"], unknown["total"], unknown["sellers"][0]["shipping"]) == (eur(0), eur(3_000), None)
    assert (germany["shipping"], germany["total"]) == (eur(490), eur(3_490))


@pytest.mark.parametrize("free_shipping_at_b", [False, True])
def test_the_cart_with_a_code_promotions_and_shipping_stays_four_round_trips(
        market: Marketplace, round_trips: list[str], free_shipping_at_b: bool) -> None:
    buyer, _ = known_buyer()
    _sommer_cart(market, buyer, free_shipping_at_b=free_shipping_at_b)
    round_trips.clear()

    status, cart, _ = call(market.api, "GET", "/v1/cart", headers=buyer)

    assert status == 200, cart
    assert [notice["status"] for notice in cart["pricing"]["notices"]][:1] == ["applied"]
    assert round_trips == ["BatchGetItem",  # the cart and the user
                           "BatchGetItem",  # products, profiles, the default address
                           "BatchGetItem",  # sellers, fees, sales, the promotions' indexes, the code, customers
                           "BatchGetItem"]  # the promotions they name
