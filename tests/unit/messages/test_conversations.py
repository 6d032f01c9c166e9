"""Conversations between a buyer and a seller: unread counts on both sides, isolation by key,
and at most one mail per conversation per 15 minutes while messages stay unread."""

from __future__ import annotations

from typing import Any

from chalicelib.sellers.service import get_seller
from tests.support.auth import seller_headers
from tests.support.builders import Marketplace
from tests.support.clock import FrozenClock
from tests.support.conversations import seller_says, start
from tests.support.events import pump_events
from tests.support.http import call
from tests.support.mail import queued_mails


def _seller_view(api: Any, seller_id: str = "sel_a") -> list[dict[str, Any]]:
    status, body, _ = call(api, "GET", "/v1/seller/conversations", headers=seller_headers(seller_id))
    assert status == 200, body
    return body["items"]


def _buyer_view(api: Any, buyer: dict[str, str]) -> list[dict[str, Any]]:
    status, body, _ = call(api, "GET", "/v1/me/conversations", headers=buyer)
    assert status == 200, body
    return body["items"]


def test_a_thread_on_an_order_shows_unread_counts_on_both_sides(api: Any, order: dict[str, Any]) -> None:
    buyer = order["buyer"]
    started = start(api, buyer, order)
    conversation_id = started["conversation"]["conversation_id"]
    start(api, buyer, order, "Hello?")  # the same sub-order: the same conversation

    assert [(c["conversation_id"], c["unread"], c["messages"]) for c in _seller_view(api)] == [(conversation_id, 2, 2)]
    assert [(c["unread"], c["kind"], c["order_id"]) for c in _buyer_view(api, buyer)] == [
        (0, "order", order["order"]["order_id"])]

    seller_says(api, conversation_id, "Shipped today.")
    status, read, _ = call(api, "POST", f"/v1/seller/conversations/{conversation_id}/read", {},
                           headers=seller_headers("sel_a"))

    assert (status, read["unread"]) == (200, 0)
    assert [c["unread"] for c in _buyer_view(api, buyer)] == [1]
    status, thread, _ = call(api, "GET", f"/v1/me/conversations/{conversation_id}", headers=buyer)
    assert status == 200
    assert [(m["sender"], m["text"]) for m in thread["items"]] == [
        ("seller", "Shipped today."), ("buyer", "Hello?"), ("buyer", "Where is my parcel?")]
    assert thread["conversation"]["counterpart"] != ""


def test_messages_page_newest_first(api: Any, order: dict[str, Any]) -> None:
    conversation_id = start(api, order["buyer"], order, "1")["conversation"]["conversation_id"]
    for text in ("2", "3"):
        seller_says(api, conversation_id, text)

    path = f"/v1/me/conversations/{conversation_id}?limit=2"
    first = call(api, "GET", path, headers=order["buyer"])[1]
    rest = call(api, "GET", f"{path}&cursor={first['next_cursor']}", headers=order["buyer"])[1]

    assert [m["text"] for m in first["items"] + rest["items"]] == ["3", "2", "1"]


def test_another_party_gets_the_answer_of_a_missing_conversation(api: Any, market: Marketplace,
                                                                 order: dict[str, Any]) -> None:
    conversation_id = start(api, order["buyer"], order)["conversation"]["conversation_id"]
    market.seller("sel_b")
    other_buyer = market.buyer()
    missing = conversation_id[:-6] + "ZZZZZZ"

    for headers, prefix in ((other_buyer, "/v1/me"), (seller_headers("sel_b"), "/v1/seller")):
        for method, suffix, body in (("GET", "", None), ("POST", "/messages", {"text": "Hi"}), ("POST", "/read", {})):
            theirs = call(api, method, f"{prefix}/conversations/{conversation_id}{suffix}", body, headers=headers)
            absent = call(api, method, f"{prefix}/conversations/{missing}{suffix}", body, headers=headers)
            assert theirs[0] == 404 and theirs[1]["error"]["code"] == "conversation_not_found", (prefix, suffix)
            assert theirs[:2] == absent[:2]
    assert call(api, "GET", f"/v1/me/conversations/{conversation_id}")[0] == 401
    assert _seller_view(api, "sel_b") == [] and _buyer_view(api, other_buyer) == []


def test_a_buyer_cannot_start_a_conversation_on_someone_elses_order(api: Any, market: Marketplace,
                                                                    order: dict[str, Any]) -> None:
    status, body, _ = call(api, "POST", "/v1/me/conversations",
                           {"order_id": order["order"]["order_id"], "seller_id": "sel_a", "text": "Mine?"},
                           headers=market.buyer())

    assert (status, body["error"]["code"]) == (404, "order_not_found")


def test_a_pre_sale_question_about_a_product(api: Any, market: Marketplace) -> None:
    market.seller("sel_a")
    product = market.product("sel_a")
    buyer = market.buyer()

    status, body, _ = call(api, "POST", "/v1/me/conversations", {"product_id": product, "text": "Waterproof?"},
                           headers=buyer)
    again = call(api, "POST", "/v1/me/conversations", {"product_id": product, "text": "And in blue?"},
                 headers=buyer)[1]

    assert status == 201
    assert body["conversation"]["kind"] == "product" and body["conversation"]["product_id"] == product
    assert again["conversation"]["conversation_id"] == body["conversation"]["conversation_id"]
    assert [c["unread"] for c in _seller_view(api)] == [2]


def test_a_start_needs_either_an_order_and_seller_or_a_product(api: Any, market: Marketplace) -> None:
    status, body, _ = call(api, "POST", "/v1/me/conversations", {"order_id": "ord_x", "text": "Hi"},
                           headers=market.buyer())

    assert (status, body["error"]["code"]) == (422, "validation_failed")


def test_the_seller_starts_the_conversation_of_an_order(api: Any, order: dict[str, Any]) -> None:
    status, body, _ = call(api, "POST", "/v1/seller/conversations",
                           {"order_id": order["order"]["order_id"], "text": "Which colour would you like?"},
                           headers=seller_headers("sel_a"))

    assert status == 201
    assert [(c["conversation_id"], c["unread"], c["last_sender"]) for c in _buyer_view(api, order["buyer"])] == [
        (body["conversation"]["conversation_id"], 1, "seller")]


def test_the_other_side_is_mailed_at_most_once_per_15_minutes_while_unread(api: Any, order: dict[str, Any],
                                                                          clock: FrozenClock) -> None:
    conversation_id = start(api, order["buyer"], order, "First")["conversation"]["conversation_id"]
    start(api, order["buyer"], order, "Second")
    seen: set[str] = set()
    pump_events("message.posted", seen=seen)
    pump_events("message.posted", seen=set())  # every event delivered twice

    first = queued_mails("conversation_message")
    clock.advance(minutes=16)
    start(api, order["buyer"], order, "Third, much later")
    pump_events("message.posted", seen=seen)
    later = queued_mails("conversation_message")
    call(api, "POST", f"/v1/seller/conversations/{conversation_id}/read", {}, headers=seller_headers("sel_a"))
    start(api, order["buyer"], order, "After reading")
    pump_events("message.posted", seen=seen)
    after_reading = queued_mails("conversation_message")

    assert len({m["dedupe_key"] for m in first}) == 1  # the second message came within 15 minutes
    assert first[0]["to"] == get_seller("sel_a").contact_email
    assert first[0]["context"]["excerpt"] == "First"
    assert [m["context"]["excerpt"] for m in later] == ["Third, much later"]
    assert [m["context"]["excerpt"] for m in after_reading] == ["After reading"]


def test_the_mail_renders_in_both_languages() -> None:
    from chalicelib.retention.mailer import render

    context = {"subject": "Order ord_1", "from_seller": "Schuhhaus", "to_seller": False, "excerpt": "Shipped.",
               "conversation_id": "cnv_1", "unread": 2}
    for language, phrase in (("en", "Schuhhaus wrote to you"), ("de", "Nachricht von Schuhhaus")):
        rendered = render("conversation_message", context, language)
        assert phrase in rendered.subject + rendered.text
        assert "Shipped." in rendered.html


def test_a_buyer_starting_too_many_conversations_is_told_to_wait(api: Any, market: Marketplace,
                                                                monkeypatch: Any) -> None:
    from dataclasses import replace

    from chalicelib.messages import conversations

    monkeypatch.setattr(conversations, "STARTS_PER_BUYER", replace(conversations.STARTS_PER_BUYER, limit=2))
    market.seller("sel_a")
    buyer = market.buyer()
    answers = [call(api, "POST", "/v1/me/conversations", {"product_id": market.product("sel_a"), "text": "Hi"},
                    headers=buyer) for _ in range(3)]

    assert [a[0] for a in answers] == [201, 201, 429]
    assert answers[2][1]["error"]["code"] == "too_many_attempts" and "Retry-After" in answers[2][2]


def test_an_erased_buyers_messages_and_name_are_replaced(api: Any, order: dict[str, Any]) -> None:
    from chalicelib.accounts.data_rights import erase
    from tests.support.builders import user_of

    conversation_id = start(api, order["buyer"], order, "My number is 0170 1234567")["conversation"]["conversation_id"]
    seller_says(api, conversation_id, "We will call you.")

    erase(user_of(order["buyer"]))
    pump_events("account.erased")
    pump_events("account.erased", seen=set())  # delivered twice

    status, thread, _ = call(api, "GET", f"/v1/seller/conversations/{conversation_id}",
                             headers=seller_headers("sel_a"))
    assert status == 200
    assert [(m["sender"], m["text"]) for m in thread["items"]] == [("seller", "We will call you."),
                                                                      ("buyer", "[erased]")]
    assert thread["conversation"]["counterpart"] == ""


def test_the_buyers_conversations_are_in_the_data_export_with_every_message(api: Any,
                                                                            order: dict[str, Any]) -> None:
    conversation_id = start(api, order["buyer"], order, "Where is my parcel?")["conversation"]["conversation_id"]
    seller_says(api, conversation_id, "On its way.")

    status, export, _ = call(api, "GET", "/v1/me/export", headers=order["buyer"])

    assert status == 200, export
    [conversation] = export["conversations"]
    assert (conversation["conversation_id"], conversation["order_id"], conversation["unread"]) == (
        conversation_id, order["order"]["order_id"], 1)
    assert [(m["sender"], m["text"]) for m in conversation["items"]] == [("seller", "On its way."),
                                                                        ("buyer", "Where is my parcel?")]


def test_the_seller_and_the_buyer_starting_the_same_order_share_one_conversation(api: Any,
                                                                                 order: dict[str, Any]) -> None:
    by_seller = call(api, "POST", "/v1/seller/conversations",
                     {"order_id": order["order"]["order_id"], "text": "Thanks for your order!"},
                     headers=seller_headers("sel_a"))[1]
    by_buyer = start(api, order["buyer"], order, "Can you gift-wrap it?")

    assert by_buyer["conversation"]["conversation_id"] == by_seller["conversation"]["conversation_id"]
    assert [(c["unread"], c["messages"]) for c in _seller_view(api)] == [(1, 2)]
    assert [(c["unread"], c["messages"]) for c in _buyer_view(api, order["buyer"])] == [(1, 2)]
