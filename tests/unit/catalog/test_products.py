"""Sellers manage their own products: create, read, change, archive, list."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.auth import seller_headers
from tests.support.builders import product_body, put_seller
from tests.support.events import outbox
from tests.support.http import call


def test_a_created_product_comes_back_as_sent_with_version_1(api: Any, headers: dict[str, str]) -> None:
    body = product_body(sku="SHOE-1")

    status, created, _ = call(api, "POST", "/v1/seller/products", body, headers=headers)

    assert status == 201
    assert created["product_id"].startswith("prd_")
    assert created["seller_id"] == "sel_a"
    assert created["sku"] == "SHOE-1"
    assert created["price"] == {"amount": 12_999, "currency": "EUR"}
    assert created["attributes"] == {"colour": "blue", "size": "42"}
    assert (created["status"], created["version"], created["stock"]) == ("active", 1, 5)
    assert created["moderation"] == {"hidden": False, "reason": None, "at": None}
    status, fetched, _ = call(api, "GET", f"/v1/seller/products/{created['product_id']}", headers=headers)
    assert status == 200
    assert fetched == created


def test_creating_records_a_product_created_event(api: Any, aws: dict[str, str], create: Any) -> None:
    product = create(sku="EVT-1")

    [event] = outbox("catalog.product_created")
    assert (event["product_id"], event["seller_id"], event["sku"]) == (product["product_id"], "sel_a", "EVT-1")


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("price", {"amount": -100, "currency": "EUR"}, "greater_than"),
    ("price", {"amount": 0, "currency": "EUR"}, "greater_than"),
    ("price", {"amount": "12.99", "currency": "EUR"}, "int_type"),
    ("price", {"amount": 12.5, "currency": "EUR"}, "int_type"),
    ("price", {"amount": 1299, "currency": "XXX"}, "value_error"),
    ("price", {"amount": 1299, "currency": "eur"}, "value_error"),
    ("price", {"amount": 1299}, "missing"),
    ("price", "1299", "model_type"),  # one money shape, in and out: no bare amounts
    ("category", "fashion", "value_error"),
    ("category", "weapons/swords", "value_error"),
    ("images", ["http://img.example.com/a.jpg"], "string_pattern_mismatch"),
    ("images", [f"https://img.example.com/{i}.jpg" for i in range(11)], "too_long"),
    ("attributes", {f"a{i}": "x" for i in range(31)}, "too_long"),
    ("attributes", {"colour": "x" * 201}, "string_too_long"),
    ("sku", "has space", "string_pattern_mismatch"),
    ("sku", "A#B", "string_pattern_mismatch"),
    ("stock", -1, "greater_than_equal"),
    ("title", "", "string_too_short"),
    ("description", "x" * 20_001, "string_too_long"),
    ("status", "archived", "literal_error"),
])
def test_invalid_fields_are_a_422_naming_the_field(api: Any, headers: dict[str, str], field: str, value: Any,
                                                   problem: str) -> None:
    status, body, _ = call(api, "POST", "/v1/seller/products", product_body(**{field: value}), headers=headers)

    assert status == 422
    assert body["error"]["code"] == "validation_failed"
    [detail] = body["error"]["details"]
    assert detail["field"].startswith(f"body.{field}")
    assert detail["type"] == problem


def test_a_10_mb_description_is_a_413_not_a_500(api: Any, headers: dict[str, str]) -> None:
    status, body, _ = call(api, "POST", "/v1/seller/products", product_body(description="x" * 10_000_000),
                           headers=headers)

    assert status == 413
    assert body["error"]["code"] == "payload_too_large"


def test_a_duplicate_sku_is_a_409_naming_the_product_that_has_it(api: Any, headers: dict[str, str],
                                                                   create: Any) -> None:
    first = create(sku="DUP-1")

    status, body, _ = call(api, "POST", "/v1/seller/products", product_body(sku="DUP-1"), headers=headers)

    assert status == 409
    assert body["error"]["code"] == "duplicate_sku"
    assert body["error"]["details"] == {"sku": "DUP-1", "product_id": first["product_id"]}


def test_two_sellers_may_use_the_same_sku(api: Any, create: Any) -> None:
    put_seller("sel_b")
    create(sku="SAME")
    assert create("sel_b", sku="SAME")["sku"] == "SAME"


def test_renaming_a_sku_frees_the_old_one_and_takes_the_new_one(api: Any, headers: dict[str, str],
                                                                create: Any) -> None:
    product = create(sku="OLD-1")

    status, renamed, _ = call(api, "PATCH", f"/v1/seller/products/{product['product_id']}", {"sku": "NEW-1"},
                              headers=headers)

    assert status == 200
    assert (renamed["sku"], renamed["version"]) == ("NEW-1", 2)
    assert create(sku="OLD-1")["sku"] == "OLD-1"
    status, body, _ = call(api, "POST", "/v1/seller/products", product_body(sku="NEW-1"), headers=headers)
    assert (status, body["error"]["code"]) == (409, "duplicate_sku")


def test_renaming_to_a_taken_sku_changes_nothing(api: Any, headers: dict[str, str], create: Any) -> None:
    create(sku="TAKEN")
    product = create(sku="MINE", price=500)

    status, body, _ = call(api, "PATCH", f"/v1/seller/products/{product['product_id']}",
                           {"sku": "TAKEN", "price": {"amount": 400, "currency": "EUR"}}, headers=headers)

    assert (status, body["error"]["code"]) == (409, "duplicate_sku")
    _, after, _ = call(api, "GET", f"/v1/seller/products/{product['product_id']}", headers=headers)
    assert (after["sku"], after["price"]["amount"], after["version"]) == ("MINE", 500, 1)
    assert create(sku="MINE-2")  # "MINE" was not released either
    status, _, _ = call(api, "POST", "/v1/seller/products", product_body(sku="MINE"), headers=headers)
    assert status == 409


def test_patch_changes_only_the_fields_sent_and_bumps_the_version(api: Any, headers: dict[str, str],
                                                                  create: Any) -> None:
    product = create(brand="Salomon")

    status, patched, _ = call(api, "PATCH", f"/v1/seller/products/{product['product_id']}",
                              {"title": "Road shoe", "brand": None}, headers=headers)

    assert status == 200
    assert (patched["title"], patched["brand"], patched["version"]) == ("Road shoe", None, 2)
    unchanged = {k: v for k, v in product.items() if k not in {"title", "brand", "version", "updated_at"}}
    assert {k: patched[k] for k in unchanged} == unchanged


def test_a_patch_that_changes_nothing_writes_nothing(api: Any, headers: dict[str, str], create: Any) -> None:
    product = create(title="Same")

    status, patched, _ = call(api, "PATCH", f"/v1/seller/products/{product['product_id']}", {"title": "Same"},
                              headers=headers)

    assert status == 200
    assert patched == product


@pytest.mark.parametrize(("patch", "field"), [({}, "body"), ({"title": None}, "body.title"),
                                              ({"price": None}, "body.price"), ({"seller_id": "sel_b"},
                                                                                "body.seller_id")])
def test_a_patch_without_changes_or_with_nulls_or_unknown_fields_is_a_422(api: Any, headers: dict[str, str],
                                                                          create: Any, patch: dict[str, Any],
                                                                          field: str) -> None:
    product = create()

    status, body, _ = call(api, "PATCH", f"/v1/seller/products/{product['product_id']}", patch, headers=headers)

    assert status == 422
    assert body["error"]["details"][0]["field"] == field


@pytest.mark.parametrize(("status_", "charges_enabled"), [("pending", True), ("suspended", True),
                                                          ("approved", False)])
def test_a_seller_who_cannot_sell_may_keep_drafts_but_not_activate(api: Any, create: Any, status_: str,
                                                                   charges_enabled: bool) -> None:
    put_seller("sel_new", status=status_, charges_enabled=charges_enabled)
    headers = seller_headers("sel_new")

    status, body, _ = call(api, "POST", "/v1/seller/products", product_body(status="active"), headers=headers)
    assert status == 409
    assert body["error"]["code"] == "seller_cannot_sell"
    assert body["error"]["details"] == {"seller_status": status_, "charges_enabled": charges_enabled}

    draft = create("sel_new", status="draft")
    status, body, _ = call(api, "PATCH", f"/v1/seller/products/{draft['product_id']}", {"status": "active"},
                           headers=headers)
    assert (status, body["error"]["code"]) == (409, "seller_cannot_sell")
    _, after, _ = call(api, "GET", f"/v1/seller/products/{draft['product_id']}", headers=headers)
    assert (after["status"], after["version"]) == ("draft", 1)


def test_deleting_a_draft_deletes_it_and_frees_its_sku(api: Any, headers: dict[str, str], create: Any) -> None:
    draft = create(sku="GONE", status="draft")

    status, body, _ = call(api, "DELETE", f"/v1/seller/products/{draft['product_id']}", headers=headers)

    assert status == 200
    assert body == {"product_id": draft["product_id"], "outcome": "deleted", "product": None}
    status, _, _ = call(api, "GET", f"/v1/seller/products/{draft['product_id']}", headers=headers)
    assert status == 404
    assert create(sku="GONE")["sku"] == "GONE"


def test_deleting_a_product_that_was_ever_active_archives_it(api: Any, headers: dict[str, str],
                                                              create: Any) -> None:
    product = create(sku="KEEP")
    call(api, "PATCH", f"/v1/seller/products/{product['product_id']}", {"status": "draft"}, headers=headers)

    status, body, _ = call(api, "DELETE", f"/v1/seller/products/{product['product_id']}", headers=headers)

    assert status == 200
    assert body["outcome"] == "archived"
    assert (body["product"]["status"], body["product"]["version"]) == ("archived", 3)
    status, again, _ = call(api, "DELETE", f"/v1/seller/products/{product['product_id']}", headers=headers)
    assert (status, again["outcome"], again["product"]["version"]) == (200, "archived", 3)
    _, browse, _ = call(api, "GET", "/v1/products")
    assert browse["items"] == []


def test_a_seller_lists_own_products_newest_first_by_status_and_page(api: Any, headers: dict[str, str],
                                                                    create: Any) -> None:
    put_seller("sel_b")
    create("sel_b")
    active = [create(sku=f"A{i}")["product_id"] for i in range(3)]
    drafts = [create(sku=f"D{i}", status="draft")["product_id"] for i in range(2)]

    seen, cursor = [], None
    while True:
        path = "/v1/seller/products?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page, _ = call(api, "GET", path, headers=headers)
        assert status == 200
        assert len(page["items"]) <= 2
        seen += [p["product_id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    _, only_drafts, _ = call(api, "GET", "/v1/seller/products?status=draft", headers=headers)

    assert seen == list(reversed(active + drafts))
    assert [p["product_id"] for p in only_drafts["items"]] == list(reversed(drafts))


def test_a_cursor_of_one_listing_is_refused_by_another(api: Any, headers: dict[str, str], create: Any) -> None:
    create(status="draft")
    create(status="draft")
    _, page, _ = call(api, "GET", "/v1/seller/products?limit=1", headers=headers)

    status, body, _ = call(api, "GET", f"/v1/seller/products?status=draft&cursor={page['next_cursor']}",
                           headers=headers)
    put_seller("sel_b")
    other, _, _ = call(api, "GET", f"/v1/seller/products?limit=1&cursor={page['next_cursor']}",
                       headers=seller_headers("sel_b"))

    assert (status, body["error"]["code"]) == (400, "invalid_cursor")
    assert other == 400


def test_price_drop_and_back_in_stock_are_recorded_for_listed_products(api: Any, aws: dict[str, str],
                                                                       headers: dict[str, str],
                                                                       create: Any) -> None:
    product = create(price=1000, stock=0)
    path = f"/v1/seller/products/{product['product_id']}"

    call(api, "PATCH", path, {"price": {"amount": 800, "currency": "EUR"}}, headers=headers)
    call(api, "PATCH", path, {"price": {"amount": 900, "currency": "EUR"}}, headers=headers)
    call(api, "PUT", f"{path}/stock", {"quantity": 4, "expected_quantity": 0}, headers=headers)

    [dropped] = outbox("catalog.product_price_dropped")
    assert (dropped["product_id"], dropped["old_price"], dropped["new_price"]) == (product["product_id"], 1000, 800)
    [restocked] = outbox("catalog.product_back_in_stock")
    assert (restocked["product_id"], restocked["stock"]) == (product["product_id"], 4)
    changes = sorted(tuple(e["changed"]) for e in outbox("catalog.product_updated"))
    assert changes == [("price",), ("price",), ("stock",)]


def test_drafts_raise_no_wishlist_events(api: Any, aws: dict[str, str], headers: dict[str, str],
                                         create: Any) -> None:
    draft = create(price=1000, stock=0, status="draft")
    path = f"/v1/seller/products/{draft['product_id']}"

    call(api, "PATCH", path, {"price": {"amount": 500, "currency": "EUR"}, "stock": 3}, headers=headers)

    assert outbox("catalog.product_price_dropped") == []
    assert outbox("catalog.product_back_in_stock") == []
