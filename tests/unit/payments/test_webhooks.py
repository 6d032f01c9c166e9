"""Stripe webhooks: only Stripe's signed events count, each runs its handlers once and only
at its own endpoint, and types nobody handles are acknowledged."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from chalicelib.payments import webhooks
from tests.support.faults import LambdaKilled
from tests.support.http import call
from tests.support.stripe import CONNECT, CONNECT_SECRET, PLATFORM, PLATFORM_SECRET, deliver, post, signed

handled: list[dict[str, Any]] = []


def flaky(event: dict[str, Any]) -> None:
    """A handler that fails on its first call, as a handler does when DynamoDB throttles."""
    handled.append(event)
    if len(handled) == 1:
        raise RuntimeError("throttled")


@pytest.fixture(autouse=True)
def test_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    handled.clear()
    monkeypatch.setitem(webhooks.ENDPOINTS["connect"].handlers, "test.flaky", _handler(flaky))
    monkeypatch.setitem(webhooks.ENDPOINTS["connect"].handlers, "test.recorded", _handler(record))
    monkeypatch.setitem(webhooks.ENDPOINTS["platform"].handlers, "test.platform", _handler(record))


def record(event: dict[str, Any]) -> None:
    handled.append(event)


def _handler(function: Any) -> tuple[webhooks.Handler, ...]:
    """A test's own handler, for ``monkeypatch.setitem`` on an endpoint's table."""
    return (webhooks.Handler(f"{__name__}:{function.__name__}", function),)


def _event(event_type: str, event_id: str = "evt_1", *, account: str | None = "acct_1", **data: Any) -> dict[str, Any]:
    """An event as Stripe sends it; Connect events name their connected ``account``."""
    event = {"id": event_id, "object": "event", "type": event_type, "created": int(time.time()),
             "livemode": False, "data": {"object": {"id": "obj_1", **data}}}
    return {**event, "account": account} if account else event


def _markers() -> list[str]:
    import boto3

    from chalicelib.core.settings import get_settings

    items = boto3.client("dynamodb").scan(TableName=get_settings().table_name)["Items"]
    return sorted(i["PK"]["S"] for i in items if i["PK"]["S"].startswith("ONCE#"))


def test_a_handled_event_is_processed_once_however_often_it_arrives(api: Any) -> None:
    event = _event("test.recorded", name="Kaffeerösterei Bohne & Co")

    answers = [deliver(api, event) for _ in range(3)]

    assert [status for status, _ in answers] == [200, 200, 200]
    assert [body["outcome"] for _, body in answers] == ["processed", "duplicate", "duplicate"]
    assert answers[0][1] == {"received": True, "event_id": "evt_1", "type": "test.recorded", "outcome": "processed"}
    assert handled == [event]


def test_a_failed_handler_is_retried_when_stripe_delivers_again(api: Any) -> None:
    event = _event("test.flaky")

    status, body = deliver(api, event)
    assert (status, body["error"]["code"]) == (500, "internal_error")

    assert deliver(api, event)[1]["outcome"] == "processed"
    assert deliver(api, event)[1]["outcome"] == "duplicate"
    assert len(handled) == 2


@pytest.mark.parametrize("endpoint", [PLATFORM, CONNECT])
def test_types_without_handlers_are_acknowledged_and_leave_no_trace(api: Any, endpoint: str) -> None:
    secret = PLATFORM_SECRET if endpoint == PLATFORM else None
    event = _event("payment_intent.created")

    status, body = deliver(api, event, endpoint=endpoint, **({"secret": secret} if secret else {}))

    assert (status, body["outcome"]) == (200, "ignored")
    assert _markers() == []


@pytest.mark.parametrize("forge", ["missing", "other_endpoints_secret", "tampered", "too_old", "garbage"])
def test_unsigned_or_forged_deliveries_are_refused_and_change_nothing(api: Any, forge: str) -> None:
    payload = json.dumps(_event("test.recorded")).encode()
    headers = {
        "missing": {},
        "other_endpoints_secret": signed(payload, PLATFORM_SECRET),
        "tampered": signed(payload.replace(b"obj_1", b"obj_2")),
        "too_old": signed(payload, at=int(time.time()) - 3600),
        "garbage": {"Stripe-Signature": "nonsense"},
    }[forge]

    status, body = post(api, payload, headers, CONNECT)

    assert status == 400
    assert body["error"]["code"] == "invalid_signature"
    assert handled == []
    assert _markers() == []


def test_both_endpoints_are_documented_without_authentication(api: Any) -> None:
    _, document, _ = call(api, "GET", "/openapi.json")

    for path in (PLATFORM, CONNECT):
        operation = document["paths"][path]["post"]
        assert "security" not in operation
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/WebhookReceipt"}


def test_every_registered_handler_is_callable() -> None:
    registered = [handler for endpoint in webhooks.ENDPOINTS.values()
                  for handlers in endpoint.handlers.values() for handler in handlers]

    assert registered
    assert all(callable(handler.handle) for handler in registered)


def test_a_type_cannot_be_registered_at_both_endpoints() -> None:
    with pytest.raises(ValueError, match="connect endpoint already"):
        webhooks.handles("account.updated", endpoint="platform")


def test_each_event_type_belongs_to_one_endpoint() -> None:
    platform, connect = (set(webhooks.ENDPOINTS[name].handlers) for name in ("platform", "connect"))

    assert platform.isdisjoint(connect)
    assert {"payment_intent.succeeded", "payment_intent.payment_failed"} <= platform
    assert "account.updated" in connect


@pytest.mark.parametrize(("event_type", "home", "sent_to"), [
    ("account.updated", "connect", "platform"),
    ("payment_intent.succeeded", "platform", "connect"),
    ("payment_intent.payment_failed", "platform", "connect"),
    ("test.recorded", "connect", "platform"),
])
def test_an_event_at_the_other_endpoint_is_acknowledged_and_not_run(
        api: Any, monkeypatch: pytest.MonkeyPatch, event_type: str, home: str, sent_to: str) -> None:
    # given the event's own endpoint would only record it
    monkeypatch.setitem(webhooks.ENDPOINTS[home].handlers, event_type, _handler(record))
    event = _event(event_type, account="acct_1" if sent_to == "connect" else None)

    # when it arrives, correctly signed, at the other endpoint
    status, body = deliver(api, event, endpoint=PLATFORM if sent_to == "platform" else CONNECT,
                           secret=PLATFORM_SECRET if sent_to == "platform" else CONNECT_SECRET)

    # then
    assert (status, body["outcome"]) == (200, "wrong_endpoint")
    assert handled == []
    assert _markers() == []


@pytest.mark.parametrize(("endpoint", "event_type", "account"), [
    (PLATFORM, "test.platform", "acct_1"),  # an event about a connected account at the platform endpoint
    (PLATFORM, "payment_intent.succeeded", "acct_1"),
    (CONNECT, "test.recorded", None),  # a Connect event that names no connected account
])
def test_an_event_with_the_wrong_kind_of_account_is_refused_and_not_run(
        api: Any, monkeypatch: pytest.MonkeyPatch, endpoint: str, event_type: str, account: str | None) -> None:
    monkeypatch.setitem(webhooks.ENDPOINTS["platform"].handlers, "payment_intent.succeeded", _handler(record))
    secret = PLATFORM_SECRET if endpoint == PLATFORM else CONNECT_SECRET

    status, body = deliver(api, _event(event_type, account=account), endpoint=endpoint, secret=secret)

    assert (status, body["outcome"]) == (200, "refused")
    assert handled == []
    assert _markers() == []


def test_a_handler_that_refuses_the_event_is_reported_once(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(webhooks.ENDPOINTS["connect"].handlers, "test.refusing", _handler(refuse))
    event = _event("test.refusing")

    answers = [deliver(api, event)[1]["outcome"] for _ in range(2)]

    assert answers == ["refused", "duplicate"]
    assert handled == [event]


def refuse(event: dict[str, Any]) -> str:
    handled.append(event)
    return "refused"


def killed_once(event: dict[str, Any]) -> None:
    """A handler whose first Lambda times out mid-work (nothing raised that code could catch)."""
    handled.append(event)
    if len(handled) == 1:
        raise LambdaKilled("Task timed out after 30.00 seconds")


def test_a_delivery_killed_mid_handler_is_redone_after_its_lease_not_skipped(
        api: Any, monkeypatch: pytest.MonkeyPatch, clock: Any) -> None:
    from chalicelib.core import once

    monkeypatch.setitem(webhooks.ENDPOINTS["connect"].handlers, "test.killed", _handler(killed_once))
    event = _event("test.killed")
    # given a delivery whose Lambda died inside the handler
    with pytest.raises(LambdaKilled):
        deliver(api, event)

    # when Stripe delivers it again while the lease holds, then Stripe is told to come back later
    status, body = deliver(api, event)
    assert (status, body["error"]["code"]) == (409, "webhook_in_progress")
    # and after the lease the handler runs, once
    clock.advance(seconds=once.DEFAULT_LEASE_SECONDS + 1)
    assert deliver(api, event)[1]["outcome"] == "processed"
    assert deliver(api, event)[1]["outcome"] == "duplicate"
    assert len(handled) == 2
