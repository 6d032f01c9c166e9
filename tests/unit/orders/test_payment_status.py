"""The order's payment status follows its parts: pending, paid, partially refunded, refunded,
or cancelled before payment; kept in the refund's own transaction and idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.builders import Marketplace, user_of
from tests.support.events import outbox
from tests.support.http import call


def payment_statuses(view: dict[str, Any]) -> tuple[str, dict[str, str]]:
    return view["payment_status"], {p["seller_id"]: p["payment_status"] for p in view["sellers"]}


def status_changes(order_id: str) -> list[tuple[str, str]]:
    return [(e["from"], e["to"]) for e in outbox("order.payment_status_changed") if e["order_id"] == order_id]


def stripe_refunds(payment_intent_id: str) -> list[int]:
    from chalicelib.payments import stripe_gateway

    return sorted(r.amount for r in stripe_gateway.client().v1.refunds.list({"payment_intent": payment_intent_id}).data)


def test_one_seller_cancelling_makes_the_order_partially_refunded(market: Marketplace,
                                                                   paid_order: Callable[..., dict[str, Any]]) -> None:
    placed = paid_order(("sel_a", "sel_b"), price=2_000, quantity=1)
    order_id = placed["order"]["order_id"]
    assert payment_statuses(placed["order"]) == ("pending", {"sel_a": "pending", "sel_b": "pending"})  # checkout
    paid = market.order_of_buyer(placed["buyer"], order_id)
    assert payment_statuses(paid) == ("paid", {"sel_a": "paid", "sel_b": "paid"})

    status, part = market.act("sel_a", order_id, "cancel", {"reason": "out of stock"})
    market.events()

    assert (status, part["payment_status"]) == (200, "refunded")
    view = market.order_of_buyer(placed["buyer"], order_id)
    assert (view["status"], view["amount_refunded"]["amount"]) == ("paid", 2_000)
    assert payment_statuses(view) == ("partially_refunded", {"sel_a": "refunded", "sel_b": "paid"})
    assert status_changes(order_id) == [("paid", "partially_refunded")]
    assert stripe_refunds(placed["payment_intent_id"]) == [2_000]


def test_a_partial_return_leaves_the_part_partially_refunded(market: Marketplace,
                                                             paid_order: Callable[..., dict[str, Any]]) -> None:
    placed = paid_order(("sel_a",), price=2_500, quantity=3)
    order_id = placed["order"]["order_id"]
    market.deliver_order("sel_a", order_id)
    call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
         {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "too small"}, headers=placed["buyer"])

    assert market.act("sel_a", order_id, "returns/approve", {"restock": True})[0] == 200
    market.events()

    assert market.order_of_seller("sel_a", order_id)["payment_status"] == "partially_refunded"
    assert payment_statuses(market.order_of_buyer(placed["buyer"], order_id)) == (
        "partially_refunded", {"sel_a": "partially_refunded"})


def test_the_buyer_cancelling_a_paid_order_makes_it_refunded(market: Marketplace,
                                                             paid_order: Callable[..., dict[str, Any]]) -> None:
    placed = paid_order(("sel_a", "sel_b"), price=1_500, quantity=1)
    order_id = placed["order"]["order_id"]

    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/cancel", {}, headers=placed["buyer"])
    market.events()

    assert status == 200, body
    assert payment_statuses(body) == ("refunded", {"sel_a": "refunded", "sel_b": "refunded"})
    assert status_changes(order_id) == [("paid", "refunded")]
    assert stripe_refunds(placed["payment_intent_id"]) == [1_500, 1_500]


def test_every_part_cancelled_or_returned_after_payment_makes_it_refunded(
        market: Marketplace, paid_order: Callable[..., dict[str, Any]]) -> None:
    placed = paid_order(("sel_a", "sel_b"), price=1_000, quantity=2)
    order_id = placed["order"]["order_id"]
    market.act("sel_a", order_id, "cancel", {"reason": "damaged"})
    market.deliver_order("sel_b", order_id)
    line = market.order_of_seller("sel_b", order_id)["lines"][0]["line"]
    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
                           {"seller_id": "sel_b", "lines": [{"line": line, "quantity": 2}], "reason": "wrong colour"},
                           headers=placed["buyer"])
    assert status == 200, body

    assert market.act("sel_b", order_id, "returns/approve", {"restock": True})[0] == 200
    market.events()

    view = market.order_of_buyer(placed["buyer"], order_id)
    assert payment_statuses(view) == ("refunded", {"sel_a": "refunded", "sel_b": "refunded"})
    assert {p["seller_id"]: p["status"] for p in view["sellers"]} == {"sel_a": "cancelled", "sel_b": "refunded"}
    assert status_changes(order_id) == [("paid", "partially_refunded"), ("partially_refunded", "refunded")]
    assert stripe_refunds(placed["payment_intent_id"]) == [2_000, 2_000]


def test_an_order_cancelled_before_payment_says_cancelled(market: Marketplace) -> None:
    market.seller("sel_a")
    buyer = market.buyer()
    market.add(buyer, market.product("sel_a"), 1)
    status, placed, _ = market.checkout(buyer)
    assert status == 201, placed
    order_id = placed["order"]["order_id"]
    assert payment_statuses(market.order_of_buyer(buyer, order_id)) == ("pending", {"sel_a": "pending"})

    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/cancel", {}, headers=buyer)

    assert status == 200, body
    assert (body["status"], body["amount_refunded"]["amount"]) == ("cancelled", 0)
    assert payment_statuses(body) == ("cancelled", {"sel_a": "cancelled"})
    assert market.payment_intent(placed["payment"]["payment_intent_id"])["status"] == "canceled"


def test_retried_refund_and_payment_events_change_nothing(market: Marketplace,
                                                          paid_order: Callable[..., dict[str, Any]]) -> None:
    from chalicelib.core.keys import user_key
    from chalicelib.events.registry import Delivered
    from chalicelib.orders.events import RefundRequested
    from chalicelib.orders.models import Refund
    from chalicelib.orders.refunds import on_refund_requested

    placed = paid_order(("sel_a", "sel_b"), price=1_500, quantity=1)
    order_id = placed["order"]["order_id"]
    call(market.api, "POST", f"/v1/me/orders/{order_id}/cancel", {}, headers=placed["buyer"])
    market.events()

    for refund in Refund.query(user_key(user_of(placed["buyer"])), Refund.SK.startswith(f"REFUND#{order_id}#")):
        on_refund_requested(Delivered(RefundRequested(
            user_id=refund.user_id, order_id=order_id, seller_id=refund.seller_id, refund_id=refund.refund_id,
            amount=int(refund.amount), currency=refund.currency), event_id="evt_again", occurred_at=""))
    assert market.stripe_event("payment_intent.succeeded", market.payment_intent(placed["payment_intent_id"]))[0] == 200
    market.events()

    view = market.order_of_buyer(placed["buyer"], order_id)
    assert (view["payment_status"], view["amount_refunded"]["amount"]) == ("refunded", 3_000)
    assert status_changes(order_id) == [("paid", "refunded")]
    assert stripe_refunds(placed["payment_intent_id"]) == [1_500, 1_500]


def test_a_refund_racing_another_parts_refund_still_ends_refunded(
        market: Marketplace, paid_order: Callable[..., dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    """sel_a's cancellation read the order before sel_b's refund committed: its write is stale
    and retried, so the stored status counts both refunds."""
    from chalicelib.orders import lifecycle

    placed = paid_order(("sel_a", "sel_b"), price=1_000, quantity=1)
    order_id = placed["order"]["order_id"]
    before = lifecycle.get_order(user_of(placed["buyer"]), order_id)
    assert market.act("sel_b", order_id, "cancel", {"reason": "first"})[0] == 200
    reads = iter([before])
    real_get_order = lifecycle.get_order
    monkeypatch.setattr(lifecycle, "get_order", lambda *args: next(reads, None) or real_get_order(*args))

    assert market.act("sel_a", order_id, "cancel", {"reason": "second"})[0] == 200

    view = market.order_of_buyer(placed["buyer"], order_id)
    assert (view["payment_status"], view["amount_refunded"]["amount"]) == ("refunded", 2_000)


def test_an_order_stored_before_payment_statuses_existed_derives_its_status(
        market: Marketplace, paid_order: Callable[..., dict[str, Any]]) -> None:
    from chalicelib.core.keys import order_sk, user_key
    from chalicelib.orders.models import Order

    placed = paid_order(("sel_a", "sel_b"), price=1_000, quantity=1)
    order_id = placed["order"]["order_id"]
    market.act("sel_a", order_id, "cancel", {"reason": "damaged"})
    order = Order.get(user_key(user_of(placed["buyer"])), order_sk(order_id))
    order.update(actions=[Order.payment_status.remove()])

    assert market.order_of_buyer(placed["buyer"], order_id)["payment_status"] == "partially_refunded"
    assert market.act("sel_b", order_id, "cancel", {"reason": "damaged"})[0] == 200
    assert market.order_of_buyer(placed["buyer"], order_id)["payment_status"] == "refunded"


def test_the_openapi_document_lists_the_payment_statuses(api: Any) -> None:
    status, document, _ = call(api, "GET", "/openapi.json")

    schemas = document["components"]["schemas"]
    expected = ["pending", "paid", "partially_refunded", "refunded", "cancelled", "processing"]
    assert status == 200
    assert schemas["OrderOut"]["properties"]["payment_status"]["enum"] == expected
    assert schemas["SellerPartOut"]["properties"]["payment_status"]["enum"] == expected
