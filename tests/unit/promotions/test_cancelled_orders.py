"""A paid order cancelled seller by seller before anything shipped gives its promotion's use,
the buyer's use and its single-use code back, once, with its last part; a partly shipped
order keeps them."""

from __future__ import annotations

from typing import Any

from tests.support.builders import Marketplace, user_of


def _paid_with_a_code(market: Marketplace) -> tuple[Any, Any, str, str]:
    """An order from sel_a and sel_b with the operator's single-use 10 % code (one use a buyer), paid."""
    from chalicelib.promotions import service

    promotion = service.create_promotion(None, {"name": "Once", "kind": "percentage", "percent_bp": 1_000,
                                                "currency": "EUR", "max_uses_per_buyer": 1})
    [code] = service.generate_codes(None, promotion.promotion_id, 1)
    market.seller("sel_a")
    market.seller("sel_b")
    buyer = market.buyer()
    market.add(buyer, market.product("sel_a", price=4_000))
    market.add(buyer, market.product("sel_b", price=2_000, category="books/fiction"))
    status, placed, _ = market.checkout(buyer, promo_code=code.code, payment_method_id="pm_card_visa")
    assert status == 201, placed
    assert placed["order"]["discount"]["amount"] == 600
    market.pay(placed)
    return promotion, code, placed["order"]["order_id"], user_of(buyer)


def _taken(promotion: Any, code: Any, buyer: str) -> tuple[int, int, int, str | None]:
    """The promotion's uses and discount given, the buyer's uses, the order that used the code."""
    from chalicelib.core.keys import PROMO_USE_SK, promo_use_key
    from chalicelib.promotions.models import PromoCode, Promotion, PromoUse

    stored = Promotion.get(promotion.PK, promotion.SK, consistent_read=True)
    use = PromoUse.get(promo_use_key(promotion.promotion_id, buyer), PROMO_USE_SK, consistent_read=True)
    return (int(stored.uses), int(stored.discount_given), int(use.uses),
            PromoCode.get(code.PK, code.SK, consistent_read=True).used_by_order)


def _cancel(market: Marketplace, seller_id: str, order_id: str) -> None:
    status, body = market.act(seller_id, order_id, "cancel", {"reason": "out_of_stock"})
    assert status == 200, body
    market.events()


def test_the_last_part_cancelled_gives_the_use_back_once(market: Marketplace) -> None:
    from chalicelib.orders.events import OrderStatusChanged
    from chalicelib.promotions.checkout import give_use_back_when_cancelled

    promotion, code, order_id, buyer = _paid_with_a_code(market)
    _cancel(market, "sel_a", order_id)
    assert _taken(promotion, code, buyer) == (1, 600 - 400, 1, order_id)  # sel_a's 4.00 back to the budget

    _cancel(market, "sel_b", order_id)
    assert _taken(promotion, code, buyer) == (0, 0, 0, None)

    again = OrderStatusChanged.model_validate({"order_id": order_id, "seller_id": "sel_b", "user_id": buyer,
                                               "from": "paid", "to": "cancelled", "at": "2026-12-01T10:00:00Z"})
    assert give_use_back_when_cancelled(again) is False  # the event delivered again
    assert _taken(promotion, code, buyer) == (0, 0, 0, None)


def test_a_partly_shipped_order_keeps_the_use(market: Marketplace) -> None:
    promotion, code, order_id, buyer = _paid_with_a_code(market)
    for action, body in (("accept", None), ("ship", {"carrier": "DHL", "tracking_number": "JJD0001"})):
        status, answer = market.act("sel_a", order_id, action, body)
        assert status == 200, answer

    _cancel(market, "sel_b", order_id)

    assert _taken(promotion, code, buyer) == (1, 600 - 200, 1, order_id)
