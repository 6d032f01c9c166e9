"""Tenant isolation of every seller route: seller A, by token or API key, never reaches seller B.

Another seller's key is "not found" exactly like a key that does not exist; the seller a
route acts on comes only from the credential, never from the path, query or body."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.auth import API_KEY_SCOPES
from tests.support.auth import bearer
from tests.support.builders import api_key, apply, own, signed_up_headers
from tests.support.http import call

MISSING_KEY = "key_01JD000000000000000000000Z"
ALL_SCOPES = tuple(sorted(API_KEY_SCOPES))


@pytest.fixture
def tenants(api: Any) -> dict[str, Any]:
    a, b = apply(api, email="a@nordwind.example"), apply(api, email="b@bohne.example", business_name="Bohne")
    return {
        "a": a, "b": b,
        "a_key": api_key(api, a, scopes=ALL_SCOPES), "b_key": api_key(api, b),
        "credentials": {"token": signed_up_headers(a), "api_key": bearer(api_key(api, a, scopes=ALL_SCOPES)["secret"])},
    }


@pytest.mark.parametrize(("credential", "expected"), [
    ("token", (404, {"error": {"code": "api_key_not_found", "message": "No such API key.", "details": None}})),
    ("api_key", (403, {"error": {"code": "user_required",
                                 "message": "API keys cannot do this; sign in as a user of the seller.",
                                 "details": None}})),
])
def test_revoking_another_sellers_key_looks_like_revoking_a_missing_one(api: Any, tenants: dict[str, Any],
                                                                        credential: str, expected: Any) -> None:
    headers = tenants["credentials"][credential]

    foreign = call(api, "DELETE", f"/v1/seller/api-keys/{tenants['b_key']['key_id']}", headers=headers)[:2]
    missing = call(api, "DELETE", f"/v1/seller/api-keys/{MISSING_KEY}", headers=headers)[:2]

    assert foreign == missing == expected
    assert own(api, bearer(tenants["b_key"]["secret"]))["seller_id"] == tenants["b"]["seller"]["seller_id"]


@pytest.mark.parametrize("credential", ["token", "api_key"])
@pytest.mark.parametrize("path", ["/v1/seller", "/v1/seller?seller_id={b}"])
def test_reading_the_profile_always_reads_the_callers_own(api: Any, tenants: dict[str, Any], credential: str,
                                                          path: str) -> None:
    b = tenants["b"]["seller"]["seller_id"]

    status, body, _ = call(api, "GET", path.format(b=b), headers={**tenants["credentials"][credential],
                                                                  "X-Seller-Id": b})

    assert (status, body["seller_id"]) == (200, tenants["a"]["seller"]["seller_id"])


@pytest.mark.parametrize(("credential", "refusal"), [("token", (422, "validation_failed")),
                                                    ("api_key", (403, "user_required"))])
def test_a_body_cannot_choose_the_seller(api: Any, tenants: dict[str, Any], credential: str,
                                        refusal: tuple[int, str]) -> None:
    b = tenants["b"]["seller"]["seller_id"]

    status, body, _ = call(api, "PATCH", "/v1/seller", {"seller_id": b, "display_name": "Taken over"},
                           headers=tenants["credentials"][credential])

    assert (status, body["error"]["code"]) == refusal
    assert own(api, signed_up_headers(tenants["b"]))["display_name"] == "Bohne"


def test_a_seller_lists_only_its_own_keys(api: Any, tenants: dict[str, Any]) -> None:
    _, body, _ = call(api, "GET", "/v1/seller/api-keys?seller_id=" + tenants["b"]["seller"]["seller_id"],
                      headers=tenants["credentials"]["token"])

    assert body["error"]["details"][0]["field"] == "query.seller_id"
    _, body, _ = call(api, "GET", "/v1/seller/api-keys", headers=tenants["credentials"]["token"])
    listed = {k["key_id"] for k in body["items"]}
    assert tenants["a_key"]["key_id"] in listed
    assert tenants["b_key"]["key_id"] not in listed


def test_a_key_made_by_a_is_as_by_a_whatever_the_body_says(api: Any, tenants: dict[str, Any]) -> None:
    status, body, _ = call(api, "POST", "/v1/seller/api-keys",
                           {"name": "x", "scopes": ["products:read"], "seller_id": tenants["b"]["seller"]["seller_id"]},
                           headers=tenants["credentials"]["token"])

    assert (status, body["error"]["details"][0]["field"]) == (422, "body.seller_id")


def test_a_listing_cursor_of_a_does_not_page_bs_keys(api: Any, tenants: dict[str, Any]) -> None:
    a_headers = tenants["credentials"]["token"]
    _, first, _ = call(api, "GET", "/v1/seller/api-keys?limit=1", headers=a_headers)

    status, body, _ = call(api, "GET", f"/v1/seller/api-keys?cursor={first['next_cursor']}",
                           headers=signed_up_headers(tenants["b"]))

    assert (status, body["error"]["code"]) == (400, "invalid_cursor")
