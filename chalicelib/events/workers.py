"""Lambda entry points of the event pipeline (bound in app.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.sqs import process_batch
from chalicelib.events import service


def relay_table_stream(event: Any) -> int:
    """Table stream -> events queue. Raising makes Lambda retry the whole batch; the
    consumers deduplicate on event id, so a retried relay sends nothing twice in effect."""
    return service.relay(record.to_dict() for record in event)


def handle_events(event: Any) -> int:
    return process_batch(event, service.dispatch)
