"""Ratings of products and sellers: count, sum and 1-5 distribution of published reviews.

The catalog owns how a rating is stored and shown; the reviews package (above the catalog)
decides when it changes and adds these writes to the transaction that changes a review's
state, so a retried or parallel request (refused by the review's own version condition)
never counts twice. ADD, never read-modify-write: two reviews of one product published at
the same moment both count. A product's rating lives on its pointer (read by the detail page
anyway), a seller's on the seller item (read by the storefront anyway).

The product's listing entries carry a copy (count, sum and the best-rated index key, see
``chalicelib.catalog.models``). A sort key cannot be computed by ADD, so a change of a
product's rating reads the pointer and the product first (2 GetItems) and conditions its
writes on what it read: the pointer's count and sum (another rating change came first) and
the product's version (a product change added or removed entries). Either failing is
:data:`RACED`: the caller re-reads and tries again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.catalog.models import Product, ProductListing, ProductPointer
from chalicelib.core.db import ItemWrite, LabelledTransaction, find_item
from chalicelib.core.keys import (
    POINTER_SK,
    PROFILE_SK,
    listing_sk,
    product_pk,
    product_sk,
    rated_index_key,
    rated_sort_key,
    seller_key,
)
from chalicelib.sellers.models import Seller

STARS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class RatingChange:
    """How many ratings of each star come (+) or go (-)."""

    stars: Mapping[int, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(self.stars.values())

    @property
    def total(self) -> int:
        return sum(star * n for star, n in self.stars.items())

    def __bool__(self) -> bool:
        return any(self.stars.values())


def change(before: int | None, after: int | None) -> RatingChange:
    """From a counted rating (None: not counted, e.g. pending or hidden) to another."""
    stars: dict[int, int] = {}
    if before is not None:
        stars[before] = stars.get(before, 0) - 1
    if after is not None:
        stars[after] = stars.get(after, 0) + 1
    return RatingChange({star: n for star, n in stars.items() if n})


def _actions(model: Any, delta: RatingChange) -> tuple[Action, ...]:
    return (model.rating_count.add(delta.count), model.rating_sum.add(delta.total),
            *(getattr(model, f"rating_{star}").add(n) for star, n in sorted(delta.stars.items())))


# Labels of :func:`add_product_rating`'s writes: any of them failing means "read again".
RACED = frozenset({"product_rating", "rated_listing", "rated_product"})


def average(count: int, total: int) -> float | None:
    """Two decimals, as buyers see it; None without ratings."""
    return round(total / count, 2) if count else None


def hundredths(count: int, total: int) -> int:
    """The shown average in hundredths of a star (0 unrated): what the best-rated index sorts by."""
    shown = average(count, total)
    return round(shown * 100) if shown is not None else 0


def listing_rating(scope: str, product_id: str, count: int, total: int) -> dict[str, Any]:
    """A listing entry's copy of the product's rating and its best-rated index keys."""
    return {"rating_count": count, "rating_sum": total, "GSI3PK": rated_index_key(scope),
            "GSI3SK": rated_sort_key(hundredths(count, total), count, product_id)}


def add_product_rating(transaction: LabelledTransaction, product_id: str, delta: RatingChange) -> None:
    """Add to ``transaction`` the product's rating moved by ``delta``: its pointer and its
    listing entries (nothing when the product is gone). Reads the pointer and the product (2 GetItems, consistent);
    the writes are conditioned on them (labels in :data:`RACED`)."""
    pointer = find_item(ProductPointer, product_pk(product_id), POINTER_SK, consistent_read=True)
    if pointer is None:  # a deleted product has no rating to keep (only drafts are deleted, unreviewed)
        return
    count, total = int(pointer.rating_count or 0), int(pointer.rating_sum or 0)
    transaction.update("product_rating", ProductPointer(PK=product_pk(product_id), SK=POINTER_SK),
                       list(_actions(ProductPointer, delta)),
                       ProductPointer.PK.exists() & _unchanged(ProductPointer, count, total))
    product = find_item(Product, seller_key(pointer.seller_id), product_sk(product_id), consistent_read=True)
    if product is None:
        return
    transaction.check("rated_product", Product, product.PK, product.SK, Product.version == product.version)
    count, total = count + delta.count, total + delta.total
    for scope in product.listed:
        fields = listing_rating(scope, product_id, count, total)
        transaction.update("rated_listing", ProductListing(PK=product_pk(product_id), SK=listing_sk(scope)),
                           [getattr(ProductListing, name).set(value) for name, value in fields.items()],
                           ProductListing.PK.exists())


def _unchanged(model: Any, count: int, total: int) -> Any:
    """The rating is still what was read (a pointer that never had one lacks the attributes)."""
    if count == 0 and total == 0:
        return ((model.rating_count.does_not_exist() | (model.rating_count == 0))
                & (model.rating_sum.does_not_exist() | (model.rating_sum == 0)))
    return (model.rating_count == count) & (model.rating_sum == total)


def product_rating_check(transaction: LabelledTransaction, product_id: str, count: int, total: int) -> None:
    """For a product change that writes listing entries with the rating it read: fails
    (label ``pointer_rating``) when the rating moved meanwhile."""
    transaction.check("pointer_rating", ProductPointer, product_pk(product_id), POINTER_SK,
                      _unchanged(ProductPointer, count, total))


def seller_rating_write(seller_id: str, delta: RatingChange) -> ItemWrite:
    """The seller's rating (all its products' reviews) moved by ``delta``."""
    seller = Seller(PK=seller_key(seller_id), SK=PROFILE_SK)
    return ItemWrite(seller, _actions(Seller, delta), Seller.PK.exists())


Scores = tuple[int, int, int]  # a seller review's overall, delivery and communication


def seller_feedback_write(seller_id: str, before: Scores | None, after: Scores | None) -> ItemWrite | None:
    """The seller's seller-review figures (overall with its distribution, delivery and
    communication sums) moved from counting ``before`` to counting ``after``; None: no change."""
    delta = change(before[0] if before else None, after[0] if after else None)
    sums = [(after[i] if after else 0) - (before[i] if before else 0) for i in (1, 2)]
    if not delta and not any(sums):
        return None
    actions = (Seller.feedback_count.add(delta.count), Seller.feedback_sum.add(delta.total),
               *(getattr(Seller, f"feedback_{star}").add(n) for star, n in sorted(delta.stars.items())),
               Seller.feedback_delivery_sum.add(sums[0]), Seller.feedback_communication_sum.add(sums[1]))
    return ItemWrite(Seller(PK=seller_key(seller_id), SK=PROFILE_SK), actions, Seller.PK.exists())


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float | None  # two decimals; None without ratings
    distribution: dict[str, int]  # "1".."5" -> how many


def summary_of(item: Any) -> RatingSummary:
    """A product pointer's or a seller's rating as buyers see it."""
    count = int(getattr(item, "rating_count", 0) or 0)
    total = int(getattr(item, "rating_sum", 0) or 0)
    return RatingSummary(count=count, average=average(count, total),
                         distribution={str(star): int(getattr(item, f"rating_{star}", 0) or 0) for star in STARS})
