"""Promotions through checkout: the documented order, who funds what (the PaymentIntent, each
seller's transfer and the ledger), a code re-checked at checkout, and what cancellations
and refunds give back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.support.builders import Marketplace, stock_of, user_of
from tests.support.http import call


def _seller_code(seller_id: str, code: str, **fields: Any) -> Any:
    from chalicelib.promotions import service

    promotion = service.create_promotion(seller_id, {"name": "Sommer", "kind": "percentage", "percent_bp": 1_000,
                                                     "currency": "EUR", "priority": 10, **fields})
    service.add_public_code(seller_id, promotion.promotion_id, code)
    return promotion


def _marketplace_five_off(**fields: Any) -> Any:
    from chalicelib.promotions import service

    return service.create_promotion(None, {"name": "5 € off", "kind": "fixed_amount", "amount": 500,
                                           "currency": "EUR", "automatic": True, "priority": 20, **fields})


def _reread(promotion: Any) -> Any:
    from chalicelib.promotions.models import Promotion

    return Promotion.get(promotion.PK, promotion.SK, consistent_read=True)


def _two_seller_cart(market: Marketplace) -> tuple[dict[str, str], str, str]:
    market.seller("sel_a")
    market.seller("sel_b")
    shoe = market.product("sel_a", price=10_000)
    book = market.product("sel_b", price=5_000, category="books/fiction")
    buyer = market.buyer()
    market.add(buyer, shoe)
    market.add(buyer, book)
    return buyer, shoe, book


def test_the_worked_example_charges_pays_and_books_who_funds_what(market: Marketplace) -> None:
    """sel_a's 10 % code first (priority 10), then the marketplace's automatic €5 (priority
    20) on the prices after it, allocated by largest remainder."""
    from chalicelib.core.keys import order_sk, seller_key
    from chalicelib.fees.service import set_schedule
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings
    from chalicelib.orders.models import SubOrder

    set_schedule("default", {"percent_bp": 1_000})
    buyer, _, _ = _two_seller_cart(market)
    code_promotion = _seller_code("sel_a", "SOMMER10")
    five_off = _marketplace_five_off()

    status, body, _ = market.checkout(buyer, promo_code="sommer10", payment_method_id="pm_card_visa")

    assert status == 201, body
    order = body["order"]
    parts = {part["seller_id"]: part for part in order["sellers"]}
    # shoe 100.00 - 10.00 (code) = 90.00; €5 split 90:50 -> 3.21 / 1.79 (largest remainder)
    assert parts["sel_a"]["discount"]["amount"] == 1_000 + 321
    assert parts["sel_b"]["discount"]["amount"] == 179
    assert order["total"]["amount"] == 15_000 - 1_500
    assert market.payment_intent(body["payment"]["payment_intent_id"])["amount"] == 13_500

    market.pay(body)

    subs = {sid: SubOrder.get(seller_key(sid), order_sk(order["order_id"]), consistent_read=True)
            for sid in ("sel_a", "sel_b")}
    # each seller is paid as if the marketplace's €5 were not there, less the fee on that
    assert int(subs["sel_a"].marketplace_discount) == 321 and int(subs["sel_b"].marketplace_discount) == 179
    # the fee (10 %) is on what the seller is credited: 90.00 and 50.00
    assert (int(subs["sel_a"].fee), int(subs["sel_a"].transferred)) == (900, 8_679 + 321 - 900)
    assert (int(subs["sel_b"].fee), int(subs["sel_b"].transferred)) == (500, 4_500)
    part = market.order_of_seller("sel_a", order["order_id"])
    assert (part["discount"]["amount"], part["marketplace_discount"]["amount"]) == (1_321, 321)
    assert (part["fee"]["amount"], part["transferred"]["amount"]) == (900, 8_100)
    postings = order_postings(order["order_id"])
    entries = [(entry.account, entry.amount.amount) for posting in postings for entry in posting.entries]
    assert sum(amount for account, amount in entries if account == "marketplace_discounts") == 500
    assert sum(amount for account, amount in entries if account == "stripe_clearing" and amount > 0) == 13_500
    assert all(total == 0 for total in sum_by_currency(postings).values())
    assert int(_reread(code_promotion).discount_given) == 1_000 and int(_reread(five_off).discount_given) == 500
    assert int(_reread(five_off).uses) == 1
    assert (int(_reread(five_off).orders), int(_reread(five_off).revenue)) == (1, 13_500)


def test_a_code_that_does_not_apply_at_checkout_is_a_422_with_its_reason_and_writes_nothing(
        market: Marketplace) -> None:
    market.seller("sel_a")
    shoe = market.product("sel_a", price=2_000, stock=4)
    buyer = market.buyer()
    market.add(buyer, shoe)
    _seller_code("sel_a", "AB100", minimum=5_000)

    status, body, _ = market.checkout(buyer, promo_code="AB100")
    unknown, other, _ = market.checkout(buyer, promo_code="NOSUCHCODE")

    assert status == 422
    assert body["error"]["code"] == "promo_code_invalid"
    problem = body["error"]["details"][0]
    assert problem["reason"] == "minimum_not_reached" and problem["missing"] == {"amount": 3_000, "currency": "EUR"}
    assert unknown == 422 and other["error"]["details"][0]["reason"] == "code_unknown"
    assert stock_of(market.api, "sel_a", shoe) == 4


def test_a_cancelled_unpaid_order_gives_the_single_use_code_and_its_uses_back(market: Marketplace) -> None:
    from chalicelib.promotions import service
    from chalicelib.promotions.models import PromoCode

    market.seller("sel_a")
    shoe = market.product("sel_a", price=4_000)
    promotion = service.create_promotion("sel_a", {"name": "Once", "kind": "fixed_amount", "amount": 1_000,
                                                   "currency": "EUR", "max_uses_per_buyer": 1})
    code = service.generate_codes("sel_a", promotion.promotion_id, 1)[0]
    buyer = market.buyer()
    market.add(buyer, shoe)
    status, body, _ = market.checkout(buyer, promo_code=code.code)
    assert status == 201, body
    assert int(_reread(promotion).uses) == 1

    status, cancelled, _ = call(market.api, "POST", f"/v1/me/orders/{body['order']['order_id']}/cancel", {},
                                headers=buyer)

    assert status == 200, cancelled
    assert (int(_reread(promotion).uses), int(_reread(promotion).discount_given)) == (0, 0)
    assert PromoCode.get(code.PK, code.SK, consistent_read=True).used_by_order is None
    market.add(buyer, shoe)
    again, body, _ = market.checkout(buyer, promo_code=code.code)
    assert again == 201, body  # the code and the buyer's one use are free again
    assert body["order"]["discount"]["amount"] == 1_000


def test_a_partial_return_gives_the_discount_back_in_proportion_and_keeps_the_use(market: Marketplace) -> None:
    from chalicelib.fees.service import set_schedule
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings, seller_balance
    from chalicelib.payments import stripe_gateway

    set_schedule("default", {"percent_bp": 1_000})
    market.seller("sel_a")
    shoe = market.product("sel_a", price=3_000)
    five_off = _marketplace_five_off(amount=600)
    buyer = market.buyer()
    market.add(buyer, shoe, 3)
    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")
    assert status == 201, body
    order_id = body["order"]["order_id"]
    assert body["order"]["total"]["amount"] == 9_000 - 600
    market.pay(body)
    market.deliver_order("sel_a", order_id)

    status, answer, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
                             {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "too small"},
                             headers=buyer)
    assert status == 200, answer
    status, answer = market.act("sel_a", order_id, "returns/approve", {"restock": True})
    assert status == 200, answer
    market.events()

    # one of three units: 8,400 / 3 = 2,800 back to the buyer, 200 of the €6 back to the promotion
    assert int(_reread(five_off).discount_given) == 400
    assert int(_reread(five_off).uses) == 1
    [transfer] = stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
    # paid 90.00 - 9.00 fee; reversed 28.00 + 2.00 (the marketplace's discount) - 3.00 fee
    assert (transfer.amount, transfer.amount_reversed) == (8_100, 2_700)
    assert seller_balance("sel_a", "EUR").owed.amount == 0
    postings = order_postings(order_id)
    expense = [entry.amount.amount for posting in postings for entry in posting.entries
               if entry.account == "marketplace_discounts"]
    assert sorted(expense) == [-200, 600]
    assert all(total == 0 for total in sum_by_currency(postings).values())


def test_a_guest_with_a_code_checks_out_without_an_error(market: Marketplace) -> None:
    market.seller("sel_a")
    shoe = market.product("sel_a", price=3_000)
    _seller_code("sel_a", "GUEST10", max_uses_per_buyer=1)
    status, cart, _ = call(market.api, "PUT", f"/v1/cart/items/{shoe}", {"quantity": 1})
    assert status == 200, cart
    guest = {"X-Cart-Token": cart["cart_token"]}

    status, body, _ = market.checkout(guest, email="Gast@Example.com", promo_code="GUEST10")

    assert status == 201, body
    assert body["order"]["discount"]["amount"] == 300



# --- the cart ------------------------------------------------------------------------------------

def test_the_cart_shows_the_discounts_per_line_and_seller_and_stores_a_code_that_applies(
        market: Marketplace) -> None:
    buyer, shoe, book = _two_seller_cart(market)
    _seller_code("sel_a", "SOMMER10")
    five_off = _marketplace_five_off()

    status, body, _ = call(market.api, "POST", "/v1/cart/promo-code", {"code": " sommer 10 "}, headers=buyer)

    assert status == 200, body
    assert body["promo_code"] == "sommer 10"
    pricing = body["pricing"]
    assert pricing["total"]["amount"] == 13_500
    lines = {line["product_id"]: line for line in pricing["lines"]}
    assert [(a["source"], a["amount"]["amount"], a["marketplace_funded"]["amount"])
            for a in lines[shoe]["adjustments"]] == [("promotions", 1_000, 0), ("promotions", 321, 321)]
    assert lines[book]["discount"]["amount"] == 179
    assert {part["seller_id"]: part["discount"]["amount"] for part in pricing["sellers"]} == {
        "sel_a": 1_321, "sel_b": 179}
    assert {(n["subject"], n["status"]) for n in pricing["notices"]} == {("SOMMER10", "applied"),
                                                                         ("automatic", "applied")}
    assert five_off.promotion_id in {n.get("promotion_id") for n in pricing["notices"]}

    # checkout without naming a code uses the cart's
    status, placed, _ = market.checkout(buyer)
    assert status == 201, placed
    assert placed["order"]["total"]["amount"] == 13_500


def test_a_code_that_does_not_apply_to_the_cart_is_refused_with_its_reason_and_not_stored(
        market: Marketplace) -> None:
    buyer, _, _ = _two_seller_cart(market)
    _seller_code("sel_a", "BIGSPENDER", minimum=20_000)

    status, body, _ = call(market.api, "POST", "/v1/cart/promo-code", {"code": "bigspender"}, headers=buyer)
    unknown, other, _ = call(market.api, "POST", "/v1/cart/promo-code", {"code": "NOPE"}, headers=buyer)
    blank, nothing, _ = call(market.api, "POST", "/v1/cart/promo-code", {"code": "   "}, headers=buyer)
    _, cart, _ = call(market.api, "GET", "/v1/cart", headers=buyer)

    assert status == 422 and body["error"]["code"] == "promo_code_invalid"
    assert body["error"]["details"][0]["reason"] == "minimum_not_reached"
    assert body["error"]["details"][0]["missing"] == {"amount": 10_000, "currency": "EUR"}
    assert body["error"]["details"][0]["field"] == "body.code"
    assert unknown == 422 and other["error"]["details"][0]["reason"] == "code_unknown"
    assert blank == 422 and nothing["error"]["details"][0]["reason"] == "code_unknown"
    assert cart["promo_code"] is None


def test_a_guest_puts_and_removes_a_code_with_the_cart_token(market: Marketplace) -> None:
    market.seller("sel_a")
    shoe = market.product("sel_a", price=3_000)
    _seller_code("sel_a", "GAST10")
    _, cart, _ = call(market.api, "PUT", f"/v1/cart/items/{shoe}", {"quantity": 1})
    guest = {"X-Cart-Token": cart["cart_token"]}

    status, body, _ = call(market.api, "POST", "/v1/cart/promo-code", {"code": "gast10"}, headers=guest)
    assert status == 200, body
    assert body["pricing"]["discount"]["amount"] == 300

    status, body, _ = call(market.api, "DELETE", "/v1/cart/promo-code", headers=guest)
    assert status == 200, body
    assert body["promo_code"] is None and body["pricing"]["discount"]["amount"] == 0
    status, body, _ = call(market.api, "POST", "/v1/cart/promo-code", {"code": "gast10"})
    assert status == 409 and body["error"]["code"] == "cart_empty"  # no cart without a token


def test_a_code_for_another_country_says_so_in_the_cart(market: Marketplace) -> None:
    buyer, _, _ = _two_seller_cart(market)
    _seller_code("sel_a", "NURAT", countries=["AT"])

    status, body, _ = call(market.api, "POST", "/v1/cart/promo-code?country=DE", {"code": "NURAT"}, headers=buyer)
    at, ok, _ = call(market.api, "POST", "/v1/cart/promo-code?country=AT", {"code": "NURAT"}, headers=buyer)

    assert status == 422 and body["error"]["details"][0]["reason"] == "not_in_your_country"
    assert at == 200, ok
    # checkout checks the shipping address's country again: the default address is in Germany
    status, placed, _ = market.checkout(buyer)
    assert status == 422 and placed["error"]["details"][0]["reason"] == "not_in_your_country"


def test_a_paid_order_cancelled_whole_before_shipping_gives_its_use_and_discount_back(market: Marketplace) -> None:
    market.seller("sel_a")
    market.seller("sel_b")
    shoe = market.product("sel_a", price=4_000)
    book = market.product("sel_b", price=2_000, category="books/fiction")
    five_off = _marketplace_five_off(max_uses=1)
    buyer = market.buyer()
    market.add(buyer, shoe)
    market.add(buyer, book)
    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")
    assert status == 201, body
    market.pay(body)
    assert (int(_reread(five_off).uses), int(_reread(five_off).discount_given)) == (1, 500)

    status, cancelled, _ = call(market.api, "POST", f"/v1/me/orders/{body['order']['order_id']}/cancel", {},
                                headers=buyer)
    assert status == 200, cancelled
    market.events()

    assert (int(_reread(five_off).uses), int(_reread(five_off).discount_given)) == (0, 0)


def test_a_paid_order_counts_once_in_its_promotions_orders_and_revenue_even_when_redelivered(
        market: Marketplace) -> None:
    from chalicelib.orders.events import OrderPaid, SellerShare
    from chalicelib.promotions.stats import count_paid_order

    market.seller("sel_a")
    shoe = market.product("sel_a", price=4_000)
    five_off = _marketplace_five_off()
    buyer = market.buyer()
    market.add(buyer, shoe)
    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")
    assert status == 201, body
    market.pay(body)
    order = body["order"]
    paid = OrderPaid(order_id=order["order_id"], user_id=user_of(buyer), paid_at="2026-06-01T10:00:00+00:00",
                     sellers=[SellerShare(seller_id="sel_a", amount=3_500, currency="EUR")])

    assert count_paid_order(paid) is False  # the subscriber counted it when it was paid

    assert (int(_reread(five_off).orders), int(_reread(five_off).revenue)) == (1, 3_500)


def test_a_personal_code_is_not_a_guests_and_a_bad_guest_email_is_a_422(market: Marketplace) -> None:
    from chalicelib.accounts.service import ensure_account
    from chalicelib.promotions import service

    market.seller("sel_a")
    shoe = market.product("sel_a", price=3_000)
    owner, _ = ensure_account("geburtstag@example.com", name="Berta")
    promotion = service.create_promotion("sel_a", {"name": "Birthday", "kind": "fixed_amount", "amount": 500,
                                                   "currency": "EUR"})
    personal = service.issue_personal_code(promotion, owner.user_id, datetime(2099, 1, 1, tzinfo=UTC))
    _, cart, _ = call(market.api, "PUT", f"/v1/cart/items/{shoe}", {"quantity": 1})
    guest = {"X-Cart-Token": cart["cart_token"]}

    status, body, _ = market.checkout(guest, email="geburtstag@example.com", promo_code=personal.code)
    bad, answer, _ = market.checkout(guest, email="not an email", promo_code=personal.code)

    assert status == 422 and body["error"]["details"][0]["reason"] == "not_your_code"
    assert bad == 422, answer
