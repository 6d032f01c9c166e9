"""A seller's customer records as its CRM routes list them, and the customer-imports queue
worked as Lambda works it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SELLER_A = "sel_A"
SELLER_B = "sel_B"


def customers_by_email(seller: Callable[..., Any], as_seller: str = SELLER_A) -> dict[str, dict[str, Any]]:
    """The seller's customers as its API lists them (up to 100), by email; ``seller`` is the
    customers tests' request fixture."""
    status, body, _ = seller("GET", "/v1/seller/customers?limit=100", as_seller=as_seller)
    assert status == 200, body
    return {c["email"]: c for c in body["items"]}


def _sqs() -> Any:
    import boto3

    return boto3.client("sqs")


def imports_queue_url() -> str:
    from chalicelib.core.settings import get_settings

    return _sqs().get_queue_url(QueueName=get_settings().imports_queue_name)["QueueUrl"]


def receive_chunks(count: int = 1) -> list[dict[str, Any]]:
    return _sqs().receive_message(QueueUrl=imports_queue_url(), MaxNumberOfMessages=count,
                                  AttributeNames=["All"]).get("Messages", [])


def deliver_chunks(messages: list[dict[str, Any]], *, delete: bool = True) -> None:
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
        deliver_chunks(messages)
        handled += 1
    return handled
