"""Retention emails: queued as SQS messages (through the mail port, :mod:`chalicelib.core.mail`),
sent once each. A mail that names a one-time link gets it minted here, at sending."""

from __future__ import annotations

from typing import Any

from chalicelib.accounts import consents, magic_links
from chalicelib.accounts.service import find_user_by_email
from chalicelib.core import once
from chalicelib.core.logging import logger
from chalicelib.core.mail import EmailMessage, MailLink, enqueue_email
from chalicelib.events.registry import Delivered
from chalicelib.platform.events import PipelineCheck
from chalicelib.retention import mailer

__all__ = ["EmailMessage", "MailLink", "deliver", "enqueue_email"]


def deliver(raw: dict[str, Any]) -> bool:
    """Send one queued email unless it was sent already (or, for a marketing mail, the
    consent is gone); False when nothing was sent."""
    message = EmailMessage.model_validate(raw)
    key = f"email:{message.dedupe_key}"
    if not once.begin(key):
        logger.info("email already sent", extra={"dedupe_key": message.dedupe_key})
        return False
    with once.doing(key):  # SES throttling, an outage: SQS delivers the message again
        sent = _send(message)
    return sent


def _send(message: EmailMessage) -> bool:
    """Round trips (besides :func:`deliver`'s PutItem claim in progress and PutItem claim done):
    GetItem(account) unless the message names its
    language and is transactional; GetItem(consent) for a marketing mail; PutItem(link) when
    the mail carries a one-time link; SES SendRawEmail."""
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
    context = dict(message.context)
    if message.link is not None:
        context["link"], seconds = magic_links.mint(str(message.to), message.link)
        context.update(minutes=seconds // 60, hours=seconds // 3600, days=seconds // 86400)
    mailer.send(str(message.to), message.template, context, language=language, unsubscribe=unsubscribe)
    return True


def on_pipeline_check(delivered: Delivered[PipelineCheck]) -> None:
    check = delivered.event
    enqueue_email(EmailMessage(
        template="pipeline_check", to=check.notify,
        context={"check_id": check.check_id}, dedupe_key=f"pipeline_check:{delivered.event_id}",
    ))
