"""Event pipeline helpers: the table stream and the events queue as Lambda sees them."""

from __future__ import annotations

import boto3
import pytest

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


@pytest.fixture
def scratch_subscriptions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Subscriptions a test adds with ``subscribe`` are gone after it."""
    from chalicelib.events import registry

    monkeypatch.setattr(registry, "_SUBSCRIBERS", {t: list(s) for t, s in registry.subscriptions().items()})
