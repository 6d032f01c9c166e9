"""Carts: current prices, guest tokens, stock limits, merging a guest cart after sign-in."""

from __future__ import annotations

from tests.support.auth import operator_headers, seller_headers
from tests.support.builders import Marketplace
from tests.support.http import call


def test_a_cart_shows_current_prices_and_totals(market: Marketplace) -> None:
    market.seller("sel_a")
    shoe = market.product("sel_a", price=5_000)
    buyer = market.buyer()
    market.add(buyer, shoe, 2)
    call(market.api, "PATCH", f"/v1/seller/products/{shoe}", {"price": {"amount": 4_500, "currency": "EUR"}},
         headers=seller_headers("sel_a"))

    status, cart, _ = call(market.api, "GET", "/v1/cart", headers=buyer)

    assert status == 200
    [line] = cart["lines"]
    assert (line["quantity"], line["unit_price"]["amount"], line["available"]) == (2, 4_500, True)
    assert cart["totals"] == [{"amount": 9_000, "currency": "EUR"}]


def test_more_than_in_stock_is_refused_with_what_is_available(market: Marketplace) -> None:
    market.seller("sel_a")
    product = market.product("sel_a", stock=3)

    status, body, _ = call(market.api, "PUT", f"/v1/cart/items/{product}", {"quantity": 4}, headers=market.buyer())

    assert (status, body["error"]["code"]) == (409, "insufficient_stock")
    assert body["error"]["details"]["products"][0]["available"] == 3


def test_unknown_products_and_bad_quantities_are_clear_errors(market: Marketplace) -> None:
    buyer = market.buyer()
    assert call(market.api, "PUT", "/v1/cart/items/prd_nothing", {"quantity": 1}, headers=buyer)[0] == 404
    status, body, _ = call(market.api, "PUT", "/v1/cart/items/prd_x", {"quantity": 0}, headers=buyer)
    assert (status, body["error"]["code"]) == (422, "validation_failed")
    status, body, _ = call(market.api, "GET", "/v1/cart", headers={"X-Cart-Token": "forged"})
    assert (status, body["error"]["code"]) == (422, "invalid_cart_token")


def test_a_guest_cart_lives_under_its_token_only(market: Marketplace) -> None:
    market.seller("sel_a")
    product = market.product("sel_a")
    status, created, _ = call(market.api, "PUT", f"/v1/cart/items/{product}", {"quantity": 2})
    assert status == 200
    token = created["cart_token"]

    again = call(market.api, "GET", "/v1/cart", headers={"X-Cart-Token": token})[1]
    stranger = call(market.api, "GET", "/v1/cart")[1]

    assert [(line["product_id"], line["quantity"]) for line in again["lines"]] == [(product, 2)]
    assert again["cart_token"] is None  # shown once, when the cart is created
    assert stranger["lines"] == []


def test_a_guest_cart_merges_into_the_buyers_cart_after_sign_in(market: Marketplace) -> None:
    market.seller("sel_a")
    shared, only_guest = market.product("sel_a"), market.product("sel_a")
    token = call(market.api, "PUT", f"/v1/cart/items/{shared}", {"quantity": 2})[1]["cart_token"]
    call(market.api, "PUT", f"/v1/cart/items/{only_guest}", {"quantity": 1}, headers={"X-Cart-Token": token})
    buyer = market.buyer()
    market.add(buyer, shared, 3)

    status, merged, _ = call(market.api, "POST", "/v1/cart/merge", {}, headers={**buyer, "X-Cart-Token": token})

    assert status == 200
    assert {line["product_id"]: line["quantity"] for line in merged["lines"]} == {shared: 5, only_guest: 1}
    assert call(market.api, "GET", "/v1/cart", headers={"X-Cart-Token": token})[1]["lines"] == []


def test_a_members_only_marketplace_refuses_guest_carts_but_serves_buyers(market: Marketplace) -> None:
    market.seller("sel_a")
    product = market.product("sel_a")
    status, body, _ = call(market.api, "PUT", "/v1/admin/settings",
                           {"seller_access": "open", "buyer_access": "members_only"}, headers=operator_headers())
    assert status == 200, body

    status, body, _ = call(market.api, "PUT", f"/v1/cart/items/{product}", {"quantity": 1})
    assert (status, body["error"]["code"]) == (401, "members_only")
    status, body, _ = call(market.api, "POST", "/v1/checkout", {"email": "guest@example.com"},
                           headers={"Idempotency-Key": "members-only-guest"})
    assert (status, body["error"]["code"]) == (401, "members_only")
    assert market.add(market.buyer(), product, 1)["lines"][0]["quantity"] == 1


def test_buyers_cart_changes_of_a_day_are_found_across_the_days_shards(market: Marketplace) -> None:
    """What the abandoned-cart sweep to come will read: every shard of the day's bucket."""
    from chalicelib.core import clock
    from chalicelib.core.db import query_shards
    from chalicelib.core.keys import carts_changed_key, carts_changed_keys
    from chalicelib.orders.models import Cart
    from tests.support.builders import user_of

    market.seller("sel_a")
    product = market.product("sel_a")
    buyers = [market.buyer() for _ in range(3)]
    for buyer in buyers:
        market.add(buyer, product)
    day = clock.stamp()[:10]

    changed = query_shards(Cart.by_change_day.query, carts_changed_keys(day), order_by=lambda cart: cart.GSI3SK)

    assert [cart.user_id for cart in changed] == [user_of(buyer) for buyer in buyers]
    assert [cart.GSI3PK for cart in changed] == [carts_changed_key(day, user_of(buyer)) for buyer in buyers]
