"""The support code builds what it claims to: orders in each state as buyer and seller see
them, a seller's product on sale, a signed-in buyer's saved card."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.builders import ORDER_STATES, Marketplace, register, seller_with_product
from tests.support.http import call

# (the seller's part's status, its payment status)
SEEN_AS = {
    "pending_payment": ("pending_payment", "pending"),
    "paid": ("paid", "paid"),
    "shipped": ("shipped", "paid"),
    "delivered": ("delivered", "paid"),
    "cancelled": ("cancelled", "cancelled"),
    "refunded": ("refunded", "refunded"),
}


def test_every_order_state_has_a_builder() -> None:
    assert set(SEEN_AS) == set(ORDER_STATES)


@pytest.mark.parametrize("state", ORDER_STATES)
def test_an_order_built_in_a_state_is_in_that_state_for_buyer_and_seller(market: Marketplace, state: str) -> None:
    built = market.order_in_state(state, price=2_500, quantity=2)

    order_id = built["order"]["order_id"]
    [part] = built["order"]["sellers"]
    assert (part["status"], part["payment_status"]) == SEEN_AS[state]
    seller_view = market.order_of_seller("sel_a", order_id)
    assert (seller_view["status"], seller_view["payment_status"]) == SEEN_AS[state]
    assert built["order"]["total"]["amount"] == 5_000


def test_a_seller_with_a_product_offers_it_to_buyers(api: Any) -> None:
    product = seller_with_product(api, "sel_wool", title="Wool socks", price=4_999)

    status, page, _ = call(api, "GET", f"/v1/products/{product['product_id']}")

    assert (status, page["title"], page["price"]["amount"], page["seller_id"]) == (200, "Wool socks", 4_999, "sel_wool")


def test_a_buyer_built_with_a_card_is_signed_in_and_has_it_saved(api: Any, fake_stripe: str) -> None:
    anna = register(api, card_at=fake_stripe)

    status, cards, _ = call(api, "GET", "/v1/me/payment-methods", headers=anna.headers)

    assert status == 200, cards
    assert [c["payment_method_id"] for c in cards["items"]] == [anna.card]
