"""Review items. A review is found by its id alone (its own partition); the product's
listings are index partitions of the published reviews, the buyer's and the seller's are
small pointer items under their own keys, so tenant isolation holds in the keys.

Keys
- ``Review``: PK=REVIEW#<review_id>, SK=REVIEW — a product review (``kind`` product) or a
  seller review of one sub-order (``kind`` seller: ``rating`` is the overall rating, with
  ``delivery`` and ``communication``; no product). The review: rating 1-5, title, text,
  language, images, status (pending -> published <-> hidden; pending -> hidden), who hid it
  and why, version (every change is conditioned on it), helpful votes.
  - GSI1 (published): GSI1PK=PRODUCT_REVIEWS#<product_id>, GSI1SK=<published_at>#<review_id>
    — a product's reviews, newest first.
  - GSI1 (pending): GSI1PK=REVIEWS_PENDING, GSI1SK=<created_at>#<review_id> — the
    moderation queue, oldest first (one partition: written only while reviews wait for
    approval, read by operators).
  - GSI2 (published): GSI2PK=PRODUCT_REVIEWS#<product_id>,
    GSI2SK=<helpful, 8 digits>#<published_at>#<review_id> — most helpful first.
  - GSI3 (published): GSI3PK=PRODUCT_REVIEWS#<product_id>, GSI3SK=<rating>#<published_at>#<review_id>
    — by rating, either way.
  A seller review has the same three index keys under SELLER_REVIEWS#<seller_id>.
  Hidden reviews have none of the index keys: no public listing reaches them.
  The seller's one public reply is on the review (``reply_text``), changed like the rest
  (conditioned on the version).
- ``HelpfulVote``: PK=REVIEW#<review_id>, SK=HELPFUL#<user_id> — one per buyer, put with
  ``attribute_not_exists`` in the transaction that raises the review's ``helpful`` (and its
  GSI2 sort key): a second vote changes nothing.
- ``ReviewReport``: PK=REVIEW#<review_id>, SK=REPORT#<user_id> — one per user and review, with
  the reason; GSI1: GSI1PK=REVIEWS_REPORTED, GSI1SK=<reported_at>#<review_id>#<user_id> — the
  operators' list of reports, newest first.
- ``ReviewMarker``: PK=USER#<user_id>, SK=REVIEW#<product_id> (REVIEW#<order_id>#<seller_id>
  for a seller review) -> review_id — one per buyer and product (and per sub-order), put
  with ``attribute_not_exists`` in the review's transaction (a second review of the product,
  even sent in parallel, is a 409), deleted with the review.
- ``SellerReview``: PK=SELLER#<seller_id>, SK=REVIEW#<review_id> -> product_id — the seller's
  reviews, newest first (review ids are ULIDs).
- ``ReviewSettings``: PK=REVIEWS#SETTINGS, SK=SETTINGS — the operator's moderation policy
  (``publish``: immediately | after_approval; immediately when absent).
- ``Question``: PK=QUESTION#<question_id>, SK=QUESTION — a question on a product (Kunden
  fragen Kunden) with its answers inline (at most 20: a product page reads a page of
  questions with all their answers in one Query), moderated like reviews (pending ->
  published <-> hidden); every change conditioned on the version.
  - GSI1 (published): GSI1PK=PRODUCT_QUESTIONS#<product_id>, GSI1SK=<created_at>#<question_id>
  - GSI1 (pending): GSI1PK=QUESTIONS_PENDING, GSI1SK=<created_at>#<question_id>
- ``QuestionMarker``: PK=USER#<user_id>, SK=QUESTION#<question_id> (asked) or
  ANSWER#<question_id>#<answer_id> (answered) — written in the question's transaction, so the
  buyer's data export and erasure find them without a Scan (questions asked before the markers
  existed get theirs from ``agora reviews backfill``).
- ``ReviewsBackfill``: PK=REVIEWS#BACKFILL, SK=CHECKPOINT — where that backfill goes on
  (``chalicelib.reviews.backfill``).
- Ratings: on the product's pointer and the seller item (``chalicelib.catalog.ratings``),
  moved with ADD in the same transaction as the review's status or rating. A change that
  moves a product's rating also rewrites the rating copy of the product's listing entries
  (the best-rated browse index), after reading the pointer and the product: +2 GetItems
  for every write below that moves a product rating (publishing, hiding, rating changed,
  deleting a counted review), and a re-read when another rating change came first.

Access patterns and round trips
- buyer: write a review (GetItem product pointer, BatchGetItem sub-order + lines, GetItem
  settings, Query the buyer's markers (Limit 1, for ``first_review``), TransactWriteItems:
  review, marker, seller pointer, [ratings, event]) -> 5
- buyer: write a seller review (BatchGetItem sub-order + lines, GetItem settings, Query
  markers, TransactWriteItems: review, marker, seller pointer, [seller figures, event]) -> 4
- buyer: change / delete own review (GetItem review, GetItem settings when the text changes,
  TransactWriteItems conditioned on the version) -> 2-3
- buyer: own reviews (Query markers, BatchGetItem reviews) -> 2
- seller: reviews of its products (Query pointers, BatchGetItem reviews) -> 2
- public: a product's (or a seller's seller) reviews newest / most helpful / by rating (Query
  GSI1 / GSI2 / GSI3) -> 1
- seller: reply (GetItem review, TransactWriteItems) -> 2
- buyer: helpful vote (GetItem review, TransactWriteItems: vote, review) -> 2
- signed-in user: report (UpdateItem throttle, GetItem review, PutItem report) -> 3
- operator: reports (Query GSI1 REVIEWS_REPORTED, BatchGetItem reviews) -> 2
- operator: queue (Query GSI1 REVIEWS_PENDING) -> 1; hide / unhide (GetItem review,
  TransactWriteItems) -> 2; settings (GetItem / PutItem) -> 1
- signed-in user: ask (UpdateItem throttle, GetItem product pointer, GetItem asker, GetItem
  settings, TransactWriteItems: question, [event]) -> 5; answer (GetItem question,
  [BatchGetItem sub-order + lines for a buyer], TransactWriteItems: question, event) -> 2-3
- public: a product's questions with their answers (Query GSI1) -> 1
- buyer: data export / erasure of questions and answers (Query of the buyer's question
  markers, BatchGetItem of the questions per 100; erasure: a GetItem and a TransactWriteItems
  per question)
- operator: question queue (Query GSI1 QUESTIONS_PENDING) -> 1; hide / unhide -> 2
- no Scan anywhere
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.attributes import CompactJSONAttribute
from chalicelib.core.db import GSI1, GSI2, GSI3, TableModel

STATUSES = ("pending", "published", "hidden")
PUBLISH_POLICIES = ("immediately", "after_approval")


class Review(TableModel):
    review_id = UnicodeAttribute()
    kind = UnicodeAttribute(default="product")  # product | seller
    product_id = UnicodeAttribute(null=True)  # None for a seller review
    seller_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    author_name = UnicodeAttribute(default="")
    rating = NumberAttribute()
    delivery = NumberAttribute(null=True)  # a seller review's
    communication = NumberAttribute(null=True)
    title = UnicodeAttribute()
    text = UnicodeAttribute()
    language = UnicodeAttribute()
    images = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute()
    first_review = BooleanAttribute(default=False)
    helpful = NumberAttribute(default=0)
    hidden_reason = UnicodeAttribute(null=True)
    hidden_at = UnicodeAttribute(null=True)
    hidden_by = UnicodeAttribute(null=True)
    reply_text = UnicodeAttribute(null=True)  # the seller's public reply
    replied_at = UnicodeAttribute(null=True)
    reply_updated_at = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    published_at = UnicodeAttribute(null=True)  # the last time it was published

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    newest = GSI1()
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    most_helpful = GSI2()
    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    by_rating = GSI3()

    @property
    def counted_rating(self) -> int | None:
        """The rating the aggregates count: a published review's only."""
        return int(self.rating) if self.status == "published" else None

    @property
    def counted_scores(self) -> tuple[int, int, int] | None:
        """A published seller review's overall, delivery and communication ratings."""
        if self.status != "published" or self.kind != "seller":
            return None
        return int(self.rating), int(self.delivery or 0), int(self.communication or 0)


class ReviewMarker(TableModel):
    review_id = UnicodeAttribute()
    product_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


class SellerReview(TableModel):
    review_id = UnicodeAttribute()
    product_id = UnicodeAttribute(null=True)


class HelpfulVote(TableModel):
    user_id = UnicodeAttribute()
    voted_at = UnicodeAttribute()


class ReviewReport(TableModel):
    review_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    reported_at = UnicodeAttribute()

    GSI1PK = UnicodeAttribute()
    GSI1SK = UnicodeAttribute()
    reported = GSI1()


class Question(TableModel):
    question_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    author_name = UnicodeAttribute(default="")
    text = UnicodeAttribute()
    status = UnicodeAttribute()
    hidden_reason = UnicodeAttribute(null=True)
    # [{"answer_id", "user_id", "by": seller|buyer, "author_name", "verified_buyer", "text", "at"}]
    answers = CompactJSONAttribute(default=list)
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    listed = GSI1()


class QuestionMarker(TableModel):
    """A question the buyer asked or answered: the data export and erasure find them by buyer."""

    question_id = UnicodeAttribute()
    answer_id = UnicodeAttribute(null=True)  # set on an answer's marker
    created_at = UnicodeAttribute()


class ReviewSettings(TableModel):
    publish = UnicodeAttribute(default="immediately")
    updated_at = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)


class ReviewsBackfill(TableModel):
    """Where the listing-rating and question-marker backfill goes on (``chalicelib.reviews.backfill``)."""

    phase = UnicodeAttribute()  # listings, questions or done
    seller_id = UnicodeAttribute(null=True)  # the seller whose products are being read
    page = JSONAttribute(null=True)  # the last evaluated key of that read, None: from the start
    entries = NumberAttribute(default=0)  # listing entries given their rating in this run
    markers = NumberAttribute(default=0)  # question markers put in this run
    started_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
