"""Questions and answers on products (Kunden fragen Kunden).

Anyone signed in asks; questions are moderated like reviews (the same operator setting).
The product's seller and buyers who received the product answer (a buyer names the order,
as for a review); a buyer's answer is marked ``verified_buyer``. The seller is mailed about a
published question and the asker about each answer, from the events (once each).
Round trips: see :mod:`chalicelib.reviews.models`.
"""

from __future__ import annotations

from typing import Any

from chalicelib.accounts.service import get_user
from chalicelib.catalog.models import ProductPointer
from chalicelib.catalog.service import product_not_found
from chalicelib.core import clock, throttle
from chalicelib.core.db import LabelledTransaction, Stale, find_item, retrying
from chalicelib.core.errors import Code, Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.core.ids import has_prefix, new_id
from chalicelib.core.keys import (
    ANSWER_MARKER_PREFIX,
    POINTER_SK,
    QUESTION_MARKER_PREFIX,
    QUESTION_SK,
    QUESTIONS_PENDING_KEY,
    answer_marker_sk,
    product_pk,
    product_questions_key,
    question_key,
    question_marker_sk,
    timed_sort_key,
    user_key,
)
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.events.service import new_event
from chalicelib.reviews.events import QuestionAnswered, QuestionAsked
from chalicelib.reviews.models import Question, QuestionMarker
from chalicelib.reviews.service import buyers_sub_order, check_delivered, check_texts, initial_status, short_name

MAX_ANSWERS = 20
# Each published question mails a seller: a signed-in account may not flood them.
QUESTIONS_PER_USER = throttle.Rule("questions-user", limit=20, window_seconds=3600)


def question_not_found() -> NotFound:
    return NotFound("No such question.", code=Code.QUESTION_NOT_FOUND)


def _index(question: Question) -> None:
    question.GSI1PK = question.GSI1SK = None
    if question.status == "published":
        question.GSI1PK = product_questions_key(question.product_id)
        question.GSI1SK = timed_sort_key(question.created_at, question.question_id)
    elif question.status == "pending":
        question.GSI1PK, question.GSI1SK = QUESTIONS_PENDING_KEY, timed_sort_key(question.created_at,
                                                                                  question.question_id)


def _asked(question: Question) -> QuestionAsked:
    return QuestionAsked(question_id=question.question_id, product_id=question.product_id,
                         seller_id=question.seller_id, user_id=question.user_id, text=question.text)


def ask(user_id: str, product_id: str, text: str) -> Question:
    """Round trips: UpdateItem(throttle), GetItem(product pointer), GetItem(asker),
    GetItem(settings), TransactWriteItems -> 5."""
    check_texts(text=text)
    throttle.hit(QUESTIONS_PER_USER, user_id)
    if not has_prefix(product_id, "prd"):
        raise product_not_found()
    pointer = find_item(ProductPointer, product_pk(product_id), POINTER_SK)
    if pointer is None:
        raise product_not_found()
    now = clock.stamp()
    question_id = new_id("qst")
    question = Question(PK=question_key(question_id), SK=QUESTION_SK, question_id=question_id, product_id=product_id,
                        seller_id=pointer.seller_id, user_id=user_id, author_name=short_name(get_user(user_id).name),
                        text=text, status=initial_status(), answers=[], created_at=now, updated_at=now)
    _index(question)
    transaction = LabelledTransaction()
    transaction.put("question", question, Question.PK.does_not_exist())
    transaction.put("marker", QuestionMarker(PK=user_key(user_id), SK=question_marker_sk(question_id),
                                             question_id=question_id, created_at=now))
    if question.status == "published":
        transaction.put("event", new_event(_asked(question)))
    transaction.commit()
    return question


def _get(question_id: str) -> Question:
    question = find_item(Question, question_key(question_id), QUESTION_SK, consistent_read=True) \
        if has_prefix(question_id, "qst") else None
    if question is None:
        raise question_not_found()
    return question


def _save(before: Question, after: Question, event: Any = None, marker: QuestionMarker | None = None) -> None:
    _index(after)
    after.version = int(before.version) + 1
    transaction = LabelledTransaction()
    transaction.put("question", after, Question.version == before.version)
    if event is not None:
        transaction.put("event", new_event(event))
    if marker is not None:
        transaction.put("marker", marker)
    if "question" in transaction.commit():
        raise Stale


def answer(user_id: str, caller_seller_id: str | None, question_id: str, text: str, order_id: str | None) -> Question:
    """The product's seller, or a buyer who received it (naming the order), answers a
    published question. Round trips: GetItem(question), [BatchGetItem(sub-order, lines)],
    TransactWriteItems -> 2-3."""
    check_texts(text=text)
    first = _get(question_id)
    if first.status != "published":
        raise question_not_found()
    entry: dict[str, Any] = {"user_id": user_id, "text": text}
    if caller_seller_id is not None and caller_seller_id == first.seller_id:
        entry |= {"by": "seller", "author_name": "", "verified_buyer": False}
    elif order_id is None:
        raise Forbidden("Only the seller and buyers who received the product may answer; name your order.",
                        code=Code.NOT_A_BUYER_OF_IT)
    else:
        sub = buyers_sub_order(user_id, first.seller_id, order_id)
        if first.product_id not in {line["product_id"] for line in sub.lines or []}:
            raise ValidationFailed("This order has no such product.", code=Code.PRODUCT_NOT_IN_ORDER,
                                   details=[{"field": "body.order_id", "message": "the product is not in it",
                                             "type": "product_not_in_order"}])
        check_delivered(sub, "A product")
        entry |= {"by": "buyer", "author_name": short_name(sub.buyer_name), "verified_buyer": True}
    entry["answer_id"] = new_id("ans")

    def attempt() -> Question:
        before = _get(question_id)
        if before.status != "published":
            raise question_not_found()
        if len(before.answers or []) >= MAX_ANSWERS:
            raise Conflict(f"This question has {MAX_ANSWERS} answers already.", code=Code.TOO_MANY_ANSWERS)
        after = Question.from_raw_data(before.serialize())
        now = clock.stamp()
        after.answers = [*(before.answers or []), {**entry, "at": now}]
        after.updated_at = now
        _save(before, after, QuestionAnswered(
            question_id=question_id, answer_id=entry["answer_id"], product_id=before.product_id,
            seller_id=before.seller_id, asker_id=before.user_id, by=entry["by"],
            verified_buyer=entry["verified_buyer"], text=text),
            QuestionMarker(PK=user_key(user_id), SK=answer_marker_sk(question_id, entry["answer_id"]),
                           question_id=question_id, answer_id=entry["answer_id"], created_at=now))
        return after

    return retrying(attempt, what="question")


def product_questions(product_id: str, cursor: str | None, limit: int) -> Page[Question]:
    """A product's published questions with their answers, newest first (one Query of GSI1)."""
    if not has_prefix(product_id, "prd"):
        raise product_not_found()
    return _page(product_questions_key(product_id), False, cursor, limit)


def pending_questions(cursor: str | None, limit: int) -> Page[Question]:
    """The questions' moderation queue, oldest first (one Query of GSI1)."""
    return _page(QUESTIONS_PENDING_KEY, True, cursor, limit)


def _page(partition: str, forward: bool, cursor: str | None, limit: int) -> Page[Question]:
    scope = f"{partition}/questions"
    results = Question.listed.query(partition, scan_index_forward=forward, limit=limit,
                                    last_evaluated_key=decode_cursor(cursor, scope=scope))
    return Page(list(results), encode_cursor(results.last_evaluated_key, scope=scope))


def hide(question_id: str, reason: str) -> Question:
    """Hide a question (or refuse a pending one). Round trips: GetItem, TransactWriteItems -> 2."""

    def attempt() -> Question:
        before = _get(question_id)
        after = Question.from_raw_data(before.serialize())
        after.status, after.hidden_reason, after.updated_at = "hidden", reason, clock.stamp()
        _save(before, after)
        return after

    return retrying(attempt, what="question")


def unhide(question_id: str) -> Question:
    """Publish a pending or hidden question. Each publishing tells ``question.asked``; the
    seller's mail is keyed by the question, so it goes once."""

    def attempt() -> Question:
        before = _get(question_id)
        if before.status == "published":
            return before
        after = Question.from_raw_data(before.serialize())
        after.status, after.hidden_reason, after.updated_at = "published", None, clock.stamp()
        _save(before, after, _asked(after))
        return after

    return retrying(attempt, what="question")


# --- the buyer's personal data --------------------------------------------------------------

def _markers(user_id: str) -> list[QuestionMarker]:
    return [m for prefix in (QUESTION_MARKER_PREFIX, ANSWER_MARKER_PREFIX)
            for m in QuestionMarker.query(user_key(user_id), QuestionMarker.SK.startswith(prefix))]


def buyers_questions(user_id: str) -> tuple[list[Question], list[tuple[Question, dict[str, Any]]]]:
    """The questions the buyer asked and the answers the buyer gave (with their questions), newest
    first, in any status: 2 Queries of the markers, BatchGetItem of the questions per 100."""
    markers = _markers(user_id)
    keys = list(dict.fromkeys((question_key(m.question_id), QUESTION_SK) for m in markers))
    found = {q.question_id: q for q in Question.batch_get(keys)} if keys else {}
    asked = [found[m.question_id] for m in markers if m.answer_id is None and m.question_id in found
             and found[m.question_id].user_id == user_id]
    answers = [(found[m.question_id], a) for m in markers if m.answer_id is not None and m.question_id in found
               for a in found[m.question_id].answers or [] if a.get("answer_id") == m.answer_id]
    asked.sort(key=lambda q: q.question_id, reverse=True)
    answers.sort(key=lambda pair: str(pair[1].get("answer_id")), reverse=True)
    return asked, answers


def erase_author(user_id: str) -> None:
    """After the account's erasure its questions and answers stay (others answered or read
    them) without the author's name. One GetItem and TransactWriteItems per question."""
    for question_id in dict.fromkeys(m.question_id for m in _markers(user_id)):

        def attempt(question_id: str = question_id) -> None:
            before = _get(question_id)
            after = Question.from_raw_data(before.serialize())
            if before.user_id == user_id:
                after.author_name = ""
            after.answers = [{**a, "author_name": ""} if a.get("user_id") == user_id else a
                             for a in before.answers or []]
            if after.serialize() != before.serialize():
                _save(before, after)

        retrying(attempt, what="question")
