"""The dead-letter report: how much failed work waits, and which."""

from __future__ import annotations

import json

import boto3

from chalicelib.platform.ops import dead_letter_depths, dead_letter_report


def _send(queue_name: str, body: str) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"], MessageBody=body)


def test_dead_letter_report_counts_failed_work_per_queue(aws: dict[str, str]) -> None:
    depths = dead_letter_depths()
    assert set(depths) == {f"{aws[name]}-dlq" for name in
                           ("RetentionQueueName", "EventsQueueName", "CustomerImportsQueueName")} | {
                               aws["TableStreamDeadLetterQueueName"]}
    assert set(depths.values()) == {0}

    dead_letters = f"{aws['RetentionQueueName']}-dlq"
    _send(dead_letters, "{}")
    assert dead_letter_depths()[dead_letters] == 1


def test_the_report_names_each_dead_letter_and_leaves_it_there(aws: dict[str, str]) -> None:
    events_dlq = f"{aws['EventsQueueName']}-dlq"
    _send(events_dlq, json.dumps({"event_id": "evt_1", "type": "order.paid", "payload": {"email": "a@b.example"}}))
    _send(aws["TableStreamDeadLetterQueueName"], json.dumps({
        "requestContext": {"condition": "RetryAttemptsExhausted"},
        "DDBStreamBatchInfo": {"shardId": "shard-1", "startSequenceNumber": "100", "endSequenceNumber": "150",
                               "batchSize": 3}}))

    report = dead_letter_report()

    assert report["depths"][events_dlq] == 1
    [event] = report["failed"][events_dlq]
    assert (event["event_id"], event["type"]) == ("evt_1", "order.paid")
    assert "payload" not in event  # names the work, shows no personal data
    [batch] = report["failed"][aws["TableStreamDeadLetterQueueName"]]
    assert (batch["source"], batch["condition"], batch["start_sequence_number"]) == (
        "table_stream_batch", "RetryAttemptsExhausted", "100")
    assert dead_letter_depths()[events_dlq] == 1  # looked at, not taken
