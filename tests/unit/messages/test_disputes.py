"""Disputes: the buyer opens one on an order's conversation, the operator reads the conversation
then and resolves the case, with a refund through the orders' refund path."""

from __future__ import annotations

from typing import Any

from tests.support.auth import operator_headers, seller_headers
from tests.support.builders import Marketplace
from tests.support.conversations import seller_says, start
from tests.support.events import outbox
from tests.support.http import call


def _open(api: Any, buyer: dict[str, str], conversation_id: str, reason: str = "Arrived broken") -> tuple[int, Any]:
    status, body, _ = call(api, "POST", f"/v1/me/conversations/{conversation_id}/dispute", {"reason": reason},
                           headers=buyer)
    return status, body


def test_a_dispute_is_opened_and_resolved_by_a_refund(api: Any, market: Marketplace, order: dict[str, Any]) -> None:
    buyer, order_id = order["buyer"], order["order"]["order_id"]
    conversation_id = start(api, buyer, order, "The box was crushed.")["conversation"]["conversation_id"]
    seller_says(api, conversation_id, "Not our fault.")

    status, dispute = _open(api, buyer, conversation_id)
    assert (status, dispute["status"]) == (201, "open")
    status, seen, _ = call(api, "GET", f"/v1/admin/disputes/{dispute['dispute_id']}", headers=operator_headers())
    assert status == 200
    assert [m["text"] for m in seen["items"]] == ["Not our fault.", "The box was crushed."]
    assert seen["conversation"]["dispute"] == {"dispute_id": dispute["dispute_id"], "status": "open",
                                               "reason": "Arrived broken", "note": None}

    status, resolved, _ = call(api, "POST", f"/v1/admin/disputes/{dispute['dispute_id']}/resolve",
                               {"note": "Refund one unit.", "refund": {"lines": [{"line": 1, "quantity": 1}]}},
                               headers=operator_headers())
    market.events()

    assert status == 200, resolved
    assert (resolved["status"], resolved["refund"]) == ("resolved", {"amount": 2_000, "currency": "EUR"})
    assert [(e["refund_id"], e["amount"]) for e in outbox("order.refund_requested")] == [(resolved["refund_id"], 2_000)]
    mine = market.order_of_buyer(buyer, order_id)
    assert mine["payment_status"] == "partially_refunded"
    part = market.order_of_seller("sel_a", order_id)
    assert [(line["refunded_quantity"], line["refunded_amount"]) for line in part["lines"]] == [
        (1, {"amount": 2_000, "currency": "EUR"})]
    assert part["status"] == "paid"  # a dispute refund moves no status
    assert [e["dispute_id"] for e in outbox("dispute.resolved")] == [dispute["dispute_id"]]
    for path, headers in ((f"/v1/me/conversations/{conversation_id}", buyer),
                          (f"/v1/seller/conversations/{conversation_id}", seller_headers("sel_a"))):
        thread = call(api, "GET", path, headers=headers)[1]
        assert (thread["conversation"]["dispute"]["status"], thread["conversation"]["dispute"]["note"]) == (
            "resolved", "Refund one unit.")
    again = call(api, "POST", f"/v1/admin/disputes/{dispute['dispute_id']}/resolve", {"note": "Twice"},
                 headers=operator_headers())
    assert (again[0], again[1]["error"]["code"]) == (409, "dispute_resolved")


def test_a_refund_cannot_exceed_what_was_bought(api: Any, order: dict[str, Any]) -> None:
    conversation_id = start(api, order["buyer"], order)["conversation"]["conversation_id"]
    dispute = _open(api, order["buyer"], conversation_id)[1]

    status, body, _ = call(api, "POST", f"/v1/admin/disputes/{dispute['dispute_id']}/resolve",
                           {"note": "All of it and more", "refund": {"lines": [{"line": 1, "quantity": 3}]}},
                           headers=operator_headers())

    assert (status, body["error"]["code"]) == (409, "refund_exceeds_captured")
    assert outbox("order.refund_requested") == []


def test_one_open_dispute_per_conversation_and_none_on_a_product(api: Any, market: Marketplace,
                                                                 order: dict[str, Any]) -> None:
    conversation_id = start(api, order["buyer"], order)["conversation"]["conversation_id"]
    assert _open(api, order["buyer"], conversation_id)[0] == 201
    status, body = _open(api, order["buyer"], conversation_id)
    assert (status, body["error"]["code"]) == (409, "dispute_open")

    product = order["products"]["sel_a"]
    asked = call(api, "POST", "/v1/me/conversations", {"product_id": product, "text": "Size?"},
                 headers=order["buyer"])[1]
    status, body = _open(api, order["buyer"], asked["conversation"]["conversation_id"])
    assert (status, body["error"]["code"]) == (409, "not_disputable")


def test_only_the_buyer_opens_and_only_the_operator_resolves(api: Any, market: Marketplace,
                                                            order: dict[str, Any]) -> None:
    conversation_id = start(api, order["buyer"], order)["conversation"]["conversation_id"]

    assert _open(api, market.buyer(), conversation_id)[0] == 404
    dispute = _open(api, order["buyer"], conversation_id)[1]
    for headers in (seller_headers("sel_a"), order["buyer"]):
        status, _, _ = call(api, "GET", f"/v1/admin/disputes/{dispute['dispute_id']}", headers=headers)
        assert status == 403


def test_the_operator_lists_open_disputes_first(api: Any, market: Marketplace) -> None:
    ids = []
    for _ in range(3):
        placed = market.paid_order(("sel_a",))
        conversation_id = start(api, placed["buyer"], placed)["conversation"]["conversation_id"]
        ids.append(_open(api, placed["buyer"], conversation_id)[1]["dispute_id"])
    call(api, "POST", f"/v1/admin/disputes/{ids[0]}/resolve", {"note": "Settled"}, headers=operator_headers())

    seen, cursor = [], None
    while True:
        path = "/v1/admin/disputes?limit=1" + (f"&cursor={cursor}" if cursor else "")
        status, page, _ = call(api, "GET", path, headers=operator_headers())
        assert status == 200, page
        seen += [(d["dispute_id"], d["status"]) for d in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break

    assert seen == [(ids[1], "open"), (ids[2], "open"), (ids[0], "resolved")]


def test_a_dispute_refunds_an_amount_through_the_refund_path_and_units_later_pay_the_rest(
        api: Any, market: Marketplace) -> None:
    """10.00 of a delivered 3 x 25.00 part, no units named: Stripe refunds 10.00, the seller's
    transfer is reversed by 9.00 (the 10 % fee goes back in proportion), the ledger balances and
    the VAT in it is in proportion; refunding all three units afterwards pays the other 65.00."""
    from chalicelib.core.keys import user_key
    from chalicelib.core.money import divide_half_up
    from chalicelib.fees.service import set_schedule
    from chalicelib.ledger.postings import sum_by_currency
    from chalicelib.ledger.service import order_postings, seller_balance
    from chalicelib.orders.models import Refund
    from chalicelib.payments import stripe_gateway
    from tests.support.builders import user_of

    set_schedule("default", {"percent_bp": 1_000})
    placed = market.paid_order(("sel_a",), price=2_500, quantity=3)
    buyer, order_id = placed["buyer"], placed["order"]["order_id"]
    market.deliver_order("sel_a", order_id)
    conversation_id = start(api, buyer, placed, "One shoe is scratched.")["conversation"]["conversation_id"]

    def resolve(refund: dict[str, Any]) -> tuple[int, Any]:
        dispute = _open(api, buyer, conversation_id)[1]
        status, body, _ = call(api, "POST", f"/v1/admin/disputes/{dispute['dispute_id']}/resolve",
                               {"note": "Settled.", "refund": refund}, headers=operator_headers())
        market.events()
        return status, body

    status, resolved = resolve({"amount": 1_000})

    assert status == 200, resolved
    assert resolved["refund"] == {"amount": 1_000, "currency": "EUR"}
    part = market.order_of_seller("sel_a", order_id)
    assert [(line["refunded_quantity"], line["refunded_amount"]["amount"]) for line in part["lines"]] == [(0, 1_000)]
    assert part["status"] == "delivered"
    [refund] = Refund.query(user_key(user_of(buyer)), Refund.SK.startswith(f"REFUND#{order_id}#"))
    vat = part["lines"][0]["tax"]["amount"]
    assert [(line["amount"], line["quantity"], line["tax"]) for line in refund.lines] == [
        (1_000, 0, divide_half_up(vat * 1_000, 7_500))]
    [transfer] = stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
    assert (transfer.amount, transfer.amount_reversed) == (6_750, 900)
    assert market.order_of_buyer(buyer, order_id)["payment_status"] == "partially_refunded"

    status, rest = resolve({"lines": [{"line": 1, "quantity": 3}]})

    assert (status, rest["refund"]) == (200, {"amount": 6_500, "currency": "EUR"})
    refunds = stripe_gateway.client().v1.refunds.list({"payment_intent": placed["payment_intent_id"]}).data
    assert sorted(r.amount for r in refunds) == [1_000, 6_500]
    [transfer] = stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data
    assert transfer.amount_reversed == 6_750
    assert sum_by_currency(order_postings(order_id)) == {"EUR": 0}
    assert seller_balance("sel_a", "EUR").owed.amount == 0
    assert market.order_of_buyer(buyer, order_id)["payment_status"] == "refunded"
    status, more = resolve({"amount": 1})
    assert (status, more["error"]["code"]) == (409, "refund_exceeds_captured")


def test_a_dispute_refund_names_lines_or_an_amount_not_both(api: Any, order: dict[str, Any]) -> None:
    conversation_id = start(api, order["buyer"], order)["conversation"]["conversation_id"]
    dispute = _open(api, order["buyer"], conversation_id)[1]
    path = f"/v1/admin/disputes/{dispute['dispute_id']}/resolve"

    both = call(api, "POST", path, {"note": "x", "refund": {"amount": 5, "lines": [{"line": 1, "quantity": 1}]}},
                headers=operator_headers())
    neither = call(api, "POST", path, {"note": "x", "refund": {}}, headers=operator_headers())
    too_much = call(api, "POST", path, {"note": "x", "refund": {"amount": 4_001}}, headers=operator_headers())

    assert (both[0], neither[0]) == (422, 422)
    assert (too_much[0], too_much[1]["error"]["code"]) == (409, "refund_exceeds_captured")
    assert outbox("order.refund_requested") == []
