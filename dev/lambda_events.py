"""Build the events Lambda would pass to a handler, and call the handler the way Lambda does.

Used by the local worker and scheduler and by tests, so that all of them hand the
*same* handler functions in app.py the same event shapes AWS would.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

REGION = "eu-central-1"
ACCOUNT_ID = "123456789012"


def context(function_name: str, timeout_ms: int = 30_000) -> Any:
    from chalice.local import LambdaContext

    return LambdaContext(function_name, memory_size=512, max_runtime_ms=timeout_ms)


def sqs_record(body: str, *, queue_name: str, message_id: str | None = None,
               receipt_handle: str | None = None, receive_count: int = 1) -> dict[str, Any]:
    message_id = message_id or str(uuid.uuid4())
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle or f"local-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(int(datetime.now(UTC).timestamp() * 1000)),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue_name}",
        "awsRegion": REGION,
    }


def sqs_event_from_messages(messages: list[dict[str, Any]], queue_name: str) -> dict[str, Any]:
    """An SQS event from ReceiveMessage results (each keeps its own id and receipt handle)."""
    return {"Records": [
        sqs_record(m["Body"], queue_name=queue_name, message_id=m["MessageId"],
                   receipt_handle=m["ReceiptHandle"],
                   receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")))
        for m in messages
    ]}


def stream_event(records: list[dict[str, Any]], stream_arn: str) -> dict[str, Any]:
    """A DynamoDB stream event from GetRecords results."""
    shaped = []
    for record in records:
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime", datetime.now(UTC).timestamp())
        if isinstance(created, datetime):
            created = created.timestamp()
        dynamodb["ApproximateCreationDateTime"] = created
        dynamodb.setdefault("SizeBytes", 0)
        dynamodb.setdefault("StreamViewType", "NEW_IMAGE")  # as infra/template.yaml sets it
        shaped.append({
            "eventID": record.get("eventID", str(uuid.uuid4())),
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", REGION),
            "dynamodb": dynamodb,
            "eventSourceARN": stream_arn,
        })
    return {"Records": shaped}


def scheduled_event(rule_name: str) -> dict[str, Any]:
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule_name}"], "detail": {},
    }
