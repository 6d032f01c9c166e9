"""Outbox events travel table -> stream -> events queue -> subscribers, each once."""

from __future__ import annotations

import boto3
import pytest
from chalice.app import DynamoDBEvent

from chalicelib.events import service
from chalicelib.events.registry import Delivered, DomainEvent, InvalidEvent, UnknownEvent, subscribe
from chalicelib.events.workers import relay_table_stream
from chalicelib.platform.events import PipelineCheck
from tests.support.events import outbox, stream_records
from tests.support.queues import received


def test_recorded_event_reaches_the_events_queue_through_the_stream(aws: dict[str, str]) -> None:
    event_id = service.record_event(PipelineCheck(check_id="c1", notify="ops@example.com"))
    boto3.client("dynamodb").put_item(TableName=aws["TableName"],
                                      Item={"PK": {"S": "OTHER#1"}, "SK": {"S": "X"}})

    relayed = relay_table_stream(DynamoDBEvent(stream_records(aws["TableName"]), None))

    assert relayed == 1  # the unrelated item is not an event
    [message] = received(aws["EventsQueueName"])
    assert message["event_id"] == event_id
    assert message["type"] == "system.pipeline_check"
    assert message["version"] == 1
    assert message["payload"] == {"check_id": "c1", "notify": "ops@example.com"}


class NobodyListens(DomainEvent):
    event_type = "test.nobody_listens"


def test_an_event_no_package_subscribes_to_stays_in_the_outbox(aws: dict[str, str]) -> None:
    service.record_event(NobodyListens())
    heard = service.record_event(PipelineCheck(check_id="c1", notify="ops@example.com"))

    relayed = relay_table_stream(DynamoDBEvent(stream_records(aws["TableName"]), None))

    assert relayed == 1
    assert [m["event_id"] for m in received(aws["EventsQueueName"])] == [heard]
    assert outbox("test.nobody_listens") == [{}]  # recorded all the same, for subscribers to come


def test_a_redelivered_event_reaches_its_subscriber_once(aws: dict[str, str]) -> None:
    message = {"event_id": "evt_1", "type": "system.pipeline_check", "occurred_at": "2026-11-25T00:00:00+00:00",
               "payload": {"check_id": "c2", "notify": "ops@example.com"}}
    service.dispatch(message)
    service.dispatch(message)
    mails = received(aws["RetentionQueueName"])
    assert [m["dedupe_key"] for m in mails] == ["pipeline_check:evt_1"]


FLAKY_CALLS: list[str] = []


class FlakyWorkAsked(DomainEvent):
    event_type = "test.flaky"


def flaky_subscriber(delivered: Delivered[FlakyWorkAsked]) -> None:
    """Fails the first time it sees an event, as a subscriber with a passing outage would."""
    FLAKY_CALLS.append(delivered.event_id)
    if len(FLAKY_CALLS) == 1:
        raise RuntimeError("temporary outage")


def test_a_failing_subscriber_gets_the_event_again_and_then_never(aws: dict[str, str],
                                                                  scratch_subscriptions: None) -> None:
    FLAKY_CALLS.clear()
    subscribe(FlakyWorkAsked)(flaky_subscriber)
    message = {"event_id": "evt_2", "type": "test.flaky", "occurred_at": "", "payload": {}}

    with pytest.raises(RuntimeError):
        service.dispatch(message)
    service.dispatch(message)
    service.dispatch(message)

    assert FLAKY_CALLS == ["evt_2", "evt_2"]


def test_an_unknown_event_type_fails_instead_of_being_dropped(aws: dict[str, str]) -> None:
    # the failure sends it round SQS's retries into the dead-letter queue (test_poison_message.py)
    with pytest.raises(UnknownEvent, match=r"nobody\.cares"):
        service.dispatch({"event_id": "evt_3", "type": "nobody.cares", "occurred_at": "", "payload": {}})
    assert received(aws["RetentionQueueName"]) == []


@pytest.mark.parametrize("message", [
    {"payload": {"check_id": "c3"}},  # no address to notify
    {"payload": {"check_id": 3, "notify": "ops@example.com"}},  # not a string
    {"payload": {"check_id": "c3", "notify": "ops@example.com"}, "version": 2},  # a version this code cannot read
], ids=["missing_field", "wrong_type", "unknown_version"])
def test_a_payload_that_does_not_fit_its_model_fails_before_any_subscriber_runs(aws: dict[str, str],
                                                                                message: dict) -> None:
    with pytest.raises(InvalidEvent):
        service.dispatch({"event_id": "evt_4", "type": "system.pipeline_check", "occurred_at": "", **message})
    assert received(aws["RetentionQueueName"]) == []


def test_fields_the_model_does_not_know_are_ignored(aws: dict[str, str]) -> None:
    # a newer producer's message while a deploy is half done still reaches the subscriber
    service.dispatch({"event_id": "evt_5", "type": "system.pipeline_check", "occurred_at": "", "version": 1,
                      "payload": {"check_id": "c5", "notify": "ops@example.com", "added_later": True}})
    assert [m["dedupe_key"] for m in received(aws["RetentionQueueName"])] == ["pipeline_check:evt_5"]
