"""SQS batches that neither lose nor repeat work when one message fails.

Chalice's ``on_sqs_message`` cannot report partial batch failures (and ``chalice
deploy`` does not set ``ReportBatchItemFailures``). So: every message is handled; if
some failed, the ones that succeeded are deleted here and the invocation raises, so
Lambda returns only the failed ones to the queue. After ``maxReceiveCount`` tries a
message moves to its dead-letter queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from chalicelib.core.aws import client, queue_url
from chalicelib.core.logging import logger


class SQSRecordLike(Protocol):
    body: str
    receipt_handle: str

    def to_dict(self) -> dict[str, Any]: ...


class BatchPartiallyFailed(Exception):
    """Raised after deleting the succeeded messages, so only the failed ones return."""

    def __init__(self, failed_ids: list[str]) -> None:
        super().__init__(f"{len(failed_ids)} message(s) failed: {', '.join(failed_ids)}")
        self.failed_ids = failed_ids


def _queue_name(record: SQSRecordLike) -> str:
    source_arn: str = record.to_dict()["eventSourceARN"]
    return source_arn.rsplit(":", 1)[-1]


def _delete(records: list[SQSRecordLike]) -> None:
    by_queue: dict[str, list[SQSRecordLike]] = {}
    for record in records:
        by_queue.setdefault(_queue_name(record), []).append(record)
    for name, queued in by_queue.items():
        url = queue_url(name)
        for start in range(0, len(queued), 10):
            chunk = dict(enumerate(queued[start:start + 10]))
            for _ in range(3):  # entries SQS failed on its side are deleted again
                result = client("sqs").delete_message_batch(
                    QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": r.receipt_handle} for i, r in chunk.items()])
                chunk = {int(f["Id"]): chunk[int(f["Id"])] for f in result.get("Failed") or []}
                if not chunk:
                    break
            if chunk:  # they come back and are skipped as done (their work is marked once)
                logger.warning("succeeded messages not deleted", extra={"count": len(chunk)})


def process_batch(records: Iterable[SQSRecordLike], handle: Callable[[dict[str, Any]], object]) -> int:
    """Run ``handle`` on each message body (JSON); returns how many succeeded."""
    succeeded: list[SQSRecordLike] = []
    failed: list[str] = []
    for record in records:
        message_id = record.to_dict().get("messageId", "?")
        try:
            handle(json.loads(record.body))
        except Exception:
            logger.exception("message failed", extra={"message_id": message_id})
            failed.append(message_id)
        else:
            succeeded.append(record)
    if failed:
        if succeeded:
            _delete(succeeded)
        raise BatchPartiallyFailed(failed)
    return len(succeeded)


def send(queue_name: str, message: dict[str, Any]) -> str:
    response = client("sqs").send_message(QueueUrl=queue_url(queue_name), MessageBody=json.dumps(message))
    message_id: str = response["MessageId"]
    return message_id


# SendMessageBatch: at most 10 messages and 256 KB in all per call.
_BATCH_MESSAGES = 10
_BATCH_BYTES = 256 * 1024


def _batches(bodies: list[str]) -> list[list[str]]:
    batches: list[list[str]] = []
    size = 0
    for body in bodies:
        length = len(body.encode())
        if not batches or len(batches[-1]) == _BATCH_MESSAGES or size + length > _BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(body)
        size += length
    return batches


def send_many(queue_name: str, messages: list[dict[str, Any]], *, attempts: int = 3) -> None:
    """Send messages in as few SendMessageBatch calls as SQS's limits allow. Entries SQS
    failed on its side are sent again (botocore retries only whole calls); entries it refused
    (``SenderFault``), or still failing after ``attempts``, raise."""
    url = queue_url(queue_name)
    for batch in _batches([json.dumps(m) for m in messages]):
        pending = dict(enumerate(batch))
        for _ in range(attempts):
            result = client("sqs").send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body} for i, body in pending.items()])
            failed = result.get("Failed") or []
            refused = [f for f in failed if f.get("SenderFault")]
            if refused:
                raise RuntimeError(f"SQS refused {len(refused)} message(s): {refused}")
            pending = {int(f["Id"]): pending[int(f["Id"])] for f in failed}
            if not pending:
                break
        if pending:
            raise RuntimeError(f"SQS failed {len(pending)} message(s) {attempts} times")
