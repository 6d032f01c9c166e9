"""The category tree counts the products buyers can find in each category."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.catalog import counts
from chalicelib.core.ids import new_id
from chalicelib.sellers.service import on_stripe_account_updated
from tests.support.auth import operator_headers, seller_headers
from tests.support.builders import put_seller
from tests.support.http import call


@pytest.fixture
def fresh_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count on every request (the 30 s cache has its own test)."""
    monkeypatch.setattr(counts._cached, "seconds", 0)


def _counts(api: Any) -> dict[str, int]:
    status, tree, _ = call(api, "GET", "/v1/categories")
    assert status == 200, tree
    found = {}
    for department in tree["departments"]:
        found[department["slug"]] = department["product_count"]
        found.update({c["slug"]: c["product_count"] for c in department["categories"]})
    return {slug: n for slug, n in found.items() if n}


@pytest.fixture
def two_sellers(api: Any, create: Callable[..., dict[str, Any]]) -> tuple[str, str]:
    """Seller A: two shoes and a sweater on sale, plus a draft, an archived and a hidden shoe.
    Seller B: a shoe and a speaker on sale."""
    a, b = new_id("sel"), new_id("sel")
    put_seller(a)
    put_seller(b)
    create(a)
    create(a)
    create(a, category="fashion/clothing", title="Wool sweater")
    create(a, status="draft")
    archived = create(a)
    call(api, "DELETE", f"/v1/seller/products/{archived['product_id']}", headers=seller_headers(a))
    hidden = create(a)
    call(api, "POST", f"/v1/admin/products/{hidden['product_id']}/hide", {"reason": "Fake"},
         headers=operator_headers())
    create(b)
    create(b, category="electronics/audio", title="Speaker")
    return a, b


BOTH = {"fashion": 4, "fashion/shoes": 3, "fashion/clothing": 1, "electronics": 1, "electronics/audio": 1}
ONLY_A = {"fashion": 3, "fashion/shoes": 2, "fashion/clothing": 1}


def test_categories_count_only_products_on_sale(api: Any, two_sellers: tuple[str, str], fresh_counts: None) -> None:
    assert _counts(api) == BOTH


def test_a_suspended_sellers_products_leave_the_counts_until_reinstated(
        api: Any, two_sellers: tuple[str, str], fresh_counts: None) -> None:
    _, b = two_sellers

    call(api, "POST", f"/v1/admin/sellers/{b}/suspend", {"reason": "Checks"}, headers=operator_headers())
    suspended = _counts(api)
    call(api, "POST", f"/v1/admin/sellers/{b}/reinstate", headers=operator_headers())

    assert suspended == ONLY_A
    assert _counts(api) == BOTH


def test_a_seller_whose_stripe_charges_lapse_leaves_the_counts(
        api: Any, two_sellers: tuple[str, str], fresh_counts: None) -> None:
    from chalicelib.core.keys import seller_key
    from chalicelib.sellers.models import Seller

    _, b = two_sellers
    Seller.get(seller_key(b), "PROFILE").update(actions=[Seller.stripe_account_id.set("acct_b")])
    event = {"id": "evt_lapse", "type": "account.updated", "created": int(time.time()), "account": "acct_b",
             "data": {"object": {"id": "acct_b", "charges_enabled": False, "payouts_enabled": False,
                                 "metadata": {"seller_id": b},
                                 "requirements": {"currently_due": ["external_account"]}}}}

    on_stripe_account_updated(event)

    assert _counts(api) == ONLY_A


def test_counts_follow_listing_changes(api: Any, create: Callable[..., dict[str, Any]], fresh_counts: None) -> None:
    seller = new_id("sel")
    put_seller(seller)
    product = create(seller)

    call(api, "PATCH", f"/v1/seller/products/{product['product_id']}", {"category": "sports/outdoor"},
         headers=seller_headers(seller))

    assert _counts(api) == {"sports": 1, "sports/outdoor": 1}


def test_counts_are_read_at_most_every_30_seconds_per_container(
        api: Any, two_sellers: tuple[str, str], create: Callable[..., dict[str, Any]],
        dynamodb_operations: list[str]) -> None:
    first = _counts(api)
    queries = dynamodb_operations.count("Query")
    create(two_sellers[1])

    assert _counts(api) == first
    assert dynamodb_operations.count("Query") == queries
    assert queries == len(counts.LEAVES) + 1  # a COUNT per leaf, the sellers who cannot sell
    assert "Scan" not in dynamodb_operations
