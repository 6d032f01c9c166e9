"""A seller's storefront counts the products buyers can find now."""

from __future__ import annotations

from typing import Any

from chalicelib.core.ids import new_id
from tests.support.builders import put_seller
from tests.support.http import call


def test_storefront_counts_only_products_on_sale(api: Any, create: Any) -> None:
    seller_id = new_id("sel")
    put_seller(seller_id)
    create(seller_id=seller_id)
    create(seller_id=seller_id)
    create(seller_id=seller_id, status="draft")

    status, body, _ = call(api, "GET", f"/v1/sellers/{seller_id}")

    assert status == 200
    assert body["product_count"] == 2


def test_a_seller_without_charges_shows_no_products(api: Any, create: Any) -> None:
    seller_id = new_id("sel")
    put_seller(seller_id)
    create(seller_id=seller_id)
    put_seller(seller_id, charges_enabled=False)

    status, body, _ = call(api, "GET", f"/v1/sellers/{seller_id}")

    assert (status, body["product_count"]) == (200, 0)
