"""Stripe webhooks: only Stripe's signed events count, each runs its handlers once, and
types nobody handles are acknowledged."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from chalicelib.payments import webhooks
from tests.unit.payments.conftest import CONNECT, PLATFORM, PLATFORM_SECRET, deliver, post, signed

handled: list[dict[str, Any]] = []


def flaky(event: dict[str, Any]) -> None:
    """A handler that fails on its first call, as a handler does when DynamoDB throttles."""
    handled.append(event)
    if len(handled) == 1:
        raise RuntimeError("throttled")


@pytest.fixture(autouse=True)
def test_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    handled.clear()
    monkeypatch.setitem(webhooks.HANDLERS, "test.flaky", (f"{__name__}:flaky",))
    monkeypatch.setitem(webhooks.HANDLERS, "test.recorded", (f"{__name__}:record",))


def record(event: dict[str, Any]) -> None:
    handled.append(event)


def _event(event_type: str, event_id: str = "evt_1", **data: Any) -> dict[str, Any]:
    return {"id": event_id, "object": "event", "type": event_type, "created": int(time.time()),
            "livemode": False, "data": {"object": {"id": "obj_1", **data}}}


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
    from tests.unit.conftest import call

    _, document, _ = call(api, "GET", "/openapi.json")

    for path in (PLATFORM, CONNECT):
        operation = document["paths"][path]["post"]
        assert "security" not in operation
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/WebhookReceipt"}
