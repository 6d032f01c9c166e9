"""Helpers of the customer tests: approved sellers, their credentials and calls to the
seller's CRM routes, the imports bucket and the customer-imports queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.catalog.conftest import put_seller
from tests.unit.conftest import call

SELLER_A = "sel_A"
SELLER_B = "sel_B"


@pytest.fixture(autouse=True)
def approved_sellers(aws: dict[str, str]) -> None:
    """Sellers A and B exist and are approved: only an approved seller has the customers scopes."""
    put_seller(SELLER_A, display_name="Kaffeerösterei Anders")
    put_seller(SELLER_B, display_name="Teehaus Berg")


@pytest.fixture
def imports_bucket(aws: dict[str, str]) -> str:
    """The private bucket large import files are uploaded to (created from infra/template.yaml)."""
    return aws["ImportsBucketName"]


def buyer(email: str, *, name: str = "", password: str | None = None, language: str | None = None) -> Any:
    """A buyer who signed up themselves: address proven, perhaps with a password."""
    from chalicelib.accounts.service import create_user, new_user

    user = new_user(email, name=name, password=password, email_verified=True)
    user.language = language
    return create_user(user, event_payload={"method": "password"})


def seller_headers(seller_id: str = SELLER_A) -> dict[str, str]:
    """What a signed-in seller user sends (an access token with the seller's id)."""
    from chalicelib.core.auth import issue_access_token

    token, _ = issue_access_token(user_id=f"usr_owner_{seller_id}", roles={"buyer", "seller"}, seller_id=seller_id)
    return {"Authorization": f"Bearer {token}"}


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


def customers_by_email(seller: Callable[..., Any], as_seller: str = SELLER_A) -> dict[str, dict[str, Any]]:
    """The seller's customers as its API lists them (up to 100), by email."""
    status, body, _ = seller("GET", "/v1/seller/customers?limit=100", as_seller=as_seller)
    assert status == 200, body
    return {c["email"]: c for c in body["items"]}


@pytest.fixture
def upload(seller: Callable[..., Any]) -> Callable[..., tuple[int, Any, dict[str, str]]]:
    """``upload(csv_text_or_bytes, as_seller=SELLER_A, query="")``: POST the file to the import route."""

    def send(content: str | bytes, *, as_seller: str = SELLER_A, content_type: str = "text/csv",
             query: str = "") -> tuple[int, Any, dict[str, str]]:
        raw = content.encode() if isinstance(content, str) else content
        return seller("POST", f"/v1/seller/customers/import{query}", as_seller=as_seller, raw=raw,
                      content_type=content_type)

    return send


# -- the customer-imports queue, worked as Lambda would ---------------------------------------------

def _sqs() -> Any:
    import boto3

    return boto3.client("sqs")


def imports_queue_url() -> str:
    from chalicelib.core.settings import get_settings

    return _sqs().get_queue_url(QueueName=get_settings().imports_queue_name)["QueueUrl"]


def receive_chunks(count: int = 1) -> list[dict[str, Any]]:
    return _sqs().receive_message(QueueUrl=imports_queue_url(), MaxNumberOfMessages=count,
                                  AttributeNames=["All"]).get("Messages", [])


def deliver(messages: list[dict[str, Any]], *, delete: bool = True) -> None:
    """What Lambda does: call app.py's handler with an SQS event; delete the batch if it returned."""
    import app
    from chalicelib.core.settings import get_settings
    from dev import lambda_events

    queue = get_settings().imports_queue_name
    app.customer_imports(lambda_events.sqs_event_from_messages(messages, queue),
                         lambda_events.context("customer_imports"))
    if delete:
        for message in messages:
            _sqs().delete_message(QueueUrl=imports_queue_url(), ReceiptHandle=message["ReceiptHandle"])


def drain() -> int:
    """Deliver chunk messages one by one until the queue is empty; how many were delivered."""
    handled = 0
    while messages := receive_chunks():
        deliver(messages)
        handled += 1
    return handled
