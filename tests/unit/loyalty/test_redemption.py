"""Redeeming points at checkout: what the buyer is charged, what the sellers are paid and what
the ledger books; the programme's limits; parallel checkouts; and what a cancellation, a
refund and the expiry sweep do with redeemed points."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.auth import operator_headers
from tests.support.builders import ADDRESS, Marketplace, stock_of, user_of
from tests.support.http import call

# 1 cent a point; points may pay at most half of the goods; at least 100 points at a time
PROGRAMME = {"enabled": True, "currency": "EUR", "points_per_unit": 1, "point_value": {"points": 100, "amount": 100},
             "redemption": {"min_points": 100, "max_order_share_bp": 5_000}}


def set_programme(api: Any, **changes: Any) -> None:
    status, body, _ = call(api, "PUT", "/v1/admin/loyalty/programme", {**PROGRAMME, **changes},
                           headers=operator_headers())
    assert status == 200, body


def give_points(api: Any, buyer: dict[str, str], points: int) -> None:
    status, body, _ = call(api, "POST", "/v1/admin/loyalty/adjustments",
                           {"user_id": user_of(buyer), "points": points, "reason": "welcome"},
                           headers=operator_headers())
    assert status == 201, body


def points_of(buyer: dict[str, str]) -> tuple[int, int, int]:
    """(available, reserved, pending) as stored."""
    from chalicelib.loyalty.store import read_balance

    balance = read_balance(user_of(buyer))
    assert balance is not None
    return int(balance.available), int(balance.reserved or 0), int(balance.pending)


def history_of(api: Any, buyer: dict[str, str]) -> list[dict[str, Any]]:
    status, body, _ = call(api, "GET", "/v1/me/loyalty/transactions", headers=buyer)
    assert status == 200, body
    return body["items"]


def cart_of(api: Any, headers: dict[str, str]) -> dict[str, Any]:
    status, body, _ = call(api, "GET", "/v1/cart", headers=headers)
    assert status == 200, body
    return body


def liability_in_ledger() -> int:
    from chalicelib.ledger.postings import LOYALTY_LIABILITY
    from chalicelib.ledger.service import _platform_entries

    now = datetime.now(UTC)
    return -sum(int(e.amount) for e in _platform_entries(LOYALTY_LIABILITY, now - timedelta(days=1),
                                                         now + timedelta(days=400)))


@pytest.fixture
def buyer(market: Marketplace) -> dict[str, str]:
    """A buyer with 1,000 points (€10.00) and a cart of a €40 shoe (sel_a) and a €20 book (sel_b)."""
    set_programme(market.api)
    market.seller("sel_a")
    market.seller("sel_b")
    headers = market.buyer()
    give_points(market.api, headers, 1_000)
    market.add(headers, market.product("sel_a", price=4_000))
    market.add(headers, market.product("sel_b", price=2_000, category="books/fiction"))
    return headers


def test_redeemed_points_lower_the_charge_while_sellers_are_paid_as_if_undiscounted(
        market: Marketplace, buyer: dict[str, str]) -> None:
    from chalicelib.core.keys import order_sk, seller_key
    from chalicelib.fees.service import set_schedule
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings
    from chalicelib.orders.models import SubOrder

    set_schedule("default", {"percent_bp": 1_000})
    status, body, _ = market.checkout(buyer, redeem_points=750, payment_method_id="pm_card_visa")

    assert status == 201, body
    order = body["order"]
    parts = {part["seller_id"]: part for part in order["sellers"]}
    # €7.50 over 40.00 : 20.00
    assert (parts["sel_a"]["discount"]["amount"], parts["sel_b"]["discount"]["amount"]) == (500, 250)
    assert order["total"]["amount"] == 6_000 - 750
    assert market.payment_intent(body["payment"]["payment_intent_id"])["amount"] == 5_250
    assert points_of(buyer) == (250, 750, 0)  # held until paid

    market.pay(body)

    subs = {sid: SubOrder.get(seller_key(sid), order_sk(order["order_id"]), consistent_read=True)
            for sid in ("sel_a", "sel_b")}
    assert (int(subs["sel_a"].marketplace_discount), int(subs["sel_b"].marketplace_discount)) == (500, 250)
    # the 10 % fee is on 40.00 and 20.00, the undiscounted goods the sellers are credited
    assert (int(subs["sel_a"].fee), int(subs["sel_a"].transferred)) == (400, 3_600)
    assert (int(subs["sel_b"].fee), int(subs["sel_b"].transferred)) == (200, 1_800)
    available, reserved, pending = points_of(buyer)
    assert (available, reserved) == (250, 0) and pending > 0  # pending: earned on what was paid
    assert liability_in_ledger() == 250 + pending  # 1 cent a point
    postings = order_postings(order["order_id"])
    expense = [(posting.kind, entry.amount.amount) for posting in postings for entry in posting.entries
               if entry.account == "marketplace_discounts"]
    assert sorted(expense) == [("loyalty_redemption", -750), ("marketplace_discount", 250),
                               ("marketplace_discount", 500)]
    assert all(total == 0 for total in sum_by_currency(postings).values())
    spent = next(h for h in history_of(market.api, buyer) if h["kind"] == "redeemed")
    assert (spent["reason"], spent["points"], spent["order_id"]) == ("checkout", -750, order["order_id"])


def test_the_cart_shows_what_the_order_earns_and_what_can_be_redeemed(market: Marketplace,
                                                                     buyer: dict[str, str]) -> None:
    cart = cart_of(market.api, buyer)
    assert cart["loyalty"]["redeemable_points"] == 1_000  # all of them: below half of €60
    assert cart["loyalty"]["redeemable_value"] == {"amount": 1_000, "currency": "EUR"}

    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")
    assert status == 201, body
    market.pay(body)
    assert points_of(buyer)[2] == cart["loyalty"]["points_to_earn"] > 0  # what the cart promised was earned

    guest_cart = market.add({}, market.product("sel_a"))
    assert cart_of(market.api, {"X-Cart-Token": guest_cart["cart_token"]})["loyalty"] is None


def test_the_cart_offers_only_the_share_points_may_pay(market: Marketplace) -> None:
    set_programme(market.api, redemption={"min_points": 100, "max_order_share_bp": 2_500})
    market.seller("sel_a")
    headers = market.buyer()
    give_points(market.api, headers, 5_000)

    market.add(headers, market.product("sel_a", price=2_999))
    cart = cart_of(market.api, headers)

    assert cart["loyalty"]["redeemable_points"] == 749  # €7.49: a quarter of €29.99, rounded down
    status, body, _ = market.checkout(headers, redeem_points=750)
    assert status == 422 and body["error"]["code"] == "points_above_maximum_share"
    assert body["error"]["details"][0]["max_points"] == 749
    status, body, _ = market.checkout(headers, redeem_points=749)
    assert status == 201 and body["order"]["discount"]["amount"] == 749


@pytest.mark.parametrize(("points", "changes", "status", "code"), [
    (99, {}, 422, "points_below_minimum"),
    (4_001, {}, 422, "points_above_maximum_share"),  # €40.01 of €80.00 goods (the fixture's and a €20 shoe)
    (1_001, {}, 409, "insufficient_points"),
    (500, {"enabled": False}, 422, "loyalty_disabled"),
])
def test_a_redemption_outside_the_rules_is_refused_and_writes_nothing(
        market: Marketplace, buyer: dict[str, str], points: int, changes: dict[str, Any], status: int,
        code: str) -> None:
    if changes:
        set_programme(market.api, **changes)
    cart = market.add(buyer, market.product("sel_a", stock=3))
    product_id = cart["lines"][-1]["product_id"]

    answer, body, _ = market.checkout(buyer, redeem_points=points)

    assert (answer, body["error"]["code"]) == (status, code)
    assert points_of(buyer) == (1_000, 0, 0)
    assert stock_of(market.api, "sel_a", product_id) == 3


def test_a_guest_cannot_redeem_points(market: Marketplace) -> None:
    set_programme(market.api)
    market.seller("sel_a")
    cart = market.add({}, market.product("sel_a"))
    headers = {"X-Cart-Token": cart["cart_token"]}

    status, body, _ = market.checkout(headers, email="guest@example.com", redeem_points=100)

    assert status == 422 and body["error"]["details"][0]["field"] == "body.redeem_points"


def test_two_parallel_checkouts_cannot_spend_the_same_points(market: Marketplace, buyer: dict[str, str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Two carts of one buyer (two devices) checked out at once, each redeeming 800 of the
    1,000 points: both pass the checks, one transaction wins, the other is a 409."""
    from chalicelib.core.errors import Conflict
    from chalicelib.core.keys import CART_SK, user_key
    from chalicelib.loyalty.redemption import LoyaltyContributor
    from chalicelib.orders.cart import CartRef
    from chalicelib.orders.checkout import CheckoutInput, checkout
    from chalicelib.orders.models import Cart

    user_id = user_of(buyer)
    cart = Cart.get(user_key(user_id), CART_SK, consistent_read=True)
    raw = cart.serialize()
    raw["PK"] = {"S": f"{user_key(user_id)}#SECOND_DEVICE"}
    Cart.from_raw_data(raw).save()
    refs = [CartRef(pk=user_key(user_id), user_id=user_id), CartRef(pk=raw["PK"]["S"], user_id=user_id)]
    both_checked = threading.Barrier(2, timeout=30)
    items = LoyaltyContributor.transaction_items

    def after_both(self: Any, *args: Any) -> Any:
        both_checked.wait()  # both read 1,000 available before either commits
        return items(self, *args)

    monkeypatch.setattr(LoyaltyContributor, "transaction_items", after_both)
    outcomes: list[Any] = []

    def place(ref: CartRef, key: str) -> None:
        try:
            outcomes.append(checkout(ref, key, CheckoutInput(shipping_address=ADDRESS, redeem_points=800,
                                                             raw={"redeem_points": 800, "key": key})))
        except Exception as error:  # the loser's answer is what is asserted
            outcomes.append(error)

    threads = [threading.Thread(target=place, args=(ref, f"parallel-{n}")) for n, ref in enumerate(refs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(outcomes) == 2 and len(refused) == 1, outcomes
    assert isinstance(refused[0], Conflict) and refused[0].code == "insufficient_points"
    assert points_of(buyer) == (200, 800, 0)


def test_cancelling_an_unpaid_order_gives_the_points_back(market: Marketplace, buyer: dict[str, str]) -> None:
    from chalicelib.loyalty.redemption import read_redemption

    status, body, _ = market.checkout(buyer, redeem_points=400)
    assert status == 201, body
    order_id = body["order"]["order_id"]
    assert points_of(buyer) == (600, 400, 0)

    status, cancelled, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/cancel", {}, headers=buyer)
    assert status == 200, cancelled
    market.events()

    assert points_of(buyer) == (1_000, 0, 0)
    record = read_redemption(user_of(buyer), order_id)
    assert record is not None and record.state == "released"
    assert liability_in_ledger() == 1_000
    assert [h["kind"] for h in history_of(market.api, buyer)] == ["adjusted"]  # nothing was spent


def test_a_refund_gives_back_the_redeemed_points_in_proportion(market: Marketplace) -> None:
    from chalicelib.payments import stripe_gateway

    set_programme(market.api)
    market.seller("sel_a")
    headers = market.buyer()
    give_points(market.api, headers, 1_000)
    market.add(headers, market.product("sel_a", price=3_000), 3)
    status, body, _ = market.checkout(headers, redeem_points=900, payment_method_id="pm_card_visa")
    assert status == 201, body
    order_id = body["order"]["order_id"]
    assert body["order"]["total"]["amount"] == 9_000 - 900
    market.pay(body)
    market.deliver_order("sel_a", order_id)
    pending = points_of(headers)[2]

    status, answer, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
                             {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "too small"},
                             headers=headers)
    assert status == 200, answer
    status, answer = market.act("sel_a", order_id, "returns/approve", {"restock": True})
    assert status == 200, answer
    market.events()

    # one of three units: €27.00 back in money, the €3.00 the points paid for it back as 300 points
    [refund] = stripe_gateway.client().v1.refunds.list({"payment_intent": body["payment"]["payment_intent_id"]}).data
    assert refund.amount == 2_700
    available, reserved, pending_after = points_of(headers)
    assert (available, reserved) == (100 + 300, 0)
    back = history_of(market.api, headers)
    assert any((h["kind"], h["reason"], h["points"]) == ("redeemed", "refund", 300) for h in back)
    assert liability_in_ledger() == available + pending_after and pending_after < pending


def test_a_lot_that_expires_while_its_points_are_held_pays_for_them_and_expires_the_rest(
        market: Marketplace, buyer: dict[str, str]) -> None:
    from chalicelib.loyalty.store import lots_of
    from chalicelib.loyalty.sweeps import expire_due

    [lot] = lots_of(user_of(buyer))
    expired_at = datetime.fromisoformat(str(lot.expires_at))
    status, body, _ = market.checkout(buyer, redeem_points=400, payment_method_id="pm_card_visa")
    assert status == 201, body

    assert expire_due(expired_at + timedelta(hours=1)) == 0  # held points: the lot waits a day
    assert points_of(buyer) == (600, 400, 0)
    market.pay(body)  # the 400 come from the lot spendable at checkout
    [lot] = [lot for lot in lots_of(user_of(buyer)) if lot.reason == "adjustment"]
    assert int(lot.remaining) == 600
    assert expire_due(expired_at + timedelta(days=1, hours=1)) == 1

    available, reserved, pending = points_of(buyer)
    assert (available, reserved) == (0, 0)
    assert liability_in_ledger() == pending
    kinds = [(h["kind"], h["points"]) for h in history_of(market.api, buyer)]
    assert ("expired", -600) in kinds and ("redeemed", -400) in kinds
