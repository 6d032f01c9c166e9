"""Recording, relaying and dispatching domain events."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from chalicelib.core import clock, once, sqs
from chalicelib.core.ids import new_id
from chalicelib.core.keys import EVENT_PREFIX, EVENT_SK, event_key
from chalicelib.core.logging import logger
from chalicelib.core.settings import get_settings
from chalicelib.events import registry
from chalicelib.events.models import OutboxEvent
from chalicelib.events.registry import DomainEvent

OUTBOX_TTL_SECONDS = 7 * 24 * 3600

def new_event(event: DomainEvent) -> OutboxEvent:
    """An outbox item to save inside the caller's transaction."""
    event_id = new_id("evt")
    return OutboxEvent(
        PK=event_key(event_id), SK=EVENT_SK, event_id=event_id, type=event.event_type,
        version=event.event_version, occurred_at=clock.stamp(), payload=event.payload(),
        expires_at=int(time.time()) + OUTBOX_TTL_SECONDS,
    )


def record_event(event: DomainEvent) -> str:
    """Record an event on its own, for changes that are a single write."""
    item = new_event(event)
    item.save()
    return item.event_id


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


# SQS refuses a message over 256 KB; an event that large cannot travel and is set aside.
MAX_MESSAGE_BYTES = 256 * 1024


def _outbox_message(record: dict[str, Any]) -> dict[str, Any] | None:
    """The events queue message for an outbox INSERT; None for any other record. Raises
    (KeyError, ValueError...) when the outbox item cannot be read."""
    import json

    if record.get("eventName") != "INSERT":
        return None
    image = record.get("dynamodb", {}).get("NewImage") or {}
    if not _plain(image.get("PK", {"S": ""})).startswith(EVENT_PREFIX):
        return None
    payload = _plain(image["payload"])
    message = {
        "event_id": _plain(image["event_id"]),
        "type": _plain(image["type"]),
        "occurred_at": _plain(image["occurred_at"]),
        "payload": json.loads(payload) if isinstance(payload, str) else payload,
    }
    if "version" in image:  # items written before versions were recorded have none
        message["version"] = _plain(image["version"])
    return message


def _set_aside(record: dict[str, Any], reason: str) -> dict[str, Any]:
    """What the stream's dead-letter queue keeps of a record that cannot be relayed: enough
    to find the outbox item (it stays in the table until its TTL) and to tell why."""
    stream = record.get("dynamodb", {})
    image = stream.get("NewImage") or {}
    named = {name: image[name].get("S") for name in ("event_id", "type") if isinstance(image.get(name), dict)}
    return {"source": "table_stream", "reason": reason, **named, "keys": stream.get("Keys"),
            "sequence_number": stream.get("SequenceNumber"), "event_source_arn": record.get("eventSourceARN")}


def split_stream_records(stream_records: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The events queue messages for the outbox INSERTs among stream records, and the
    records that cannot be relayed (unreadable, or over SQS's size limit) set aside."""
    import json

    messages, set_aside = [], []
    for record in stream_records:
        try:
            message = _outbox_message(record)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            set_aside.append(_set_aside(record, f"unreadable outbox item: {type(error).__name__}: {error}"[:500]))
            continue
        if message is None:
            continue
        size = len(json.dumps(message).encode())
        if size > MAX_MESSAGE_BYTES:
            set_aside.append(_set_aside(record, f"event of {size} bytes is over SQS's {MAX_MESSAGE_BYTES}"))
            continue
        messages.append(message)
    return messages, set_aside


def outbox_messages(stream_records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events queue messages for the outbox INSERTs among stream records."""
    return split_stream_records(stream_records)[0]


def relay(stream_records: Iterable[dict[str, Any]]) -> int:
    """Send the stream's outbox events to the events queue; returns how many.

    An event of a declared type that no package subscribes to yet (``order.status_changed``
    until the retention packages arrive) stays in the outbox only: queueing it would cost
    an SQS send, receive and delete and an events Lambda invocation to do nothing. An
    undeclared type is still sent, to fail in the worker and reach its dead-letter queue.

    A record that cannot be relayed goes to the stream's dead-letter queue and the rest go
    on: raising would make Lambda retry the whole batch, and every event behind the bad
    one would wait for it (until it leaves the stream after 24 h, with them). If a send
    itself fails, this raises: Lambda retries the batch (events are deduplicated by id
    downstream), bisects it, and after its retries the batch's position goes to the same
    dead-letter queue (the event source mapping's on-failure destination, infra/deploy.py)."""
    messages, set_aside = split_stream_records(stream_records)
    settings = get_settings()
    if set_aside:
        logger.error("stream records set aside in the dead-letter queue",
                     extra={"records": [{k: r.get(k) for k in ("event_id", "type", "reason")} for r in set_aside]})
        sqs.send_many(settings.stream_dead_letter_queue_name, set_aside)
    declared = registry.event_classes()
    messages = [m for m in messages if m["type"] not in declared or registry.subscribers_of(m["type"])]
    if messages:
        sqs.send_many(settings.events_queue_name, messages)
    return len(messages)


def dispatch(message: dict[str, Any]) -> None:
    """Hand one event to each subscriber exactly once, even if SQS delivers it again.

    A subscriber's marker says done only after it returned (:mod:`chalicelib.core.once`): if
    the Lambda dies mid-work (a timeout raises nothing), the redelivered message runs the
    subscriber again once the lease is over, instead of being skipped as done. A subscriber
    still leased to another invocation raises :class:`once.InProgress`, so the message comes
    back later; the subscribers done before it are skipped then.

    The payload is read into its event's model first: a type no package declares, or a
    payload that does not fit, raises (:class:`registry.UnknownEvent`,
    :class:`registry.InvalidEvent`) like any poison message, so it is retried and then kept
    in the events queue's dead-letter queue rather than dropped."""
    delivered = registry.parse(message)
    for subscriber in registry.subscribers_of(message["type"]):
        key = f"event:{message['event_id']}:{subscriber.marker}"
        if not once.begin(key):
            logger.info("event already handled", extra={"event_id": message["event_id"],
                                                         "subscriber": subscriber.marker})
            continue
        with once.doing(key):
            subscriber.handle(delivered)
