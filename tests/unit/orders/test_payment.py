"""Stripe's verdict on an order's payment: paid (ledger, transfers, customers) or not
(stock back); events are triggers that only move an order forward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.unit.catalog.conftest import seller_headers
from tests.unit.conftest import call
from tests.unit.orders.conftest import Marketplace
from tests.unit.orders.test_checkout import stock_of


def my_order(market: Marketplace, buyer: dict[str, str], order_id: str) -> dict[str, Any]:
    status, body, _ = call(market.api, "GET", f"/v1/me/orders/{order_id}", headers=buyer)
    assert status == 200, body
    return body


def test_a_paid_order_writes_a_balanced_ledger_and_pays_each_seller_its_share(
        market: Marketplace, paid_order: Callable[..., dict[str, Any]]) -> None:
    from chalicelib.fees.service import set_schedule
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings, seller_balance
    from chalicelib.payments import stripe_gateway

    set_schedule("default", {"percent_bp": 1_000, "currencies": {"EUR": {"fixed": 30}}})
    placed = paid_order(("sel_a", "sel_b", "sel_c"), price=2_000, quantity=2)
    order_id = placed["order"]["order_id"]

    order = my_order(market, placed["buyer"], order_id)
    assert order["status"] == "paid"
    assert {p["status"] for p in order["sellers"]} == {"paid"}
    postings = order_postings(order_id)
    assert sum_by_currency(postings) == {"EUR": 0}
    assert sorted(p.kind for p in postings).count("transfer") == 3
    transfers = stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
    # each seller: 40.00 - (10 % + 0.30) = 35.70
    assert sorted((t.destination, t.amount) for t in transfers) == sorted(
        (market.accounts[s], 3_570) for s in ("sel_a", "sel_b", "sel_c"))
    assert all(t.source_transaction for t in transfers)
    assert seller_balance("sel_a", "EUR").owed.amount == 0  # earned 35.70, received 35.70
    seller_view = market.order_of_seller("sel_a", order_id)
    assert seller_view["fee"]["amount"] == 430 and seller_view["transferred"]["amount"] == 3_570


def test_the_buyer_becomes_each_sellers_customer_once_paid(market: Marketplace,
                                                            paid_order: Callable[..., dict[str, Any]]) -> None:
    placed = paid_order(("sel_a",))
    status, body, _ = call(market.api, "GET", "/v1/seller/customers", headers=seller_headers("sel_a"))
    assert status == 200
    [customer] = body["items"]
    assert customer["order_count"] == 1
    assert placed["order"]["total"]["amount"] == 4_000


def test_a_webhook_delivered_twice_and_late_changes_nothing(market: Marketplace,
                                                           paid_order: Callable[..., dict[str, Any]]) -> None:
    from chalicelib.ledger.service import order_postings
    from chalicelib.payments import stripe_gateway

    placed = paid_order(("sel_a",))
    order_id = placed["order"]["order_id"]
    intent = market.payment_intent(placed["payment_intent_id"])
    before = len(order_postings(order_id))

    for event_type in ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.succeeded"):
        status, _ = market.stripe_event(event_type, intent)
        assert status == 200
    market.events()

    assert my_order(market, placed["buyer"], order_id)["status"] == "paid"
    assert len(order_postings(order_id)) == before
    assert len(stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data) == 1
    assert stock_of(market.api, "sel_a", placed["products"]["sel_a"]) == 8


def test_the_same_stripe_event_is_processed_once(market: Marketplace) -> None:
    market.seller("sel_a")
    buyer = market.buyer()
    market.add(buyer, market.product("sel_a"), 1)
    body = market.checkout(buyer, payment_method_id="pm_card_visa")[1]
    intent = market.payment_intent(body["payment"]["payment_intent_id"])
    event = {"id": "evt_same", "object": "event", "type": "payment_intent.succeeded", "data": {"object": intent}}
    from tests.unit.payments.conftest import PLATFORM, PLATFORM_SECRET, deliver

    first = deliver(market.api, event, endpoint=PLATFORM, secret=PLATFORM_SECRET)
    second = deliver(market.api, event, endpoint=PLATFORM, secret=PLATFORM_SECRET)

    assert first[1]["outcome"] == "processed" and second[1]["outcome"] == "duplicate"


def test_a_declined_payment_releases_the_stock_and_cancels_the_order(market: Marketplace) -> None:
    market.seller("sel_a")
    product = market.product("sel_a", stock=4)
    buyer = market.buyer()
    market.add(buyer, product, 3)

    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_chargeDeclined")

    assert status == 402
    assert body["error"]["code"] == "payment_declined"
    order_id = body["error"]["details"]["order_id"]
    from chalicelib.orders.models import Order, order_sk, user_key

    order = Order.get(user_key(my_user(buyer)), order_sk(order_id))
    intent = market.payment_intent(order.payment_intent_id)
    assert market.stripe_event("payment_intent.payment_failed", intent)[0] == 200
    assert stock_of(market.api, "sel_a", product) == 4
    detail = my_order(market, buyer, order_id)
    assert detail["status"] == "cancelled" and detail["cancel_reason"] == "payment_failed"
    assert detail["sellers"][0]["status"] == "cancelled"


def my_user(headers: dict[str, str]) -> str:
    import jwt

    return jwt.decode(headers["Authorization"].split()[1], options={"verify_signature": False})["sub"]


def test_an_unpaid_reservation_is_released_when_its_time_runs_out(market: Marketplace) -> None:
    from chalicelib.orders.payment import release_expired

    market.seller("sel_a")
    product = market.product("sel_a", stock=2)
    buyer = market.buyer()
    market.add(buyer, product, 2)
    body = market.checkout(buyer)[1]
    assert stock_of(market.api, "sel_a", product) == 0

    assert release_expired(datetime.now(UTC) + timedelta(minutes=5)) == 0  # still within its 30 minutes
    assert release_expired(datetime.now(UTC) + timedelta(minutes=31)) == 1
    assert release_expired(datetime.now(UTC) + timedelta(minutes=32)) == 0  # nothing left to release

    assert stock_of(market.api, "sel_a", product) == 2
    assert my_order(market, buyer, body["order"]["order_id"])["cancel_reason"] == "payment_expired"
    assert market.payment_intent(body["payment"]["payment_intent_id"])["status"] == "canceled"


def test_the_sweep_records_a_payment_whose_webhook_never_came(market: Marketplace) -> None:
    from chalicelib.orders.payment import release_expired

    market.seller("sel_a")
    product = market.product("sel_a", stock=2)
    buyer = market.buyer()
    market.add(buyer, product, 1)
    body = market.checkout(buyer, payment_method_id="pm_card_visa")[1]

    assert release_expired(datetime.now(UTC) + timedelta(minutes=31)) == 0

    assert my_order(market, buyer, body["order"]["order_id"])["status"] == "paid"
    assert stock_of(market.api, "sel_a", product) == 1


def test_sold_out_products_show_out_of_stock_in_browse_after_the_event(market: Marketplace) -> None:
    market.seller("sel_a")
    product = market.product("sel_a", stock=1)
    buyer = market.buyer()
    market.add(buyer, product, 1)
    assert market.checkout(buyer)[0] == 201

    market.events()

    status, body, _ = call(market.api, "GET", "/v1/products?seller_id=sel_a")
    assert status == 200
    [listed] = [p for p in body["items"] if p["product_id"] == product]
    assert listed["in_stock"] is False
