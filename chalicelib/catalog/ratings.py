"""Ratings of products and sellers: count, sum and 1-5 distribution of published reviews.

The catalog owns how a rating is stored and shown; the reviews package (above the catalog)
decides when it changes and adds these writes to the transaction that changes a review's
state, so a retried or parallel request (refused by the review's own version condition)
never counts twice. ADD, never read-modify-write: two reviews of one product published at
the same moment both count. A product's rating lives on its pointer (read by the detail page
anyway), a seller's on the seller item (read by the storefront anyway).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.catalog.models import ProductPointer
from chalicelib.core.db import ItemWrite
from chalicelib.core.keys import POINTER_SK, PROFILE_SK, product_pk, seller_key
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


def product_rating_write(product_id: str, delta: RatingChange) -> ItemWrite:
    """The product's rating moved by ``delta`` (an update of its pointer, which must exist)."""
    pointer = ProductPointer(PK=product_pk(product_id), SK=POINTER_SK)
    return ItemWrite(pointer, _actions(ProductPointer, delta), ProductPointer.PK.exists())


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
    return RatingSummary(count=count, average=round(total / count, 2) if count else None,
                         distribution={str(star): int(getattr(item, f"rating_{star}", 0) or 0) for star in STARS})
