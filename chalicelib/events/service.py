"""Recording, relaying and dispatching domain events."""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from chalicelib.core import once, sqs
from chalicelib.core.ids import new_id
from chalicelib.core.logging import logger
from chalicelib.core.settings import get_settings
from chalicelib.events.models import EVENT_PREFIX, OutboxEvent

OUTBOX_TTL_SECONDS = 7 * 24 * 3600

# Event type -> "module:function" of the domain functions that react to it. Strings,
# so that the events worker imports only the domains an event needs.
SUBSCRIBERS: dict[str, tuple[str, ...]] = {
    "system.pipeline_check": ("chalicelib.retention.service:on_pipeline_check",),
    # Sellers' customers: the first paid order makes a buyer a seller's customer; profile
    # changes refresh the sellers' copies (payloads documented in chalicelib/customers/service.py).
    "order.paid": ("chalicelib.customers.service:on_order_paid", "chalicelib.orders.payouts:on_order_paid"),
    # Refunds requested by a cancellation or an approved return are carried out here
    # (Stripe refund, transfer reversal, ledger); browse entries follow stock changes.
    "order.refund_requested": ("chalicelib.orders.refunds:on_refund_requested",),
    "catalog.stock_changed": ("chalicelib.catalog.stock:on_stock_changed",),
    "account.updated": ("chalicelib.customers.service:on_account_updated",),
    "account.erased": ("chalicelib.customers.service:on_account_updated",
                       "chalicelib.orders.privacy:on_account_erased"),
    "account.created": ("chalicelib.accounts.subscribers:on_account_created",),
    # Sellers' imports: each contact's person is invited (an invited account for a new address,
    # one mail naming the seller); accepting the invitation links the contact to the account.
    "customer.contact_imported": ("chalicelib.customers.invitations:on_contact_imported",),
    "account.invitation_accepted": ("chalicelib.customers.invitations:on_invitation_accepted",),
    # Opening the marketplace to sellers approves those waiting with charges enabled, in steps.
    "marketplace.settings_changed": ("chalicelib.sellers.service:on_settings_changed",),
    "sellers.approval_sweep": ("chalicelib.sellers.service:on_approval_sweep",),
}


def new_event(event_type: str, payload: dict[str, Any]) -> OutboxEvent:
    """An outbox item to save inside the caller's transaction."""
    event_id = new_id("evt")
    return OutboxEvent(
        PK=f"{EVENT_PREFIX}{event_id}", SK="EVENT", event_id=event_id, type=event_type,
        occurred_at=datetime.now(UTC).isoformat(), payload=payload,
        expires_at=int(time.time()) + OUTBOX_TTL_SECONDS,
    )


def record_event(event_type: str, payload: dict[str, Any]) -> str:
    """Record an event on its own, for changes that are a single write."""
    event = new_event(event_type, payload)
    event.save()
    return event.event_id


def _plain(attribute: dict[str, Any]) -> Any:
    """A DynamoDB-JSON attribute value as plain Python (enough for outbox items)."""
    (kind, value), = attribute.items()
    if kind == "S":
        return value
    if kind == "N":
        return int(value) if value.lstrip("-").isdigit() else value
    if kind == "M":
        return {k: _plain(v) for k, v in value.items()}
    if kind == "L":
        return [_plain(v) for v in value]
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    return value


def outbox_messages(stream_records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events queue messages for the outbox INSERTs among stream records."""
    import json

    messages = []
    for record in stream_records:
        if record.get("eventName") != "INSERT":
            continue
        image = record.get("dynamodb", {}).get("NewImage") or {}
        if not _plain(image.get("PK", {"S": ""})).startswith(EVENT_PREFIX):
            continue
        payload = _plain(image["payload"])
        messages.append({
            "event_id": _plain(image["event_id"]),
            "type": _plain(image["type"]),
            "occurred_at": _plain(image["occurred_at"]),
            "payload": json.loads(payload) if isinstance(payload, str) else payload,
        })
    return messages


def relay(stream_records: Iterable[dict[str, Any]]) -> int:
    messages = outbox_messages(stream_records)
    if messages:
        sqs.send_many(get_settings().events_queue_name, messages)
    return len(messages)


def _resolve(target: str) -> Any:
    module_name, function_name = target.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def dispatch(message: dict[str, Any]) -> None:
    """Hand one event to each subscriber exactly once, even if SQS delivers it again.

    A subscriber's marker says done only after it returned (:mod:`chalicelib.core.once`): if
    the Lambda dies mid-work (a timeout raises nothing), the redelivered message runs the
    subscriber again once the lease is over, instead of being skipped as done. A subscriber
    still leased to another invocation raises :class:`once.InProgress`, so the message comes
    back later; the subscribers done before it are skipped then."""
    event_type = message["type"]
    for target in SUBSCRIBERS.get(event_type, ()):
        key = f"event:{message['event_id']}:{target}"
        if not once.begin(key):
            logger.info("event already handled", extra={"event_id": message["event_id"], "subscriber": target})
            continue
        try:
            _resolve(target)(message)
        except Exception:
            once.release(key)
            raise
        once.complete(key)
