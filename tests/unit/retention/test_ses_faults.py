"""SES throttling: the mail worker's send is retried (by botocore, then by SQS redelivering
the message) and the mail goes out once."""

from __future__ import annotations

from chalicelib.core.mail import EmailMessage, enqueue_email
from chalicelib.core.sqs import BatchPartiallyFailed
from chalicelib.retention.workers import send_retention_emails
from tests.support.faults import AwsFaults
from tests.support.mail import sent_mails
from tests.support.queues import poll

THROTTLED = AwsFaults.query_error("Throttling", message="Maximum sending rate exceeded.")


def _queue_a_mail() -> None:
    enqueue_email(EmailMessage(template="pipeline_check", to="buyer@example.com", context={"check_id": "k1"},
                               dedupe_key="pipeline_check:k1"))


def test_a_throttled_send_is_retried_and_the_mail_goes_once(aws: dict[str, str], aws_faults: AwsFaults) -> None:
    _queue_a_mail()
    aws_faults.inject("ses", "SendRawEmail", THROTTLED, times=2)

    assert send_retention_emails(poll(aws["RetentionQueueName"])) == 1

    assert [m["subject"] for m in sent_mails()] == ["agora pipeline check k1"]
    assert aws_faults.calls["ses.SendRawEmail"] == 3  # botocore's standard retries, within one delivery


def test_throttling_past_the_retries_returns_the_message_and_sqs_sends_it_once(
        aws: dict[str, str], aws_faults: AwsFaults) -> None:
    from chalicelib.core.aws import MAX_ATTEMPTS

    # given SES throttling every attempt of the first delivery
    _queue_a_mail()
    aws_faults.inject("ses", "SendRawEmail", THROTTLED, times=MAX_ATTEMPTS)

    # when the mail worker gets it, then the message fails and stays on the queue, unsent
    try:
        send_retention_emails(poll(aws["RetentionQueueName"]))
    except BatchPartiallyFailed as failed:
        assert len(failed.failed_ids) == 1
    else:
        raise AssertionError("a mail SES refused must fail its message")
    assert sent_mails() == []

    # and SQS's redelivery sends it, once; a further (duplicate) delivery sends nothing
    assert send_retention_emails(poll(aws["RetentionQueueName"])) == 1
    assert len(sent_mails()) == 1
    _queue_a_mail()
    send_retention_emails(poll(aws["RetentionQueueName"]))
    assert len(sent_mails()) == 1
