"""Questions and answers on products: who may ask and answer, moderation, and the mails."""

from __future__ import annotations

from typing import Any

from tests.support.auth import operator_headers, seller_headers
from tests.support.builders import Marketplace
from tests.support.events import outbox
from tests.support.http import call, ok
from tests.support.mail import deliver_mails

SELLER = "sel_01M8A0000000000000000000AA"


def _sent(template_subject: str) -> list[dict[str, Any]]:
    return [m for m in deliver_mails() if template_subject in m["subject"]]


def test_a_question_gets_answers_from_the_seller_and_a_verified_buyer(api: Any, market: Marketplace) -> None:
    from chalicelib.reviews.events import QuestionAsked
    from chalicelib.reviews.mails import question_asked
    from chalicelib.sellers.service import get_seller

    placed = market.order_in_state("delivered", seller_id=SELLER)
    product_id = placed["products"][SELLER]
    asker, stranger = market.buyer("asker@example.com"), market.buyer()

    question = ok(call(api, "POST", f"/v1/products/{product_id}/questions", {"text": "Fällt der Schuh klein aus?"},
                       headers=asker), 201)
    assert question["status"] == "published"
    market.events()
    [asked_mail] = _sent("A new question about")
    assert asked_mail["to"] == [get_seller(SELLER).contact_email]
    assert "Fällt der Schuh klein aus?" in asked_mail["body"]
    question_asked(QuestionAsked(**outbox("question.asked")[0]))  # the event delivered again
    assert len(_sent("A new question about")) == 1

    path = f"/v1/questions/{question['question_id']}/answers"
    by_seller = ok(call(api, "POST", path, {"text": "Eher groß, eine Nummer kleiner bestellen."},
                        headers=seller_headers(SELLER)), 201)
    refused = call(api, "POST", path, {"text": "Keine Ahnung"}, headers=stranger)
    others_order = call(api, "POST", path, {"text": "Passt", "order_id": placed["order"]["order_id"]},
                        headers=stranger)
    by_buyer = ok(call(api, "POST", path, {"text": "Bei mir passte die normale Größe.",
                                           "order_id": placed["order"]["order_id"]}, headers=placed["buyer"]), 201)
    linked = call(api, "POST", path, {"text": "Siehe www.groessen.de", "order_id": placed["order"]["order_id"]},
                  headers=placed["buyer"])

    assert [(a["by"], a["verified_buyer"]) for a in by_seller["answers"]] == [("seller", False)]
    assert (refused[0], refused[1]["error"]["code"]) == (403, "not_a_buyer_of_it")
    assert (others_order[0], others_order[1]["error"]["code"]) == (404, "order_not_found")
    assert [(a["by"], a["verified_buyer"], a["author_name"]) for a in by_buyer["answers"]] == [
        ("seller", False, ""), ("buyer", True, "Anna K.")]
    assert (linked[0], linked[1]["error"]["code"]) == (422, "review_contains_link")
    [listed] = ok(call(api, "GET", f"/v1/products/{product_id}/questions"))["items"]
    assert (listed["text"], len(listed["answers"])) == ("Fällt der Schuh klein aus?", 2)
    market.events()
    answered = _sent("has an answer")
    assert [m["to"] for m in answered] == [["asker@example.com"], ["asker@example.com"]]
    assert any("a verified buyer answered" in m["body"] for m in answered)


def test_questions_wait_for_approval_when_the_operator_says_so(api: Any, market: Marketplace) -> None:
    operator = operator_headers()
    ok(call(api, "PUT", "/v1/admin/reviews/settings", {"publish": "after_approval"}, headers=operator))
    market.seller(SELLER)
    product_id = market.product(SELLER)
    asker = market.buyer()

    question = ok(call(api, "POST", f"/v1/products/{product_id}/questions", {"text": "Wasserdicht?"},
                       headers=asker), 201)

    assert question["status"] == "pending"
    assert ok(call(api, "GET", f"/v1/products/{product_id}/questions"))["items"] == []
    answer = call(api, "POST", f"/v1/questions/{question['question_id']}/answers", {"text": "Ja"},
                  headers=seller_headers(SELLER))
    assert (answer[0], answer[1]["error"]["code"]) == (404, "question_not_found")
    assert [q["question_id"] for q in ok(call(api, "GET", "/v1/admin/questions", headers=operator))["items"]] == [
        question["question_id"]]
    assert outbox("question.asked") == []

    ok(call(api, "POST", f"/v1/admin/questions/{question['question_id']}/unhide", headers=operator))

    assert [q["question_id"] for q in ok(call(api, "GET", f"/v1/products/{product_id}/questions"))["items"]] == [
        question["question_id"]]
    assert len(outbox("question.asked")) == 1
    ok(call(api, "POST", f"/v1/admin/questions/{question['question_id']}/hide", {"reason": "Doppelt"},
            headers=operator))
    assert ok(call(api, "GET", f"/v1/products/{product_id}/questions"))["items"] == []
    assert call(api, "POST", f"/v1/products/{product_id}/questions", {"text": "?"})[0] == 401


def test_an_account_asks_at_most_so_many_questions_an_hour(api: Any, market: Marketplace,
                                                           monkeypatch: Any) -> None:
    from dataclasses import replace

    from chalicelib.reviews import questions

    monkeypatch.setattr(questions, "QUESTIONS_PER_USER", replace(questions.QUESTIONS_PER_USER, limit=2))
    market.seller(SELLER)
    product_id = market.product(SELLER)
    asker = market.buyer()

    answers = [call(api, "POST", f"/v1/products/{product_id}/questions", {"text": f"Frage {n}"}, headers=asker)
               for n in range(3)]

    assert [a[0] for a in answers] == [201, 201, 429]
    assert answers[2][1]["error"]["code"] == "too_many_attempts"
    assert "Retry-After" in answers[2][2]
    other = market.buyer()
    assert call(api, "POST", f"/v1/products/{product_id}/questions", {"text": "Frage"}, headers=other)[0] == 201


def test_the_buyers_questions_and_answers_are_in_the_export_and_lose_the_name_on_erasure(
        api: Any, market: Marketplace) -> None:
    placed = market.order_in_state("delivered", seller_id=SELLER)
    product_id, buyer = placed["products"][SELLER], placed["buyer"]
    other = ok(call(api, "POST", f"/v1/products/{product_id}/questions", {"text": "Wasserdicht?"},
                    headers=market.buyer()), 201)
    own = ok(call(api, "POST", f"/v1/products/{product_id}/questions", {"text": "Wie breit ist er?"},
                  headers=buyer), 201)
    answered = ok(call(api, "POST", f"/v1/questions/{other['question_id']}/answers",
                       {"text": "Nicht ganz.", "order_id": placed["order"]["order_id"]}, headers=buyer), 201)

    export = ok(call(api, "GET", "/v1/me/export", headers=buyer))["questions"]
    assert [(q["kind"], q["question_id"], q["text"], q["author_name"]) for q in export] == [
        ("asked", own["question_id"], "Wie breit ist er?", "Anna K."),
        ("answered", other["question_id"], "Nicht ganz.", "Anna K.")]
    assert export[1]["answer_id"] == answered["answers"][0]["answer_id"]
    assert export[1]["question"] == "Wasserdicht?"

    assert call(api, "DELETE", "/v1/me", headers=buyer)[0] in (200, 204)
    market.events()

    listed = {q["question_id"]: q for q in ok(call(api, "GET", f"/v1/products/{product_id}/questions"))["items"]}
    assert (listed[own["question_id"]]["author_name"], listed[own["question_id"]]["text"]) == ("", "Wie breit ist er?")
    assert [(a["author_name"], a["text"]) for a in listed[other["question_id"]]["answers"]] == [("", "Nicht ganz.")]
    assert listed[other["question_id"]]["author_name"] == "Anna K."  # the other asker keeps theirs
