"""Customer tests' fixtures: approved sellers A and B, calls to the seller's CRM routes, the
imports bucket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.auth import seller_headers
from tests.support.builders import put_seller
from tests.support.customers import SELLER_A, SELLER_B
from tests.support.http import call


@pytest.fixture(autouse=True)
def approved_sellers(aws: dict[str, str]) -> None:
    """Sellers A and B exist and are approved: only an approved seller has the customers scopes."""
    put_seller(SELLER_A, display_name="Kaffeerösterei Anders")
    put_seller(SELLER_B, display_name="Teehaus Berg")


@pytest.fixture
def imports_bucket(aws: dict[str, str]) -> str:
    """The private bucket large import files are uploaded to (created from infra/template.yaml)."""
    return aws["ImportsBucketName"]


@pytest.fixture
def seller(api: Any) -> Callable[..., tuple[int, Any, dict[str, str]]]:
    """``seller(method, path, body=None, *, as_seller=SELLER_A, raw=None, content_type=None)``."""

    def request(method: str, path: str, body: Any = None, *, as_seller: str = SELLER_A, raw: bytes | None = None,
                content_type: str | None = None) -> tuple[int, Any, dict[str, str]]:
        headers = seller_headers(as_seller)
        if content_type:
            headers["Content-Type"] = content_type
        return call(api, method, path, body, headers=headers, raw=raw)

    return request


@pytest.fixture
def upload(seller: Callable[..., Any]) -> Callable[..., tuple[int, Any, dict[str, str]]]:
    """``upload(csv_text_or_bytes, as_seller=SELLER_A, query="")``: POST the file to the import route."""

    def send(content: str | bytes, *, as_seller: str = SELLER_A, content_type: str = "text/csv",
             query: str = "") -> tuple[int, Any, dict[str, str]]:
        raw = content.encode() if isinstance(content, str) else content
        return seller("POST", f"/v1/seller/customers/import{query}", as_seller=as_seller, raw=raw,
                      content_type=content_type)

    return send
