"""A product names the shipping profile it ships with, or none (the seller's default)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.auth import seller_headers
from tests.support.builders import product_body, put_seller
from tests.support.events import outbox
from tests.support.http import call, ok

PROFILES = "/v1/seller/shipping-profiles"
ZONES = [{"countries": ["DE"], "standard": {"amount": 490, "currency": "EUR"}}]


def new_profile(api: Any, headers: dict[str, str], name: str = "Parcel") -> str:
    return str(ok(call(api, "POST", PROFILES, {"name": name, "zones": ZONES}, headers=headers), 201)["profile_id"])


def test_a_product_without_a_profile_ships_with_the_default(api: Any, create: Any) -> None:
    assert create()["shipping_profile_id"] is None


def test_a_product_names_one_of_the_sellers_profiles(api: Any, headers: dict[str, str]) -> None:
    new_profile(api, headers)
    bulky = new_profile(api, headers, "Bulky")

    created = ok(call(api, "POST", "/v1/seller/products", product_body(shipping_profile_id=bulky), headers=headers),
                 201)

    assert created["shipping_profile_id"] == bulky
    assert ok(call(api, "GET", f"/v1/seller/products/{created['product_id']}", headers=headers)) == created


def test_default_may_be_named_once_it_exists(api: Any, headers: dict[str, str]) -> None:
    status, body, _ = call(api, "POST", "/v1/seller/products", product_body(shipping_profile_id="default"),
                           headers=headers)
    assert (status, body["error"]["code"]) == (422, "unknown_shipping_profile")

    new_profile(api, headers)
    created = ok(call(api, "POST", "/v1/seller/products", product_body(shipping_profile_id="default"),
                      headers=headers), 201)
    assert created["shipping_profile_id"] == "default"


@pytest.mark.parametrize("profile_id", ["shp_01M8B0000000000000000000ZZ", "nonsense", "default"])
def test_a_profile_the_seller_lacks_is_refused_and_nothing_is_created(api: Any, headers: dict[str, str],
                                                                      profile_id: str) -> None:
    status, body, _ = call(api, "POST", "/v1/seller/products", product_body(shipping_profile_id=profile_id),
                           headers=headers)

    assert (status, body["error"]["code"]) == (422, "unknown_shipping_profile")
    assert body["error"]["details"][0]["field"] == "body.shipping_profile_id"
    assert ok(call(api, "GET", "/v1/seller/products", headers=headers))["items"] == []


def test_another_sellers_profile_cannot_be_named(api: Any, headers: dict[str, str]) -> None:
    put_seller("sel_b")
    other = seller_headers("sel_b")
    new_profile(api, other)
    theirs = new_profile(api, other, "Theirs")

    status, body, _ = call(api, "POST", "/v1/seller/products", product_body(shipping_profile_id=theirs),
                           headers=headers)

    assert (status, body["error"]["code"]) == (422, "unknown_shipping_profile")


def test_a_malformed_profile_id_is_a_field_error(api: Any, headers: dict[str, str]) -> None:
    status, body, _ = call(api, "POST", "/v1/seller/products", product_body(shipping_profile_id="no such/id"),
                           headers=headers)

    assert (status, body["error"]["code"]) == (422, "validation_failed")
    assert [d["field"] for d in body["error"]["details"]] == ["body.shipping_profile_id"]


def test_a_patch_names_a_profile_and_null_goes_back_to_the_default(api: Any, aws: dict[str, str],
                                                                   headers: dict[str, str], create: Any) -> None:
    new_profile(api, headers)
    bulky = new_profile(api, headers, "Bulky")
    product = create()
    path = f"/v1/seller/products/{product['product_id']}"

    named = ok(call(api, "PATCH", path, {"shipping_profile_id": bulky}, headers=headers))
    cleared = ok(call(api, "PATCH", path, {"shipping_profile_id": None}, headers=headers))

    assert (named["shipping_profile_id"], named["version"]) == (bulky, 2)
    assert (cleared["shipping_profile_id"], cleared["version"]) == (None, 3)
    assert [e["changed"] for e in outbox("catalog.product_updated")] == [["shipping_profile_id"]] * 2
    status, body, _ = call(api, "PATCH", path, {"shipping_profile_id": "shp_01M8B0000000000000000000ZZ"},
                           headers=headers)
    assert (status, body["error"]["code"]) == (422, "unknown_shipping_profile")
    assert ok(call(api, "GET", path, headers=headers))["version"] == 3


def test_deleting_a_profile_leaves_its_products_as_they_are(api: Any, headers: dict[str, str]) -> None:
    new_profile(api, headers)
    bulky = new_profile(api, headers, "Bulky")
    product = ok(call(api, "POST", "/v1/seller/products", product_body(shipping_profile_id=bulky), headers=headers),
                 201)
    path = f"/v1/seller/products/{product['product_id']}"

    assert call(api, "DELETE", f"{PROFILES}/{bulky}", headers=headers)[0] == 204

    # it ships with the default now (the quote engine's rule); other changes still go through
    changed = ok(call(api, "PATCH", path, {"title": "Still here"}, headers=headers))
    assert (changed["title"], changed["shipping_profile_id"]) == ("Still here", bulky)


def test_a_bulk_row_naming_an_unknown_profile_fails_alone(api: Any, headers: dict[str, str]) -> None:
    default = new_profile(api, headers)
    rows = [product_body(sku="OK-1", shipping_profile_id=default),
            product_body(sku="BAD-1", shipping_profile_id="shp_01M8B0000000000000000000ZZ")]

    result = ok(call(api, "POST", "/v1/seller/products/bulk", {"rows": rows}, headers=headers))

    assert [(r["sku"], r["status"]) for r in result["results"]] == [("OK-1", "created"), ("BAD-1", "error")]
    assert result["results"][1]["error"]["code"] == "unknown_shipping_profile"
