"""A poison message on the events queue fails alone: the rest of its batch is processed once,
and it reaches the dead-letter queue after maxReceiveCount tries, named by the report."""

from __future__ import annotations

import json

import boto3

from chalicelib.core.sqs import BatchPartiallyFailed
from chalicelib.events.workers import handle_events
from chalicelib.platform.ops import dead_letter_report
from tests.support.queues import bodies, poll, queue_url, received


def _event(event_id: str, event_type: str, payload: dict) -> str:
    return json.dumps({"event_id": event_id, "type": event_type, "occurred_at": "2026-12-01T00:00:00+00:00",
                       "payload": payload})


def test_a_poison_message_ends_in_the_dead_letter_queue_and_the_others_run_once(aws: dict[str, str]) -> None:
    # given a batch: two good events around one whose payload its subscribers cannot use
    sqs = boto3.client("sqs")
    events = aws["EventsQueueName"]
    for body in (_event("evt_good_1", "system.pipeline_check", {"check_id": "c1", "notify": "ops@example.com"}),
                 _event("evt_poison", "order.paid", {"order_id": "ord_1"}),  # no user_id, no sellers
                 _event("evt_good_2", "system.pipeline_check", {"check_id": "c2", "notify": "ops@example.com"})):
        sqs.send_message(QueueUrl=queue_url(events), MessageBody=body)

    # when Lambda's event source polls the queue until it is empty (failures come back at once)
    failures = []
    for _ in range(10):
        batch = poll(events)
        if batch is None:
            break
        try:
            handle_events(batch)
        except BatchPartiallyFailed as failed:
            failures.append(len(failed.failed_ids))

    # then the poison failed alone, maxReceiveCount (5) times, and moved to the events DLQ
    assert failures == [1] * 5
    dead_letters = f"{events}-dlq"
    assert [m["event_id"] for m in bodies(dead_letters)] == ["evt_poison"]
    # and each good event ran its subscriber once: one pipeline mail each, none repeated
    assert sorted(m["dedupe_key"] for m in received(aws["RetentionQueueName"])) == [
        "pipeline_check:evt_good_1", "pipeline_check:evt_good_2"]
    # and the dead-letter report names it
    [named] = dead_letter_report()["failed"][dead_letters]
    assert (named["event_id"], named["type"]) == ("evt_poison", "order.paid")
