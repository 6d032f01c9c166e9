"""Queues as Lambda's SQS event sources see them."""

from __future__ import annotations

import json
from typing import Any


def queue_url(queue_name: str) -> str:
    import boto3

    return boto3.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]


def received(queue_name: str, *, max_messages: int = 10) -> list[dict[str, Any]]:
    """Bodies of the messages waiting on a queue (received, so they leave it for now)."""
    import boto3

    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url(queue_name), MaxNumberOfMessages=max_messages,
                                                   WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def poll(queue_name: str) -> Any:
    """One poll of Lambda's SQS event source: up to 10 messages, visible again at once if
    not deleted (as if the visibility timeout had passed), as the Chalice ``SQSEvent`` the
    handler gets; None when the queue is empty."""
    import boto3
    from chalice.app import SQSEvent

    from dev import lambda_events

    messages = boto3.client("sqs").receive_message(
        QueueUrl=queue_url(queue_name), MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0,
        AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
    return SQSEvent(lambda_events.sqs_event_from_messages(messages, queue_name), None) if messages else None


def bodies(queue_name: str) -> list[Any]:
    """The messages waiting on a queue, looked at and left there."""
    import boto3

    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url(queue_name), MaxNumberOfMessages=10,
                                                   VisibilityTimeout=0, WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]
