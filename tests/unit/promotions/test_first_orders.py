""""First order with the marketplace" across every seller: the buyer's first paid order is
marked on ``order.paid`` under the account and the normalised email, and checkout reads the
marks with its other keys."""

from __future__ import annotations

from typing import Any

from tests.support.builders import ADDRESS, Marketplace
from tests.support.http import call


def _welcome_code() -> Any:
    """The operator's 10 % off a first order with the marketplace, as a code."""
    from chalicelib.promotions import service

    promotion = service.create_promotion(None, {"name": "Welcome", "kind": "percentage", "percent_bp": 1_000,
                                                "currency": "EUR", "first_order": "marketplace"})
    service.add_public_code(None, promotion.promotion_id, "WELCOME")
    return promotion


def _guest_cart(market: Marketplace, product_id: str) -> dict[str, str]:
    _, cart, _ = call(market.api, "PUT", f"/v1/cart/items/{product_id}", {"quantity": 1})
    return {"X-Cart-Token": cart["cart_token"]}


def test_a_buyer_who_paid_an_order_with_another_seller_is_no_first_time_buyer(market: Marketplace) -> None:
    market.seller("sel_a")
    market.seller("sel_b")
    book = market.product("sel_b", price=2_000, category="books/fiction")
    shoe = market.product("sel_a", price=5_000)
    _welcome_code()
    buyer, newcomer = market.buyer(), market.buyer()
    market.add(buyer, book)
    status, placed, _ = market.checkout(buyer, payment_method_id="pm_card_visa")
    assert status == 201, placed
    market.pay(placed)
    market.add(buyer, shoe)  # sel_a has never sold to this buyer
    market.add(newcomer, shoe)

    status, body, _ = market.checkout(buyer, promo_code="WELCOME")
    first, welcomed, _ = market.checkout(newcomer, promo_code="WELCOME")

    assert status == 422, body
    assert body["error"]["details"][0]["reason"] == "first_order_only"
    assert first == 201, welcomed
    assert welcomed["order"]["discount"]["amount"] == 500


def test_a_guest_is_known_by_the_email_after_a_paid_order_whatever_its_case(market: Marketplace) -> None:
    market.seller("sel_a")
    market.seller("sel_b")
    book = market.product("sel_b", price=2_000, category="books/fiction")
    shoe = market.product("sel_a", price=5_000)
    _welcome_code()
    status, placed, _ = market.checkout(_guest_cart(market, book), email="gast@example.com",
                                        payment_method_id="pm_card_visa", shipping_address=ADDRESS)
    assert status == 201, placed
    market.pay(placed)

    status, body, _ = market.checkout(_guest_cart(market, shoe), email=" Gast@Example.COM ", promo_code="WELCOME",
                                      shipping_address=ADDRESS)
    newcomer, welcomed, _ = market.checkout(_guest_cart(market, shoe), email="neu@example.com", promo_code="WELCOME",
                                            shipping_address=ADDRESS)

    assert status == 422, body
    assert body["error"]["details"][0]["reason"] == "first_order_only"
    assert newcomer == 201, welcomed
    assert welcomed["order"]["discount"]["amount"] == 500


def test_the_mark_keeps_the_first_order_when_later_ones_are_paid_or_the_event_comes_again(
        market: Marketplace) -> None:
    from chalicelib.accounts.models import FirstPaidOrder
    from chalicelib.core.keys import FIRST_ORDER_SK, first_order_key
    from chalicelib.orders.events import OrderPaid
    from chalicelib.orders.first_orders import record_first_order
    from tests.support.builders import user_of

    first = market.paid_order(sellers=("sel_a",))
    buyer = first["buyer"]
    user_id = user_of(buyer)
    record_first_order(OrderPaid(order_id=first["order"]["order_id"], user_id=user_id,
                                 paid_at="2099-01-01T00:00:00+00:00", sellers=[]))

    marker = FirstPaidOrder.get(first_order_key(user_id), FIRST_ORDER_SK, consistent_read=True)
    assert marker.order_id == first["order"]["order_id"]
    assert marker.paid_at != "2099-01-01T00:00:00+00:00"



def test_an_erased_account_leaves_no_mark_under_its_email(market: Marketplace) -> None:
    from chalicelib.accounts.models import FirstPaidOrder
    from chalicelib.accounts.service import get_user
    from chalicelib.core.keys import first_order_key
    from tests.support.builders import user_of

    placed = market.paid_order(sellers=("sel_a",))
    user_id = user_of(placed["buyer"])
    email_mark = (first_order_key(get_user(user_id).email.lower()),)
    assert FirstPaidOrder.count(email_mark[0]) == 1

    assert call(market.api, "DELETE", "/v1/me", headers=placed["buyer"])[0] in (200, 204)
    market.events()

    assert FirstPaidOrder.count(email_mark[0]) == 0
    assert FirstPaidOrder.count(first_order_key(user_id)) == 1  # the account's names no one
