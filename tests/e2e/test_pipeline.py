"""The event pipeline over real HTTP: SQS -> worker -> handler, table -> stream -> handler."""

from __future__ import annotations

import json
import uuid

from tests.support.stack import LocalStack, eventually


def _mails_with(local_stack: LocalStack, text: str) -> list[dict]:
    return [m for m in local_stack.outbox() if text in (m["subject"] or "")]


def test_a_message_on_the_retention_queue_reaches_its_handler(local_stack: LocalStack) -> None:
    check_id = uuid.uuid4().hex[:10]
    sqs = local_stack.boto3_client("sqs")
    url = sqs.get_queue_url(QueueName=local_stack.outputs["RetentionQueueName"])["QueueUrl"]
    message = {"template": "pipeline_check", "to": "ops@example.com", "context": {"check_id": check_id},
               "dedupe_key": f"e2e:{check_id}"}

    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))  # delivered twice, sent once

    [mail] = eventually(lambda: _mails_with(local_stack, check_id), what="the retention mail")
    assert mail["to"] == ["ops@example.com"]
    assert mail["from"] == local_stack.outputs["SenderEmail"]
    eventually(lambda: _queue_empty(local_stack, url), what="the queue to drain")
    assert len(_mails_with(local_stack, check_id)) == 1


def test_a_write_to_the_table_reaches_the_stream_handler(local_stack: LocalStack) -> None:
    from chalicelib.events.service import new_event
    from chalicelib.platform.events import PipelineCheck

    check_id = uuid.uuid4().hex[:10]
    event = new_event(PipelineCheck(check_id=check_id, notify="ops@example.com"))

    local_stack.boto3_client("dynamodb").put_item(TableName=local_stack.outputs["TableName"],
                                                  Item=event.serialize())

    # table -> stream handler -> events queue -> subscriber -> retention queue -> SES
    [mail] = eventually(lambda: _mails_with(local_stack, check_id), what="the mail caused by the table write")
    assert mail["to"] == ["ops@example.com"]


def _queue_empty(local_stack: LocalStack, url: str) -> bool:
    attributes = local_stack.boto3_client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return all(v == "0" for v in attributes["Attributes"].values())
