"""Verified product reviews over HTTP: who may write one, what buyers, the seller and the
operator see, moderation, and the ratings they make."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.auth import operator_headers, seller_headers
from tests.support.builders import Marketplace, user_of
from tests.support.clock import FrozenClock
from tests.support.events import outbox
from tests.support.http import call, ok

SELLER, OTHER_SELLER = "sel_01M8A0000000000000000000AA", "sel_01M8B0000000000000000000BB"


def _review(**overrides: Any) -> dict[str, Any]:
    return {"rating": 4, "title": "Bequem", "text": "Passt gut, nach einer Woche eingelaufen.", "language": "de",
            **overrides}


def _write(api: Any, placed: dict[str, Any], seller_id: str = SELLER, **overrides: Any) -> tuple[int, Any, Any]:
    body = _review(order_id=placed["order"]["order_id"], product_id=placed["products"][seller_id], **overrides)
    return call(api, "POST", "/v1/me/reviews", body, headers=placed["buyer"])


def _rating(api: Any, product_id: str) -> dict[str, Any]:
    rating: dict[str, Any] = ok(call(api, "GET", f"/v1/products/{product_id}"))["rating"]
    return rating


def test_a_buyer_reviews_a_delivered_product_and_everyone_sees_it(api: Any, market: Marketplace) -> None:
    placed = market.order_in_state("delivered", seller_id=SELLER)
    product_id = placed["products"][SELLER]
    assert _rating(api, product_id) == {"count": 0, "average": None,
                                        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}}

    written = ok(_write(api, placed, images=["https://img.example.com/a.jpg"]), 201)

    assert written["status"] == "published"
    assert written["verified_purchase"] is True
    assert written["author_name"] == "Anna K."
    assert written["images"] == ["https://img.example.com/a.jpg"]
    assert _rating(api, product_id) == {"count": 1, "average": 4.0,
                                        "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}
    assert ok(call(api, "GET", f"/v1/sellers/{SELLER}"))["rating"] == {
        "count": 1, "average": 4.0, "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}
    listed = ok(call(api, "GET", f"/v1/products/{product_id}/reviews"))
    assert [r["review_id"] for r in listed["items"]] == [written["review_id"]]
    assert "status" not in listed["items"][0]
    mine = ok(call(api, "GET", "/v1/me/reviews", headers=placed["buyer"]))
    assert [(r["review_id"], r["status"]) for r in mine["items"]] == [(written["review_id"], "published")]
    theirs = ok(call(api, "GET", "/v1/seller/reviews", headers=seller_headers(SELLER)))
    assert [r["review_id"] for r in theirs["items"]] == [written["review_id"]]
    market.seller(OTHER_SELLER)
    assert ok(call(api, "GET", "/v1/seller/reviews", headers=seller_headers(OTHER_SELLER)))["items"] == []
    [event] = outbox("review.published")
    assert event | {"published_at": None} == {
        "review_id": written["review_id"], "kind": "product", "user_id": user_of(placed["buyer"]),
        "seller_id": SELLER, "product_id": product_id, "order_id": placed["order"]["order_id"], "rating": 4,
        "first_review": True, "published_at": None}


def test_refusals_each_with_their_code(api: Any, market: Marketplace) -> None:
    delivered = market.order_in_state("delivered", seller_id=SELLER)
    shipped = market.order_in_state("shipped", seller_id=SELLER)
    stranger = market.buyer()

    not_yet = _write(api, shipped)
    assert (not_yet[0], not_yet[1]["error"]["code"]) == (409, "not_delivered_yet")
    # someone else's order answers exactly as a missing one
    others = call(api, "POST", "/v1/me/reviews", _review(order_id=delivered["order"]["order_id"],
                                                         product_id=delivered["products"][SELLER]), headers=stranger)
    missing = call(api, "POST", "/v1/me/reviews", _review(order_id=delivered["order"]["order_id"][:-6] + "ZZZZZZ",
                                                          product_id=delivered["products"][SELLER]), headers=stranger)
    assert others[0] == 404
    assert others[:2] == missing[:2]
    assert others[1]["error"]["code"] == "order_not_found"
    not_in_order = call(api, "POST", "/v1/me/reviews", _review(order_id=delivered["order"]["order_id"],
                                                               product_id=shipped["products"][SELLER]),
                        headers=delivered["buyer"])
    assert (not_in_order[0], not_in_order[1]["error"]["code"]) == (422, "product_not_in_order")
    own = call(api, "POST", "/v1/me/reviews", _review(order_id=delivered["order"]["order_id"],
                                                      product_id=delivered["products"][SELLER]),
               headers=seller_headers(SELLER, roles=("seller", "buyer")))
    assert (own[0], own[1]["error"]["code"]) == (403, "own_product_review")
    for field, text in (("text", "Mehr auf https://shop.example.com"), ("text", "Schreib mir: anna@example.com"),
                        ("title", "Siehe www.billiger.de"), ("title", "billiger-schuhe.com")):
        linked = _write(api, delivered, **{field: text})
        assert (linked[0], linked[1]["error"]["code"]) == (422, "review_contains_link"), text
        assert linked[1]["error"]["details"][0]["field"] == f"body.{field}"
    assert _write(api, delivered, title="x" * 121)[0] == 422
    assert _write(api, delivered, images=["http://img.example.com/a.jpg"])[0] == 422
    assert _write(api, delivered, images=[f"https://img.example.com/{n}.jpg" for n in range(7)])[0] == 422

    ok(_write(api, delivered), 201)
    again = _write(api, delivered, rating=1)

    assert (again[0], again[1]["error"]["code"]) == (409, "already_reviewed")
    assert _rating(api, delivered["products"][SELLER])["count"] == 1


def test_the_author_changes_or_deletes_within_30_days(api: Any, market: Marketplace, clock: FrozenClock) -> None:
    placed = market.order_in_state("delivered", seller_id=SELLER)
    product_id = placed["products"][SELLER]
    review = ok(_write(api, placed, rating=2), 201)
    path = f"/v1/me/reviews/{review['review_id']}"

    changed = ok(call(api, "PATCH", path, {"rating": 5, "text": "Nach dem Umtausch perfekt."}, headers=placed["buyer"]))

    assert (changed["rating"], changed["text"], changed["title"]) == (5, "Nach dem Umtausch perfekt.", "Bequem")
    assert _rating(api, product_id)["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
    assert call(api, "PATCH", path, {"rating": 3}, headers=market.buyer())[0] == 404
    linked = call(api, "PATCH", path, {"text": "www.example.org"}, headers=placed["buyer"])
    assert linked[1]["error"]["code"] == "review_contains_link"

    clock.advance(days=31)
    late = call(api, "PATCH", path, {"rating": 1}, headers=placed["buyer"])
    late_delete = call(api, "DELETE", path, headers=placed["buyer"])
    assert (late[0], late[1]["error"]["code"]) == (409, "review_edit_window_closed")
    assert (late_delete[0], late_delete[1]["error"]["code"]) == (409, "review_edit_window_closed")

    clock.advance(days=-2)
    assert call(api, "DELETE", path, headers=placed["buyer"])[0] == 204
    assert _rating(api, product_id) == {"count": 0, "average": None,
                                        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}}
    assert ok(call(api, "GET", "/v1/me/reviews", headers=placed["buyer"]))["items"] == []
    assert ok(_write(api, placed), 201)["rating"] == 4  # deleted: the product may be reviewed again


def test_moderation_queue_hide_and_unhide(api: Any, market: Marketplace) -> None:
    operator = operator_headers()
    ok(call(api, "PUT", "/v1/admin/reviews/settings", {"publish": "after_approval"}, headers=operator))
    assert ok(call(api, "GET", "/v1/admin/reviews/settings", headers=operator))["publish"] == "after_approval"
    placed = market.order_in_state("delivered", seller_id=SELLER)
    product_id = placed["products"][SELLER]

    review = ok(_write(api, placed, rating=5), 201)

    assert review["status"] == "pending"
    assert ok(call(api, "GET", f"/v1/products/{product_id}/reviews"))["items"] == []
    assert _rating(api, product_id)["count"] == 0
    assert ok(call(api, "GET", "/v1/seller/reviews", headers=seller_headers(SELLER)))["items"] == []
    queue = ok(call(api, "GET", "/v1/admin/reviews?status=pending", headers=operator))
    assert [r["review_id"] for r in queue["items"]] == [review["review_id"]]
    assert outbox("review.published") == []

    approved = ok(call(api, "POST", f"/v1/admin/reviews/{review['review_id']}/unhide", headers=operator))
    assert approved["status"] == "published"
    assert ok(call(api, "GET", "/v1/admin/reviews", headers=operator))["items"] == []
    assert _rating(api, product_id)["count"] == 1
    assert [e["review_id"] for e in outbox("review.published")] == [review["review_id"]]

    hidden = ok(call(api, "POST", f"/v1/admin/reviews/{review['review_id']}/hide", {"reason": "Beleidigend"},
                     headers=operator))
    assert hidden["status"] == "hidden"
    assert _rating(api, product_id)["count"] == 0
    assert ok(call(api, "GET", f"/v1/products/{product_id}/reviews"))["items"] == []
    [mine] = ok(call(api, "GET", "/v1/me/reviews", headers=placed["buyer"]))["items"]
    assert (mine["status"], mine["hidden_reason"]) == ("hidden", "Beleidigend")
    assert [e["reason"] for e in outbox("review.hidden")] == ["Beleidigend"]
    # hiding again changes nothing that counts
    ok(call(api, "POST", f"/v1/admin/reviews/{review['review_id']}/hide", {"reason": "Beleidigend"}, headers=operator))
    assert _rating(api, product_id)["count"] == 0
    assert len(outbox("review.hidden")) == 1

    ok(call(api, "POST", f"/v1/admin/reviews/{review['review_id']}/unhide", headers=operator))
    ok(call(api, "POST", f"/v1/admin/reviews/{review['review_id']}/unhide", headers=operator))
    assert _rating(api, product_id) == {"count": 1, "average": 5.0,
                                        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}}
    # under approval, a changed review waits again and leaves the rating meanwhile
    edited = ok(call(api, "PATCH", f"/v1/me/reviews/{review['review_id']}", {"title": "Doch gut"},
                     headers=placed["buyer"]))
    assert edited["status"] == "pending"
    assert _rating(api, product_id)["count"] == 0
    assert call(api, "POST", "/v1/admin/reviews/rev_01M8B0000000000000000000BB/hide", {"reason": "x"},
                headers=operator)[0] == 404


def test_a_products_reviews_by_rating_either_way(api: Any, market: Marketplace) -> None:
    first = market.order_in_state("delivered", seller_id=SELLER)
    product_id = first["products"][SELLER]
    ratings = {}
    ok(_write(api, first, rating=2), 201)
    ratings[2] = first
    buyer = market.buyer()
    market.add(buyer, product_id)
    status, placed, _ = market.checkout(buyer, payment_method_id="pm_card_visa")
    assert status == 201, placed
    market.pay(placed)
    market.deliver_order(SELLER, placed["order"]["order_id"])
    ok(call(api, "POST", "/v1/me/reviews", _review(order_id=placed["order"]["order_id"], product_id=product_id,
                                                   rating=5), headers=buyer), 201)

    def listed(sort: str) -> list[int]:
        page = ok(call(api, "GET", f"/v1/products/{product_id}/reviews?sort={sort}"))
        return [r["rating"] for r in page["items"]]

    assert listed("rating_desc") == [5, 2]
    assert listed("rating_asc") == [2, 5]
    assert listed("newest") == [5, 2]
    assert _rating(api, product_id)["average"] == 3.5
    one = ok(call(api, "GET", f"/v1/products/{product_id}/reviews?sort=rating_desc&limit=1"))
    rest = ok(call(api, "GET",
                   f"/v1/products/{product_id}/reviews?sort=rating_desc&limit=1&cursor={one['next_cursor']}"))
    assert [r["rating"] for r in one["items"] + rest["items"]] == [5, 2]
    assert call(api, "GET", f"/v1/products/{product_id}/reviews?sort=newest&cursor={one['next_cursor']}")[0] == 400


def test_browse_keeps_products_rated_at_least_min_rating(api: Any, market: Marketplace) -> None:
    liked = market.order_in_state("delivered", seller_id=SELLER)
    disliked = market.order_in_state("delivered", seller_id=SELLER)
    unrated = market.product(SELLER)
    ok(_write(api, liked, rating=5), 201)
    ok(_write(api, disliked, rating=2), 201)

    def browsed(query: str) -> list[str]:
        return [p["product_id"] for p in ok(call(api, "GET", f"/v1/products?seller_id={SELLER}{query}"))["items"]]

    assert set(browsed("")) == {liked["products"][SELLER], disliked["products"][SELLER], unrated}
    assert browsed("&min_rating=4") == [liked["products"][SELLER]]
    assert browsed("&min_rating=2") == [disliked["products"][SELLER], liked["products"][SELLER]]
    assert call(api, "GET", "/v1/products?min_rating=6")[0] == 422
    by_rating = [liked["products"][SELLER], disliked["products"][SELLER], unrated]
    assert browsed("&sort=rating") == by_rating
    assert browsed("&sort=rating&min_rating=3") == by_rating[:1]
    walked, cursor = [], ""
    for _ in range(3):
        page = ok(call(api, "GET", f"/v1/products?seller_id={SELLER}&sort=rating&limit=1{cursor}"))
        walked += [p["product_id"] for p in page["items"]]
        cursor = f"&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert (walked, cursor) == (by_rating, "")


def test_sort_by_rating_orders_the_whole_listing_and_its_items_carry_the_rating(
        api: Any, market: Marketplace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The best-rated products are the oldest and each Query reads two entries: a sort of the
    newest entries read would miss them."""
    from chalicelib.catalog import browse

    best, good = (market.order_in_state("delivered", seller_id=SELLER) for _ in range(2))
    best_id, good_id = best["products"][SELLER], good["products"][SELLER]
    unrated = [market.product(SELLER) for _ in range(3)]
    best_review = ok(_write(api, best, rating=5), 201)
    ok(_write(api, good, rating=3), 201)
    monkeypatch.setattr(browse, "QUERY_PAGE", 2)
    monkeypatch.setattr(browse, "MAX_QUERY_PAGES", 1)

    def walked(query: str = "") -> list[tuple[str, dict[str, Any]]]:
        items, cursor = [], ""
        while True:
            page = ok(call(api, "GET", f"/v1/products?sort=rating&limit=2{query}{cursor}"))
            items += [(p["product_id"], p["rating"]) for p in page["items"]]
            if not page["next_cursor"]:
                return items
            cursor = f"&cursor={page['next_cursor']}"

    none = {"count": 0, "average": None}
    assert walked() == [(best_id, {"count": 1, "average": 5.0}), (good_id, {"count": 1, "average": 3.0}),
                        *((product_id, none) for product_id in unrated)]
    assert walked("&min_rating=3.5") == [(best_id, {"count": 1, "average": 5.0})]
    newest = ok(call(api, "GET", f"/v1/products?seller_id={SELLER}&limit=5"))["items"]
    assert {p["product_id"]: p["rating"]["average"] for p in newest}[best_id] == 5.0

    # a product change rewrites its entries with the rating; hiding the review takes it away
    ok(call(api, "PATCH", f"/v1/seller/products/{best_id}", {"price": {"amount": 2_500, "currency": "EUR"}},
            headers=seller_headers(SELLER)))
    assert walked()[0] == (best_id, {"count": 1, "average": 5.0})
    ok(call(api, "POST", f"/v1/admin/reviews/{best_review['review_id']}/hide", {"reason": "Beleidigend"},
            headers=operator_headers()))
    assert [product_id for product_id, _ in walked()] == [good_id, *sorted([best_id, *unrated])]


def test_a_seller_reviews_counted_rating_is_told_on_every_change(api: Any, market: Marketplace) -> None:
    """Seller performance keeps its average from these events: each says what stopped and what
    started counting, on the review's publication day; a change of text alone says nothing."""
    placed = market.order_in_state("delivered", seller_id=SELLER)
    body = {"order_id": placed["order"]["order_id"], "seller_id": SELLER, "overall": 4, "delivery": 5,
            "communication": 3, "language": "de"}
    review = ok(call(api, "POST", "/v1/me/seller-reviews", body, headers=placed["buyer"]), 201)
    path = f"/v1/me/reviews/{review['review_id']}"
    ok(call(api, "PATCH", path, {"rating": 2}, headers=placed["buyer"]))
    ok(call(api, "PATCH", path, {"text": "Doch ganz gut."}, headers=placed["buyer"]))
    ok(call(api, "POST", f"/v1/admin/reviews/{review['review_id']}/hide", {"reason": "Beleidigend"},
            headers=operator_headers()))
    unhidden = ok(call(api, "POST", f"/v1/admin/reviews/{review['review_id']}/unhide", headers=operator_headers()))
    assert call(api, "DELETE", path, headers=placed["buyer"])[0] == 204

    day, again = review["published_at"][:10], unhidden["published_at"][:10]
    told = [(e["before"], e["before_day"], e["after"], e["after_day"])
            for e in outbox("review.seller_rating_counted")]
    assert sorted(told, key=str) == sorted([(None, None, 4, day), (4, day, 2, day), (2, day, None, None),
                                            (None, None, 2, again), (2, again, None, None)], key=str)


def test_a_buyer_reviews_the_seller_of_a_delivered_order_once(api: Any, market: Marketplace) -> None:
    placed = market.order_in_state("delivered", seller_id=SELLER)
    shipped = market.order_in_state("shipped", seller_id=SELLER)
    body = {"order_id": placed["order"]["order_id"], "seller_id": SELLER, "overall": 4, "delivery": 5,
            "communication": 3, "text": "Schnell da, Rückfrage dauerte.", "language": "de"}

    written = ok(call(api, "POST", "/v1/me/seller-reviews", body, headers=placed["buyer"]), 201)
    again = call(api, "POST", "/v1/me/seller-reviews", body, headers=placed["buyer"])
    not_yet = call(api, "POST", "/v1/me/seller-reviews", {**body, "order_id": shipped["order"]["order_id"]},
                   headers=shipped["buyer"])
    others = call(api, "POST", "/v1/me/seller-reviews", body, headers=shipped["buyer"])

    assert (written["kind"], written["rating"], written["delivery"], written["communication"]) == ("seller", 4, 5, 3)
    assert written["product_id"] is None
    assert (again[0], again[1]["error"]["code"]) == (409, "already_reviewed")
    assert (not_yet[0], not_yet[1]["error"]["code"]) == (409, "not_delivered_yet")
    assert (others[0], others[1]["error"]["code"]) == (404, "order_not_found")
    storefront = ok(call(api, "GET", f"/v1/sellers/{SELLER}"))
    assert storefront["seller_rating"] == {"count": 1, "average": 4.0, "delivery": 5.0, "communication": 3.0,
                                           "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}
    assert storefront["rating"]["count"] == 0  # product reviews are counted apart
    listed = ok(call(api, "GET", f"/v1/sellers/{SELLER}/reviews"))["items"]
    assert [r["review_id"] for r in listed] == [written["review_id"]]
    [event] = outbox("review.published")
    assert (event["kind"], event["seller_id"], event["rating"]) == ("seller", SELLER, 4)

    path = f"/v1/me/reviews/{written['review_id']}"
    ok(call(api, "PATCH", path, {"delivery": 1, "rating": 2}, headers=placed["buyer"]))
    storefront = ok(call(api, "GET", f"/v1/sellers/{SELLER}"))
    assert (storefront["seller_rating"]["average"], storefront["seller_rating"]["delivery"]) == (2.0, 1.0)
    assert call(api, "DELETE", path, headers=placed["buyer"])[0] == 204
    assert ok(call(api, "GET", f"/v1/sellers/{SELLER}"))["seller_rating"]["count"] == 0


def test_the_buyers_reviews_are_in_the_export_and_lose_the_name_on_erasure(api: Any, market: Marketplace) -> None:
    placed = market.order_in_state("delivered", seller_id=SELLER)
    review = ok(_write(api, placed, images=["https://img.example.com/a.jpg"]), 201)

    export = ok(call(api, "GET", "/v1/me/export", headers=placed["buyer"]))
    assert [(r["review_id"], r["author_name"]) for r in export["reviews"]] == [(review["review_id"], "Anna K.")]

    assert call(api, "DELETE", "/v1/me", headers=placed["buyer"])[0] in (200, 204)
    market.events()

    [listed] = ok(call(api, "GET", f"/v1/products/{placed['products'][SELLER]}/reviews"))["items"]
    assert (listed["review_id"], listed["author_name"], listed["images"]) == (review["review_id"], "", [])
    assert listed["text"] == review["text"]
    assert _rating(api, placed["products"][SELLER])["count"] == 1
