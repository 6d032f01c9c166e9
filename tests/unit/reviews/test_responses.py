"""What others do with a published review: the seller's reply, helpful votes and reports."""

from __future__ import annotations

from typing import Any

from tests.support.auth import operator_headers, seller_headers
from tests.support.builders import Marketplace
from tests.support.http import call, ok

SELLER, OTHER_SELLER = "sel_01M8A0000000000000000000AA", "sel_01M8B0000000000000000000BB"


def _reviewed(api: Any, market: Marketplace, product_id: str | None = None, rating: int = 4) -> dict[str, Any]:
    """A buyer's delivered order of the product (a new one without ``product_id``), reviewed."""
    if product_id is None:
        placed = market.order_in_state("delivered", seller_id=SELLER)
        buyer, order_id, product_id = placed["buyer"], placed["order"]["order_id"], placed["products"][SELLER]
    else:
        buyer = market.buyer()
        market.add(buyer, product_id)
        status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")
        assert status == 201, body
        market.pay(body)
        order_id = body["order"]["order_id"]
        market.deliver_order(SELLER, order_id)
    review = ok(call(api, "POST", "/v1/me/reviews", {
        "order_id": order_id, "product_id": product_id, "rating": rating, "title": "Gut",
        "text": "Wie beschrieben.", "language": "de"}, headers=buyer), 201)
    return {"buyer": buyer, "review": review, "product_id": product_id}


def test_the_seller_replies_once_and_may_change_it(api: Any, market: Marketplace) -> None:
    reviewed = _reviewed(api, market)
    market.seller(OTHER_SELLER)
    path = f"/v1/seller/reviews/{reviewed['review']['review_id']}/reply"

    first = ok(call(api, "PUT", path, {"text": "Danke für die Bewertung!"}, headers=seller_headers(SELLER)))
    changed = ok(call(api, "PUT", path, {"text": "Danke, bis bald!"}, headers=seller_headers(SELLER)))

    assert first["reply"]["text"] == "Danke für die Bewertung!"
    assert changed["reply"]["text"] == "Danke, bis bald!"
    assert changed["reply"]["replied_at"] == first["reply"]["replied_at"]
    [listed] = ok(call(api, "GET", f"/v1/products/{reviewed['product_id']}/reviews"))["items"]
    assert listed["reply"]["text"] == "Danke, bis bald!"
    other = call(api, "PUT", path, {"text": "Kauf lieber bei uns"}, headers=seller_headers(OTHER_SELLER))
    assert (other[0], other[1]["error"]["code"]) == (404, "review_not_found")
    linked = call(api, "PUT", path, {"text": "Mehr unter www.example.de"}, headers=seller_headers(SELLER))
    assert (linked[0], linked[1]["error"]["code"]) == (422, "review_contains_link")
    assert ok(call(api, "GET", "/v1/me/reviews", headers=reviewed["buyer"]))["items"][0]["reply"]["text"] == \
        "Danke, bis bald!"


def test_helpful_votes_count_once_per_buyer_and_sort_the_list(api: Any, market: Marketplace) -> None:
    first = _reviewed(api, market, rating=2)
    second = _reviewed(api, market, first["product_id"], rating=5)
    product_id = first["product_id"]
    voter = market.buyer()

    def order(sort: str) -> list[str]:
        page = ok(call(api, "GET", f"/v1/products/{product_id}/reviews?sort={sort}"))
        return [r["review_id"] for r in page["items"]]

    assert order("most_helpful") == [second["review"]["review_id"], first["review"]["review_id"]]  # ties: newest

    voted = ok(call(api, "POST", f"/v1/reviews/{first['review']['review_id']}/helpful", headers=voter))
    again = ok(call(api, "POST", f"/v1/reviews/{first['review']['review_id']}/helpful", headers=voter))
    by_the_other_buyer = ok(call(api, "POST", f"/v1/reviews/{first['review']['review_id']}/helpful",
                                 headers=second["buyer"]))
    own = call(api, "POST", f"/v1/reviews/{first['review']['review_id']}/helpful", headers=first["buyer"])

    assert (voted["helpful"], again["helpful"], by_the_other_buyer["helpful"]) == (1, 1, 2)
    assert (own[0], own[1]["error"]["code"]) == (403, "own_review_vote")
    assert order("most_helpful") == [first["review"]["review_id"], second["review"]["review_id"]]
    assert call(api, "POST", "/v1/reviews/rev_01M8B0000000000000000000BB/helpful", headers=voter)[0] == 404


def test_anyone_signed_in_reports_a_review_to_the_operators(api: Any, market: Marketplace) -> None:
    reviewed = _reviewed(api, market)
    path = f"/v1/reviews/{reviewed['review']['review_id']}/report"
    reporter = market.buyer()

    assert call(api, "POST", path, {"reason": "Werbung"}, headers=reporter)[0] == 204
    assert call(api, "POST", path, {"reason": "Werbung, nochmal"}, headers=reporter)[0] == 204
    assert call(api, "POST", path, {"reason": "Falsch"}, headers=seller_headers(SELLER))[0] == 204
    assert call(api, "POST", path, {"reason": "Werbung"})[0] == 401

    reports = ok(call(api, "GET", "/v1/admin/reviews/reports", headers=operator_headers()))["items"]
    assert [(r["reason"], r["review"]["review_id"]) for r in reports] == [
        ("Falsch", reviewed["review"]["review_id"]), ("Werbung", reviewed["review"]["review_id"])]
    assert call(api, "GET", "/v1/admin/reviews/reports", headers=reporter)[0] == 403
