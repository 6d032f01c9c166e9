"""Who may do what: tenant isolation, API-key scopes, and request paths that never Scan."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.auth import Principal
from tests.support.auth import buyer_headers, operator_headers, seller_headers
from tests.support.builders import product_body, put_seller
from tests.support.http import call

MISSING = "prd_01JD0000000000000000000000"

# Every seller route that names a product, with a valid body (so only the product decides).
PRODUCT_ROUTES = [
    ("GET", "/v1/seller/products/{id}", None),
    ("PATCH", "/v1/seller/products/{id}", {"title": "Taken over"}),
    ("DELETE", "/v1/seller/products/{id}", None),
    ("PUT", "/v1/seller/products/{id}/stock", {"quantity": 0, "expected_version": 1}),
]


@pytest.mark.parametrize(("method", "path", "body"), PRODUCT_ROUTES)
def test_another_sellers_product_is_indistinguishable_from_a_missing_one(api: Any, create: Any, method: str,
                                                                          path: str, body: Any) -> None:
    put_seller("sel_b")
    theirs = create("sel_b", status="draft")
    mine = seller_headers("sel_a")

    status, answer, _ = call(api, method, path.format(id=theirs["product_id"]), body, headers=mine)
    missing_status, missing, _ = call(api, method, path.format(id=MISSING), body, headers=mine)

    assert (status, missing_status) == (404, 404)
    assert answer == missing == {"error": {"code": "product_not_found", "message": "No such product.",
                                           "details": None}}
    _, still, _ = call(api, "GET", f"/v1/seller/products/{theirs['product_id']}", headers=seller_headers("sel_b"))
    assert still == theirs


def test_a_seller_never_lists_another_sellers_products(api: Any, create: Any) -> None:
    put_seller("sel_b")
    create("sel_b")
    mine = create("sel_a")

    _, page, _ = call(api, "GET", "/v1/seller/products", headers=seller_headers("sel_a"))

    assert [p["product_id"] for p in page["items"]] == [mine["product_id"]]


def test_a_seller_id_in_a_body_is_refused_not_obeyed(api: Any, headers: dict[str, str]) -> None:
    status, body, _ = call(api, "POST", "/v1/seller/products", product_body(seller_id="sel_b"), headers=headers)

    assert status == 422
    assert body["error"]["details"][0]["field"] == "body.seller_id"


def read_only_key(credential: str) -> Principal:
    """Stands in for the sellers' API-key resolver: a key that may only read products."""
    return Principal(kind="api_key", seller_id="sel_a", scopes=frozenset({"products:read"}), key_id="key_1")


@pytest.mark.parametrize(("method", "path", "body", "allowed"), [
    ("GET", "/v1/seller/products", None, True),
    ("GET", "/v1/seller/products/{id}", None, True),
    ("POST", "/v1/seller/products", product_body(), False),
    ("POST", "/v1/seller/products/bulk", {"rows": [product_body()]}, False),
    ("PATCH", "/v1/seller/products/{id}", {"title": "x"}, False),
    ("DELETE", "/v1/seller/products/{id}", None, False),
    ("PUT", "/v1/seller/products/{id}/stock", {"quantity": 1, "expected_version": 1}, False),
])
def test_an_api_key_needs_products_write_to_change_products(api: Any, create: Any,
                                                           monkeypatch: pytest.MonkeyPatch, method: str, path: str,
                                                           body: Any, allowed: bool) -> None:
    from dataclasses import replace

    from chalicelib.core import auth

    product = create()
    monkeypatch.setattr(auth, "_seller_hooks", [replace(auth.seller_hooks(), api_key_principal=read_only_key)])

    status, answer, _ = call(api, method, path.format(id=product["product_id"]), body,
                             headers={"Authorization": f"Bearer {auth.API_KEY_PREFIX}anything"})

    if allowed:
        assert status == 200
    else:
        assert status == 403
        assert answer["error"]["code"] == "missing_scope"
        assert answer["error"]["details"] == {"missing_scopes": ["products:write"]}


@pytest.mark.parametrize(("headers", "status", "code"), [
    (None, 401, "not_authenticated"),
    ("buyer", 403, "seller_required"),
    ("operator", 403, "seller_required"),
])
def test_seller_routes_need_a_seller(api: Any, headers: str | None, status: int, code: str) -> None:

    sent = {
        None: {},
        "buyer": buyer_headers("usr_b"),
        "operator": operator_headers(),
    }[headers]

    got, body, _ = call(api, "GET", "/v1/seller/products", headers=sent)

    assert (got, body["error"]["code"]) == (status, code)


def test_no_catalog_request_scans_the_table(api: Any, headers: dict[str, str], create: Any,
                                            dynamodb_operations: list[str]) -> None:
    product = create()
    draft = create(status="draft")
    path = f"/v1/seller/products/{product['product_id']}"
    requests = [
        ("GET", "/v1/seller/products", None, headers), ("GET", "/v1/seller/products?status=active", None, headers),
        ("GET", path, None, headers), ("PATCH", path, {"price": {"amount": 100, "currency": "EUR"}}, headers),
        ("PUT", f"{path}/stock", {"quantity": 0, "expected_version": 2}, headers),
        ("POST", "/v1/seller/products/bulk", {"rows": [product_body(sku="BULK-1")]}, headers),
        ("GET", "/v1/products", None, {}), ("GET", "/v1/products?q=trail&sort=price_desc", None, {}),
        ("GET", "/v1/products?category=fashion&brand=salomon&in_stock=true&min_price=50", None, {}),
        ("GET", f"/v1/products/{product['product_id']}", None, {}), ("GET", "/v1/categories", None, {}),
        ("POST", f"/v1/admin/products/{product['product_id']}/hide", {"reason": "x"}, operator_headers()),
        ("POST", f"/v1/admin/products/{product['product_id']}/unhide", None, operator_headers()),
        ("DELETE", f"/v1/seller/products/{draft['product_id']}", None, headers),
        ("DELETE", path, None, headers),
    ]

    for method, request_path, body, sent in requests:
        status, answer, _ = call(api, method, request_path, body, headers=sent)
        assert status == 200, (method, request_path, answer)

    assert "Scan" not in dynamodb_operations
    assert {"Query", "GetItem", "BatchGetItem", "TransactWriteItems"} <= set(dynamodb_operations)
