"""A failing message neither loses nor repeats the work of the others in its batch."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from chalice.app import SQSEvent

from chalicelib.core.sqs import BatchPartiallyFailed, process_batch
from dev import lambda_events


def _receive_batch(queue_name: str, bodies: list[dict[str, Any]]) -> SQSEvent:
    """Send messages, receive them as Lambda would, and wrap them as Chalice does."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    assert len(messages) == len(bodies)
    return SQSEvent(lambda_events.sqs_event_from_messages(messages, queue_name), None)


def _waiting(queue_name: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return sorted((json.loads(m["Body"]) for m in messages), key=lambda b: b["n"])


def test_all_succeed_and_nothing_is_deleted_by_hand(aws: dict[str, str]) -> None:
    queue = aws["EventsQueueName"]
    event = _receive_batch(queue, [{"n": 1}, {"n": 2}])
    handled: list[int] = []
    assert process_batch(event, lambda body: handled.append(body["n"])) == 2
    assert handled == [1, 2]


def test_one_failure_returns_only_that_message_to_the_queue(aws: dict[str, str]) -> None:
    queue = aws["EventsQueueName"]
    event = _receive_batch(queue, [{"n": 1}, {"n": 2}, {"n": 3}])
    records = list(event)
    assert len({r.to_dict()["messageId"] for r in records}) == 3

    def handle(body: dict[str, Any]) -> None:
        if body["n"] == 2:
            raise ValueError("cannot handle 2")

    with pytest.raises(BatchPartiallyFailed) as raised:
        process_batch(event, handle)
    assert raised.value.failed_ids == [records[1].to_dict()["messageId"]]
    # messages 1 and 3 were deleted; only 2 comes back for a retry
    assert _waiting(queue) == [{"n": 2}]
