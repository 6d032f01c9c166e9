"""Catalog fixtures: sellers in any standing, their tokens, products made through the API."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.accounts.conftest import buyer, other_buyer  # noqa: F401 - buyers' fixtures, for the wishlist
from tests.unit.conftest import call

_serial = itertools.count(1)


def put_seller(seller_id: str, *, status: str = "approved", charges_enabled: bool = True,
               display_name: str | None = None) -> None:
    """A seller item as the sellers domain stores it (its routes are built elsewhere)."""
    from chalicelib.core.keys import seller_key
    from chalicelib.sellers.models import Seller

    Seller(PK=seller_key(seller_id), SK="PROFILE", seller_id=seller_id, status=status,
           business_name=f"{seller_id} GmbH", display_name=display_name or f"Shop {seller_id}",
           contact_email=f"{seller_id}@example.com", country="DE", default_currency="EUR",
           charges_enabled=charges_enabled, created_at="2026-11-01T00:00:00+00:00",
           approved_at="2026-11-02T00:00:00+00:00" if status == "approved" else None).save()


def seller_headers(seller_id: str) -> dict[str, str]:
    from chalicelib.core.auth import issue_access_token

    token, _ = issue_access_token(user_id=f"usr_{seller_id}", roles={"seller"}, seller_id=seller_id)
    return {"Authorization": f"Bearer {token}"}


def operator_headers() -> dict[str, str]:
    from chalicelib.core.auth import issue_access_token

    token, _ = issue_access_token(user_id="usr_operator", roles={"operator"})
    return {"Authorization": f"Bearer {token}"}


def product_body(**overrides: Any) -> dict[str, Any]:
    """A product create; ``price=`` (an int) and ``currency=`` fill the money object."""
    currency = overrides.pop("currency", "EUR")
    if isinstance(overrides.get("price"), int):
        overrides["price"] = {"amount": overrides["price"], "currency": currency}
    body = {
        "sku": f"SKU-{next(_serial)}", "title": "Trail running shoe", "description": "Grippy and light.",
        "category": "fashion/shoes", "brand": "Salomon", "attributes": {"colour": "blue", "size": "42"},
        "images": ["https://img.example.com/shoe.jpg"], "price": {"amount": 12_999, "currency": currency},
        "stock": 5, "status": "active",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.fixture
def seller() -> str:
    """An approved seller with Stripe charges enabled."""
    put_seller("sel_a")
    return "sel_a"


@pytest.fixture
def headers(seller: str) -> dict[str, str]:
    return seller_headers(seller)


@pytest.fixture
def create(api: Any, seller: str) -> Callable[..., dict[str, Any]]:
    """Create a product through the API as ``seller_id`` (default sel_a) and return it."""

    def make(seller_id: str = "sel_a", **overrides: Any) -> dict[str, Any]:
        status, body, _ = call(api, "POST", "/v1/seller/products", product_body(**overrides),
                               headers=seller_headers(seller_id))
        assert status == 201, body
        return body

    return make


@pytest.fixture
def dynamodb_operations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the DynamoDB API calls made while the test runs (Query, Scan, ...)."""
    from botocore.client import BaseClient

    seen: list[str] = []
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            seen.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return seen
