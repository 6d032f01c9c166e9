"""The cart shows each seller part's shipping: options to the destination, undeliverable
products and the amount left to free shipping."""

from __future__ import annotations

import pytest

from tests.support.builders import Marketplace, known_buyer
from tests.support.http import call
from tests.support.shipping import GERMANY, eur, name_profile, shipping_profile, two_profiles_a_seller

AUSTRIA = {"countries": ["AT"], "standard": eur(990), "free_shipping_threshold": eur(8_000)}


def test_a_signed_in_buyer_sees_shipping_to_the_default_address_and_the_amount_left_to_free_shipping(
        market: Marketplace) -> None:
    market.seller("sel_a")
    market.seller("sel_b")
    shipping_profile("sel_a", GERMANY, AUSTRIA, handling_days=2)
    shipping_profile("sel_b", {**GERMANY, "free_shipping_threshold": eur(3_000)})
    buyer, _ = known_buyer()  # default shipping address in DE
    market.add(buyer, market.product("sel_a", price=2_000), 2)
    market.add(buyer, market.product("sel_b", price=4_000))

    status, cart, _ = call(market.api, "GET", "/v1/cart", headers=buyer)

    assert status == 200, cart
    parts = {part["seller_id"]: part["shipping"] for part in cart["parts"]}
    assert parts["sel_a"] == {
        "country": "DE", "undeliverable": [],
        "options": [{"option": "standard", "price": eur(590), "handling_days": 2, "delivery_days_min": 2,
                     "delivery_days_max": 3},
                    {"option": "express", "price": eur(1_090), "handling_days": 2, "delivery_days_min": 1,
                     "delivery_days_max": 1}],
        "free_shipping": [{"threshold": eur(10_000), "amount_left": eur(6_000)}]}
    assert parts["sel_b"]["options"][0]["price"] == eur(0)  # reached: 40.00 of 30.00
    assert parts["sel_b"]["free_shipping"] == [{"threshold": eur(3_000), "amount_left": eur(0)}]
    assert cart["totals"] == [eur(8_000)]  # goods only


def test_a_guest_names_the_country_and_sees_what_cannot_go_there(market: Marketplace) -> None:
    market.seller("sel_a")
    shipping_profile("sel_a", GERMANY)
    austria_too = shipping_profile("sel_a", GERMANY, AUSTRIA)
    shoe, coat = market.product("sel_a"), market.product("sel_a")
    name_profile(market, "sel_a", coat, austria_too)
    status, created, _ = call(market.api, "PUT", f"/v1/cart/items/{shoe}?country=AT", {"quantity": 1})
    assert status == 200, created
    token = {"X-Cart-Token": created["cart_token"]}
    assert created["parts"][0]["shipping"]["country"] == "AT"
    call(market.api, "PUT", f"/v1/cart/items/{coat}", {"quantity": 1}, headers=token)

    unknown = call(market.api, "GET", "/v1/cart", headers=token)[1]
    austria = call(market.api, "GET", "/v1/cart?country=AT", headers=token)[1]
    germany = call(market.api, "GET", "/v1/cart?country=DE", headers=token)[1]

    assert unknown["parts"] == [{"seller_id": "sel_a", "shipping": {"country": None, "options": [],
                                                                     "undeliverable": [], "free_shipping": []}}]
    assert austria["parts"][0]["shipping"]["undeliverable"] == [shoe]
    assert austria["parts"][0]["shipping"]["options"] == []
    # two profiles, each its own group: 4.90 + 4.90
    assert [o["price"] for o in germany["parts"][0]["shipping"]["options"]] == [eur(980), eur(1_980)]


def test_a_country_that_is_not_one_is_a_422(market: Marketplace) -> None:
    status, body, _ = call(market.api, "GET", "/v1/cart?country=XX")
    assert status == 422, body


@pytest.mark.parametrize("sellers", [1, 4])
def test_the_carts_round_trips_stay_three_whatever_its_sellers_and_profiles(
        market: Marketplace, round_trips: list[str], sellers: int) -> None:
    buyer, _ = known_buyer()
    two_profiles_a_seller(market, buyer, sellers)
    round_trips.clear()

    status, cart, _ = call(market.api, "GET", "/v1/cart", headers=buyer)

    assert status == 200, cart
    assert [part["shipping"]["options"][0]["price"] for part in cart["parts"]] == [eur(490 + 1_990)] * sellers
    assert round_trips == ["BatchGetItem",  # the cart and the user
                           "BatchGetItem",  # products, profiles, the default address
                           "BatchGetItem"]  # the pricing: sellers, fees, sales, the contributors' keys
