"""Checkouts racing each other: never oversold, and one key makes one order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.core.errors import AgoraError
from tests.support.builders import ADDRESS, Marketplace, stock_of, user_of


def _checkout(user_id: str, key: str) -> Any:
    from chalicelib.orders.cart import cart_ref
    from chalicelib.orders.checkout import CheckoutInput, checkout

    body = {"shipping_address": ADDRESS}
    try:
        return checkout(cart_ref(user_id, None), key, CheckoutInput(shipping_address=dict(ADDRESS), raw=body))
    except AgoraError as error:
        return error


def test_twenty_parallel_checkouts_for_five_in_stock_sell_exactly_five(market: Marketplace) -> None:
    market.seller("sel_a")
    product = market.product("sel_a", stock=5)
    buyers = [market.buyer() for _ in range(20)]
    for buyer in buyers:
        market.add(buyer, product, 1)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda b: _checkout(user_of(b), "parallel-checkout"), buyers))

    placed = [r for r in results if not isinstance(r, AgoraError)]
    refused = [r for r in results if isinstance(r, AgoraError)]
    assert len(placed) == 5
    assert {r.code for r in refused} == {"insufficient_stock"}
    assert stock_of(market.api, "sel_a", product) == 0


def test_one_key_sent_three_times_at_once_makes_one_order_and_one_payment(market: Marketplace) -> None:
    from chalicelib.core.keys import user_key
    from chalicelib.orders.models import Order

    market.seller("sel_a")
    product = market.product("sel_a", stock=5)
    buyer = market.buyer()
    market.add(buyer, product, 2)
    user_id = user_of(buyer)

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: _checkout(user_id, "same-key-thrice"), range(3)))

    assert not [r for r in results if isinstance(r, AgoraError)], results
    assert len({r.order.order_id for r in results}) == 1
    assert len({r.order.payment_intent_id or Order.get(r.order.PK, r.order.SK).payment_intent_id
                for r in results}) == 1
    assert len(list(Order.query(user_key(user_id), Order.SK.startswith("ORDER#")))) == 1
    assert stock_of(market.api, "sel_a", product) == 3
