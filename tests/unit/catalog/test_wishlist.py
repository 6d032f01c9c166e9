"""The wishlist: products with today's price and stock, bounded, per buyer."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.catalog import wishlist
from tests.support.auth import seller_headers
from tests.support.builders import Buyer, seller_with_product
from tests.support.http import call


def _wish(api: Any, buyer: Buyer, product_id: str) -> tuple[int, Any, dict[str, str]]:
    return call(api, "PUT", f"/v1/me/wishlist/{product_id}", headers=buyer.headers)


def _wishes(api: Any, buyer: Buyer) -> list[dict[str, Any]]:
    status, body, _ = call(api, "GET", "/v1/me/wishlist", headers=buyer.headers)
    assert status == 200, body
    return body["items"]


def listed_product(api: Any, *, price: int = 4_999, stock: int = 3, title: str = "Wool socks") -> str:
    """A pair of socks of a wool shop, with only the fields a wish shows."""
    return seller_with_product(api, "sel_wool", price=price, stock=stock, title=title, category="fashion/clothing",
                               description=..., brand=..., attributes=..., images=...)["product_id"]


def _seller_changes(api: Any, product_id: str, change: dict[str, Any]) -> None:
    status, body, _ = call(api, "PATCH", f"/v1/seller/products/{product_id}", change,
                           headers=seller_headers("sel_wool"))
    assert status == 200, body


def test_a_wished_product_is_listed_with_its_current_price_and_stock(api: Any, buyer: Buyer) -> None:
    socks = listed_product(api, price=4_999, stock=3)
    status, body, _ = _wish(api, buyer, socks)
    assert status == 200, body

    _seller_changes(api, socks, {"price": {"amount": 3_999, "currency": "EUR"}, "stock": 0})

    [wish] = _wishes(api, buyer)
    assert wish == {"product_id": socks, "seller_id": "sel_wool", "added_at": wish["added_at"], "available": True,
                    "title": "Wool socks", "price": {"amount": 3_999, "currency": "EUR"}, "in_stock": False,
                    "stock": 0, "image": None}


def test_wishing_twice_keeps_one_entry(api: Any, buyer: Buyer) -> None:
    socks = listed_product(api)
    first = _wish(api, buyer, socks)
    again = _wish(api, buyer, socks)
    assert first[0] == again[0] == 200
    assert first[1]["added_at"] == again[1]["added_at"]
    assert len(_wishes(api, buyer)) == 1


def test_newest_wishes_come_first_and_removed_ones_go(api: Any, buyer: Buyer) -> None:
    socks, scarf, hat = (listed_product(api, title=t) for t in ("Wool socks", "Wool scarf", "Wool hat"))
    for product_id in (socks, scarf, hat):
        _wish(api, buyer, product_id)

    assert call(api, "DELETE", f"/v1/me/wishlist/{scarf}", headers=buyer.headers)[0] == 204

    assert [w["title"] for w in _wishes(api, buyer)] == ["Wool hat", "Wool socks"]


def test_a_product_taken_off_the_catalog_stays_on_the_list_as_unavailable(api: Any, buyer: Buyer) -> None:
    socks = listed_product(api)
    _wish(api, buyer, socks)

    _seller_changes(api, socks, {"status": "archived"})

    [wish] = _wishes(api, buyer)
    assert (wish["available"], wish["price"], wish["in_stock"]) == (False, None, False)


@pytest.mark.parametrize("product_id", ["prd_01JD0000000000000000000000", "nonsense"])
def test_unknown_products_cannot_be_wished(api: Any, buyer: Buyer, product_id: str) -> None:
    status, body, _ = _wish(api, buyer, product_id)
    assert (status, body["error"]["code"]) == (404, "product_not_found")


def test_removing_what_is_not_wished_is_a_404(api: Any, buyer: Buyer) -> None:
    status, body, _ = call(api, "DELETE", "/v1/me/wishlist/prd_01JD0000000000000000000000", headers=buyer.headers)
    assert (status, body["error"]["code"]) == (404, "wish_not_found")


def test_the_wishlist_is_bounded(api: Any, buyer: Buyer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wishlist, "MAX_WISHES", 1)
    _wish(api, buyer, listed_product(api))

    status, body, _ = _wish(api, buyer, listed_product(api, title="Wool hat"))

    assert (status, body["error"]["code"]) == (409, "wishlist_full")


def test_wishlists_are_per_buyer_and_findable_by_product(api: Any, buyer: Buyer, other_buyer: Buyer) -> None:
    from chalicelib.accounts.models import WishlistItem
    from chalicelib.core.keys import wishlisted_key

    socks = listed_product(api)
    _wish(api, other_buyer, socks)

    assert _wishes(api, buyer) == []
    assert call(api, "DELETE", f"/v1/me/wishlist/{socks}", headers=buyer.headers)[0] == 404
    assert [w.user_id for w in WishlistItem.by_product.query(wishlisted_key(socks))] == [other_buyer.user_id]
