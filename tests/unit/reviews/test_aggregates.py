"""Ratings are kept incrementally; after any sequence of writes, retried requests and
parallel ones, they equal a recount of the published reviews."""

from __future__ import annotations

import contextlib
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.core.errors import AgoraError
from tests.support.builders import Marketplace, user_of

SELLER = "sel_01M8A0000000000000000000AA"


@pytest.fixture
def delivered_to_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every buyer's order holds every product and was delivered: the test is about the
    ratings, and building a real delivered order per buyer and product takes seconds each
    (test_reviews.py covers the real check)."""
    from chalicelib.reviews import service

    def sub_order(seller_id: str, order_id: str) -> Any:
        user_id, products = order_id.split(":", 1)
        return SimpleNamespace(user_id=user_id, seller_id=seller_id, order_id=order_id,
                               lines=[{"product_id": p} for p in products.split(",")],
                               delivered_at="2026-12-01T10:00:00.000000Z", status="delivered",
                               buyer_name="Anna Käufer")

    monkeypatch.setattr(service, "find_sub_order", sub_order)
    monkeypatch.setattr(service, "has_prefix", lambda value, prefix: prefix != "ord" or ":" in value)


@pytest.fixture
def slow_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A review read takes 20 ms, so parallel requests read the same version before either writes."""
    from chalicelib.reviews import service

    read = service.find_item

    def slow(*args: Any, **kwargs: Any) -> Any:
        found = read(*args, **kwargs)
        time.sleep(0.02)
        return found

    monkeypatch.setattr(service, "find_item", slow)


def _recount(review_ids: set[str], product_ids: list[str]) -> dict[str, Any]:
    from chalicelib.core.keys import REVIEW_SK, review_key
    from chalicelib.reviews.models import Review

    reviews = list(Review.batch_get([(review_key(r), REVIEW_SK) for r in review_ids], consistent_read=True))
    published = [r for r in reviews if r.status == "published" and r.kind == "product"]
    per_product = {p: Counter(int(r.rating) for r in published if r.product_id == p) for p in product_ids}
    of_seller = [r for r in reviews if r.status == "published" and r.kind == "seller"]
    return {"products": {p: {"count": sum(c.values()), "distribution": {str(s): c[s] for s in range(1, 6)}}
                         for p, c in per_product.items()},
            "seller": Counter(int(r.rating) for r in published),
            "seller reviews": (Counter(int(r.rating) for r in of_seller), sum(int(r.delivery) for r in of_seller),
                               sum(int(r.communication) for r in of_seller))}


def _kept(product_ids: list[str]) -> dict[str, Any]:
    from chalicelib.catalog.models import ProductPointer
    from chalicelib.catalog.ratings import summary_of
    from chalicelib.core.keys import POINTER_SK, product_pk
    from chalicelib.sellers.service import get_seller

    products = {}
    for product_id in product_ids:
        summary = summary_of(ProductPointer.get(product_pk(product_id), POINTER_SK, consistent_read=True))
        products[product_id] = {"count": summary.count, "distribution": summary.distribution}
    found = get_seller(SELLER)
    seller = summary_of(found)
    feedback = Counter({star: int(getattr(found, f"feedback_{star}")) for star in range(1, 6)
                        if int(getattr(found, f"feedback_{star}"))})
    assert int(found.feedback_count) == sum(feedback.values())
    assert int(found.feedback_sum) == sum(star * n for star, n in feedback.items())
    return {"products": products, "seller": Counter({int(s): n for s, n in seller.distribution.items() if n}),
            "seller reviews": (feedback, int(found.feedback_delivery_sum), int(found.feedback_communication_sum))}


def test_ratings_equal_a_recount_after_random_retried_and_parallel_writes(
        market: Marketplace, delivered_to_everyone: None, slow_reads: None) -> None:
    from chalicelib.reviews import service

    market.seller(SELLER)
    products = [market.product(SELLER) for _ in range(3)]
    buyers = [user_of(market.buyer()) for _ in range(6)]
    rng = random.Random(15)
    written: dict[tuple[str, str], str] = {}  # (buyer, product) -> review id
    every_review: set[str] = set()

    def attempt(step: Any) -> None:
        with contextlib.suppress(AgoraError):  # refusals (already reviewed, a race lost, gone) belong here
            step()

    def operation() -> Any:
        buyer, product = rng.choice(buyers), rng.choice([*products, "seller"])
        review_id = written.get((buyer, product))
        kind = rng.choice(("write", "edit", "hide", "unhide", "delete", "policy")) if review_id else "write"
        rating = rng.randint(1, 5)

        def write() -> None:
            draft = service.ReviewDraft(rating=rating, title="Titel", text="Text", language="de", images=[])
            order_id = f"{buyer}:{','.join(products)}"
            review = service.write_seller_review(buyer, None, order_id, SELLER, draft, rng.randint(1, 5),
                                                 rng.randint(1, 5)) \
                if product == "seller" else service.write_review(buyer, None, order_id, product, draft)
            written[(buyer, product)] = review.review_id
            every_review.add(review.review_id)

        def delete() -> None:
            service.delete_review(buyer, str(review_id))
            written.pop((buyer, product), None)

        return {"write": write,
                "edit": lambda: service.edit_review(buyer, str(review_id), {
                    "rating": rating, **({"communication": rng.randint(1, 5)} if product == "seller" else {})}),
                "hide": lambda: service.hide_review("usr_operator", str(review_id), "Prüfung"),
                "unhide": lambda: service.unhide_review("usr_operator", str(review_id)),
                "delete": delete,
                "policy": lambda: service.put_settings("usr_operator",
                                                       rng.choice(("immediately", "after_approval")))}[kind]

    for _ in range(60):
        step = operation()
        attempt(step)
        if rng.random() < 0.3:
            attempt(step)  # the same request sent again, as a client retrying after a timeout
    # the same requests in parallel: four at once, each on a review others also change
    for _ in range(4):
        steps = [operation() for _ in range(4)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(attempt, steps + steps))

    assert every_review, "the sequence wrote no review"
    assert _kept(products) == _recount(every_review, products)
    assert {p: _listed_copies(p) for p in products} == {p: {_pointed_copy(p)} for p in products}


def _pointed_copy(product_id: str) -> tuple[int, int, str]:
    from chalicelib.catalog.models import ProductPointer
    from chalicelib.catalog.ratings import hundredths
    from chalicelib.core.keys import POINTER_SK, product_pk, rated_sort_key

    pointer = ProductPointer.get(product_pk(product_id), POINTER_SK, consistent_read=True)
    count, total = int(pointer.rating_count), int(pointer.rating_sum)
    return count, total, rated_sort_key(hundredths(count, total), count, product_id)


def _listed_copies(product_id: str) -> set[tuple[int, int, str]]:
    """What the product's listing entries (every browse scope) say of its rating: one copy."""
    from chalicelib.catalog.models import ProductListing
    from chalicelib.core.keys import LISTING_PREFIX, product_pk

    entries = ProductListing.query(product_pk(product_id), ProductListing.SK.startswith(LISTING_PREFIX),
                                   consistent_read=True)
    return {(int(e.rating_count), int(e.rating_sum), str(e.GSI3SK)) for e in entries}
