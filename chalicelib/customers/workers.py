"""SQS entry points of the customer domain (bound in app.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.sqs import process_batch


def import_customer_chunks(event: Any) -> int:
    """customer-imports queue: one message per chunk of a large CSV import."""
    from chalicelib.customers.imports import import_chunk

    return process_batch(event, import_chunk)
