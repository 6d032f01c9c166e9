"""Outbox events travel table -> stream -> events queue -> subscribers, each once."""

from __future__ import annotations

import boto3
import pytest
from chalice.app import DynamoDBEvent

from chalicelib.events import service
from chalicelib.events.workers import relay_table_stream
from tests.support.events import stream_records
from tests.support.queues import received


def test_recorded_event_reaches_the_events_queue_through_the_stream(aws: dict[str, str]) -> None:
    event_id = service.record_event("system.pipeline_check", {"check_id": "c1", "notify": "ops@example.com"})
    boto3.client("dynamodb").put_item(TableName=aws["TableName"],
                                      Item={"PK": {"S": "OTHER#1"}, "SK": {"S": "X"}})

    relayed = relay_table_stream(DynamoDBEvent(stream_records(aws["TableName"]), None))

    assert relayed == 1  # the unrelated item is not an event
    [message] = received(aws["EventsQueueName"])
    assert message["event_id"] == event_id
    assert message["type"] == "system.pipeline_check"
    assert message["payload"] == {"check_id": "c1", "notify": "ops@example.com"}


def test_a_redelivered_event_reaches_its_subscriber_once(aws: dict[str, str]) -> None:
    message = {"event_id": "evt_1", "type": "system.pipeline_check", "occurred_at": "2026-11-25T00:00:00+00:00",
               "payload": {"check_id": "c2", "notify": "ops@example.com"}}
    service.dispatch(message)
    service.dispatch(message)
    mails = received(aws["RetentionQueueName"])
    assert [m["dedupe_key"] for m in mails] == ["pipeline_check:evt_1"]


FLAKY_CALLS: list[str] = []


def flaky_subscriber(event: dict) -> None:
    """Fails the first time it sees an event, as a subscriber with a passing outage would."""
    FLAKY_CALLS.append(event["event_id"])
    if len(FLAKY_CALLS) == 1:
        raise RuntimeError("temporary outage")


def test_a_failing_subscriber_gets_the_event_again_and_then_never(aws: dict[str, str], monkeypatch) -> None:
    FLAKY_CALLS.clear()
    monkeypatch.setitem(service.SUBSCRIBERS, "test.flaky", (f"{__name__}:flaky_subscriber",))
    message = {"event_id": "evt_2", "type": "test.flaky", "occurred_at": "", "payload": {}}

    with pytest.raises(RuntimeError):
        service.dispatch(message)
    service.dispatch(message)
    service.dispatch(message)

    assert FLAKY_CALLS == ["evt_2", "evt_2"]


def test_unknown_event_types_are_ignored(aws: dict[str, str]) -> None:
    service.dispatch({"event_id": "evt_3", "type": "nobody.cares", "occurred_at": "", "payload": {}})
    assert received(aws["RetentionQueueName"]) == []
