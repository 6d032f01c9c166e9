"""Retention emails: queued as SQS messages, sent once each."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, EmailStr, Field

from chalicelib.core import once, sqs
from chalicelib.core.logging import logger
from chalicelib.core.settings import get_settings
from chalicelib.retention import mailer


class EmailMessage(BaseModel):
    """A message on the retention email queue."""

    template: str = Field(pattern=r"^[a-z_]+$")
    to: EmailStr
    context: dict[str, Any] = Field(default_factory=dict)
    dedupe_key: str = Field(min_length=1, max_length=300,
                            description="Same key, same mail: a redelivered message is not sent twice.")


def enqueue_email(message: EmailMessage) -> None:
    sqs.send(get_settings().retention_queue_name, message.model_dump(mode="json"))


def deliver(raw: dict[str, Any]) -> bool:
    """Send one queued email unless it was sent already; False when it was."""
    message = EmailMessage.model_validate(raw)
    key = f"email:{message.dedupe_key}"
    if not once.claim(key):
        logger.info("email already sent", extra={"dedupe_key": message.dedupe_key})
        return False
    try:
        mailer.send(message.to, message.template, message.context)
    except Exception:
        once.release(key)
        raise
    return True


def on_pipeline_check(event: dict[str, Any]) -> None:
    payload = event["payload"]
    enqueue_email(EmailMessage(
        template="pipeline_check", to=payload["notify"],
        context={"check_id": payload["check_id"]}, dedupe_key=f"pipeline_check:{event['event_id']}",
    ))
