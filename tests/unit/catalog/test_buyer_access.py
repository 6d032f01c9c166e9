"""Members-only marketplaces: anonymous buyers are turned away from browse, signed-in callers are not."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.ids import new_id
from tests.support.auth import buyer_headers, operator_headers, seller_headers
from tests.support.builders import put_seller
from tests.support.http import call

BUYER_FACING = ["/v1/products", "/v1/products/{product_id}", "/v1/categories", "/v1/sellers/{seller_id}"]


@pytest.fixture
def product(create: Any) -> dict[str, Any]:
    """A listed product of an approved seller."""
    seller_id = new_id("sel")
    put_seller(seller_id)
    return create(seller_id)


def _buyer() -> dict[str, str]:
    return buyer_headers("usr_buyer")


def _set_buyer_access(api: Any, buyer_access: str) -> None:
    status, body, _ = call(api, "PUT", "/v1/admin/settings", {"seller_access": "open", "buyer_access": buyer_access},
                           headers=operator_headers())
    assert status == 200, body


def _statuses(api: Any, product: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, int]:
    return {path: call(api, "GET", path.format(**product), headers=headers)[0] for path in BUYER_FACING}


def test_an_open_marketplace_lets_anyone_browse(api: Any, product: dict[str, Any]) -> None:

    assert _statuses(api, product) == dict.fromkeys(BUYER_FACING, 200)


def test_a_members_only_marketplace_turns_anonymous_buyers_away(api: Any, product: dict[str, Any]) -> None:
    _set_buyer_access(api, "members_only")

    answers = {path: call(api, "GET", path.format(**product)) for path in BUYER_FACING}

    assert {path: (status, body["error"]["code"]) for path, (status, body, _) in answers.items()} == dict.fromkeys(
        BUYER_FACING, (401, "members_only"))
    _, body, headers = answers["/v1/products"]
    assert body["error"]["message"] == "This marketplace is open to members only: sign in to browse."
    assert headers["WWW-Authenticate"] == 'Bearer error="members_only"'


@pytest.mark.parametrize("who", ["buyer", "seller", "operator"])
def test_signed_in_callers_browse_a_members_only_marketplace(api: Any, product: dict[str, Any], who: str) -> None:
    _set_buyer_access(api, "members_only")
    headers = {"buyer": _buyer(), "seller": seller_headers("sel_b"), "operator": operator_headers()}[who]

    assert _statuses(api, product, headers) == dict.fromkeys(BUYER_FACING, 200)
    _, page, _ = call(api, "GET", "/v1/products", headers=headers)
    assert [p["product_id"] for p in page["items"]] == [product["product_id"]]


def test_a_bad_token_is_not_a_membership(api: Any) -> None:
    _set_buyer_access(api, "members_only")

    status, body, _ = call(api, "GET", "/v1/products", headers={"Authorization": "Bearer not-a-token"})

    assert (status, body["error"]["code"]) == (401, "invalid_token")


def test_reopening_lets_anonymous_buyers_back_in(api: Any, product: dict[str, Any]) -> None:
    _set_buyer_access(api, "members_only")

    _set_buyer_access(api, "open")

    assert _statuses(api, product) == dict.fromkeys(BUYER_FACING, 200)


def test_sign_in_and_registration_stay_open_to_anonymous_callers(api: Any) -> None:
    _set_buyer_access(api, "members_only")

    status, _, _ = call(api, "POST", "/v1/auth/register",
                        {"email": "ana@example.com", "password": "correct-horse-42", "name": "Ana"})

    assert status == 202


def test_each_container_reads_the_setting_at_most_every_30_seconds(
        api: Any, product: dict[str, Any], dynamodb_operations: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.sellers import marketplace
    from chalicelib.sellers.models import MarketplaceSettings

    # given this container has read the setting (open) ...
    call(api, "GET", "/v1/products")
    dynamodb_operations.clear()
    # ... and another container makes the marketplace members-only
    MarketplaceSettings("MARKETPLACE", "SETTINGS", seller_access="open", buyer_access="members_only").save()

    # then this container answers from memory until its copy is 30 s old
    assert [call(api, "GET", "/v1/products")[0] for _ in range(3)] == [200, 200, 200]
    assert "GetItem" not in dynamodb_operations
    monkeypatch.setattr(marketplace._buyer_access, "seconds", 0)
    assert call(api, "GET", "/v1/products")[0] == 401
