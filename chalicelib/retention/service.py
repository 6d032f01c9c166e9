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
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$",
                                 description="de or en. Absent: the language the recipient's account prefers "
                                             "when the mail is sent, else English.")
    topic: str | None = Field(default=None, pattern=r"^[a-z_]+$",
                              description="Marketing mails only: the consent topic (e.g. newsletter) they are sent "
                                          "under. Such a mail goes out only while the recipient's account has "
                                          "granted that consent, and carries one-click unsubscribe (RFC 8058). "
                                          "Absent for transactional mails.")


def enqueue_email(message: EmailMessage) -> None:
    sqs.send(get_settings().retention_queue_name, message.model_dump(mode="json"))


def deliver(raw: dict[str, Any]) -> bool:
    """Send one queued email unless it was sent already (or, for a marketing mail, the
    consent is gone); False when nothing was sent."""
    message = EmailMessage.model_validate(raw)
    key = f"email:{message.dedupe_key}"
    if not once.claim(key):
        logger.info("email already sent", extra={"dedupe_key": message.dedupe_key})
        return False
    try:
        return _send(message)
    except Exception:
        once.release(key)
        raise


def _send(message: EmailMessage) -> bool:
    """Round trips: GetItem(email claim) and GetItem(account) unless the message names its
    language and is transactional; GetItem(consent) for a marketing mail; SES SendRawEmail."""
    from chalicelib.accounts import consents
    from chalicelib.accounts.service import find_user_by_email

    account = None
    if message.topic is not None or message.language is None:
        account = find_user_by_email(str(message.to))
        if account is not None and not account.is_active:
            account = None
    unsubscribe = None
    if message.topic is not None:
        if account is None or not consents.is_granted(account.user_id, message.topic):
            logger.info("marketing mail not sent: no consent",
                        extra={"dedupe_key": message.dedupe_key, "topic": message.topic})
            return False
        unsubscribe = mailer.Unsubscribe(one_click_url=consents.one_click_unsubscribe_url(account.user_id,
                                                                                         message.topic),
                                         page_url=consents.unsubscribe_url(account.user_id, message.topic))
    language = message.language or (account.language if account is not None else None)
    mailer.send(str(message.to), message.template, message.context, language=language, unsubscribe=unsubscribe)
    return True


def on_pipeline_check(event: dict[str, Any]) -> None:
    payload = event["payload"]
    enqueue_email(EmailMessage(
        template="pipeline_check", to=payload["notify"],
        context={"check_id": payload["check_id"]}, dedupe_key=f"pipeline_check:{event['event_id']}",
    ))
