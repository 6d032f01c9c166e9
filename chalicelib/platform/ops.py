"""Operational sweeps of the marketplace itself."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core.aws import client, queue_url
from chalicelib.core.logging import logger
from chalicelib.core.settings import get_settings

# What the report shows of each dead letter: the fields that name the work (an event's id and
# type, a mail's template and dedupe key, an import's job, a stream record's reason, Lambda's
# on-failure record of a stream batch), never personal data such as addresses.
_NAMING_FIELDS = ("event_id", "type", "template", "dedupe_key", "job_id", "seller_id", "chunk", "reason",
                  "sequence_number", "source")
PEEK_LIMIT = 10  # dead letters named per queue in one report


def dead_letter_queues() -> list[str]:
    """Every dead-letter queue: each worker queue's (from its redrive policy) and the table
    stream's (records the relay could not send)."""
    sqs = client("sqs")
    settings = get_settings()
    names = []
    for name in settings.worker_queues:
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url(name), AttributeNames=["RedrivePolicy"])
        policy = json.loads(attributes["Attributes"].get("RedrivePolicy", "{}"))
        if "deadLetterTargetArn" in policy:
            names.append(policy["deadLetterTargetArn"].rsplit(":", 1)[-1])
    return [*names, settings.stream_dead_letter_queue_name]


def dead_letter_depths() -> dict[str, int]:
    """Messages waiting in each dead-letter queue.

    A message lands there after failing maxReceiveCount times (or, from the table stream,
    when it could not be relayed); each one is work that did not happen (an unsent mail, an
    unprocessed event) and needs an operator.
    """
    sqs = client("sqs")
    depths: dict[str, int] = {}
    for name in dead_letter_queues():
        counts = sqs.get_queue_attributes(QueueUrl=queue_url(name),
                                          AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        depths[name] = int(counts["ApproximateNumberOfMessages"])
    return depths


def _named(message: dict[str, Any]) -> dict[str, Any]:
    """One dead letter as the report names it."""
    named: dict[str, Any] = {"message_id": message["MessageId"],
                             "receive_count": int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0))}
    try:
        body = json.loads(message["Body"])
    except ValueError:
        return {**named, "body": message["Body"][:200]}
    if not isinstance(body, dict):
        return {**named, "body": str(body)[:200]}
    named.update({k: body[k] for k in _NAMING_FIELDS if k in body})
    batch = body.get("DDBStreamBatchInfo")  # Lambda's on-failure record of a stream batch
    if isinstance(batch, dict):
        named.update(source="table_stream_batch", condition=body.get("requestContext", {}).get("condition"),
                     shard_id=batch.get("shardId"), start_sequence_number=batch.get("startSequenceNumber"),
                     end_sequence_number=batch.get("endSequenceNumber"), batch_size=batch.get("batchSize"))
    return named


def dead_letter_report() -> dict[str, Any]:
    """Each dead-letter queue's depth and the first messages in it, named (event id and type,
    mail template...), so an operator sees *what* failed. The messages are looked at, not
    taken: received with a visibility timeout of 0 and never deleted. Logged as a warning
    when any queue holds something."""
    sqs = client("sqs")
    depths = dead_letter_depths()
    failed: dict[str, list[dict[str, Any]]] = {}
    for name, depth in depths.items():
        if not depth:
            continue
        messages = sqs.receive_message(QueueUrl=queue_url(name), MaxNumberOfMessages=PEEK_LIMIT,
                                       VisibilityTimeout=0, AttributeNames=["ApproximateReceiveCount"]).get(
                                           "Messages", [])
        failed[name] = [_named(m) for m in messages]
    if failed:
        logger.warning("dead-letter queues hold failed work",
                       extra={"dead_letters": {n: d for n, d in depths.items() if d}, "failed": failed})
    return {"depths": depths, "failed": failed}
