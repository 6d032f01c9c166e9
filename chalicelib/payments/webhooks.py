"""Stripe webhooks: verified, deduplicated, dispatched by endpoint and event type.

Stripe signs the raw body; an event that fails verification is a 400 and changes nothing.
Each endpoint has its own secret and its own handler table, which the domains fill through
:func:`handles` (in their ``subscriptions`` modules): the platform endpoint
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

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from chalicelib.core.errors import Code, Conflict
from chalicelib.core.logging import logger
from chalicelib.payments.stripe_gateway import verify_webhook

if TYPE_CHECKING:
    from chalicelib.payments.schemas import WebhookReceipt

# A handler gets the event as plain JSON and may return "refused" when the event does not
# match what agora knows.
HandlerFunction = Callable[[dict[str, Any]], str | None]
F = TypeVar("F", bound=HandlerFunction)


@dataclass(frozen=True)
class Handler:
    """``marker`` names the handler in its once-markers (``stripe:<event id>:<marker>``)."""

    marker: str
    handle: HandlerFunction


@dataclass(frozen=True)
class Endpoint:
    """One webhook endpoint as configured in Stripe."""

    secret: str  # the settings secret Stripe signs its deliveries with
    connect: bool  # its events are about a connected account and name it in ``account``
    # Event type -> its handlers, as the domains registered them (:func:`handles`).
    handlers: dict[str, tuple[Handler, ...]] = field(default_factory=dict)


ENDPOINTS: dict[str, Endpoint] = {
    "platform": Endpoint("stripe_webhook_secret", connect=False),
    "connect": Endpoint("stripe_connect_webhook_secret", connect=True),
}


def handles(event_type: str, *, endpoint: str, marker: str | None = None) -> Callable[[F], F]:
    """Register the decorated function as a handler of Stripe's ``event_type`` at ``endpoint``
    (``platform`` or ``connect``); a domain does so in its ``subscriptions`` module, which
    app.py imports. A type belongs to one endpoint only. ``marker`` keeps the name a
    handler's once-markers had before it moved (default ``module:function``), so an event
    Stripe delivers again across that deploy is not handled twice."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"no Stripe webhook endpoint {endpoint!r}")
    elsewhere = [name for name, other in ENDPOINTS.items() if name != endpoint and event_type in other.handlers]
    if elsewhere:
        raise ValueError(f"{event_type!r} is handled at the {elsewhere[0]} endpoint already")

    def register(function: F) -> F:
        handler = Handler(marker or f"{function.__module__}:{function.__qualname__}", function)
        registered = ENDPOINTS[endpoint].handlers.get(event_type, ())
        if any(h.marker == handler.marker for h in registered):
            raise ValueError(f"{handler.marker} handles {event_type!r} twice")
        ENDPOINTS[endpoint].handlers[event_type] = (*registered, handler)
        return function

    return register


def _refusal(event: dict[str, Any], endpoint_name: str) -> str | None:
    """Why the event may not run at this endpoint; None when it may."""
    endpoint = ENDPOINTS[endpoint_name]
    if event["type"] not in endpoint.handlers:
        elsewhere = any(event["type"] in other.handlers for other in ENDPOINTS.values())
        return "wrong_endpoint" if elsewhere else "ignored"
    if bool(event.get("account")) != endpoint.connect:
        return "refused"
    return None


def _run(event: dict[str, Any], handlers: tuple[Handler, ...]) -> str:
    from chalicelib.core import once  # lazy: the domains' subscriptions import this module at cold start

    answers = []
    for handler in handlers:
        key = f"stripe:{event['id']}:{handler.marker}"
        try:
            if not once.begin(key):
                continue
        except once.InProgress:
            raise Conflict("This event is being processed; Stripe will deliver it again.",
                           code=Code.WEBHOOK_IN_PROGRESS) from None
        with once.doing(key):
            answers.append(handler.handle(event))
    if not answers:
        return "duplicate"
    return "refused" if "refused" in answers else "processed"


def receive(payload: bytes, signature: str | None, *, endpoint: str) -> WebhookReceipt:
    from chalicelib.payments.schemas import WebhookReceipt  # lazy: the domains import this module at cold start

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
