"""Bringing data written before the best-rated index and the question markers up to their layout.

Run once by an operator after deploying them (``agora reviews backfill``), never from a request.

- Listing entries written before the best-rated index have no rating copy and no GSI3 key, so
  ``sort=rating`` omits their products until a review or a product change rewrites them. For
  every seller (a Query per status of the sellers' index) and each of its products (Query per
  page), the entries still without a GSI3 key get the rating its pointer holds, in one
  transaction conditioned like a review's rating write (:mod:`chalicelib.catalog.ratings`):
  the product's version and the pointer's count and sum are what was read, and each entry
  still lacks the key. A review or product change meanwhile wrote the entries itself (with
  the newer rating); the product is read again and nothing older overwrites it.
- Questions asked (and answers given) before ``QuestionMarker`` existed are missing from the
  buyer's data export and erasure. Each question gets its asker's and answerers' markers,
  put with ``attribute_not_exists`` (one transaction per question that lacks one). Hidden
  questions are in no index, so this pages through a filtered Scan of the questions: a
  maintenance task run once, not a request path (DESIGN.md: request paths never scan).

Idempotent, and resumable: a checkpoint item after each page says where a stopped run goes
on; a second run after a finished one finds nothing to change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.catalog.models import Product, ProductListing, ProductPointer
from chalicelib.catalog.ratings import listing_rating, product_rating_check
from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, Stale, find_item, retrying
from chalicelib.core.keys import (
    BACKFILL_CHECKPOINT_SK,
    LISTING_PREFIX,
    POINTER_SK,
    PRODUCT_PREFIX,
    QUESTION_SK,
    REVIEWS_BACKFILL_KEY,
    answer_marker_sk,
    product_pk,
    question_key,
    question_marker_sk,
    seller_key,
    user_key,
)
from chalicelib.reviews.models import Question, QuestionMarker, ReviewsBackfill
from chalicelib.sellers.models import every_seller_id

PAGE = 100
PHASES = ("listings", "questions", "done")


@dataclass(frozen=True)
class Outcome:
    entries: int  # listing entries given their rating, over all invocations of this run
    markers: int  # question markers put
    resumed: bool  # went on from a checkpoint


def rate_entries(product: Product) -> int:
    """Give the product's entries that lack it the rating its pointer holds; how many.
    Round trips: GetItem pointer, Query entries, [TransactWriteItems]; again after a race."""

    def attempt() -> int:
        current = find_item(Product, product.PK, product.SK, consistent_read=True)
        pointer = find_item(ProductPointer, product_pk(product.product_id), POINTER_SK, consistent_read=True)
        if current is None or pointer is None:
            return 0
        old = [entry for entry in ProductListing.query(product_pk(product.product_id),
                                                        ProductListing.SK.startswith(LISTING_PREFIX),
                                                        consistent_read=True)
               if entry.GSI3PK is None]
        if not old:
            return 0
        count, total = int(pointer.rating_count or 0), int(pointer.rating_sum or 0)
        transaction = LabelledTransaction()
        transaction.check("rated_product", Product, current.PK, current.SK, Product.version == current.version)
        product_rating_check(transaction, product.product_id, count, total)
        for entry in old:
            scope = entry.SK[len(LISTING_PREFIX):]
            fields = listing_rating(scope, product.product_id, count, total)
            transaction.update("old_entry", ProductListing(PK=entry.PK, SK=entry.SK),
                               [getattr(ProductListing, name).set(value) for name, value in fields.items()],
                               ProductListing.PK.exists() & ProductListing.GSI3PK.does_not_exist())
        if transaction.commit():
            raise Stale
        return len(old)

    return retrying(attempt, what="listing entries")


def mark_question(question: Question) -> int:
    """Put the markers the question's asker and answerers lack; how many (existing ones are kept)."""
    wanted = [QuestionMarker(PK=user_key(question.user_id), SK=question_marker_sk(question.question_id),
                             question_id=question.question_id, created_at=question.created_at)]
    wanted += [QuestionMarker(PK=user_key(a["user_id"]), SK=answer_marker_sk(question.question_id, a["answer_id"]),
                              question_id=question.question_id, answer_id=a["answer_id"],
                              created_at=a.get("at") or question.created_at)
               for a in question.answers or [] if a.get("user_id") and a.get("answer_id")]
    found = {(m.PK, m.SK) for m in QuestionMarker.batch_get([(m.PK, m.SK) for m in wanted])}
    missing = [m for m in wanted if (m.PK, m.SK) not in found]
    if not missing:
        return 0
    transaction = LabelledTransaction()
    for number, marker in enumerate(missing):
        transaction.put(f"marker{number}", marker, QuestionMarker.PK.does_not_exist())
    if transaction.commit():  # put meanwhile (a parallel run): count what the next run finds
        return 0
    return len(missing)


def run(*, progress: Callable[[str], None] | None = None) -> Outcome:
    """Go on from the checkpoint of a run that did not finish, else start a new run."""
    say = progress or (lambda _: None)
    checkpoint = find_item(ReviewsBackfill, REVIEWS_BACKFILL_KEY, BACKFILL_CHECKPOINT_SK, consistent_read=True)
    resumed = checkpoint is not None and checkpoint.phase != "done"
    if checkpoint is None or checkpoint.phase == "done":
        now = clock.stamp()
        checkpoint = ReviewsBackfill(REVIEWS_BACKFILL_KEY, BACKFILL_CHECKPOINT_SK, phase="listings", seller_id=None,
                                     page=None, entries=0, markers=0, started_at=now, updated_at=now)
        checkpoint.save()
    if checkpoint.phase == "listings":
        _listings(checkpoint, say)
        _save(checkpoint, phase="questions", seller_id=None, page=None)
    if checkpoint.phase == "questions":
        _questions(checkpoint, say)
        _save(checkpoint, phase="done", seller_id=None, page=None)
    return Outcome(int(checkpoint.entries), int(checkpoint.markers), resumed)


def _listings(checkpoint: ReviewsBackfill, say: Callable[[str], None]) -> None:
    sellers = every_seller_id()
    start = sellers.index(checkpoint.seller_id) if checkpoint.seller_id in sellers else 0
    for number, seller_id in enumerate(sellers[start:], start=start):
        page = checkpoint.page if checkpoint.seller_id == seller_id else None
        while True:
            results = Product.query(seller_key(seller_id), Product.SK.startswith(PRODUCT_PREFIX), limit=PAGE,
                                    last_evaluated_key=page)
            rated = sum(rate_entries(product) for product in results)
            page = results.last_evaluated_key
            _save(checkpoint, seller_id=seller_id, page=page, entries=int(checkpoint.entries) + rated)
            if page is None:
                break
        following = sellers[number + 1] if number + 1 < len(sellers) else None
        _save(checkpoint, seller_id=following, page=None)
        say(f"{seller_id}: listing entries done ({int(checkpoint.entries):,} rated so far)")


def _questions(checkpoint: ReviewsBackfill, say: Callable[[str], None]) -> None:
    page: dict[str, Any] | None = checkpoint.page
    scope = Question.PK.startswith(question_key("")) & (Question.SK == QUESTION_SK)
    while True:
        results = Question.scan(scope, limit=PAGE, last_evaluated_key=page)  # maintenance only, see above
        put = sum(mark_question(question) for question in results)
        page = results.last_evaluated_key
        _save(checkpoint, page=page, markers=int(checkpoint.markers) + put)
        if page is None:
            break
    say(f"questions done ({int(checkpoint.markers):,} markers put)")


def _save(checkpoint: ReviewsBackfill, **changes: Any) -> None:
    for name, value in changes.items():
        setattr(checkpoint, name, value)
    checkpoint.updated_at = clock.stamp()
    checkpoint.save()
