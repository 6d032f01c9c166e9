"""HTTP routes of reviews: the buyer's, a product's public list, the seller's, moderation.

Service and schema modules are imported inside the views, for cold start (see
:mod:`chalicelib.catalog.routes`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.accounts.personal_data import export_section
from chalicelib.core.auth import Principal
from chalicelib.core.http import operation

if TYPE_CHECKING:
    from chalicelib.reviews.schemas import (
        AnswerCreate,
        HideReviewRequest,
        ModerationQuery,
        PageQuery,
        ProductReviewsQuery,
        PublicReview,
        PublicReviewPage,
        QuestionCreate,
        QuestionOut,
        QuestionPage,
        ReplyBody,
        ReportBody,
        ReportPage,
        ReviewCreate,
        ReviewOut,
        ReviewPage,
        ReviewPatch,
        ReviewSettingsBody,
        ReviewSettingsOut,
        SellerReviewCreate,
    )

bp = Blueprint(__name__)

TAGS = ("reviews",)
WRITE_RULES = ("Links and e-mail addresses in the title or text are refused (422 `review_contains_link`); "
               "`title` up to 120 characters, `text` up to 5,000, up to 6 https image URLs.")


# --- the buyer ---------------------------------------------------------------------------------

@bp.route("/v1/me/reviews", methods=["POST"])
@operation("Review a product you bought and received", tags=TAGS, body="ReviewCreate", response="ReviewOut",
           status=201, auth="buyer", errors=(401, 403, 404, 409, 422),
           description="Verified purchase: the order must be yours, hold the product and have been delivered "
                       "(404 `order_not_found` for someone else's order, 409 `not_delivered_yet`, 422 "
                       "`product_not_in_order`). Once per product: 409 `already_reviewed`. A seller cannot review "
                       "its own product: 403 `own_product_review`. " + WRITE_RULES + " Published at once or "
                       "after approval, as the operator set (`status`).")
def write_review(body: ReviewCreate, principal: Principal) -> ReviewOut:
    from chalicelib.reviews import service
    from chalicelib.reviews.schemas import ReviewOut

    draft = service.ReviewDraft(rating=body.rating, title=body.title, text=body.text, language=body.language,
                                images=body.images)
    return ReviewOut.of(service.write_review(principal.own_user_id, principal.seller_id, body.order_id,
                                             body.product_id, draft))


@bp.route("/v1/me/seller-reviews", methods=["POST"])
@operation("Review a seller for your order's part it delivered", tags=TAGS, body="SellerReviewCreate",
           response="ReviewOut", status=201, auth="buyer", errors=(401, 403, 404, 409, 422),
           description="Overall, delivery and communication, 1-5 each; once per order and seller (409 "
                       "`already_reviewed`). The order must be yours (404 `order_not_found`) and the seller's part "
                       "delivered (409 `not_delivered_yet`). Moderated, changed and deleted like product reviews "
                       "(`/v1/me/reviews/{review_id}`). " + WRITE_RULES)
def write_seller_review(body: SellerReviewCreate, principal: Principal) -> ReviewOut:
    from chalicelib.reviews import service
    from chalicelib.reviews.schemas import ReviewOut

    draft = service.ReviewDraft(rating=body.overall, title=body.title, text=body.text, language=body.language,
                                images=[])
    return ReviewOut.of(service.write_seller_review(principal.own_user_id, principal.seller_id, body.order_id,
                                                    body.seller_id, draft, body.delivery, body.communication))


@bp.route("/v1/me/reviews", methods=["GET"])
@operation("Your reviews, with their moderation status", tags=TAGS, query="PageQuery",
           response="ReviewPage", auth="buyer", errors=(400, 401, 403, 422),
           description="A hidden review carries the operator's `hidden_reason`. Pages follow the products (and "
                       "orders) reviewed; each page lists its reviews newest first.")
def my_reviews(query: PageQuery, principal: Principal) -> ReviewPage:
    from chalicelib.reviews import service
    from chalicelib.reviews.schemas import ReviewOut, ReviewPage

    page = service.buyer_reviews(principal.own_user_id, query.cursor, query.limit)
    return ReviewPage(items=[ReviewOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/me/reviews/{review_id}", methods=["PATCH"])
@operation("Change your review (within 30 days)", tags=TAGS, body="ReviewPatch", response="ReviewOut",
           auth="buyer", errors=(401, 403, 404, 409, 422),
           description="409 `review_edit_window_closed` after 30 days. " + WRITE_RULES + " When the operator "
                       "approves reviews first, a changed published review waits for approval again.")
def edit_review(review_id: str, body: ReviewPatch, principal: Principal) -> ReviewOut:
    from chalicelib.reviews import service
    from chalicelib.reviews.schemas import ReviewOut

    return ReviewOut.of(service.edit_review(principal.own_user_id, review_id, body.model_dump(exclude_unset=True)))


@bp.route("/v1/me/reviews/{review_id}", methods=["DELETE"])
@operation("Delete your review (within 30 days)", tags=TAGS, status=204, auth="buyer", errors=(401, 403, 404, 409),
           description="409 `review_edit_window_closed` after 30 days. The product may then be reviewed again.")
def delete_review(review_id: str, principal: Principal) -> Response:
    from chalicelib.reviews import service

    service.delete_review(principal.own_user_id, review_id)
    return Response(body="", status_code=204)


@export_section("reviews")
def reviews_in_export(user_id: str) -> list[dict[str, Any]]:
    """The buyer's reviews in their data export (GET /v1/me/export), as GET /v1/me/reviews shows them."""
    from chalicelib.reviews import service  # lazy: PynamoDB, not at cold start
    from chalicelib.reviews.schemas import ReviewOut

    return [ReviewOut.of(r).model_dump(mode="json") for r in service.all_buyer_reviews(user_id)]


@export_section("questions")
def questions_in_export(user_id: str) -> list[dict[str, Any]]:
    """The questions the buyer asked (any status, with their answers) and, as ``answered``
    entries, each answer the buyer gave with the question it answers."""
    from chalicelib.reviews import questions  # lazy: PynamoDB, not at cold start
    from chalicelib.reviews.schemas import AnswerOut, QuestionOut

    asked, answers = questions.buyers_questions(user_id)
    return [*({"kind": "asked", **QuestionOut.of(q).model_dump(mode="json")} for q in asked),
            *({"kind": "answered", "question_id": q.question_id, "product_id": q.product_id, "question": q.text,
               **AnswerOut(**{k: v for k, v in a.items() if k != "user_id"}).model_dump(mode="json")}
              for q, a in answers)]


# --- buyers reading a product's reviews ---------------------------------------------------------

@bp.route("/v1/products/{product_id}/reviews", methods=["GET"])
@operation("A product's published reviews", tags=TAGS, query="ProductReviewsQuery", response="PublicReviewPage",
           auth="member", errors=(400, 404, 422),
           description="`sort`: newest (default), most_helpful, rating_desc or rating_asc. The product's rating "
                       "(average, count, distribution) is in GET /v1/products/{product_id}.")
def product_reviews(product_id: str, query: ProductReviewsQuery) -> PublicReviewPage:
    from chalicelib.reviews import service
    from chalicelib.reviews.schemas import PublicReview, PublicReviewPage

    page = service.product_reviews(product_id, query.sort, query.cursor, query.limit)
    return PublicReviewPage(items=[PublicReview.of(r) for r in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/reviews/{review_id}/helpful", methods=["POST"])
@operation("Find a review helpful (once per buyer)", tags=TAGS, response="PublicReview", auth="buyer",
           errors=(401, 403, 404, 409),
           description="Voting again changes nothing; the author cannot vote (403 `own_review_vote`). Only "
                       "published reviews can be voted on.")
def vote_helpful(review_id: str, principal: Principal) -> PublicReview:
    from chalicelib.reviews import responses
    from chalicelib.reviews.schemas import PublicReview

    return PublicReview.of(responses.vote_helpful(principal.own_user_id, review_id))


@bp.route("/v1/reviews/{review_id}/report", methods=["POST"])
@operation("Report a review to the operators", tags=TAGS, body="ReportBody", status=204, auth="user",
           errors=(401, 403, 404, 422, 429),
           description="Any signed-in person; reporting again changes nothing. At most 30 reports an hour.")
def report_review(review_id: str, body: ReportBody, principal: Principal) -> Response:
    from chalicelib.reviews import responses

    responses.report(principal.own_user_id, review_id, body.reason)
    return Response(body="", status_code=204)


@bp.route("/v1/sellers/{seller_id}/reviews", methods=["GET"])
@operation("A seller's published seller reviews", tags=TAGS, query="ProductReviewsQuery",
           response="PublicReviewPage", auth="member", errors=(400, 404, 422),
           description="Buyers' reviews of the seller per order; `sort` as for a product's reviews. The figures are "
                       "the storefront's `seller_rating` (GET /v1/sellers/{seller_id}).")
def reviews_of_seller(seller_id: str, query: ProductReviewsQuery) -> PublicReviewPage:
    from chalicelib.reviews import service
    from chalicelib.reviews.schemas import PublicReview, PublicReviewPage

    page = service.reviews_of_seller(seller_id, query.sort, query.cursor, query.limit)
    return PublicReviewPage(items=[PublicReview.of(r) for r in page.items], next_cursor=page.next_cursor)


# --- the seller --------------------------------------------------------------------------------

@bp.route("/v1/seller/reviews", methods=["GET"])
@operation("Reviews of your products, newest first", tags=TAGS, query="PageQuery", response="ReviewPage",
           auth="seller", scopes=("seller:read",), errors=(400, 401, 403, 422),
           description="Published and hidden reviews; those awaiting approval are not shown.")
def seller_reviews(query: PageQuery, principal: Principal) -> ReviewPage:
    from chalicelib.reviews import service
    from chalicelib.reviews.schemas import ReviewOut, ReviewPage

    page = service.seller_reviews(principal.own_seller_id, query.cursor, query.limit)
    return ReviewPage(items=[ReviewOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/seller/reviews/{review_id}/reply", methods=["PUT"])
@operation("Reply in public to a review of your product (one reply, editable)", tags=TAGS, body="ReplyBody",
           response="ReviewOut", auth="seller", scopes=("products:write",), errors=(401, 403, 404, 409, 422),
           description="Writes or replaces the reply. Links and e-mail addresses are refused (422 "
                       "`review_contains_link`).")
def reply(review_id: str, body: ReplyBody, principal: Principal) -> ReviewOut:
    from chalicelib.reviews import responses
    from chalicelib.reviews.schemas import ReviewOut

    return ReviewOut.of(responses.reply(principal.own_seller_id, review_id, body.text))


# --- the operator ------------------------------------------------------------------------------

@bp.route("/v1/admin/reviews/settings", methods=["GET"])
@operation("How reviews are published", tags=TAGS, response="ReviewSettingsOut", auth="operator",
           errors=(401, 403))
def get_settings(principal: Principal) -> ReviewSettingsOut:
    from chalicelib.reviews import service
    from chalicelib.reviews.schemas import ReviewSettingsOut

    return ReviewSettingsOut.of(service.settings())


@bp.route("/v1/admin/reviews/settings", methods=["PUT"])
@operation("Publish reviews at once, or after approval", tags=TAGS, body="ReviewSettingsBody",
           response="ReviewSettingsOut", auth="operator", errors=(401, 403, 422))
def put_settings(body: ReviewSettingsBody, principal: Principal) -> ReviewSettingsOut:
    from chalicelib.reviews import service
    from chalicelib.reviews.schemas import ReviewSettingsOut

    return ReviewSettingsOut.of(service.put_settings(principal.own_user_id, body.publish))


@bp.route("/v1/admin/reviews", methods=["GET"])
@operation("The moderation queue: reviews awaiting approval, oldest first", tags=TAGS, query="ModerationQuery",
           response="ReviewPage", auth="operator", errors=(400, 401, 403, 422))
def moderation_queue(query: ModerationQuery, principal: Principal) -> ReviewPage:
    from chalicelib.reviews import service
    from chalicelib.reviews.schemas import ReviewOut, ReviewPage

    page = service.pending_reviews(query.cursor, query.limit)
    return ReviewPage(items=[ReviewOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/admin/reviews/reports", methods=["GET"])
@operation("Reports of reviews, newest first", tags=TAGS, query="PageQuery", response="ReportPage",
           auth="operator", errors=(400, 401, 403, 422),
           description="Each with the review as it is now; hide it with POST /v1/admin/reviews/{review_id}/hide.")
def review_reports(query: PageQuery, principal: Principal) -> ReportPage:
    from chalicelib.reviews import responses
    from chalicelib.reviews.schemas import ReportOut, ReportPage

    page = responses.reports(query.cursor, query.limit)
    return ReportPage(items=[ReportOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/admin/reviews/{review_id}/hide", methods=["POST"])
@operation("Hide a review, or refuse one awaiting approval", tags=TAGS, body="HideReviewRequest",
           response="ReviewOut", auth="operator", errors=(401, 403, 404, 409, 422),
           description="The author sees the reason. A hidden review leaves the product's and seller's rating.")
def hide_review(review_id: str, body: HideReviewRequest, principal: Principal) -> ReviewOut:
    from chalicelib.reviews import service
    from chalicelib.reviews.schemas import ReviewOut

    return ReviewOut.of(service.hide_review(principal.own_user_id, review_id, body.reason))


@bp.route("/v1/admin/reviews/{review_id}/unhide", methods=["POST"])
@operation("Publish a hidden review, or approve one awaiting approval", tags=TAGS, response="ReviewOut",
           auth="operator", errors=(401, 403, 404, 409))
def unhide_review(review_id: str, principal: Principal) -> ReviewOut:
    from chalicelib.reviews import service
    from chalicelib.reviews.schemas import ReviewOut

    return ReviewOut.of(service.unhide_review(principal.own_user_id, review_id))


# --- questions and answers -----------------------------------------------------------------------

QA_TAGS = ("questions",)


@bp.route("/v1/products/{product_id}/questions", methods=["POST"])
@operation("Ask a question about a product", tags=QA_TAGS, body="QuestionCreate", response="QuestionOut",
           status=201, auth="user", errors=(401, 403, 404, 409, 422, 429),
           description="Anyone signed in, at most 20 questions an hour. Moderated like reviews: published at once "
                       "or after approval (`status`). The seller is mailed once it is published.")
def ask_question(product_id: str, body: QuestionCreate, principal: Principal) -> QuestionOut:
    from chalicelib.reviews import questions
    from chalicelib.reviews.schemas import QuestionOut

    return QuestionOut.of(questions.ask(principal.own_user_id, product_id, body.text))


@bp.route("/v1/products/{product_id}/questions", methods=["GET"])
@operation("A product's questions with their answers, newest first", tags=QA_TAGS, query="PageQuery",
           response="QuestionPage", auth="member", errors=(400, 404, 422))
def product_questions(product_id: str, query: PageQuery) -> QuestionPage:
    from chalicelib.reviews import questions
    from chalicelib.reviews.schemas import QuestionOut, QuestionPage

    page = questions.product_questions(product_id, query.cursor, query.limit)
    return QuestionPage(items=[QuestionOut.of(q) for q in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/questions/{question_id}/answers", methods=["POST"])
@operation("Answer a question: the product's seller, or a buyer who received it", tags=QA_TAGS,
           body="AnswerCreate", response="QuestionOut", status=201, auth="user", errors=(401, 403, 404, 409, 422),
           description="A buyer names the order the product came with (404 `order_not_found` for someone else's, "
                       "409 `not_delivered_yet`, 422 `product_not_in_order`); anyone else is 403 `not_a_buyer_of_it`. "
                       "At most 20 answers (409 `too_many_answers`). The asker is mailed.")
def answer_question(question_id: str, body: AnswerCreate, principal: Principal) -> QuestionOut:
    from chalicelib.reviews import questions
    from chalicelib.reviews.schemas import QuestionOut

    return QuestionOut.of(questions.answer(principal.own_user_id, principal.seller_id, question_id, body.text,
                                           body.order_id))


@bp.route("/v1/admin/questions", methods=["GET"])
@operation("Questions awaiting approval, oldest first", tags=QA_TAGS, query="ModerationQuery",
           response="QuestionPage", auth="operator", errors=(400, 401, 403, 422))
def question_queue(query: ModerationQuery, principal: Principal) -> QuestionPage:
    from chalicelib.reviews import questions
    from chalicelib.reviews.schemas import QuestionOut, QuestionPage

    page = questions.pending_questions(query.cursor, query.limit)
    return QuestionPage(items=[QuestionOut.of(q) for q in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/admin/questions/{question_id}/hide", methods=["POST"])
@operation("Hide a question, or refuse one awaiting approval", tags=QA_TAGS, body="HideReviewRequest",
           response="QuestionOut", auth="operator", errors=(401, 403, 404, 409, 422))
def hide_question(question_id: str, body: HideReviewRequest, principal: Principal) -> QuestionOut:
    from chalicelib.reviews import questions
    from chalicelib.reviews.schemas import QuestionOut

    return QuestionOut.of(questions.hide(question_id, body.reason))


@bp.route("/v1/admin/questions/{question_id}/unhide", methods=["POST"])
@operation("Publish a hidden question, or approve one awaiting approval", tags=QA_TAGS, response="QuestionOut",
           auth="operator", errors=(401, 403, 404, 409))
def unhide_question(question_id: str, principal: Principal) -> QuestionOut:
    from chalicelib.reviews import questions
    from chalicelib.reviews.schemas import QuestionOut

    return QuestionOut.of(questions.unhide(question_id))
