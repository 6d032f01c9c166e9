"""Event pipeline helpers: the table stream and the events queue as Lambda sees them."""

from __future__ import annotations

import json
from typing import Any

import boto3
from chalice.app import SQSEvent

from dev import lambda_events
from dev.worker import streams_client


def stream_records(table_name: str) -> list[dict]:
    """What the table's stream holds now, as Lambda would deliver it."""
    dynamodb = boto3.client("dynamodb")
    streams = streams_client("eu-central-1", None)
    stream_arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return lambda_events.stream_event(streams.get_records(ShardIterator=iterator)["Records"], stream_arn)


def queue_url(queue_name: str) -> str:
    return boto3.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]


def poll(queue_name: str) -> SQSEvent | None:
    """One poll of Lambda's SQS event source: up to 10 messages, visible again at once if
    not deleted (as if the visibility timeout had passed); None when the queue is empty."""
    messages = boto3.client("sqs").receive_message(
        QueueUrl=queue_url(queue_name), MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0,
        AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
    return SQSEvent(lambda_events.sqs_event_from_messages(messages, queue_name), None) if messages else None


def bodies(queue_name: str) -> list[Any]:
    """The messages waiting on a queue, looked at and left there."""
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url(queue_name), MaxNumberOfMessages=10,
                                                   VisibilityTimeout=0, WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]
