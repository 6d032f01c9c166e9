"""SQS entry points of the customer domain (bound in app.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.sqs import process_batch


def import_customer_chunks(event: Any) -> int:
    """customer-imports queue: a chunk of a queued CSV import, or an uploaded file to read."""
    from chalicelib.customers.imports import handle_message

    return process_batch(event, handle_message)
