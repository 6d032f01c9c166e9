"""Rendering and sending transactional and retention emails through SES."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from chalicelib.core.aws import client
from chalicelib.core.settings import get_settings

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )


def render(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, text and HTML of ``template`` (``<name>.subject.txt``, ``.txt``, ``.html``)."""
    env = _environment()
    subject = env.get_template(f"{template}.subject.txt").render(**context).strip()
    text = env.get_template(f"{template}.txt").render(**context)
    html = env.get_template(f"{template}.html").render(**context)
    return subject, text, html


def send(to: str, template: str, context: dict[str, Any]) -> str:
    subject, text, html = render(template, context)
    response = client("ses").send_email(
        Source=get_settings().sender_email,
        Destination={"ToAddresses": [to]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": html, "Charset": "UTF-8"}},
        },
    )
    return response["MessageId"]
