"""A promotion's ``loyalty_tier`` condition, evaluated at checkout and in the cart from the
buyer's membership read with the checkout's own items."""

from __future__ import annotations

from typing import Any

from tests.support.auth import operator_headers
from tests.support.builders import Marketplace, user_of
from tests.support.http import call

TIERS = [{"name": "Silver", "threshold": 100}, {"name": "Gold", "threshold": 1_000}]


def _member_with(market: Marketplace, points: int) -> dict[str, str]:
    buyer = market.buyer()
    status, body, _ = call(market.api, "POST", "/v1/admin/loyalty/adjustments",
                           {"user_id": user_of(buyer), "points": points, "reason": "welcome"},
                           headers=operator_headers())
    assert status == 201, body
    return buyer


def test_a_gold_only_promotion_applies_for_a_gold_buyer_and_not_for_a_silver_one(market: Marketplace) -> None:
    from chalicelib.loyalty.tiers import tier_of
    from chalicelib.promotions import service

    status, body, _ = call(market.api, "PUT", "/v1/admin/loyalty/programme",
                           {"enabled": True, "currency": "EUR", "tiers": TIERS}, headers=operator_headers())
    assert status == 200, body
    gold, silver = _member_with(market, 1_000), _member_with(market, 200)
    assert (tier_of(user_of(gold)), tier_of(user_of(silver))) == ("Gold", "Silver")
    service.create_promotion(None, {"name": "Gold €5", "kind": "fixed_amount", "amount": 500, "currency": "EUR",
                                    "automatic": True, "loyalty_tier": "Gold"})
    market.seller("sel_a")
    shoe = market.product("sel_a", price=4_000)

    discounts: dict[str, Any] = {}
    for name, buyer in (("gold", gold), ("silver", silver)):
        market.add(buyer, shoe)
        status, cart, _ = call(market.api, "GET", "/v1/cart", headers=buyer)
        assert status == 200, cart
        status, placed, _ = market.checkout(buyer)
        assert status == 201, placed
        discounts[name] = (cart["pricing"]["discount"]["amount"], placed["order"]["discount"]["amount"])

    assert discounts == {"gold": (500, 500), "silver": (0, 0)}
