"""Request and response bodies of reviews."""


from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from chalicelib.core import clock
from chalicelib.core.pagination import DEFAULT_LIMIT, Cursor, Limit
from chalicelib.core.schemas import (
    HTTPS_URL_PATTERN,
    PageSchema,
    PatchSchema,
    QuerySchema,
    RequestSchema,
    ResponseSchema,
    https_url,
)

MAX_TITLE = 120
MAX_TEXT = 5_000
MAX_IMAGES = 6
MAX_IMAGE_URL = 2_000
EDIT_DAYS = 30  # as chalicelib.reviews.service (schemas load without PynamoDB)

Rating = Annotated[int, Field(ge=1, le=5, description="Stars, 1 to 5.")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$"), Field(
    description="ISO 639-1 code of the language the review is written in, e.g. `de`.")]
ImageUrl = Annotated[str, StringConstraints(max_length=MAX_IMAGE_URL, pattern=HTTPS_URL_PATTERN),
                     AfterValidator(https_url)]
Images = Annotated[list[ImageUrl], Field(max_length=MAX_IMAGES, description="Up to 6 https:// image URLs.")]
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,64}$")]
TEXT_RULE = ("Links and e-mail addresses in `title` or `text` are refused with 422 `review_contains_link` "
             "(not stripped).")


class ReviewCreate(RequestSchema):
    order_id: Id = Field(description="The order the product was bought with; its part must have been delivered.")
    product_id: Id
    rating: Rating
    title: Title = Field(description=TEXT_RULE)
    text: Text = Field(description=TEXT_RULE)
    language: Language
    images: Images = Field(default_factory=list)


class SellerReviewCreate(RequestSchema):
    order_id: Id = Field(description="Your order; the seller's part of it must have been delivered.")
    seller_id: Id
    overall: Rating
    delivery: Rating
    communication: Rating
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TITLE)] = Field(
        default="", description=TEXT_RULE)
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)] = Field(
        default="", description=TEXT_RULE)
    language: Language


class ReviewPatch(PatchSchema):
    # None: not sent, unchanged (null is refused: see PatchSchema)
    rating: Rating = None  # type: ignore[assignment]
    title: Title = None  # type: ignore[assignment]
    text: Text = None  # type: ignore[assignment]
    language: Language = None  # type: ignore[assignment]
    images: Images = None  # type: ignore[assignment]
    delivery: Rating = Field(default=None, description="A seller review's only.")  # type: ignore[assignment]
    communication: Rating = Field(default=None, description="A seller review's only.")  # type: ignore[assignment]


class HideReviewRequest(RequestSchema):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] = Field(
        description="Shown to the author in GET /v1/me/reviews.")


class ReplyBody(RequestSchema):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)] = Field(
        description="Public, below the review; replaces an earlier reply. " + TEXT_RULE.replace("`title` or ", ""))


class ReportBody(RequestSchema):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] = Field(
        description="What is wrong with the review, for the operators.")


class ReviewSettingsBody(RequestSchema):
    publish: Literal["immediately", "after_approval"] = Field(
        description="`immediately`: reviews are public when written; `after_approval`: they wait in the moderation "
                    "queue (and a changed review waits again) until an operator unhides them.")


class ReviewSettingsOut(ResponseSchema):
    publish: Literal["immediately", "after_approval"]
    updated_at: str | None

    @classmethod
    def of(cls, item: Any) -> "ReviewSettingsOut":
        return cls(publish=item.publish, updated_at=item.updated_at)


class PageQuery(QuerySchema):
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class ProductReviewsQuery(PageQuery):
    sort: Literal["newest", "most_helpful", "rating_desc", "rating_asc"] = "newest"


class ModerationQuery(PageQuery):
    status: Literal["pending"] = Field(default="pending", description="The queue of reviews awaiting approval.")


class ReplyOut(ResponseSchema):
    text: str
    replied_at: str
    updated_at: str


class PublicReview(ResponseSchema):
    """A published review as buyers see it."""

    review_id: str
    kind: Literal["product", "seller"] = Field(
        description="`seller`: a review of the seller for one order (`rating` is the overall rating).")
    product_id: str | None = Field(description="A product review's product; null for a seller review.")
    seller_id: str
    author_name: str = Field(description='First name and initial, e.g. "Anna K.".')
    rating: int
    delivery: int | None = Field(description="A seller review's rating of the delivery; null otherwise.")
    communication: int | None = Field(description="A seller review's rating of the communication; null otherwise.")
    title: str
    text: str
    language: str
    images: list[str]
    verified_purchase: bool = Field(description="Always true: only buyers of the delivered product can review.")
    helpful: int = Field(description="Helpful votes.")
    published_at: str | None
    updated_at: str
    reply: ReplyOut | None = Field(description="The seller's public reply, if any.")

    @classmethod
    def shared(cls, review: Any) -> dict[str, Any]:
        return {"review_id": review.review_id, "kind": review.kind, "product_id": review.product_id,
                "seller_id": review.seller_id, "author_name": review.author_name, "rating": int(review.rating),
                "delivery": None if review.delivery is None else int(review.delivery),
                "communication": None if review.communication is None else int(review.communication),
                "title": review.title,
                "text": review.text, "language": review.language, "images": list(review.images),
                "verified_purchase": True, "helpful": int(review.helpful), "published_at": review.published_at,
                "updated_at": review.updated_at,
                "reply": ReplyOut(text=review.reply_text, replied_at=review.replied_at,
                                  updated_at=review.reply_updated_at) if review.reply_text else None}

    @classmethod
    def of(cls, review: Any) -> "PublicReview":
        return cls(**cls.shared(review))


class ReviewOut(PublicReview):
    """A review with its moderation state, as its author, the seller and operators see it."""

    order_id: str
    status: Literal["pending", "published", "hidden"]
    hidden_reason: str | None = Field(description="Why an operator hid it (set while hidden).")
    created_at: str
    editable_until: str = Field(description="The author may change or delete it until then (30 days).")

    @classmethod
    def of(cls, review: Any) -> "ReviewOut":
        until = clock.stamp(clock.parse(review.created_at) + timedelta(days=EDIT_DAYS))
        return cls(**cls.shared(review), order_id=review.order_id, status=review.status,
                   hidden_reason=review.hidden_reason if review.status == "hidden" else None,
                   created_at=review.created_at, editable_until=until)


class PublicReviewPage(PageSchema):
    items: list[PublicReview]


class ReviewPage(PageSchema):
    """A page may hold fewer items than the limit; keep following the cursor."""

    items: list[ReviewOut]


class ReportOut(ResponseSchema):
    review: ReviewOut
    reason: str
    reported_at: str
    reported_by: str = Field(description="The user id of who reported it.")

    @classmethod
    def of(cls, reported: Any) -> "ReportOut":
        return cls(review=ReviewOut.of(reported.review), reason=reported.report.reason,
                   reported_at=reported.report.reported_at, reported_by=reported.report.user_id)


class ReportPage(PageSchema):
    items: list[ReportOut]


# --- questions and answers -------------------------------------------------------------------

QuestionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1_000)]


class QuestionCreate(RequestSchema):
    text: QuestionText = Field(description="Links and e-mail addresses are refused (422 `review_contains_link`).")


class AnswerCreate(RequestSchema):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)] = Field(
        description="Links and e-mail addresses are refused (422 `review_contains_link`).")
    order_id: Id | None = Field(default=None, description=(
        "A buyer names the order the product was delivered with (the seller of the product names none)."))


class AnswerOut(ResponseSchema):
    answer_id: str
    by: Literal["seller", "buyer"]
    author_name: str
    verified_buyer: bool = Field(description="A buyer who received the product (every buyer's answer is).")
    text: str
    at: str


class QuestionOut(ResponseSchema):
    question_id: str
    product_id: str
    seller_id: str
    author_name: str
    text: str
    status: Literal["pending", "published", "hidden"]
    answers: list[AnswerOut]
    created_at: str

    @classmethod
    def of(cls, question: Any) -> "QuestionOut":
        return cls(question_id=question.question_id, product_id=question.product_id, seller_id=question.seller_id,
                   author_name=question.author_name, text=question.text, status=question.status,
                   answers=[AnswerOut(**{k: v for k, v in a.items() if k != "user_id"})
                            for a in question.answers or []],
                   created_at=question.created_at)


class QuestionPage(PageSchema):
    items: list[QuestionOut]
