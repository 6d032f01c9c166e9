from __future__ import annotations

import boto3

from chalicelib.platform.ops import dead_letter_depths


def test_dead_letter_report_counts_failed_work_per_queue(aws: dict[str, str]) -> None:
    sqs = boto3.client("sqs")
    depths = dead_letter_depths()
    assert set(depths) == {f"{aws[name]}-dlq" for name in
                           ("RetentionQueueName", "EventsQueueName", "CustomerImportsQueueName")}
    assert set(depths.values()) == {0}

    dead_letters = f"{aws['RetentionQueueName']}-dlq"
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=dead_letters)["QueueUrl"], MessageBody="{}")
    assert dead_letter_depths()[dead_letters] == 1
