"""The outbox and its delivery: what the table stream relays and the events queue dispatches."""

from __future__ import annotations

from typing import Any


def _outbox_items() -> list[dict[str, Any]]:
    import boto3

    from chalicelib.core.settings import get_settings

    return boto3.client("dynamodb").scan(  # a test's view of the outbox; no request path scans
        TableName=get_settings().table_name, FilterExpression="begins_with(PK, :e)",
        ExpressionAttributeValues={":e": {"S": "EVENT#"}})["Items"]


def _relayed() -> list[dict[str, Any]]:
    """The events queue messages the stream relay makes of the outbox items, oldest first."""
    from chalicelib.events.service import outbox_messages

    records = ({"eventName": "INSERT", "dynamodb": {"NewImage": item}} for item in _outbox_items())
    return sorted(outbox_messages(records), key=lambda message: message["event_id"])


def outbox(event_type: str) -> list[dict[str, Any]]:
    """Payloads of the domain events of one type written so far, oldest first."""
    return [message["payload"] for message in _relayed() if message["type"] == event_type]


def pump_events(*event_types: str, seen: set[str] | None = None) -> list[str]:
    """Hand the outbox events written so far (of ``event_types``, or all) to their subscribers
    through the real relay and dispatch, until no new ones appear (subscribers record
    follow-up events); returns the types delivered. ``seen`` carries over between calls."""
    from chalicelib.events.service import dispatch

    seen = set() if seen is None else seen
    delivered: list[str] = []
    while True:
        fresh = [m for m in _relayed() if m["event_id"] not in seen and (not event_types or m["type"] in event_types)]
        if not fresh:
            return delivered
        for message in fresh:
            seen.add(message["event_id"])
            dispatch(message)
            delivered.append(message["type"])


def stream_records(table_name: str) -> list[dict[str, Any]]:
    """What the table's stream holds now, as Lambda would deliver it."""
    import boto3

    from dev import lambda_events
    from dev.worker import streams_client

    dynamodb = boto3.client("dynamodb")
    streams = streams_client("eu-central-1", None)
    stream_arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return lambda_events.stream_event(streams.get_records(ShardIterator=iterator)["Records"], stream_arn)
