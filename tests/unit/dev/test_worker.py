"""The local worker hands queue batches to the app's own handlers, as Lambda would."""

from __future__ import annotations

import json

import boto3
from chalice.app import ScheduledEventConfig, SQSEventConfig

import app
from dev import scheduler
from dev.worker import Worker
from tests.support.mail import sent_mails


def _source(name: str) -> SQSEventConfig:
    return next(s for s in app.app.event_sources if s.name == name)


def _queue_depth(queue_name: str) -> int:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                         "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attributes["Attributes"].values())


def _send(queue_name: str, body: dict) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"], MessageBody=json.dumps(body))


def test_app_declares_its_queue_handlers_on_the_stack_queues(aws: dict[str, str]) -> None:
    bound = {s.name: s.queue for s in app.app.event_sources if isinstance(s, SQSEventConfig)}
    assert bound == {"retention_emails": aws["RetentionQueueName"], "domain_events": aws["EventsQueueName"],
                     "customer_imports": aws["CustomerImportsQueueName"]}


def test_a_queued_mail_reaches_the_retention_handler_and_leaves_the_queue(aws: dict[str, str]) -> None:
    source = _source("retention_emails")
    _send(aws["RetentionQueueName"], {"template": "pipeline_check", "to": "ops@example.com",
                                      "context": {"check_id": "w1"}, "dedupe_key": "w1"})

    assert Worker(app, poll_wait_seconds=0).poll_queue_once(source) == 1

    assert [m["subject"] for m in sent_mails()] == ["agora pipeline check w1"]
    assert _queue_depth(aws["RetentionQueueName"]) == 0


def test_a_failing_batch_stays_on_the_queue(aws: dict[str, str]) -> None:
    source = _source("retention_emails")
    _send(aws["RetentionQueueName"], {"template": "pipeline_check", "to": "not an email", "dedupe_key": "w2"})

    assert Worker(app, poll_wait_seconds=0).poll_queue_once(source) == 0

    assert sent_mails() == []
    assert _queue_depth(aws["RetentionQueueName"]) == 1


def test_scheduled_handlers_run_on_demand(aws: dict[str, str]) -> None:
    names = {s.name for s in app.app.event_sources if isinstance(s, ScheduledEventConfig)}
    assert "dead_letter_report" in names
    report = scheduler.run_once(app, "dead_letter_report")
    dead_letters = [f"{aws[n]}-dlq" for n in ("RetentionQueueName", "EventsQueueName", "CustomerImportsQueueName")]
    assert report == {"depths": {name: 0 for name in [*dead_letters, aws["TableStreamDeadLetterQueueName"]]},
                      "failed": {}}
