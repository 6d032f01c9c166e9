"""Sub-order states, the sellers' and buyers' actions, refunds with transfer reversals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.auth import seller_headers
from tests.support.builders import Marketplace, stock_of, user_of
from tests.support.http import call


def test_a_seller_moves_its_part_forward_and_the_buyer_sees_it(market: Marketplace,
                                                               paid_order: Callable[..., dict[str, Any]]) -> None:
    placed = paid_order(("sel_a", "sel_b"))
    order_id = placed["order"]["order_id"]

    assert market.act("sel_a", order_id, "accept")[0] == 200
    status, shipped = market.act("sel_a", order_id, "ship", {"carrier": "DHL", "tracking_number": "JJD0001"})

    assert status == 200
    assert (shipped["status"], shipped["carrier"], shipped["tracking_number"]) == ("shipped", "DHL", "JJD0001")
    parts = {p["seller_id"]: p["status"] for p in market.order_of_buyer(placed["buyer"], order_id)["sellers"]}
    assert parts == {"sel_a": "shipped", "sel_b": "paid"}
    status, listed, _ = call(market.api, "GET", "/v1/seller/orders?status=shipped", headers=seller_headers("sel_a"))
    assert [o["order_id"] for o in listed["items"]] == [order_id]
    assert "order.status_changed" in market.events()


@pytest.mark.parametrize(("steps", "action"), [((), "ship"), ((), "deliver"), (("accept",), "accept")])
def test_an_invalid_transition_is_a_409(market: Marketplace, paid_order: Callable[..., dict[str, Any]],
                                        steps: tuple[str, ...], action: str) -> None:
    order_id = paid_order(("sel_a",))["order"]["order_id"]
    for step in steps:
        assert market.act("sel_a", order_id, step)[0] == 200

    status, body = market.act("sel_a", order_id, action, {"carrier": "DHL", "tracking_number": "1"})

    assert status == 409
    assert body["error"]["code"] == "invalid_transition"


def test_another_sellers_order_is_not_found(market: Marketplace, paid_order: Callable[..., dict[str, Any]]) -> None:
    order_id = paid_order(("sel_a",))["order"]["order_id"]
    market.seller("sel_b")

    for method, path in (("GET", f"/v1/seller/orders/{order_id}"), ("POST", f"/v1/seller/orders/{order_id}/accept"),
                         ("POST", f"/v1/seller/orders/{order_id}/cancel")):
        sent = {} if method == "POST" else None
        status, body, _ = call(market.api, method, path, sent, headers=seller_headers("sel_b"))
        missing = call(market.api, method, path.replace(order_id, f"{order_id[:-6]}ZZZZZZ"), sent,
                       headers=seller_headers("sel_b"))
        assert (status, body) == missing[:2], path
        assert (status, body["error"]["code"]) == (404, "order_not_found"), path
    assert call(market.api, "GET", "/v1/seller/orders", headers=seller_headers("sel_b"))[1]["items"] == []


def test_another_buyers_order_is_not_found(market: Marketplace, paid_order: Callable[..., dict[str, Any]]) -> None:
    order_id = paid_order(("sel_a",))["order"]["order_id"]
    stranger = market.buyer()

    for method, path, sent in (("GET", f"/v1/me/orders/{order_id}", None),
                               ("POST", f"/v1/me/orders/{order_id}/cancel", {})):
        status, body, _ = call(market.api, method, path, sent, headers=stranger)
        missing = call(market.api, method, path.replace(order_id, f"{order_id[:-6]}ZZZZZZ"), sent, headers=stranger)
        assert (status, body) == missing[:2], path
        assert (status, body["error"]["code"]) == (404, "order_not_found"), path


def test_a_seller_cancels_before_shipping_restocks_refunds_and_reverses_its_transfer(
        market: Marketplace, paid_order: Callable[..., dict[str, Any]]) -> None:
    from chalicelib.fees.service import set_schedule
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings, seller_balance
    from chalicelib.payments import stripe_gateway

    set_schedule("default", {"percent_bp": 1_000})
    placed = paid_order(("sel_a", "sel_b"), price=2_000, quantity=2)
    order_id = placed["order"]["order_id"]

    status, body = market.act("sel_a", order_id, "cancel", {"reason": "out of stock in the warehouse"})
    market.events()

    assert status == 200 and body["status"] == "cancelled"
    assert stock_of(market.api, "sel_a", placed["products"]["sel_a"]) == 10
    refunds = stripe_gateway.client().v1.refunds.list({"payment_intent": placed["payment_intent_id"]}).data
    assert [r.amount for r in refunds] == [4_000]
    [transfer] = [t for t in stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
                  if t.destination == market.accounts["sel_a"]]
    assert transfer.amount_reversed == 3_600  # 40.00 minus its 4.00 fee, which is refunded to the seller
    postings = order_postings(order_id)
    assert sum_by_currency(postings) == {"EUR": 0}
    refund_kinds = ["refund", "refund", "fee_refund", "transfer_reversal"]
    assert [p.kind for p in postings if p.kind in refund_kinds] == refund_kinds  # one record, in causal order
    assert seller_balance("sel_a", "EUR").owed.amount == 0
    view = market.order_of_buyer(placed["buyer"], order_id)
    assert view["amount_refunded"]["amount"] == 4_000
    assert {p["seller_id"]: p["status"] for p in view["sellers"]} == {"sel_a": "cancelled", "sel_b": "paid"}


def test_a_partial_return_is_refunded_with_the_fee_in_proportion(market: Marketplace,
                                                                 paid_order: Callable[..., dict[str, Any]]) -> None:
    from chalicelib.fees.service import set_schedule
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings, seller_balance
    from chalicelib.payments import stripe_gateway

    set_schedule("default", {"percent_bp": 1_000})
    placed = paid_order(("sel_a",), price=2_500, quantity=3)
    order_id = placed["order"]["order_id"]
    market.deliver_order("sel_a", order_id)

    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
                           {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "too small"},
                           headers=placed["buyer"])
    assert status == 200, body
    assert body["sellers"][0]["status"] == "return_requested"
    status, body = market.act("sel_a", order_id, "returns/approve", {"restock": True})
    assert status == 200 and body["status"] == "returned"
    market.events()

    part = market.order_of_seller("sel_a", order_id)
    assert part["status"] == "refunded"
    assert part["refunded"]["amount"] == 2_500
    assert part["lines"][0]["refunded_quantity"] == 1
    refunds = stripe_gateway.client().v1.refunds.list({"payment_intent": placed["payment_intent_id"]}).data
    assert [r.amount for r in refunds] == [2_500]
    [transfer] = stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
    assert (transfer.amount, transfer.amount_reversed) == (6_750, 2_250)  # 75.00 - 7.50; 25.00 - 2.50
    assert sum_by_currency(order_postings(order_id)) == {"EUR": 0}
    assert seller_balance("sel_a", "EUR").owed.amount == 0
    assert stock_of(market.api, "sel_a", placed["products"]["sel_a"]) == 8


def test_a_return_of_more_than_was_bought_is_refused(market: Marketplace,
                                                     paid_order: Callable[..., dict[str, Any]]) -> None:
    placed = paid_order(("sel_a",), quantity=2)
    order_id = placed["order"]["order_id"]
    market.deliver_order("sel_a", order_id)

    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
                           {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 3}], "reason": "x"},
                           headers=placed["buyer"])

    assert status == 422 and body["error"]["code"] == "invalid_return"


def test_a_return_before_delivery_is_an_invalid_transition(market: Marketplace,
                                                           paid_order: Callable[..., dict[str, Any]]) -> None:
    placed = paid_order(("sel_a",))
    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{placed['order']['order_id']}/returns",
                           {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "x"},
                           headers=placed["buyer"])
    assert (status, body["error"]["code"]) == (409, "invalid_transition")


def test_the_buyer_cancels_a_paid_order_and_everything_is_refunded(market: Marketplace,
                                                                    paid_order: Callable[..., dict[str, Any]]) -> None:
    from chalicelib.payments import stripe_gateway

    placed = paid_order(("sel_a", "sel_b"), price=1_500, quantity=1)
    order_id = placed["order"]["order_id"]

    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/cancel", {}, headers=placed["buyer"])
    market.events()

    assert status == 200, body
    assert {p["status"] for p in body["sellers"]} == {"cancelled"}
    refunds = stripe_gateway.client().v1.refunds.list({"payment_intent": placed["payment_intent_id"]}).data
    assert sorted(r.amount for r in refunds) == [1_500, 1_500]


def test_the_buyer_cannot_cancel_once_a_part_shipped(market: Marketplace,
                                                     paid_order: Callable[..., dict[str, Any]]) -> None:
    placed = paid_order(("sel_a", "sel_b"))
    order_id = placed["order"]["order_id"]
    market.act("sel_a", order_id, "accept")
    market.act("sel_a", order_id, "ship", {"carrier": "DHL", "tracking_number": "1"})

    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/cancel", {}, headers=placed["buyer"])

    assert (status, body["error"]["code"]) == (409, "order_not_cancellable")
    assert body["error"]["details"]["sellers"] == [{"seller_id": "sel_a", "status": "shipped"}]


def test_a_refund_is_carried_out_once_when_its_event_comes_twice(market: Marketplace,
                                                                 paid_order: Callable[..., dict[str, Any]]) -> None:
    from chalicelib.core.keys import user_key
    from chalicelib.orders.models import Refund
    from chalicelib.orders.refunds import execute_refund
    from chalicelib.payments import stripe_gateway

    placed = paid_order(("sel_a",))
    order_id = placed["order"]["order_id"]
    market.act("sel_a", order_id, "cancel", {"reason": "sorry"})
    market.events()
    [refund] = Refund.query(user_key(user_of(placed["buyer"])), Refund.SK.startswith(f"REFUND#{order_id}#"))

    assert execute_refund(refund.user_id, order_id, refund.refund_id) is False
    refunds = stripe_gateway.client().v1.refunds.list({"payment_intent": placed["payment_intent_id"]}).data
    assert len(refunds) == 1


def test_the_export_holds_the_orders_and_an_erasure_strips_them_of_personal_data(
        market: Marketplace, paid_order: Callable[..., dict[str, Any]]) -> None:
    placed = paid_order(("sel_a",))
    order_id = placed["order"]["order_id"]

    status, exported, _ = call(market.api, "GET", "/v1/me/export", headers=placed["buyer"])
    assert status == 200
    assert [o["order_id"] for o in exported["orders"]] == [order_id]
    assert exported["orders"][0]["shipping_address"]["city"] == "Berlin"

    assert call(market.api, "DELETE", "/v1/me", headers=placed["buyer"])[0] in (200, 204)
    market.events()

    part = market.order_of_seller("sel_a", order_id)
    assert part["buyer_name"] == "" and part["buyer_email"].endswith("@invalid")
    assert part["shipping_address"] == {"country": "DE", "erased": True}
    assert part["total"] == placed["order"]["total"]  # the bookkeeping stays


def test_a_delivered_part_completes_once_its_return_window_ends(market: Marketplace,
                                                                paid_order: Callable[..., dict[str, Any]],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime, timedelta

    from botocore.client import BaseClient

    from chalicelib.orders.lifecycle import complete_due

    placed = paid_order(("sel_a",))
    order_id = placed["order"]["order_id"]
    market.deliver_order("sel_a", order_id)
    lines_before = market.order_of_seller("sel_a", order_id)["lines"]
    read: list[str] = []  # the sort keys the sweep reads by key
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "GetItem":
            read.append(params["Key"]["SK"]["S"])
        if operation == "BatchGetItem":
            read.extend(key["SK"]["S"] for table in params["RequestItems"].values() for key in table["Keys"])
        return original(self, operation, params)

    with monkeypatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", recording)
        assert complete_due(datetime.now(UTC) + timedelta(days=13)) == 0  # the 14-day window is still open
        assert complete_due(datetime.now(UTC) + timedelta(days=14, minutes=1)) == 1
        assert complete_due(datetime.now(UTC) + timedelta(days=14, minutes=2)) == 0

    assert read == [f"ORDER#{order_id}"]  # the sub-order it completes, not its lines item
    part = market.order_of_seller("sel_a", order_id)
    assert part["status"] == "completed"
    assert [h["status"] for h in part["history"]][-2:] == ["delivered", "completed"]
    assert part["lines"] == lines_before and len(part["lines"]) == 1


def test_a_requested_return_is_not_completed_by_the_sweep(market: Marketplace,
                                                          paid_order: Callable[..., dict[str, Any]]) -> None:
    from datetime import UTC, datetime, timedelta

    from chalicelib.orders.lifecycle import complete_due

    placed = paid_order(("sel_a",))
    order_id = placed["order"]["order_id"]
    market.deliver_order("sel_a", order_id)
    call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
         {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "broken"}, headers=placed["buyer"])

    assert complete_due(datetime.now(UTC) + timedelta(days=15)) == 0
    assert market.order_of_seller("sel_a", order_id)["status"] == "return_requested"


def test_a_return_after_the_sellers_window_is_refused(market: Marketplace,
                                                      paid_order: Callable[..., dict[str, Any]]) -> None:
    from chalicelib.core.keys import seller_key
    from chalicelib.sellers.models import Seller

    placed = paid_order(("sel_a",))
    order_id = placed["order"]["order_id"]
    Seller.get(seller_key("sel_a"), "PROFILE").update(actions=[Seller.return_window_days.set(0)])
    market.deliver_order("sel_a", order_id)

    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
                           {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "late"},
                           headers=placed["buyer"])

    assert (status, body["error"]["code"]) == (409, "return_window_closed")
    assert market.order_of_seller("sel_a", order_id)["status"] == "delivered"
