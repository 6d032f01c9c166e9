"""Lambda entry points of retention (bound in app.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.sqs import process_batch
from chalicelib.retention import service


def send_retention_emails(event: Any) -> int:
    return process_batch(event, service.deliver)
