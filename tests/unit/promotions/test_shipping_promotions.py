"""Promotions and shipping together: the buyer pays the goods after every discount plus the
shipping after the shipping adjustments; the seller is credited goods, shipping and the
marketplace-funded part, is charged the fee on that and paid it less the fee; a refund gives
each part back in proportion; a free-shipping code makes a part's shipping 0."""

from __future__ import annotations

from typing import Any

from tests.support.builders import Marketplace
from tests.support.http import call
from tests.support.shipping import eur, shipping_profile


def _shoes(market: Marketplace, quantity: int, price: int) -> dict[str, str]:
    """sel_a (DE, 4.90 standard + 1.00 per extra item, free from 100.00) sells shoes."""
    market.seller("sel_a")
    shipping_profile("sel_a")
    shoe = market.product("sel_a", price=price, stock=10)
    buyer = market.buyer()
    market.add(buyer, shoe, quantity)
    return buyer


def _books(order_id: str) -> dict[str, int]:
    """Every ledger account the order's postings touch, with its balance (they sum to 0)."""
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings

    postings = order_postings(order_id)
    assert sum_by_currency(postings) == {"EUR": 0}
    balances: dict[str, int] = {}
    for entry in (entry for posting in postings for entry in posting.entries):
        balances[entry.account] = balances.get(entry.account, 0) + entry.amount.amount
    return balances


def test_shipping_and_a_marketplace_funded_discount_charge_pay_refund_and_balance(market: Marketplace) -> None:
    from chalicelib.fees.service import set_schedule
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings, seller_balance
    from chalicelib.payments import stripe_gateway
    from chalicelib.promotions import service

    set_schedule("default", {"percent_bp": 1_000, "fee_on_shipping": True})
    buyer = _shoes(market, 3, 3_000)
    service.create_promotion(None, {"name": "6 € off", "kind": "fixed_amount", "amount": 600, "currency": "EUR",
                                    "automatic": True, "priority": 20})

    status, placed, _ = market.checkout(buyer, payment_method_id="pm_card_visa")

    assert status == 201, placed
    order = placed["order"]
    # goods 90.00 - 6.00 = 84.00 (under the 100.00 threshold): shipping 4.90 + 2 x 1.00
    assert (order["discount"], order["shipping"], order["total"]) == (eur(600), eur(690), eur(8_400 + 690))
    assert market.payment_intent(placed["payment"]["payment_intent_id"])["amount"] == 9_090
    market.pay(placed)
    order_id = order["order_id"]
    part = market.order_of_seller("sel_a", order_id)
    # credited 84.00 + 6.90 + 6.00 (the marketplace's); fee 10 % of 90.00 goods and of 6.90 shipping
    assert (part["marketplace_discount"], part["fee"], part["shipping_fee"]) == (eur(600), eur(969), eur(69))
    [transfer] = stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
    assert transfer.amount == 9_090 + 600 - 969

    market.deliver_order("sel_a", order_id)
    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
                           {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "too small"},
                           headers=buyer)
    assert status == 200, body
    status, body = market.act("sel_a", order_id, "returns/approve", {"shipping": 345})
    market.events()

    assert status == 200, body
    intent = placed["payment"]["payment_intent_id"]
    assert [r.amount for r in stripe_gateway.client().v1.refunds.list({"payment_intent": intent}).data] == [
        2_800 + 345]
    [transfer] = stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
    # a third of the goods (28.00) and of the marketplace's 6.00 (2.00), less a third of the goods'
    # fee (3.00); half the shipping (3.45) less half its fee (0.35, half-up)
    assert transfer.amount_reversed == 2_800 + 200 - 300 + 345 - 35
    postings = order_postings(order_id)
    assert sum_by_currency(postings) == {"EUR": 0}
    assert sorted(e.amount.amount for p in postings for e in p.entries if e.account == "marketplace_discounts") == [
        -200, 600]
    assert seller_balance("sel_a", "EUR").owed.amount == 0
    books = _books(order_id)
    assert (books["buyer_charges"], books["refunds"], books["marketplace_discounts"]) == (0, 0, 400)


def test_marketplace_funded_free_shipping_pays_the_seller_the_shipping_and_a_cancellation_reverses_it(
        market: Marketplace) -> None:
    """The operator's free shipping: the buyer pays the goods only; the seller is credited the
    shipping from marketplace_discounts and pays the fee on it; cancelled before shipping,
    every account of the order is back at 0 and the promotion's budget gets the 5.90 back."""
    from chalicelib.fees.service import set_schedule
    from chalicelib.ledger.service import seller_balance
    from chalicelib.payments import stripe_gateway
    from chalicelib.promotions import service
    from chalicelib.promotions.models import Promotion

    set_schedule("default", {"percent_bp": 1_000, "fee_on_shipping": True})
    buyer = _shoes(market, 2, 2_000)
    promotion = service.create_promotion(None, {"name": "Free shipping", "kind": "free_shipping", "currency": "EUR",
                                                "automatic": True, "budget": 10_000})

    status, placed, _ = market.checkout(buyer, payment_method_id="pm_card_visa")

    assert status == 201, placed
    [part] = placed["order"]["sellers"]
    assert (part["shipping"]["price"], part["shipping"]["amount"], placed["order"]["total"]) == (
        eur(590), eur(0), eur(4_000))
    market.pay(placed)
    order_id = placed["order"]["order_id"]
    seen = market.order_of_seller("sel_a", order_id)
    # credited 40.00 + 5.90 (the marketplace's); fee 10 % of both
    assert (seen["marketplace_discount"], seen["fee"], seen["shipping_fee"]) == (eur(590), eur(459), eur(59))
    [transfer] = stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
    assert transfer.amount == 4_000 + 590 - 459
    books = _books(order_id)
    assert (books["marketplace_discounts"], books["platform_fees"], books["seller_payable:sel_a"]) == (
        590, -459, -(4_000 + 590 - 459))
    assert int(Promotion.get(promotion.PK, promotion.SK, consistent_read=True).discount_given) == 590

    status, body = market.act("sel_a", order_id, "cancel", {"reason": "out_of_stock"})
    market.events()

    assert status == 200, body
    [transfer] = stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
    assert transfer.amount_reversed == 4_000 + 590 - 459
    assert all(balance == 0 for balance in _books(order_id).values()), _books(order_id)
    assert seller_balance("sel_a", "EUR").owed.amount == 0
    stored = Promotion.get(promotion.PK, promotion.SK, consistent_read=True)
    assert (int(stored.discount_given), int(stored.uses)) == (0, 0)


def test_a_seller_funded_free_shipping_goes_back_to_its_budget_when_the_part_is_cancelled(
        market: Marketplace) -> None:
    from chalicelib.promotions.models import Promotion

    buyer = _shoes(market, 2, 2_000)
    promotion = _free_shipping_code("SHIPFREE", budget=5_000)
    status, placed, _ = market.checkout(buyer, promo_code="SHIPFREE", payment_method_id="pm_card_visa")
    assert status == 201, placed
    market.pay(placed)
    assert int(Promotion.get(promotion.PK, promotion.SK, consistent_read=True).discount_given) == 590

    status, body = market.act("sel_a", placed["order"]["order_id"], "cancel", {"reason": "out_of_stock"})
    market.events()

    assert status == 200, body
    assert int(Promotion.get(promotion.PK, promotion.SK, consistent_read=True).discount_given) == 0
    assert all(balance == 0 for balance in _books(placed["order"]["order_id"]).values())


def test_a_shipping_refund_reverses_the_shipping_adjustments_in_proportion() -> None:
    from chalicelib.orders.extensions import reversed_adjustments
    from chalicelib.orders.models import Refund, SubOrder

    taken = {"amount": 200, "source": "promotions", "label": "prm_1", "funding": {"seller_bp": 10_000}}
    sub = SubOrder(shipping={"amount": 400, "discount": 200, "adjustments": [taken]}, adjustments=[])
    refund = Refund(currency="EUR", lines=[{"line": 0, "shipping": True, "amount": 100, "line_total": 400,
                                            "refunded_before": 100, "fee": 0}])

    [back] = reversed_adjustments(sub, refund)["promotions"]

    assert (back.line, back.label, back.amount.amount) == (0, "prm_1", 50)  # a quarter of the 2.00 off


def _free_shipping_code(code: str, **fields: Any) -> Any:
    from chalicelib.promotions import service

    promotion = service.create_promotion("sel_a", {"name": "Free shipping", "kind": "free_shipping",
                                                   "currency": "EUR", "priority": 10, **fields})
    service.add_public_code("sel_a", promotion.promotion_id, code)
    return promotion


def test_a_free_shipping_code_makes_the_parts_shipping_zero_and_the_charge_drops_by_it(market: Marketplace) -> None:
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings
    from chalicelib.promotions.models import Promotion

    buyer = _shoes(market, 2, 2_000)
    promotion = _free_shipping_code("SHIPFREE")
    status, without, _ = market.checkout(buyer)
    assert status == 201, without
    assert without["order"]["total"] == eur(4_000 + 590)
    market.add(buyer, without["order"]["sellers"][0]["lines"][0]["product_id"], 2)

    status, placed, _ = market.checkout(buyer, promo_code="shipfree", payment_method_id="pm_card_visa")

    assert status == 201, placed
    [part] = placed["order"]["sellers"]
    assert (part["shipping"]["price"], part["shipping"]["discount"], part["shipping"]["amount"]) == (
        eur(590), eur(590), eur(0))
    assert placed["order"]["total"] == eur(4_000)
    assert market.payment_intent(placed["payment"]["payment_intent_id"])["amount"] == 4_000
    market.pay(placed)
    assert sum_by_currency(order_postings(placed["order"]["order_id"])) == {"EUR": 0}
    assert int(Promotion.get(promotion.PK, promotion.SK, consistent_read=True).uses) == 1
