"""Stripe webhooks: verified, deduplicated, dispatched by endpoint and event type.

Stripe signs the raw body; an event that fails verification is a 400 and changes nothing.
Each endpoint has its own secret and its own handler table: the platform endpoint
handles the platform's own events (payments, later refunds and transfers), the Connect
endpoint events about sellers' connected accounts. A signed event proves only that Stripe
sent it to *some* endpoint of ours, so what else it must be is checked here before any
handler runs, and each refusal is a 200 (Stripe would only send it again) with an outcome
that says why, logged as a warning:

- ``wrong_endpoint``: its type is handled, but at the other endpoint;
- ``refused``: a Connect event without ``account`` (the connected account it is about), or
  a platform event with one; handlers refuse too when the event does not match what
  agora knows (they return ``"refused"``).

Each handled event runs its handlers once, even when Stripe delivers it again: a marker per
event and handler, in progress with a lease while the handler runs, done only after it
returned, given back if it fails (:mod:`chalicelib.core.once`). So Stripe's retry does
the work after a failure, or after the Lambda died mid-handler once the lease ran out; a
delivery while another one holds the lease gets a 409 (``webhook_in_progress``) and Stripe
delivers it again later. Event types no endpoint handles are acknowledged and
ignored. Handlers must be quick (Stripe waits for the answer); slow work goes to SQS.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any

from chalicelib.core import once
from chalicelib.core.errors import Code, Conflict
from chalicelib.core.logging import logger
from chalicelib.payments.schemas import WebhookReceipt
from chalicelib.payments.stripe_gateway import verify_webhook


@dataclass(frozen=True)
class Endpoint:
    """One webhook endpoint as configured in Stripe."""

    secret: str  # the settings secret Stripe signs its deliveries with
    connect: bool  # its events are about a connected account and name it in ``account``
    # Event type -> "module:function" of its handlers; strings, so that a webhook imports only
    # the domains its event needs. Each handler gets the event as plain JSON and may return
    # "refused" when the event does not match what agora knows.
    handlers: dict[str, tuple[str, ...]]


ENDPOINTS: dict[str, Endpoint] = {
    "platform": Endpoint("stripe_webhook_secret", connect=False, handlers={
        "payment_intent.succeeded": ("chalicelib.orders.payment:on_payment_intent_succeeded",),
        "payment_intent.payment_failed": ("chalicelib.orders.payment:on_payment_intent_failed",),
    }),
    "connect": Endpoint("stripe_connect_webhook_secret", connect=True, handlers={
        "account.updated": ("chalicelib.sellers.service:on_stripe_account_updated",),
    }),
}


def resolve(target: str) -> Any:
    module_name, function_name = target.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def _refusal(event: dict[str, Any], endpoint_name: str) -> str | None:
    """Why the event may not run at this endpoint; None when it may."""
    endpoint = ENDPOINTS[endpoint_name]
    if event["type"] not in endpoint.handlers:
        elsewhere = any(event["type"] in other.handlers for other in ENDPOINTS.values())
        return "wrong_endpoint" if elsewhere else "ignored"
    if bool(event.get("account")) != endpoint.connect:
        return "refused"
    return None


def _run(event: dict[str, Any], targets: tuple[str, ...]) -> str:
    answers = []
    for target in targets:
        key = f"stripe:{event['id']}:{target}"
        try:
            if not once.begin(key):
                continue
        except once.InProgress:
            raise Conflict("This event is being processed; Stripe will deliver it again.",
                           code=Code.WEBHOOK_IN_PROGRESS) from None
        try:
            answers.append(resolve(target)(event))
        except Exception:
            once.release(key)
            raise
        once.complete(key)
    if not answers:
        return "duplicate"
    return "refused" if "refused" in answers else "processed"


def receive(payload: bytes, signature: str | None, *, endpoint: str) -> WebhookReceipt:
    verify_webhook(payload, signature, ENDPOINTS[endpoint].secret)
    event = json.loads(payload)
    outcome = _refusal(event, endpoint) or _run(event, ENDPOINTS[endpoint].handlers[event["type"]])
    extra = {"event_id": event["id"], "type": event["type"], "outcome": outcome, "endpoint": endpoint,
             "account": event.get("account")}
    if outcome in ("wrong_endpoint", "refused"):
        logger.warning("stripe webhook not applied", extra=extra)
    else:
        logger.info("stripe webhook", extra=extra)
    return WebhookReceipt(event_id=event["id"], type=event["type"], outcome=outcome)
