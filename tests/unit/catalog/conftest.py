"""Catalog fixtures: an approved seller, its token, products made through the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.auth import seller_headers
from tests.support.builders import create_product, put_seller


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
        return create_product(api, seller_id, **overrides)

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
