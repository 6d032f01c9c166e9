"""A poison table-stream record (an outbox item that does not parse, or an event over SQS's
256 KB) is set aside in the stream's dead-letter queue; the events behind it still go."""

from __future__ import annotations

import boto3
import pytest
from chalice.app import DynamoDBEvent

from chalicelib.events import service
from chalicelib.events.workers import relay_table_stream
from chalicelib.orders.events import OrderPaid
from chalicelib.platform.events import PipelineCheck
from tests.support.events import stream_records
from tests.support.faults import AwsFaults
from tests.support.queues import bodies


def _unreadable_outbox_item(table_name: str, event_id: str) -> None:
    """An outbox item whose payload is not JSON (written by hand: agora's own code cannot)."""
    boto3.client("dynamodb").put_item(TableName=table_name, Item={
        "PK": {"S": f"EVENT#{event_id}"}, "SK": {"S": "EVENT"}, "event_id": {"S": event_id},
        "type": {"S": "order.paid"}, "occurred_at": {"S": "2026-12-01T00:00:00+00:00"},
        "payload": {"S": "{\"order_id\": \"ord_1\", truncated"}, "expires_at": {"N": "2000000000"}})


def test_poison_records_are_set_aside_and_the_events_behind_them_are_relayed(aws: dict[str, str]) -> None:
    # given, in stream order: an event, one that does not parse, one over 256 KB, and another event
    first = service.record_event(PipelineCheck(check_id="c1", notify="ops@example.com"))
    _unreadable_outbox_item(aws["TableName"], "evt_unreadable")
    too_big = service.record_event(PipelineCheck(check_id="x" * (300 * 1024), notify="ops@example.com"))
    last = service.record_event(OrderPaid(order_id="ord_2", user_id="usr_2", paid_at="2026-12-01T00:00:00+00:00",
                                          sellers=[]))

    # when the stream relay gets them in one batch
    relayed = relay_table_stream(DynamoDBEvent(stream_records(aws["TableName"]), None))

    # then it does not fail the batch: the good events are on the events queue, in order
    assert relayed == 2
    assert [m["event_id"] for m in bodies(aws["EventsQueueName"])] == [first, last]
    # and the two bad records wait in the stream's dead-letter queue, saying which and why
    set_aside = {m["event_id"]: m for m in bodies(aws["TableStreamDeadLetterQueueName"])}
    assert set(set_aside) == {"evt_unreadable", too_big}
    assert set_aside["evt_unreadable"]["reason"].startswith("unreadable outbox item: JSONDecodeError")
    assert "over SQS's 262144" in set_aside[too_big]["reason"]
    assert set_aside[too_big]["keys"] == {"PK": {"S": f"EVENT#{too_big}"}, "SK": {"S": "EVENT"}}


def test_the_dead_letter_report_names_the_set_aside_records(aws: dict[str, str]) -> None:
    from chalicelib.platform.ops import dead_letter_report

    _unreadable_outbox_item(aws["TableName"], "evt_unreadable")
    relay_table_stream(DynamoDBEvent(stream_records(aws["TableName"]), None))

    report = dead_letter_report()

    [named] = report["failed"][aws["TableStreamDeadLetterQueueName"]]
    assert (named["event_id"], named["type"], named["source"]) == ("evt_unreadable", "order.paid", "table_stream")


def test_a_relay_that_cannot_send_fails_the_batch_for_lambda_to_retry(aws: dict[str, str],
                                                                    aws_faults: AwsFaults) -> None:
    # given an event and SQS failing every send (past botocore's retries)
    service.record_event(PipelineCheck(check_id="c1", notify="ops@example.com"))
    aws_faults.inject("sqs", "SendMessageBatch", AwsFaults.error("ServiceUnavailable", status=503), times=100)

    # when the relay runs, then it raises: Lambda retries (then bisects, then the mapping's
    # on-failure destination keeps the batch's position: infra/deploy.py)
    with pytest.raises(Exception, match="ServiceUnavailable"):
        relay_table_stream(DynamoDBEvent(stream_records(aws["TableName"]), None))
    assert aws_faults.calls["sqs.SendMessageBatch"] == 4  # botocore's standard retries
