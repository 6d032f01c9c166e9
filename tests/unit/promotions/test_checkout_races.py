"""Promotion limits raced through the real checkout (moto in-process, parallel threads):
no number of simultaneous checkouts exceeds a single-use code, a budget or a per-buyer limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.core.errors import AgoraError
from tests.support.builders import ADDRESS, Marketplace, user_of


def _checkout(user_id: str | None, key: str, code: str | None, *, token: str | None = None,
              email: str | None = None) -> Any:
    from chalicelib.orders.cart import cart_ref
    from chalicelib.orders.checkout import CheckoutInput, checkout

    body = {"shipping_address": ADDRESS, "promo_code": code, "email": email}
    try:
        return checkout(cart_ref(user_id, token), key, CheckoutInput(
            shipping_address=dict(ADDRESS), promo_code=code, email=email, raw=body))
    except AgoraError as error:
        return error


def _race(count: int, one: Any) -> list[Any]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def _reread(promotion: Any) -> Any:
    from chalicelib.promotions.models import Promotion

    return Promotion.get(promotion.PK, promotion.SK, consistent_read=True)


def _buyers(market: Marketplace, count: int, product: str) -> list[str]:
    buyers = [market.buyer() for _ in range(count)]
    for buyer in buyers:
        market.add(buyer, product)
    return [user_of(buyer) for buyer in buyers]


def test_a_single_use_code_raced_by_ten_checkouts_is_used_exactly_once(market: Marketplace) -> None:
    from chalicelib.promotions import service
    from chalicelib.promotions.models import PromoCode

    market.seller("sel_a")
    product = market.product("sel_a", price=2_000, stock=50)
    promotion = service.create_promotion("sel_a", {"name": "Once", "kind": "fixed_amount", "amount": 500,
                                                   "currency": "EUR"})
    code = service.generate_codes("sel_a", promotion.promotion_id, 1)[0]
    users = _buyers(market, 10, product)

    results = _race(10, lambda n: _checkout(users[n], f"race-code-{n}", code.code))

    placed = [r for r in results if not isinstance(r, AgoraError)]
    assert len(placed) == 1, results
    assert {r.code for r in results if isinstance(r, AgoraError)} <= {"promo_code_used", "promo_code_invalid"}
    assert PromoCode.get(code.PK, code.SK, consistent_read=True).used_by_order == placed[0].order.order_id
    assert int(_reread(promotion).uses) == 1


def test_a_budget_of_one_hundred_euros_raced_by_twenty_checkouts_is_never_exceeded(market: Marketplace) -> None:
    from chalicelib.promotions import service

    market.seller("sel_a")
    product = market.product("sel_a", price=10_000, stock=50)
    promotion = service.create_promotion(None, {"name": "Budget", "kind": "fixed_amount", "amount": 3_000,
                                                "currency": "EUR", "automatic": True, "budget": 10_000})
    users = _buyers(market, 20, product)

    results = _race(20, lambda n: _checkout(users[n], f"race-budget-{n}", None))

    given = sum(int(r.order.discount) for r in results if not isinstance(r, AgoraError))
    assert given <= 10_000
    assert int(_reread(promotion).discount_given) == given
    assert {r.code for r in results if isinstance(r, AgoraError)} <= {"promotion_limit_reached",
                                                                      "checkout_contention"}


def test_a_per_buyer_limit_of_one_holds_for_one_buyers_parallel_checkouts(market: Marketplace) -> None:
    from chalicelib.promotions import service

    market.seller("sel_a")
    products = [market.product("sel_a", price=2_000, stock=50) for _ in range(5)]
    promotion = service.create_promotion("sel_a", {"name": "Once each", "kind": "fixed_amount", "amount": 500,
                                                   "currency": "EUR", "max_uses_per_buyer": 1})
    service.add_public_code("sel_a", promotion.promotion_id, "ONCEEACH")
    buyer = market.buyer()
    market.add(buyer, products[0])
    user_id = user_of(buyer)

    # five checkouts of the same cart with five keys at once
    results = _race(5, lambda n: _checkout(user_id, f"race-buyer-{n}", "ONCEEACH"))

    placed = [r for r in results if not isinstance(r, AgoraError)]
    discounted = [r for r in placed if int(r.order.discount)]
    assert len(discounted) == 1, results
    assert int(_reread(promotion).uses) == 1

    # and the buyer's next cart is told the code is used up, before anything is written
    market.add(buyer, products[1])
    again = _checkout(user_id, "race-buyer-again", "ONCEEACH")
    assert isinstance(again, AgoraError) and again.code == "promo_code_invalid"
    assert again.details[0]["reason"] == "usage_limit_reached"


def test_a_per_buyer_limit_of_one_holds_for_a_guest_using_the_same_email_twice(market: Marketplace) -> None:
    from chalicelib.promotions import service
    from tests.support.http import call

    market.seller("sel_a")
    product = market.product("sel_a", price=2_000, stock=50)
    promotion = service.create_promotion("sel_a", {"name": "Once each", "kind": "fixed_amount", "amount": 500,
                                                   "currency": "EUR", "max_uses_per_buyer": 1})
    service.add_public_code("sel_a", promotion.promotion_id, "GASTEINMAL")
    tokens = []
    for _ in range(4):
        _, cart, _ = call(market.api, "PUT", f"/v1/cart/items/{product}", {"quantity": 1})
        tokens.append(cart["cart_token"])

    emails = ["gast@example.com", "Gast@Example.com ", "GAST@example.com", "gast@EXAMPLE.com"]
    results = _race(4, lambda n: _checkout(None, f"race-guest-{n}", "GASTEINMAL", token=tokens[n], email=emails[n]))

    codes = [r.code if isinstance(r, AgoraError) else int(r.order.discount) for r in results]
    assert sum(1 for c in codes if c == 500) == 1, codes
    assert all(c in (500, "promotion_limit_reached", "promo_code_invalid") for c in codes), codes
    assert int(_reread(promotion).uses) == 1
