from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.retention import service
from tests.support.mail import sent_mails


def _message(**overrides: object) -> dict:
    return {"template": "pipeline_check", "to": "buyer@example.com", "context": {"check_id": "k1"},
            "dedupe_key": "pipeline_check:k1", **overrides}


def test_a_queued_mail_is_rendered_and_sent_through_ses() -> None:
    assert service.deliver(_message()) is True
    [mail] = sent_mails()
    assert mail["to"] == ["buyer@example.com"]
    assert mail["subject"] == "agora pipeline check k1"
    assert "Check id: k1" in mail["body"]
    assert "<code>k1</code>" in mail["html"]


def test_a_redelivered_message_is_not_sent_twice() -> None:
    assert service.deliver(_message()) is True
    assert service.deliver(_message()) is False
    assert len(sent_mails()) == 1


def test_a_failed_send_can_be_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.retention import mailer

    real_send = mailer.send
    attempts: list[int] = []

    def failing_once(*args: object, **kwargs: object) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("SES unavailable")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(mailer, "send", failing_once)
    with pytest.raises(ConnectionError):
        service.deliver(_message())
    assert service.deliver(_message()) is True
    assert len(sent_mails()) == 1


def test_a_malformed_message_is_refused_before_sending() -> None:
    with pytest.raises(ValidationError):
        service.deliver(_message(to="not-an-email"))
    assert sent_mails() == []


def test_missing_template_variables_fail_loudly() -> None:
    with pytest.raises(Exception, match="check_id"):
        service.deliver(_message(context={}))
    assert sent_mails() == []
