"""The checkout's one TransactWriteItems stays within DynamoDB's 100 items in the worst case
promotions allow: the most sellers and lines an order takes, every owner at its limit of
active automatic promotions, each with a per-buyer limit, and a single-use code."""

from __future__ import annotations

from tests.support.builders import Marketplace

SELLERS = 8  # checkout.MAX_SELLERS
LINES = 50  # a cart's most


def test_the_worst_case_allowed_checks_out_within_one_transaction(market: Marketplace) -> None:
    from chalicelib.core.keys import PROMO_ORDER_SK, promo_order_key
    from chalicelib.orders.checkout import MAX_SELLERS
    from chalicelib.promotions import service
    from chalicelib.promotions.checkout import TRANSACTION_ITEMS
    from chalicelib.promotions.engine import AUTOMATIC_PER_ORDER
    from chalicelib.promotions.models import AUTOMATIC_PER_OWNER, PromoRedemption

    assert MAX_SELLERS == SELLERS
    buyer = market.buyer()
    sellers = [market.seller(f"sel_{n}") for n in range(SELLERS)]
    for number in range(LINES):
        market.add(buyer, market.product(sellers[number % SELLERS], price=10_000, stock=5))
    for owner in [None, *sellers]:
        for _ in range(AUTOMATIC_PER_OWNER):
            service.create_promotion(owner, {"name": "1 %", "kind": "percentage", "percent_bp": 100,
                                             "currency": "EUR", "automatic": True, "max_uses_per_buyer": 1})
    code = service.create_promotion(None, {"name": "Once", "kind": "fixed_amount", "amount": 500,
                                           "currency": "EUR", "max_uses_per_buyer": 1})
    [single_use] = service.generate_codes(None, code.promotion_id, 1)

    status, body, _ = market.checkout(buyer, promo_code=single_use.code)

    assert status == 201, body
    taken = PromoRedemption.get(promo_order_key(body["order"]["order_id"]), PROMO_ORDER_SK).uses
    assert len(taken) == AUTOMATIC_PER_ORDER + 1  # the first automatic ones, and the code's
    assert code.promotion_id in {promotion_id for _, promotion_id, _, _ in taken}
    # each promotion and the buyer's count of it, the code, the redemption
    assert 2 * len(taken) + 2 == TRANSACTION_ITEMS
