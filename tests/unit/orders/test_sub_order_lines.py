"""A sub-order's lines, and its fields fixed at checkout (the buyer's name, email and
shipping address, the price adjustments), live in an item of their own, written once at
checkout, so that the status moves rewrite only the small sub-order; sub-orders written
before keep theirs inline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.auth import seller_headers
from tests.support.builders import Marketplace
from tests.support.http import call


def _stored(seller_id: str, order_id: str) -> tuple[Any, Any]:
    from chalicelib.core.db import find_item
    from chalicelib.core.keys import order_sk, seller_key, sub_order_lines_sk
    from chalicelib.orders.models import SubOrder, SubOrderLines

    return (find_item(SubOrder, seller_key(seller_id), order_sk(order_id), consistent_read=True),
            find_item(SubOrderLines, seller_key(seller_id), sub_order_lines_sk(order_id), consistent_read=True))


def test_status_moves_leave_the_lines_item_as_checkout_wrote_it(market: Marketplace,
                                                               paid_order: Callable[..., dict[str, Any]]) -> None:
    placed = paid_order(("sel_a",), price=2_500, quantity=3)
    order_id = placed["order"]["order_id"]
    sub, lines = _stored("sel_a", order_id)
    written = lines.serialize()

    market.deliver_order("sel_a", order_id)

    sub, lines = _stored("sel_a", order_id)
    assert sub.status == "delivered"
    assert sub.lines is None
    assert lines.serialize() == written
    assert [(line["quantity"], line["unit_price"]) for line in lines.lines] == [(3, 2_500)]
    assert "refunded_quantity" not in lines.lines[0]  # the counters are the sub-order's (line_state)
    listed = call(market.api, "GET", "/v1/seller/orders", headers=seller_headers("sel_a"))[1]["items"]
    by_status = call(market.api, "GET", "/v1/seller/orders?status=delivered",
                     headers=seller_headers("sel_a"))[1]["items"]
    buyer_part = market.order_of_buyer(placed["buyer"], order_id)["sellers"][0]
    for view in (market.order_of_seller("sel_a", order_id), listed[0], by_status[0], buyer_part):
        assert [(line["quantity"], line["unit_price"]["amount"], line["refunded_quantity"],
                 line["refunded_amount"]["amount"], line["return_quantity"]) for line in view["lines"]] == \
            [(3, 2_500, 0, 0, 0)]


def test_a_return_counts_on_the_sub_order_and_not_on_its_lines_item(market: Marketplace,
                                                                    paid_order: Callable[..., dict[str, Any]]) -> None:
    placed = paid_order(("sel_a",), price=2_500, quantity=3)
    order_id = placed["order"]["order_id"]
    market.deliver_order("sel_a", order_id)
    written = _stored("sel_a", order_id)[1].serialize()

    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
                           {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "too small"},
                           headers=placed["buyer"])
    assert status == 200, body
    assert body["sellers"][0]["lines"][0]["return_quantity"] == 1
    status, body = market.act("sel_a", order_id, "returns/approve", {"restock": True})
    assert status == 200, body

    [line] = market.order_of_seller("sel_a", order_id)["lines"]
    assert (line["quantity"], line["refunded_quantity"], line["refunded_amount"]["amount"]) == (3, 1, 2_500)
    sub, lines = _stored("sel_a", order_id)
    assert lines.serialize() == written
    assert sub.line_state["1"]["refunded_quantity"] == 1


def test_a_sub_order_with_its_lines_inline_still_reads_and_refunds(market: Marketplace,
                                                                   paid_order: Callable[..., dict[str, Any]]) -> None:
    from chalicelib.orders.models import SubOrder

    placed = paid_order(("sel_a", "sel_b"), price=2_000, quantity=2)
    order_id = placed["order"]["order_id"]
    sub, lines = _stored("sel_a", order_id)
    sub.update(actions=[SubOrder.lines.set(lines.lines), SubOrder.line_state.remove(),  # as written before
                        *(getattr(SubOrder, name).set(getattr(lines, name)) for name in _FIXED)])
    lines.delete()

    assert market.order_of_seller("sel_a", order_id)["lines"][0]["quantity"] == 2
    status, body = market.act("sel_a", order_id, "cancel", {"reason": "out of stock in the warehouse"})

    assert status == 200 and body["status"] == "cancelled"
    assert body["lines"][0]["refunded_quantity"] == 2
    sub, lines = _stored("sel_a", order_id)
    assert (lines, sub.line_state, sub.lines[0]["refunded_quantity"]) == (None, None, 2)
    listed = call(market.api, "GET", "/v1/seller/orders", headers=seller_headers("sel_a"))[1]["items"]
    assert listed[0]["lines"][0]["refunded_quantity"] == 2
    parts = {p["seller_id"]: p["lines"][0]["quantity"] for p in market.order_of_buyer(placed["buyer"],
                                                                                     order_id)["sellers"]}
    assert parts == {"sel_a": 2, "sel_b": 2}
    seller_view = market.order_of_seller("sel_a", order_id)
    assert (seller_view["buyer_name"], seller_view["shipping_address"]["city"]) == ("Anna Käufer", "Berlin")


_FIXED = ("buyer_name", "buyer_email", "shipping_address")
LONG_ADDRESS = {"name": "Maximiliane Musterfrau-Lüdenscheidt", "company": "Lüdenscheidter Versandhandel GmbH & Co. KG",
                "line1": "Friedrich-Wilhelm-Straße 123", "line2": "Hinterhaus, 4. Obergeschoss links",
                "postal_code": "58511", "city": "Lüdenscheid", "region": "Nordrhein-Westfalen", "country": "DE",
                "phone": "+49 2351 1234567"}


def _item_size(item: Any) -> int:
    """Bytes of a stored item as DynamoDB bills them: names and values (numbers counted as text: more, never less)."""
    return sum(len(name.encode()) + len(str(next(iter(value.values()))).encode())
               for name, value in item.serialize().items())


def test_the_status_moves_rewrite_a_sub_order_under_one_kb_whatever_the_address(market: Marketplace) -> None:
    from datetime import UTC, datetime, timedelta

    from chalicelib.core.ids import new_id
    from chalicelib.orders.lifecycle import complete_due

    buyer, seller_id = market.buyer(), market.seller(new_id("sel"))  # ids as long as production's
    market.add(buyer, market.product(seller_id, price=2_500), 1)
    status, body, _ = market.checkout(buyer, shipping_address=LONG_ADDRESS, payment_method_id="pm_card_visa")
    assert status == 201, body
    order_id = body["order"]["order_id"]
    market.pay(body)
    sizes = [_item_size(_stored(seller_id, order_id)[0])]
    shipment = {"carrier": "DHL Paket", "tracking_number": "00340434161094042557"}
    for action, action_body in (("accept", None), ("ship", shipment), ("deliver", None)):
        status, answer = market.act(seller_id, order_id, action, action_body)
        assert status == 200, answer
        sizes.append(_item_size(_stored(seller_id, order_id)[0]))
    assert complete_due(datetime.now(UTC) + timedelta(days=14, minutes=1)) == 1
    sizes.append(_item_size(_stored(seller_id, order_id)[0]))

    assert max(sizes) < 1024, sizes
    sub, lines = _stored(seller_id, order_id)
    assert (sub.status, sub.buyer_email, sub.shipping_address) == ("completed", None, None)
    assert lines.shipping_address["company"] == LONG_ADDRESS["company"]
    listed = call(market.api, "GET", "/v1/seller/orders", headers=seller_headers(seller_id))[1]["items"]
    by_status = call(market.api, "GET", "/v1/seller/orders?status=completed",
                     headers=seller_headers(seller_id))[1]["items"]
    for view in (market.order_of_seller(seller_id, order_id), listed[0], by_status[0]):
        assert (view["buyer_name"], view["buyer_email"]) == ("Anna Käufer", lines.buyer_email)
        assert view["shipping_address"]["line2"] == LONG_ADDRESS["line2"]
        assert [entry["status"] for entry in view["history"]] == [
            "pending_payment", "paid", "accepted", "shipped", "delivered", "completed"]
        assert (view["created_at"], view["updated_at"]) == (view["history"][0]["at"], view["history"][-1]["at"])
    assert body["order"]["sellers"][0]["created_at"] == body["order"]["created_at"]  # checkout's answer


def test_a_sub_order_with_its_history_as_written_before_reads_and_moves_on(
        market: Marketplace, paid_order: Callable[..., dict[str, Any]]) -> None:
    import json

    import boto3

    from chalicelib.core.settings import get_settings

    placed = paid_order(("sel_a",))
    order_id = placed["order"]["order_id"]
    old = [{"status": "pending_payment", "at": "2026-12-01T10:00:00.000000+00:00"},
           {"status": "paid", "at": "2026-12-01T10:05:00.000000+00:00"}]
    boto3.client("dynamodb").update_item(  # entries as objects, and the first and last time apart, as before
        TableName=get_settings().table_name, Key={"PK": {"S": "SELLER#sel_a"}, "SK": {"S": f"ORDER#{order_id}"}},
        UpdateExpression="SET history = :h, created_at = :c, updated_at = :u",
        ExpressionAttributeValues={":h": {"S": json.dumps(old)}, ":c": {"S": old[0]["at"]}, ":u": {"S": old[1]["at"]}})

    before = market.order_of_seller("sel_a", order_id)
    assert (before["history"], before["created_at"], before["updated_at"]) == (old, old[0]["at"], old[1]["at"])
    status, after = market.act("sel_a", order_id, "accept")

    assert status == 200, after
    assert after["history"][:2] == old and after["history"][2]["status"] == "accepted"
    assert (after["created_at"], after["updated_at"]) == (old[0]["at"], after["history"][2]["at"])
    assert market.order_of_seller("sel_a", order_id) == after
    sub = _stored("sel_a", order_id)[0]
    assert sub.updated_at is None


def test_a_sub_order_with_its_buyer_fields_inline_still_reads_and_is_erased(
        market: Marketplace, paid_order: Callable[..., dict[str, Any]]) -> None:
    from chalicelib.orders.models import SubOrder, SubOrderLines

    placed = paid_order(("sel_a",))
    order_id = placed["order"]["order_id"]
    sub, lines = _stored("sel_a", order_id)  # as written while only the lines were kept apart:
    sub.update(actions=[getattr(SubOrder, name).set(getattr(lines, name)) for name in _FIXED])
    lines.update(actions=[getattr(SubOrderLines, name).remove() for name in _FIXED])

    market.act("sel_a", order_id, "accept")
    seller_view = market.order_of_seller("sel_a", order_id)
    assert (seller_view["status"], seller_view["buyer_name"]) == ("accepted", "Anna Käufer")
    assert seller_view["shipping_address"]["city"] == "Berlin"
    assert call(market.api, "DELETE", "/v1/me", headers=placed["buyer"])[0] in (200, 204)
    market.events()

    erased = market.order_of_seller("sel_a", order_id)
    assert (erased["buyer_name"], erased["shipping_address"]) == ("", {"country": "DE", "erased": True})
    assert erased["buyer_email"].endswith("@invalid")
    sub, lines = _stored("sel_a", order_id)
    assert (lines.buyer_email, lines.shipping_address) == (None, None)  # nothing written to the lines item
