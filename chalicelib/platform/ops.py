"""Operational sweeps of the marketplace itself."""

from __future__ import annotations

import json

from chalicelib.core.aws import client, queue_url
from chalicelib.core.logging import logger
from chalicelib.core.settings import get_settings


def dead_letter_depths() -> dict[str, int]:
    """Messages waiting in each worker queue's dead-letter queue.

    A message lands there after failing maxReceiveCount times; each one is work that
    did not happen (an unsent mail, an unprocessed event) and needs an operator.
    """
    sqs = client("sqs")
    depths: dict[str, int] = {}
    for name in get_settings().worker_queues:
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url(name), AttributeNames=["RedrivePolicy"])
        policy = json.loads(attributes["Attributes"].get("RedrivePolicy", "{}"))
        if "deadLetterTargetArn" not in policy:
            continue
        dead_letter_name = policy["deadLetterTargetArn"].rsplit(":", 1)[-1]
        counts = sqs.get_queue_attributes(
            QueueUrl=queue_url(dead_letter_name), AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        depths[dead_letter_name] = int(counts["ApproximateNumberOfMessages"])
    stuck = {name: depth for name, depth in depths.items() if depth}
    if stuck:
        logger.warning("dead-letter queues hold failed work", extra={"dead_letters": stuck})
    return depths
