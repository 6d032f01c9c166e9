"""Stripe and DynamoDB faults on the money paths, injected where the clients send requests.
Each ends with the operation done once after a retry with the same idempotency key (one
PaymentIntent, Transfer or Refund at Stripe, whatever was lost on the way), or with a clear
error and nothing half-written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.builders import Marketplace, stock_of, user_of
from tests.support.faults import AwsFaults, LambdaKilled, StripeFaults
from tests.support.http import call


def _payment_intents() -> list[Any]:
    from chalicelib.payments import stripe_gateway

    return list(stripe_gateway.client().v1.payment_intents.list({"limit": 100}).data)


def _transfers(order_id: str) -> list[Any]:
    from chalicelib.payments import stripe_gateway

    return list(stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data)


def _refunds(payment_intent_id: str) -> list[Any]:
    from chalicelib.payments import stripe_gateway

    return list(stripe_gateway.client().v1.refunds.list({"payment_intent": payment_intent_id}).data)


def _cart(market: Marketplace) -> tuple[dict[str, str], str]:
    """A buyer with 2 x 20.00 EUR of sel_a's product (stock 10) in the cart."""
    market.seller("sel_a")
    buyer = market.buyer()
    product_id = market.product("sel_a", price=2_000)
    market.add(buyer, product_id, 2)
    return buyer, product_id


# --- PaymentIntent ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["500", "timeout", "500_after", "timeout_after"])
def test_checkout_survives_a_stripe_failure_with_one_payment_intent(market: Marketplace, stripe_faults: StripeFaults,
                                                                    fault: str) -> None:
    # given Stripe failing the PaymentIntent's creation once (before or after making it)
    buyer, _ = _cart(market)
    stripe_faults.inject("POST", "/v1/payment_intents", fault)

    # when the buyer checks out
    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")

    # then the stripe SDK's retry, with the same idempotency key, got the one PaymentIntent
    assert status == 201, body
    keys = stripe_faults.idempotency_keys("POST", "/v1/payment_intents")
    assert keys == [f"order:{body['order']['order_id']}:payment_intent"] * 2
    assert [pi.id for pi in _payment_intents()] == [body["payment"]["payment_intent_id"]]


def test_stripe_rate_limiting_the_checkout_is_a_503_and_its_retry_makes_one_payment_intent(
        market: Marketplace, stripe_faults: StripeFaults) -> None:
    # given Stripe answering 429 to the first request (the SDK does not retry a 429: Stripe asks to back off)
    buyer, _ = _cart(market)
    stripe_faults.inject("POST", "/v1/payment_intents", "429")

    # when the buyer checks out, then it is a clear 503
    status, body, _ = market.checkout(buyer, key="checkout-0001", payment_method_id="pm_card_visa")
    assert (status, body["error"]["code"]) == (503, "stripe_unavailable")
    assert _payment_intents() == []

    # and the client's retry with the same Idempotency-Key completes that same order, with one PaymentIntent
    status, retried, _ = market.checkout(buyer, key="checkout-0001", payment_method_id="pm_card_visa")
    assert status in (200, 201), retried
    assert [pi.id for pi in _payment_intents()] == [retried["payment"]["payment_intent_id"]]
    assert len(set(stripe_faults.idempotency_keys("POST", "/v1/payment_intents"))) == 1
    assert [o["order_id"] for o in _orders_of(market, buyer)] == [retried["order"]["order_id"]]  # one order


def _orders_of(market: Marketplace, buyer: dict[str, str]) -> list[dict[str, Any]]:
    status, body, _ = call(market.api, "GET", "/v1/me/orders", headers=buyer)
    assert status == 200, body
    return body["items"]


def test_a_transaction_conflict_at_checkout_is_retried(market: Marketplace, aws_faults: AwsFaults) -> None:
    buyer, _ = _cart(market)
    aws_faults.inject("dynamodb", "TransactWriteItems", AwsFaults.transaction_conflict(), times=1)

    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")

    assert status == 201, body
    assert len(_payment_intents()) == 1


def test_checkout_throttled_past_the_retries_is_a_503_and_reserves_nothing(
        market: Marketplace, aws_faults: AwsFaults) -> None:
    buyer, product_id = _cart(market)
    aws_faults.inject("dynamodb", "TransactWriteItems", AwsFaults.error("ProvisionedThroughputExceededException"),
                      times=100)

    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")

    assert (status, body["error"]["code"]) == (503, "storage_busy")
    assert stock_of(market.api, "sel_a", product_id) == 10
    assert _payment_intents() == []


# --- Transfers ---------------------------------------------------------------------------------------------


def _checked_out(market: Marketplace) -> tuple[dict[str, str], dict[str, Any]]:
    buyer, _ = _cart(market)
    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")
    assert status == 201, body
    return buyer, body


@pytest.mark.parametrize("fault", ["500_after", "timeout_after", "timeout"])
def test_a_lost_transfer_answer_is_retried_with_its_key_and_pays_the_seller_once(
        market: Marketplace, stripe_faults: StripeFaults, fault: str) -> None:
    _, placed = _checked_out(market)
    stripe_faults.inject("POST", "/v1/transfers", fault)

    market.pay(placed)

    order_id = placed["order"]["order_id"]
    assert [t.amount for t in _transfers(order_id)] == [4_000]
    assert market.order_of_seller("sel_a", order_id)["transferred"]["amount"] == 4_000
    assert set(stripe_faults.idempotency_keys("POST", "/v1/transfers")) == {f"order:{order_id}:transfer:sel_a"}


def test_stripe_down_for_a_transfer_leaves_it_to_the_next_delivery(market: Marketplace,
                                                                  stripe_faults: StripeFaults) -> None:
    # given every attempt of the first delivery failing (the SDK's three tries)
    _, placed = _checked_out(market)
    order_id = placed["order"]["order_id"]
    stripe_faults.inject("POST", "/v1/transfers", "500_after", times=3)

    # when order.paid is delivered, then the subscriber fails and nothing is recorded
    with pytest.raises(Exception, match="Stripe is unavailable"):
        market.pay(placed)
    assert market.order_of_seller("sel_a", order_id)["transferred"]["amount"] == 0

    # and SQS's next delivery records the one transfer Stripe made
    market.seen_events.clear()
    market.events()
    assert [t.amount for t in _transfers(order_id)] == [4_000]
    assert market.order_of_seller("sel_a", order_id)["transferred"]["amount"] == 4_000


def test_a_lambda_killed_after_stripe_made_the_transfer_is_finished_by_the_sweep(
        market: Marketplace, stripe_faults: StripeFaults) -> None:
    from chalicelib.orders.recovery import STUCK_AFTER, finish_stuck

    # given the payout's Lambda dying right after Stripe made the transfer (nothing recorded)
    _, placed = _checked_out(market)
    order_id = placed["order"]["order_id"]
    stripe_faults.inject("POST", "/v1/transfers", "killed_after")
    with pytest.raises(LambdaKilled):
        market.pay(placed)
    assert market.order_of_seller("sel_a", order_id)["transferred"]["amount"] == 0

    # when the sweep runs before the transfer is overdue, it leaves it alone
    assert finish_stuck()["finished"] == 0
    # and once it is overdue, it records the transfer Stripe made, without a second one
    later = datetime.now(UTC) + STUCK_AFTER + timedelta(minutes=1)
    assert finish_stuck(later) == {"finished": 1, "waiting": 0}
    assert [t.amount for t in _transfers(order_id)] == [4_000]
    assert market.order_of_seller("sel_a", order_id)["transferred"]["amount"] == 4_000
    assert finish_stuck(later) == {"finished": 0, "waiting": 0}  # off the index once recorded


# --- Refunds -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["500_after", "timeout_after"])
def test_a_lost_refund_answer_is_retried_with_its_key_and_refunds_once(
        market: Marketplace, paid_order: Callable[..., dict[str, Any]], stripe_faults: StripeFaults,
        fault: str) -> None:
    placed = paid_order(("sel_a",))
    order_id = placed["order"]["order_id"]
    stripe_faults.inject("POST", "/v1/refunds", fault)

    status, _ = market.act("sel_a", order_id, "cancel", {"reason": "out of stock"})
    market.events()

    assert status == 200
    assert [r.amount for r in _refunds(placed["payment_intent_id"])] == [4_000]
    assert market.order_of_buyer(placed["buyer"], order_id)["amount_refunded"]["amount"] == 4_000
    assert len(set(stripe_faults.idempotency_keys("POST", "/v1/refunds"))) == 1


def test_a_refund_left_requested_by_a_dead_lambda_is_finished_by_the_sweep(
        market: Marketplace, paid_order: Callable[..., dict[str, Any]], stripe_faults: StripeFaults) -> None:
    from chalicelib.core.keys import user_key
    from chalicelib.orders.models import Refund
    from chalicelib.orders.recovery import STUCK_AFTER, finish_stuck

    # given the refund's Lambda dying right after Stripe made the refund
    placed = paid_order(("sel_a",))
    order_id = placed["order"]["order_id"]
    stripe_faults.inject("POST", "/v1/refunds", "killed_after")
    market.act("sel_a", order_id, "cancel", {"reason": "out of stock"})
    with pytest.raises(LambdaKilled):
        market.events()
    [refund] = Refund.query(user_key(user_of(placed["buyer"])), Refund.SK.startswith(f"REFUND#{order_id}#"))
    assert refund.status == "requested"

    # when the sweep runs once it is overdue
    result = finish_stuck(datetime.now(UTC) + STUCK_AFTER + timedelta(minutes=1))

    # then the refund is done, with the one Stripe refund and its transfer reversal
    assert result == {"finished": 1, "waiting": 0}
    assert [r.amount for r in _refunds(placed["payment_intent_id"])] == [4_000]
    refund.refresh()
    assert refund.status == "refunded"
    assert market.order_of_buyer(placed["buyer"], order_id)["amount_refunded"]["amount"] == 4_000
