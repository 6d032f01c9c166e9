"""The mails agora queued and sent, as the mail worker and the local outbox see them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.queues import received


def queued_mails(template: str | None = None) -> list[dict[str, Any]]:
    """Mails waiting on the retention queue (optionally of one template), taken off it."""
    from chalicelib.core.settings import get_settings

    mails = received(get_settings().retention_queue_name)
    return [m for m in mails if template is None or m["template"] == template]


def sent_mails() -> list[dict[str, Any]]:
    """The mails SES accepted, as the local outbox shows them (subject, body, html, headers…)."""
    from moto.core import DEFAULT_ACCOUNT_ID

    from dev.fake_aws import sent_mails as outbox

    return outbox("eu-central-1", DEFAULT_ACCOUNT_ID)


def deliver_mails() -> list[dict[str, Any]]:
    """Send every mail waiting on the retention queue, as the mail worker would (one-time
    links are minted now); returns every mail sent so far."""
    from chalicelib.core.settings import get_settings
    from chalicelib.retention.service import deliver

    while waiting := received(get_settings().retention_queue_name):
        for message in waiting:
            deliver(message)
    return sent_mails()


_LINK = re.compile(r"https?://[^\s\"<>]+?[?&]token=[^\s\"<>&]+")


def mailed_link(to: str) -> str:
    """The newest one-time link mailed to ``to`` (queued mails are sent first)."""
    mails = [m for m in deliver_mails() if to.lower() in (a.lower() for a in m["to"])]
    links = [link for mail in mails for link in _LINK.findall(mail["body"] or "")]
    assert links, f"no link was mailed to {to}"
    return links[-1]


def link_token(link: str) -> str:
    return parse_qs(urlparse(link).query)["token"][0]


def mailed_token(to: str) -> str:
    """The token of the newest one-time link mailed to ``to``."""
    return link_token(mailed_link(to))


def forget_pacing() -> None:
    """Let mails to every address go again at once, as if the pacing gap had passed (tests
    that mail one address twice in a row; pacing itself is tested in core/test_throttle)."""
    import boto3

    from chalicelib.core.settings import get_settings

    table = get_settings().table_name
    dynamodb = boto3.client("dynamodb")
    for item in dynamodb.scan(TableName=table, FilterExpression="begins_with(PK, :p)",  # a test may scan
                              ExpressionAttributeValues={":p": {"S": "PACE#"}})["Items"]:
        dynamodb.delete_item(TableName=table, Key={"PK": item["PK"], "SK": item["SK"]})
