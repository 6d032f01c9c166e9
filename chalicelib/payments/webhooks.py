"""Stripe webhooks: verified, deduplicated, dispatched by event type.

Stripe signs the raw body; an event that fails verification is a 400 and changes nothing.
Each handled event runs its handlers once, even when Stripe delivers it again (a
conditional write per event and handler, given back if the handler fails, so that
Stripe's retry can do the work). Event types without handlers are acknowledged and
ignored. Handlers must be quick (Stripe waits for the answer); slow work goes to SQS.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from chalicelib.core import once
from chalicelib.core.logging import logger
from chalicelib.payments.schemas import WebhookReceipt
from chalicelib.payments.stripe_gateway import verify_webhook

# Event type -> "module:function" of its handlers; strings, so that a webhook imports only
# the domains its event needs. Each handler gets the event as plain JSON.
HANDLERS: dict[str, tuple[str, ...]] = {
    "account.updated": ("chalicelib.sellers.service:on_stripe_account_updated",),
    "payment_intent.succeeded": ("chalicelib.orders.payment:on_payment_intent_succeeded",),
    "payment_intent.payment_failed": ("chalicelib.orders.payment:on_payment_intent_failed",),
}

# Stripe signs Connect events (about connected accounts) and the platform's own events with
# the secrets of two different endpoints.
ENDPOINT_SECRETS = {"platform": "stripe_webhook_secret", "connect": "stripe_connect_webhook_secret"}


def _resolve(target: str) -> Any:
    module_name, function_name = target.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def receive(payload: bytes, signature: str | None, *, endpoint: str) -> WebhookReceipt:
    verify_webhook(payload, signature, ENDPOINT_SECRETS[endpoint])
    event = json.loads(payload)
    targets = HANDLERS.get(event["type"], ())
    outcome = "ignored" if not targets else "duplicate"
    for target in targets:
        key = f"stripe:{event['id']}:{target}"
        if not once.claim(key):
            continue
        try:
            _resolve(target)(event)
        except Exception:
            once.release(key)
            raise
        outcome = "processed"
    logger.info("stripe webhook", extra={"event_id": event["id"], "type": event["type"], "outcome": outcome,
                                         "endpoint": endpoint})
    return WebhookReceipt(event_id=event["id"], type=event["type"], outcome=outcome)
