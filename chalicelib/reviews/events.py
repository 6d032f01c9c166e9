"""What happens to reviews.

For the retention packages: loyalty grants points for a buyer's first review
(``first_review``; two first reviews published at the same moment may both say so, so a
grant keeps its own once-marker per buyer), retention's review-request mail stops asking for
what was reviewed, seller performance reads the ratings."""

from chalicelib.events.registry import DomainEvent


class ReviewPublished(DomainEvent):
    """A review became visible to buyers: when written (publish at once) or approved."""

    event_type = "review.published"

    review_id: str
    kind: str  # "product", or "seller" for a review of the seller for one sub-order
    user_id: str
    seller_id: str
    product_id: str | None = None  # a product review's
    order_id: str
    rating: int
    first_review: bool  # the buyer had no other review when writing this one
    published_at: str


class QuestionAsked(DomainEvent):
    """A question on a product became visible (asked, or approved): the seller is mailed."""

    event_type = "question.asked"

    question_id: str
    product_id: str
    seller_id: str
    user_id: str
    text: str


class QuestionAnswered(DomainEvent):
    """The seller or a buyer who received the product answered: the asker is mailed."""

    event_type = "question.answered"

    question_id: str
    answer_id: str
    product_id: str
    seller_id: str
    asker_id: str
    by: str  # seller | buyer
    verified_buyer: bool
    text: str


class ReviewHidden(DomainEvent):
    """An operator hid a review (or refused a pending one); the author sees the reason."""

    event_type = "review.hidden"

    review_id: str
    user_id: str
    seller_id: str
    product_id: str | None = None
    reason: str
    hidden_at: str


class SellerRatingCounted(DomainEvent):
    """A seller review's overall rating started or stopped counting, or changed: published,
    hidden, edited, deleted. Seller performance keeps its windowed average from these, on the
    review's publication day; ``before``/``after`` None: not counted (pending, hidden, gone)."""

    event_type = "review.seller_rating_counted"

    review_id: str
    seller_id: str
    before: int | None = None
    before_day: str | None = None  # yyyy-mm-dd the counted rating was published
    after: int | None = None
    after_day: str | None = None
    at: str
