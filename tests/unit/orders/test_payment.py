"""Stripe's verdict on an order's payment: paid (ledger, transfers, customers) or not
(stock back); events are triggers that only move an order forward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.auth import seller_headers
from tests.support.builders import Marketplace, stock_of, user_of
from tests.support.events import outbox
from tests.support.http import call
from tests.support.stripe import PLATFORM, PLATFORM_SECRET, deliver


def test_a_paid_order_writes_a_balanced_ledger_and_pays_each_seller_its_share(
        market: Marketplace, paid_order: Callable[..., dict[str, Any]]) -> None:
    from chalicelib.core.keys import ledger_order_index_key
    from chalicelib.fees.service import set_schedule
    from chalicelib.ledger.models import PostingRecord
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings, seller_balance
    from chalicelib.payments import stripe_gateway

    set_schedule("default", {"percent_bp": 1_000, "currencies": {"EUR": {"fixed": 30}}})
    placed = paid_order(("sel_a", "sel_b", "sel_c"), price=2_000, quantity=2)
    order_id = placed["order"]["order_id"]

    order = market.order_of_buyer(placed["buyer"], order_id)
    assert order["status"] == "paid"
    assert {p["status"] for p in order["sellers"]} == {"paid"}
    postings = order_postings(order_id)
    assert sum_by_currency(postings) == {"EUR": 0}
    assert sorted(p.kind for p in postings) == ["charge", *["fee"] * 3, *["seller_payable"] * 3, *["transfer"] * 3]
    # the charge, shares and fees are one record (one marker); each transfer has its own
    records = PostingRecord.by_order.query(ledger_order_index_key(order_id))
    assert sorted(r.posting_id.partition(":")[0] for r in records) == ["charge", *["transfer"] * 3]
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

    assert market.order_of_buyer(placed["buyer"], order_id)["status"] == "paid"
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
    from chalicelib.core.keys import order_sk, user_key
    from chalicelib.orders.models import Order

    order = Order.get(user_key(user_of(buyer)), order_sk(order_id))
    intent = market.payment_intent(order.payment_intent_id)
    assert market.stripe_event("payment_intent.payment_failed", intent)[0] == 200
    assert stock_of(market.api, "sel_a", product) == 4
    detail = market.order_of_buyer(buyer, order_id)
    assert detail["status"] == "cancelled" and detail["cancel_reason"] == "payment_failed"
    assert detail["sellers"][0]["status"] == "cancelled"


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
    assert market.order_of_buyer(buyer, body["order"]["order_id"])["cancel_reason"] == "payment_expired"
    assert market.payment_intent(body["payment"]["payment_intent_id"])["status"] == "canceled"


def test_the_sweep_records_a_payment_whose_webhook_never_came(market: Marketplace) -> None:
    from chalicelib.orders.payment import release_expired

    market.seller("sel_a")
    product = market.product("sel_a", stock=2)
    buyer = market.buyer()
    market.add(buyer, product, 1)
    body = market.checkout(buyer, payment_method_id="pm_card_visa")[1]

    assert release_expired(datetime.now(UTC) + timedelta(minutes=31)) == 0

    assert market.order_of_buyer(buyer, body["order"]["order_id"])["status"] == "paid"
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


# --- payments that do not match their order -------------------------------------------------

def _placed_by_card(market: Marketplace, *, card: str | None = "pm_card_visa") -> tuple[dict[str, str], str, str,
                                                                                        dict[str, Any]]:
    """A buyer's order of two of one product of sel_a (stock 5), paid by ``card`` in Stripe
    (None: not paid), whose webhook has not come yet: buyer, order id, product, PaymentIntent."""
    market.seller("sel_a")
    product = market.product("sel_a", stock=5)
    buyer = market.buyer()
    market.add(buyer, product, 2)
    status, body, _ = market.checkout(buyer, **({"payment_method_id": card} if card else {}))
    assert status == 201, body
    return buyer, body["order"]["order_id"], product, market.payment_intent(body["payment"]["payment_intent_id"])


def _wrong(intent: dict[str, Any], what: str) -> dict[str, Any]:
    """Stripe's PaymentIntent as an event would carry it, differing from the order in ``what``."""
    if what == "amount":
        return {**intent, "amount": intent["amount"] - 100, "amount_received": intent["amount"] - 100}
    if what == "currency":
        return {**intent, "currency": "usd"}
    return {**intent, "id": "pi_not_the_orders"}


def _stored(buyer: dict[str, str], order_id: str) -> Any:
    from chalicelib.core.keys import order_sk, user_key
    from chalicelib.orders.models import Order

    return Order.get(user_key(user_of(buyer)), order_sk(order_id), consistent_read=True)


def _transfers(order_id: str) -> list[Any]:
    from chalicelib.payments import stripe_gateway

    return list(stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data)


@pytest.mark.parametrize("what", ["amount", "currency", "payment_intent"])
def test_a_payment_that_does_not_match_its_order_is_refused_and_recorded(market: Marketplace, what: str) -> None:
    from chalicelib.ledger.service import order_postings

    # given an order paid by card whose webhook has not come yet
    buyer, order_id, product, intent = _placed_by_card(market)
    paid = _wrong(intent, what)

    # when Stripe reports a payment that differs from the order, twice (two events)
    answers = [market.stripe_event("payment_intent.succeeded", paid) for _ in range(2)]
    market.events()

    # then nothing is paid, booked or transferred, and the problem is recorded once
    assert [(status, body["outcome"]) for status, body in answers] == [(200, "refused")] * 2
    assert market.order_of_buyer(buyer, order_id)["status"] == "pending_payment"
    assert {s["status"] for s in market.order_of_buyer(buyer, order_id)["sellers"]} == {"pending_payment"}
    assert order_postings(order_id) == []
    assert _transfers(order_id) == []
    assert outbox("order.paid") == []
    assert stock_of(market.api, "sel_a", product) == 3  # still reserved
    [problem] = _stored(buyer, order_id).payment_problems
    assert problem["mismatch"] == [what]
    assert problem["order_status"] == "pending_payment"
    assert problem["expected"] == {"payment_intent_id": intent["id"], "amount": intent["amount"], "currency": "EUR"}
    assert problem["received"] == {"payment_intent_id": paid["id"], "amount": paid["amount_received"],
                                   "currency": paid["currency"].upper()}
    [event] = outbox("order.payment_mismatch")
    assert (event["order_id"], event["mismatch"], event["received"]) == (order_id, [what], problem["received"])


def test_the_orders_own_payment_still_pays_it_after_another_was_refused(market: Marketplace) -> None:
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings

    buyer, order_id, _, intent = _placed_by_card(market)
    for foreign in (_wrong(intent, "payment_intent"), {**intent, "id": "pi_another_one"}):
        assert market.stripe_event("payment_intent.succeeded", foreign)[1]["outcome"] == "refused"

    status, receipt = market.stripe_event("payment_intent.succeeded", intent)
    market.events()

    assert (status, receipt["outcome"]) == (200, "processed")
    assert market.order_of_buyer(buyer, order_id)["status"] == "paid"
    postings = order_postings(order_id)
    assert sum_by_currency(postings) == {"EUR": 0}
    assert [p.refs.get("payment_intent") for p in postings if p.kind == "charge"] == [intent["id"]]
    assert len(_transfers(order_id)) == 1
    assert [p["received"]["payment_intent_id"] for p in _stored(buyer, order_id).payment_problems] == [
        "pi_not_the_orders", "pi_another_one"]


@pytest.mark.parametrize("state", ["paid", "cancelled"])
def test_another_payment_for_a_paid_or_cancelled_order_is_recorded_not_booked_or_refunded(
        market: Marketplace, state: str) -> None:
    from chalicelib.ledger.service import order_postings
    from chalicelib.orders.payment import release_expired
    from chalicelib.payments import stripe_gateway

    # given an order that is paid, or was cancelled unpaid
    buyer, order_id, _, intent = _placed_by_card(market, card="pm_card_visa" if state == "paid" else None)
    if state == "paid":
        market.stripe_event("payment_intent.succeeded", intent)
        market.events()
    else:
        assert release_expired(datetime.now(UTC) + timedelta(minutes=31)) == 1
    before = order_postings(order_id)

    # when another PaymentIntent naming the order succeeds
    foreign = {**intent, "id": "pi_not_the_orders", "status": "succeeded", "amount_received": intent["amount"]}
    status, receipt = market.stripe_event("payment_intent.succeeded", foreign)
    market.events()

    # then the order stays as it was, the ledger too, nothing is refunded; the problem is recorded
    assert (status, receipt["outcome"]) == (200, "refused")
    assert market.order_of_buyer(buyer, order_id)["status"] == state
    assert order_postings(order_id) == before
    assert list(stripe_gateway.client().v1.refunds.list({"limit": 100}).data) == []
    [problem] = _stored(buyer, order_id).payment_problems
    assert (problem["mismatch"], problem["order_status"]) == (["payment_intent"], state)


def test_the_sweep_leaves_an_order_whose_own_payment_was_refused_to_the_operator(market: Marketplace) -> None:
    from chalicelib.orders.payment import due_orders, release_expired

    buyer, order_id, product, intent = _placed_by_card(market)
    market.stripe_event("payment_intent.succeeded", _wrong(intent, "amount"))
    later = datetime.now(UTC) + timedelta(minutes=31)

    assert [o.order_id for o in due_orders(later)] == []
    assert release_expired(later) == 0
    assert market.order_of_buyer(buyer, order_id)["status"] == "pending_payment"
    assert stock_of(market.api, "sel_a", product) == 3


def test_the_sweep_refuses_a_succeeded_payment_that_does_not_match(market: Marketplace) -> None:
    """The sweep reads Stripe's PaymentIntent itself when its webhook never came."""
    from chalicelib.ledger.service import order_postings
    from chalicelib.orders.models import Order
    from chalicelib.orders.payment import release_expired

    buyer, order_id, _, intent = _placed_by_card(market)
    order = _stored(buyer, order_id)
    order.update(actions=[Order.total.set(int(order.total) + 1)])  # as if the PaymentIntent had been changed

    assert release_expired(datetime.now(UTC) + timedelta(minutes=31)) == 0
    assert release_expired(datetime.now(UTC) + timedelta(minutes=36)) == 0

    assert market.order_of_buyer(buyer, order_id)["status"] == "pending_payment"
    assert order_postings(order_id) == []
    [problem] = _stored(buyer, order_id).payment_problems
    assert (problem["mismatch"], problem["received"]["amount"]) == (["amount"], intent["amount_received"])
    assert len(outbox("order.payment_mismatch")) == 1


def test_a_decline_of_another_payment_intent_cancels_nothing(market: Marketplace) -> None:
    buyer, order_id, product, intent = _placed_by_card(market, card=None)

    status, receipt = market.stripe_event("payment_intent.payment_failed", {**intent, "id": "pi_not_the_orders"})

    assert (status, receipt["outcome"]) == (200, "refused")
    assert market.order_of_buyer(buyer, order_id)["status"] == "pending_payment"
    assert stock_of(market.api, "sel_a", product) == 3
    assert market.payment_intent(intent["id"])["status"] == "requires_payment_method"


def test_reconciliation_names_a_refused_payment(market: Marketplace) -> None:
    from chalicelib.ledger.reconcile import reconcile

    _, order_id, _, intent = _placed_by_card(market)
    market.stripe_event("payment_intent.succeeded", _wrong(intent, "currency"))
    now = datetime.now(UTC)

    report = reconcile(now - timedelta(hours=1), now + timedelta(hours=1))

    assert [(d.problem, d.order_id, d.stripe_id) for d in report.differences] == [
        ("payment_not_in_ledger", order_id, intent["id"])]
    assert "refused" in report.differences[0].message

