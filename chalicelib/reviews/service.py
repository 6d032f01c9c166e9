"""Verified reviews: of a product by the buyer of a delivered order's product, once per
product, and of a seller by the buyer of a delivered sub-order, once per sub-order; changed
or deleted by the author within 30 days; moderated by the operator.

Every change of a review is one TransactWriteItems conditioned on the review's version,
and carries the rating writes its change of status or rating implies
(:func:`chalicelib.catalog.ratings.change`): a retried or parallel request finds the version
moved and counts nothing twice. Round trips: see :mod:`chalicelib.reviews.models`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib.catalog.models import ProductPointer
from chalicelib.catalog.ratings import (
    RACED,
    add_product_rating,
    change,
    seller_feedback_write,
    seller_rating_write,
)
from chalicelib.catalog.service import product_not_found
from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, Stale, find_item, retrying
from chalicelib.core.errors import Code, Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from chalicelib.core.ids import has_prefix, new_id
from chalicelib.core.keys import (
    POINTER_SK,
    REVIEW_PREFIX,
    REVIEW_SETTINGS_KEY,
    REVIEW_SK,
    REVIEWS_PENDING_KEY,
    SETTINGS_SK,
    helpful_sort_key,
    product_pk,
    product_reviews_key,
    rating_sort_key,
    review_key,
    review_marker_sk,
    seller_key,
    seller_review_sk,
    seller_reviews_key,
    sub_order_review_marker_sk,
    timed_sort_key,
    user_key,
)
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.events.service import new_event
from chalicelib.orders.lifecycle import order_not_found
from chalicelib.orders.transitions import find_sub_order
from chalicelib.reviews.events import ReviewHidden, ReviewPublished, SellerRatingCounted
from chalicelib.reviews.models import Review, ReviewMarker, ReviewSettings, SellerReview
from chalicelib.sellers.service import seller_not_found

EDIT_DAYS = 30
# A link or an e-mail address anywhere in a title or text: refused, not stripped, so the
# author decides how to say it without one (stripping would change what they wrote).
_LINK = re.compile(
    r"(https?://|www\.|[\w.+-]+@[\w-]+\.[\w.-]+"
    r"|\b[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|net|org|info|biz|de|at|ch|eu|uk|fr|it|es|nl|be|pl|io|co|me|ly|app"
    r"|shop|store|online|xyz|ru|cn)\b)",
    re.IGNORECASE)


def review_not_found() -> NotFound:
    """One answer for "missing" and "someone else's"."""
    return NotFound("No such review.", code=Code.REVIEW_NOT_FOUND)


@dataclass(frozen=True)
class ReviewDraft:
    """What the author writes (the request's fields, already within their lengths)."""

    rating: int
    title: str
    text: str
    language: str
    images: list[str]


def check_texts(**texts: str | None) -> None:
    """422 ``review_contains_link`` naming each field with a link or an e-mail address."""
    problems: list[FieldProblem] = [
        {"field": f"body.{name}", "message": "links and e-mail addresses are not allowed",
         "type": "review_contains_link"}
        for name, value in texts.items() if value is not None and _LINK.search(value)]
    if problems:
        raise ValidationFailed("Reviews cannot contain links or e-mail addresses; describe it in words.",
                               code=Code.REVIEW_CONTAINS_LINK, details=problems)


# --- the operator's policy ------------------------------------------------------------------

def settings() -> ReviewSettings:
    """The moderation policy (GetItem); publish at once when the operator never set one."""
    found = find_item(ReviewSettings, REVIEW_SETTINGS_KEY, SETTINGS_SK)
    return found or ReviewSettings(PK=REVIEW_SETTINGS_KEY, SK=SETTINGS_SK)


def put_settings(operator_id: str, publish: str) -> ReviewSettings:
    """Applies to reviews written or changed from now on; waiting ones stay in the queue."""
    item = ReviewSettings(PK=REVIEW_SETTINGS_KEY, SK=SETTINGS_SK, publish=publish, updated_at=clock.stamp(),
                          updated_by=operator_id)
    item.save()
    return item


def initial_status() -> str:
    return "published" if settings().publish == "immediately" else "pending"


# --- one change of a review, with its ratings -------------------------------------------------

def _index(review: Review) -> None:
    """The review's index keys for its status: listed when published, queued when pending."""
    for name in ("GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"):
        setattr(review, name, None)
    if review.status == "published":
        listing, at, rid = _listing_key(review), str(review.published_at), review.review_id
        review.GSI1PK, review.GSI1SK = listing, timed_sort_key(at, rid)
        review.GSI2PK, review.GSI2SK = listing, helpful_sort_key(int(review.helpful), at, rid)
        review.GSI3PK, review.GSI3SK = listing, rating_sort_key(int(review.rating), at, rid)
    elif review.status == "pending":
        review.GSI1PK, review.GSI1SK = REVIEWS_PENDING_KEY, timed_sort_key(review.created_at, review.review_id)


def _listing_key(review: Review) -> str:
    if review.kind == "seller":
        return seller_reviews_key(review.seller_id)
    return product_reviews_key(str(review.product_id))


def _marker_sk(review: Review) -> str:
    if review.kind == "seller":
        return sub_order_review_marker_sk(review.order_id, review.seller_id)
    return review_marker_sk(str(review.product_id))


def _add_ratings(transaction: LabelledTransaction, before: Review | None, after: Review | None) -> None:
    review = after or before
    assert review is not None
    if review.kind == "seller":
        write = seller_feedback_write(review.seller_id, before.counted_scores if before else None,
                                      after.counted_scores if after else None)
        if write is not None:
            transaction.add("seller_feedback", write)
        counted = _counted_day(before), _counted_day(after)
        if counted[0] != counted[1]:
            transaction.put("rating_event", new_event(SellerRatingCounted(
                review_id=review.review_id, seller_id=review.seller_id, before=counted[0][0],
                before_day=counted[0][1], after=counted[1][0], after_day=counted[1][1], at=clock.stamp())))
        return
    delta = change(before.counted_rating if before else None, after.counted_rating if after else None)
    if delta:
        add_product_rating(transaction, str(review.product_id), delta)
        transaction.add("seller_rating", seller_rating_write(review.seller_id, delta))


def _counted_day(review: Review | None) -> tuple[int | None, str | None]:
    """A seller review's counted overall rating and its publication day (None, None: not counted)."""
    scores = review.counted_scores if review is not None else None
    if scores is None or review is None:
        return None, None
    return scores[0], str(review.published_at)[:10]


def _published_event(review: Review) -> ReviewPublished:
    return ReviewPublished(review_id=review.review_id, kind=review.kind, user_id=review.user_id,
                           seller_id=review.seller_id, product_id=review.product_id, order_id=review.order_id,
                           rating=int(review.rating), first_review=bool(review.first_review),
                           published_at=str(review.published_at))


def copy(review: Review) -> Review:
    return Review.from_raw_data(review.serialize())


def save(before: Review, after: Review, extra: Callable[[LabelledTransaction], None] | None = None) -> set[str]:
    """Put ``after`` in place of ``before`` if nobody changed it meanwhile (else re-read: the
    caller runs under :func:`retrying`), with the ratings and a publishing's event; returns
    the labels of ``extra``'s writes whose condition failed (then nothing was written)."""
    _index(after)
    after.version = int(before.version) + 1
    transaction = LabelledTransaction()
    transaction.put("review", after, Review.version == before.version)
    _add_ratings(transaction, before, after)
    if after.status == "published" and before.status != "published":
        transaction.put("event", new_event(_published_event(after)))
    if extra is not None:
        extra(transaction)
    failed = transaction.commit()
    if "review" in failed or failed & RACED:
        raise Stale
    return failed


# --- the buyer ----------------------------------------------------------------------------

def short_name(full_name: str | None) -> str:
    """"Anna K.": what buyers see of an author."""
    parts = (full_name or "").split()
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."


def buyers_sub_order(user_id: str, seller_id: str, order_id: str) -> Any:
    """The caller's delivered sub-order, with its lines (one BatchGetItem); someone else's is
    the same 404 as a missing one."""
    sub = find_sub_order(seller_id, order_id) if has_prefix(order_id, "ord") else None
    if sub is None or sub.user_id != user_id:
        raise order_not_found()
    return sub


def check_delivered(sub: Any, what: str) -> None:
    if sub.delivered_at is None:
        raise Conflict(f"{what} can be reviewed once it was delivered.", code=Code.NOT_DELIVERED_YET,
                       details={"order_id": sub.order_id, "status": sub.status})


def _create(review: Review, refusal: str) -> Review:
    """Write a new review, its marker (refused when the buyer has one: 409 ``already_reviewed``)
    and the seller's pointer, with its ratings and event when it is published at once."""
    review.status = initial_status()
    review.published_at = review.created_at if review.status == "published" else None
    review.first_review = not list(ReviewMarker.query(user_key(review.user_id),
                                                      ReviewMarker.SK.startswith(REVIEW_PREFIX), limit=1))
    _index(review)

    def attempt() -> Review:
        transaction = LabelledTransaction()
        transaction.put("review", review, Review.PK.does_not_exist())
        transaction.put("marker", ReviewMarker(PK=user_key(review.user_id), SK=_marker_sk(review),
                                               review_id=review.review_id, product_id=review.product_id,
                                               created_at=review.created_at),
                        ReviewMarker.PK.does_not_exist())
        transaction.put("seller", SellerReview(PK=seller_key(review.seller_id), SK=seller_review_sk(review.review_id),
                                               review_id=review.review_id, product_id=review.product_id))
        _add_ratings(transaction, None, review)
        if review.status == "published":
            transaction.put("event", new_event(_published_event(review)))
        failed = transaction.commit()
        if failed & RACED and "marker" not in failed:
            raise Stale
        if "marker" in failed:
            raise Conflict(refusal, code=Code.ALREADY_REVIEWED,
                           details={"order_id": review.order_id, "seller_id": review.seller_id,
                                    **({"product_id": review.product_id} if review.product_id else {})})
        return review

    return retrying(attempt, what="review")


def _new(user_id: str, sub: Any, draft: ReviewDraft, **fields: Any) -> Review:
    now = clock.stamp()
    review_id = new_id("rev")
    return Review(PK=review_key(review_id), SK=REVIEW_SK, review_id=review_id, seller_id=sub.seller_id,
                  user_id=user_id, order_id=sub.order_id, author_name=short_name(sub.buyer_name),
                  rating=draft.rating, title=draft.title, text=draft.text, language=draft.language,
                  images=list(draft.images), status="pending", created_at=now, updated_at=now, **fields)


def write_review(user_id: str, caller_seller_id: str | None, order_id: str, product_id: str,
                 draft: ReviewDraft) -> Review:
    """Only the buyer of a delivered sub-order with the product may review it, once.

    Round trips: GetItem(product pointer), BatchGetItem(sub-order, lines), GetItem(settings),
    Query(the buyer's markers, Limit 1), TransactWriteItems -> 5; published at once, +2 GetItems
    (pointer, product) for the listing's rating copy -> 7."""
    if not has_prefix(product_id, "prd"):
        raise product_not_found()
    pointer = find_item(ProductPointer, product_pk(product_id), POINTER_SK)
    if pointer is None:
        raise product_not_found()
    if caller_seller_id is not None and caller_seller_id == pointer.seller_id:
        raise Forbidden("A seller cannot review its own product.", code=Code.OWN_PRODUCT_REVIEW)
    sub = buyers_sub_order(user_id, pointer.seller_id, order_id)
    if product_id not in {line["product_id"] for line in sub.lines or []}:
        raise ValidationFailed("This order has no such product of its seller.", code=Code.PRODUCT_NOT_IN_ORDER,
                               details=[{"field": "body.product_id", "message": "not in the order",
                                         "type": "product_not_in_order"}])
    check_delivered(sub, "A product")
    check_texts(title=draft.title, text=draft.text)
    return _create(_new(user_id, sub, draft, kind="product", product_id=product_id),
                   "You have reviewed this product already; change that review instead.")


def write_seller_review(user_id: str, caller_seller_id: str | None, order_id: str, seller_id: str,
                        draft: ReviewDraft, delivery: int, communication: int) -> Review:
    """The buyer of a delivered sub-order reviews its seller: overall (``draft.rating``),
    delivery and communication, once per sub-order.

    Round trips: BatchGetItem(sub-order, lines), GetItem(settings), Query(the buyer's markers,
    Limit 1), TransactWriteItems -> 4."""
    if caller_seller_id is not None and caller_seller_id == seller_id:
        raise Forbidden("A seller cannot review itself.", code=Code.OWN_PRODUCT_REVIEW)
    sub = buyers_sub_order(user_id, seller_id, order_id)
    check_delivered(sub, "A seller's part of an order")
    check_texts(title=draft.title, text=draft.text)
    return _create(_new(user_id, sub, draft, kind="seller", delivery=delivery, communication=communication),
                   "You have reviewed this seller for this order already; change that review instead.")


def own_review(user_id: str, review_id: str) -> Review:
    """The caller's review (GetItem, consistent); anyone else's is not found."""
    review = find_item(Review, review_key(review_id), REVIEW_SK, consistent_read=True) \
        if has_prefix(review_id, "rev") else None
    if review is None or review.user_id != user_id:
        raise review_not_found()
    return review


def _check_window(review: Review) -> None:
    closes = clock.parse(review.created_at) + timedelta(days=EDIT_DAYS)
    if clock.now() > closes:
        raise Conflict(f"A review can be changed or deleted within {EDIT_DAYS} days of writing it.",
                       code=Code.REVIEW_EDIT_WINDOW_CLOSED, details={"created_at": review.created_at})


def edit_review(user_id: str, review_id: str, changes: dict[str, object]) -> Review:
    """Change fields of the caller's review within 30 days. Under approval first, a changed
    published review waits for approval again (and leaves the ratings until then); a hidden
    one stays hidden. Round trips: GetItem(review), GetItem(settings), TransactWriteItems -> 3
    (+2 GetItems when the product's rating moves)."""
    check_texts(title=changes.get("title"), text=changes.get("text"))  # type: ignore[arg-type]

    def attempt() -> Review:
        before = own_review(user_id, review_id)
        if before.kind != "seller" and {"delivery", "communication"} & changes.keys():
            raise ValidationFailed("Only a seller review rates delivery and communication.", details=[
                {"field": f"body.{name}", "message": "only in a seller review", "type": "validation_failed"}
                for name in sorted({"delivery", "communication"} & changes.keys())])
        _check_window(before)
        after = copy(before)
        for name, value in changes.items():
            setattr(after, name, list(value) if name == "images" else value)  # type: ignore[call-overload]
        if after.serialize() == before.serialize():
            return before
        after.updated_at = clock.stamp()
        if before.status == "published" and initial_status() == "pending":
            after.status = "pending"
        save(before, after)
        return after

    return retrying(attempt, what="review")


def delete_review(user_id: str, review_id: str) -> None:
    """Delete the caller's review, its marker (the product may be reviewed again) and its
    seller pointer, within 30 days. Round trips: GetItem(review), TransactWriteItems -> 2 (+2
    GetItems when it was counted in a product's rating)."""

    def attempt() -> None:
        review = own_review(user_id, review_id)
        _check_window(review)
        transaction = LabelledTransaction()
        transaction.delete("review", review, Review.version == review.version)
        transaction.delete("marker", ReviewMarker(PK=user_key(user_id), SK=_marker_sk(review)))
        transaction.delete("seller", SellerReview(PK=seller_key(review.seller_id),
                                                  SK=seller_review_sk(review.review_id)))
        _add_ratings(transaction, review, None)
        failed = transaction.commit()
        if "review" in failed or failed & RACED:
            raise Stale

    retrying(attempt, what="review")


def _pointed_reviews(pointers: list[ReviewMarker] | list[SellerReview]) -> list[Review]:
    """The reviews of a page of pointers, in the pointers' order (one BatchGetItem)."""
    keys = [(review_key(p.review_id), REVIEW_SK) for p in pointers]
    found = {r.review_id: r for r in Review.batch_get(keys)} if keys else {}
    return [found[p.review_id] for p in pointers if p.review_id in found]


def buyer_reviews(user_id: str, cursor: str | None, limit: int) -> Page[Review]:
    """The caller's reviews in any status (a hidden one with its reason). The markers are
    keyed by product (or order), so pages follow that order; each page lists newest first.
    Round trips: Query(markers), BatchGetItem(reviews) -> 2."""
    scope = f"{user_key(user_id)}/reviews"
    results = ReviewMarker.query(user_key(user_id), ReviewMarker.SK.startswith(REVIEW_PREFIX), limit=limit,
                                 last_evaluated_key=decode_cursor(cursor, scope=scope))
    markers = list(results)
    reviews = sorted(_pointed_reviews(markers), key=lambda r: r.review_id, reverse=True)
    return Page(reviews, encode_cursor(results.last_evaluated_key, scope=scope))


def all_buyer_reviews(user_id: str) -> list[Review]:
    """Every review of the buyer, newest first (for the data export and erasure): Query of the
    markers (PynamoDB follows its pages), BatchGetItem per 100."""
    markers = list(ReviewMarker.query(user_key(user_id), ReviewMarker.SK.startswith(REVIEW_PREFIX)))
    return sorted(_pointed_reviews(markers), key=lambda r: r.review_id, reverse=True)


def erase_author(user_id: str) -> None:
    """After the account's erasure its reviews stay (they are part of the products' ratings)
    without the author's name and images. One GetItem and TransactWriteItems per review."""
    for found in all_buyer_reviews(user_id):

        def attempt(review_id: str = found.review_id) -> None:
            before = own_review(user_id, review_id)
            if not before.author_name and not before.images:
                return
            after = copy(before)
            after.author_name, after.images = "", []
            save(before, after)

        retrying(attempt, what="review")


def seller_reviews(seller_id: str, cursor: str | None, limit: int) -> Page[Review]:
    """Reviews of the seller's products, published or hidden (not those awaiting approval),
    newest first. A page may hold fewer than ``limit``; follow the cursor.
    Round trips: Query(pointers), BatchGetItem(reviews) -> 2."""
    scope = f"{seller_key(seller_id)}/reviews"
    results = SellerReview.query(seller_key(seller_id), SellerReview.SK.startswith(REVIEW_PREFIX),
                                 scan_index_forward=False, limit=limit,
                                 last_evaluated_key=decode_cursor(cursor, scope=scope))
    pointers = list(results)
    reviews = [r for r in _pointed_reviews(pointers) if r.status != "pending" and r.seller_id == seller_id]
    return Page(reviews, encode_cursor(results.last_evaluated_key, scope=scope))


# --- buyers reading a product's reviews -------------------------------------------------------

def product_reviews(product_id: str, sort: str, cursor: str | None, limit: int) -> Page[Review]:
    """A product's published reviews (one Query of the sort's index)."""
    if not has_prefix(product_id, "prd"):
        raise product_not_found()
    return _listed(product_reviews_key(product_id), sort, cursor, limit)


def reviews_of_seller(seller_id: str, sort: str, cursor: str | None, limit: int) -> Page[Review]:
    """A seller's published seller reviews (one Query of the sort's index)."""
    if not has_prefix(seller_id, "sel"):
        raise seller_not_found()
    return _listed(seller_reviews_key(seller_id), sort, cursor, limit)


def _listed(listing: str, sort: str, cursor: str | None, limit: int) -> Page[Review]:
    index = {"newest": Review.newest, "most_helpful": Review.most_helpful, "rating_desc": Review.by_rating,
             "rating_asc": Review.by_rating}[sort]
    scope = f"{listing}/{sort}"
    results = index.query(listing, scan_index_forward=sort == "rating_asc", limit=limit,
                          last_evaluated_key=decode_cursor(cursor, scope=scope))
    return Page(list(results), encode_cursor(results.last_evaluated_key, scope=scope))


# --- the operator ---------------------------------------------------------------------------

def pending_reviews(cursor: str | None, limit: int) -> Page[Review]:
    """The moderation queue, oldest first (one Query of GSI1)."""
    scope = "reviews/pending"
    results = Review.newest.query(REVIEWS_PENDING_KEY, limit=limit,
                                  last_evaluated_key=decode_cursor(cursor, scope=scope))
    return Page(list(results), encode_cursor(results.last_evaluated_key, scope=scope))


def any_review(review_id: str) -> Review:
    review = find_item(Review, review_key(review_id), REVIEW_SK, consistent_read=True) \
        if has_prefix(review_id, "rev") else None
    if review is None:
        raise review_not_found()
    return review


def hide_review(operator_id: str, review_id: str, reason: str) -> Review:
    """Hide a published review or refuse a pending one; the author sees ``reason``. Hiding a
    hidden review again only changes the reason. Round trips: GetItem, TransactWriteItems -> 2
    (+2 GetItems when a product's rating moves)."""

    def attempt() -> Review:
        before = any_review(review_id)
        after = copy(before)
        now = clock.stamp()
        after.status, after.hidden_reason, after.hidden_at, after.hidden_by = "hidden", reason, now, operator_id
        after.updated_at = now

        def tell(transaction: LabelledTransaction) -> None:
            transaction.put("hidden_event", new_event(ReviewHidden(
                review_id=after.review_id, user_id=after.user_id, seller_id=after.seller_id,
                product_id=after.product_id, reason=reason, hidden_at=now)))

        save(before, after, tell if before.status != "hidden" else None)
        return after

    return retrying(attempt, what="review")


def unhide_review(operator_id: str, review_id: str) -> Review:
    """Publish a hidden or pending review (approval is an unhide); a published one stays as it
    is. Round trips: GetItem, TransactWriteItems -> 2 (+2 GetItems when a product's rating moves)."""

    def attempt() -> Review:
        before = any_review(review_id)
        if before.status == "published":
            return before
        after = copy(before)
        now = clock.stamp()
        after.status, after.published_at, after.updated_at = "published", now, now
        after.hidden_reason = after.hidden_at = after.hidden_by = None
        save(before, after)
        return after

    return retrying(attempt, what="review")
