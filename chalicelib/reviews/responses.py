"""What others do with a published review: the seller replies, buyers find it helpful,
anyone signed in reports it. Round trips: see :mod:`chalicelib.reviews.models`."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import PutError

from chalicelib.core import clock, throttle
from chalicelib.core.db import LabelledTransaction, retrying, was_condition_failure
from chalicelib.core.errors import Code, Forbidden
from chalicelib.core.keys import (
    REVIEW_SK,
    REVIEWS_REPORTED_KEY,
    helpful_vote_sk,
    review_key,
    review_report_sk,
    timed_sort_key,
)
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.reviews.models import HelpfulVote, Review, ReviewReport
from chalicelib.reviews.service import any_review, check_texts, copy, review_not_found, save

REPORTS_PER_USER = throttle.Rule("review-reports-user", limit=30, window_seconds=3600)


def _published(review_id: str) -> Review:
    """A review buyers can see; any other is not found."""
    review = any_review(review_id)
    if review.status != "published":
        raise review_not_found()
    return review


def reply(seller_id: str, review_id: str, text: str) -> Review:
    """The seller's one public reply to a review of its product, written or replaced. Another
    seller's review is not found; links are refused as in reviews."""
    check_texts(text=text)

    def attempt() -> Review:
        before = any_review(review_id)
        if before.seller_id != seller_id:
            raise review_not_found()
        after = copy(before)
        now = clock.stamp()
        after.reply_text, after.reply_updated_at = text, now
        after.replied_at = before.replied_at or now
        save(before, after)
        return after

    return retrying(attempt, what="review")


def vote_helpful(user_id: str, review_id: str) -> Review:
    """One helpful vote per buyer: a second one changes nothing. The author cannot vote."""

    def attempt() -> Review:
        before = _published(review_id)
        if before.user_id == user_id:
            raise Forbidden("You cannot vote for your own review.", code=Code.OWN_REVIEW_VOTE)
        after = copy(before)
        after.helpful = int(before.helpful) + 1

        def vote(transaction: LabelledTransaction) -> None:
            transaction.put("vote", HelpfulVote(PK=review_key(review_id), SK=helpful_vote_sk(user_id),
                                                user_id=user_id, voted_at=clock.stamp()),
                            HelpfulVote.PK.does_not_exist())

        return before if "vote" in save(before, after, vote) else after

    return retrying(attempt, what="review")


def report(user_id: str, review_id: str, reason: str) -> None:
    """Tell the operators about a review; reporting it again changes nothing. Round trips:
    UpdateItem(throttle), GetItem(review), PutItem(report) -> 3."""
    throttle.hit(REPORTS_PER_USER, user_id)
    review = _published(review_id)
    now = clock.stamp()
    try:
        ReviewReport(PK=review_key(review.review_id), SK=review_report_sk(user_id), review_id=review.review_id,
                     user_id=user_id, reason=reason, reported_at=now, GSI1PK=REVIEWS_REPORTED_KEY,
                     GSI1SK=timed_sort_key(now, review.review_id, user_id)).save(ReviewReport.PK.does_not_exist())
    except PutError as error:
        if not was_condition_failure(error):
            raise


@dataclass(frozen=True)
class Reported:
    report: ReviewReport
    review: Review


def reports(cursor: str | None, limit: int) -> Page[Reported]:
    """Reports, newest first, each with its review as it is now (Query, BatchGetItem)."""
    scope = "reviews/reported"
    results = ReviewReport.reported.query(REVIEWS_REPORTED_KEY, scan_index_forward=False, limit=limit,
                                          last_evaluated_key=decode_cursor(cursor, scope=scope))
    found = list(results)
    keys = list(dict.fromkeys((review_key(r.review_id), REVIEW_SK) for r in found))
    reviews = {r.review_id: r for r in Review.batch_get(keys)} if keys else {}
    return Page([Reported(r, reviews[r.review_id]) for r in found if r.review_id in reviews],
                encode_cursor(results.last_evaluated_key, scope=scope))
