"""Events and their delivery, on top of localstripe's signed webhooks.

localstripe signs each event like Stripe (``Stripe-Signature: t=...,v1=HMAC-SHA256(secret, "t.payload")``) and
posts it to every endpoint configured through ``POST /_config/webhooks/{id}``. This adds what Connect needs:

* events about a connected account carry ``account`` (Stripe's Connect events do), and ``*.updated`` events
  carry ``data.previous_attributes``;
* an endpoint may be configured with ``connect=true`` (only events from connected accounts, like a Stripe
  Connect endpoint) or ``connect=false`` (only the platform's own events); without the flag it receives both,
  as localstripe always did;
* ``DELETE /_config/webhooks/{id}`` removes an endpoint.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web
from localstripe import webhooks as localstripe_webhooks
from localstripe.resources import Event, StripeObject

from dev.fake_stripe.errors import stripe_error
from dev.fake_stripe.params import read_params, to_bool

logger = logging.getLogger("dev.fake_stripe.webhooks")

# Delivery waits this long so the API response that caused an event reaches the caller first, as with Stripe.
DELIVERY_DELAY_SECONDS = 1.0

_connect_only: dict[str, bool | None] = {}


def emit(event_type: str, obj: StripeObject, *, account: str | None = None,
         previous_attributes: dict[str, Any] | None = None) -> Event:
    """Record an event (listable at /v1/events) and schedule its delivery to the configured endpoints."""
    event = Event(event_type, obj)
    if account is not None:
        event.account = account
    if previous_attributes:
        event.data["previous_attributes"] = previous_attributes
    localstripe_webhooks.schedule_webhook(event)
    return event


def previous_attributes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The top-level values that changed, as they were before (Stripe's ``data.previous_attributes``)."""
    return {key: before.get(key) for key in after if before.get(key) != after.get(key)}


def _wants(webhook_id: str, webhook: Any, event: Event) -> bool:
    if webhook.events is not None and event.type not in webhook.events:
        return False
    connect_only = _connect_only.get(webhook_id)
    is_connect_event = getattr(event, "account", None) is not None
    return connect_only is None or connect_only == is_connect_event


async def _deliver(event: Event) -> None:
    """localstripe's delivery, filtered per endpoint by the Connect flag."""
    payload = json.dumps(event._export(), indent=2, sort_keys=True).encode("utf-8")
    signed_payload = b"%d.%s" % (event.created, payload)
    await asyncio.sleep(DELIVERY_DELAY_SECONDS)
    for webhook_id, webhook in list(localstripe_webhooks._webhooks.items()):
        if not _wants(webhook_id, webhook, event):
            continue
        signature = hmac.new(webhook.secret.encode("utf-8"), signed_payload, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Stripe-Signature": f"t={event.created},v1={signature}"}
        try:
            async with aiohttp.ClientSession() as session, \
                    session.post(webhook.url, data=payload, headers=headers) as response:
                logger.info("webhook %s %s -> %s: %d", event.type, event.id, webhook.url, response.status)
        except (aiohttp.ClientError, OSError) as error:
            logger.info("webhook %s %s -> %s failed: %s", event.type, event.id, webhook.url, error)


def install() -> None:
    """Route localstripe's own events (payment_intent.succeeded, customer.created, ...) through ``_deliver``."""
    localstripe_webhooks._send_webhook = _deliver


async def configure_webhook(request: web.Request) -> web.Response:
    """``POST /_config/webhooks/{id}`` with url, secret, optional events[] and connect."""
    webhook_id = request.match_info["id"]
    params = await read_params(request)
    url, secret, events = params.get("url"), params.get("secret"), params.get("events")
    if not isinstance(url, str) or not url.startswith("http") or not isinstance(secret, str) or not secret:
        raise stripe_error(400, "A webhook needs an http(s) url and a secret.", param="url")
    if events is not None and not (isinstance(events, list) and all(isinstance(e, str) for e in events)):
        raise stripe_error(400, "events must be a list of event types.", param="events")
    localstripe_webhooks.register_webhook(webhook_id, url, secret, events)
    _connect_only[webhook_id] = to_bool(params.get("connect"), "connect")
    return web.Response()


async def delete_webhook(request: web.Request) -> web.Response:
    webhook_id = request.match_info["id"]
    localstripe_webhooks._webhooks.pop(webhook_id, None)
    _connect_only.pop(webhook_id, None)
    return web.Response()
