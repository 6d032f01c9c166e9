"""The typed events as app.py wires them: every subscriber and Stripe webhook handler is
callable and subscribed to a declared type, the Lambda knows every type agora's code
declares (``new_event`` takes nothing but a declared model, so that is every type it can
publish), each payload survives the trip through JSON, a message that cannot be read fails
into the dead-letter queue, and the README's table says what the registry says."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import BaseModel

import app  # noqa: F401  (registers every event before the tests below are parametrized by them)
from chalicelib.core.sqs import BatchPartiallyFailed
from chalicelib.events import registry
from chalicelib.events.registry import DomainEvent
from chalicelib.events.workers import handle_events
from chalicelib.payments import webhooks
from tests.support.queues import bodies, poll, queue_url, received

ROOT = Path(__file__).resolve().parents[3]


def _agoras_events() -> dict[str, type[DomainEvent]]:
    """Every event agora's own code declares (tests declare a few of their own)."""
    return {t: cls for t, cls in registry.event_classes().items() if cls.__module__.startswith("chalicelib.")}


def test_every_subscriber_is_callable_and_subscribed_to_a_declared_type() -> None:
    subscriptions = registry.subscriptions()

    assert subscriptions
    for event_type, subscribers in subscriptions.items():
        assert registry.event_class(event_type).event_type == event_type
        assert subscribers
        assert all(callable(s.handle) for s in subscribers), event_type


def test_every_webhook_handler_is_callable_and_at_its_own_endpoint() -> None:
    platform, connect = (webhooks.ENDPOINTS[name].handlers for name in ("platform", "connect"))

    assert set(platform) >= {"payment_intent.succeeded", "payment_intent.payment_failed"}
    assert "account.updated" in connect
    assert set(platform).isdisjoint(connect)
    assert all(callable(h.handle) for handlers in (*platform.values(), *connect.values()) for h in handlers)


# The once-markers' names from before events were typed: kept, so an event (or a Stripe
# event) delivered again across that deploy is not handled a second time.
MARKERS_BEFORE_TYPED_EVENTS = {
    "system.pipeline_check": {"chalicelib.retention.service:on_pipeline_check"},
    "order.paid": {"chalicelib.customers.service:on_order_paid", "chalicelib.orders.payouts:on_order_paid"},
    "order.refund_requested": {"chalicelib.orders.refunds:on_refund_requested"},
    "catalog.stock_changed": {"chalicelib.catalog.stock:on_stock_changed"},
    "account.updated": {"chalicelib.customers.service:on_account_updated"},
    "account.erased": {"chalicelib.customers.service:on_account_updated",
                       "chalicelib.orders.privacy:on_account_erased",
                       "chalicelib.messages.subscriptions:erase_buyer_messages",
                       "chalicelib.reviews.subscriptions:on_account_erased"},  # added since
    "account.created": {"chalicelib.accounts.subscribers:on_account_created"},
    "customer.contact_imported": {"chalicelib.customers.invitations:on_contact_imported"},
    "account.invitation_accepted": {"chalicelib.customers.invitations:on_invitation_accepted"},
    "marketplace.settings_changed": {"chalicelib.sellers.service:on_settings_changed"},
    "sellers.approval_sweep": {"chalicelib.sellers.service:on_approval_sweep"},
    # subscribed since they were typed: their markers are their own names
    "message.posted": {"chalicelib.messages.subscriptions:notify_other_side",
                       "chalicelib.messages.subscriptions:count_first_response"},
    "order.status_changed": {"chalicelib.messages.subscriptions:count_fulfilment"},
    "dispute.opened": {"chalicelib.messages.subscriptions:count_dispute_opened"},
    "dispute.resolved": {"chalicelib.messages.subscriptions:count_dispute_resolved"},
    # subscribers added since keep the names they started with
    "question.asked": {"chalicelib.reviews.subscriptions:on_question_asked"},
    "question.answered": {"chalicelib.reviews.subscriptions:on_question_answered"},
    "review.seller_rating_counted": {"chalicelib.messages.subscriptions:count_seller_rating"},
}
# Subscribers that arrived after events were typed keep their default marker (module:function).
LOYALTY = "chalicelib.loyalty.subscriptions"
for event_type, name in (("order.paid", "on_order_paid"), ("order.refund_requested", "on_refund_requested"),
                         ("order.status_changed", "on_order_status_changed"),
                         ("account.created", "on_account_created"), ("account.consent_granted", "on_consent_granted")):
    MARKERS_BEFORE_TYPED_EVENTS.setdefault(event_type, set()).add(f"{LOYALTY}:{name}")
MARKERS_BEFORE_TYPED_EVENTS["order.paid"].add("chalicelib.promotions.subscriptions:on_order_paid")
MARKERS_BEFORE_TYPED_EVENTS["order.paid"].add("chalicelib.orders.subscriptions:on_first_order_paid")
MARKERS_BEFORE_TYPED_EVENTS["order.status_changed"].add("chalicelib.promotions.subscriptions:on_order_status_changed")
MARKERS_BEFORE_TYPED_EVENTS["order.payment_status_changed"] = {
    "chalicelib.orders.subscriptions:on_payment_status_changed"}
MARKERS_BEFORE_TYPED_EVENTS["order.paid"].add("chalicelib.analytics.subscriptions:on_order_paid")
MARKERS_BEFORE_TYPED_EVENTS["order.refund_requested"].add("chalicelib.analytics.subscriptions:on_refund_requested")
RETENTION = "chalicelib.retention.subscriptions"
for event_type, name in (("order.paid", "on_order_paid"), ("order.status_changed", "on_order_status_changed"),
                         ("order.refund_requested", "on_refund_requested")):
    MARKERS_BEFORE_TYPED_EVENTS[event_type].add(f"{RETENTION}:{name}")
WEBHOOK_MARKERS_BEFORE = {
    "payment_intent.succeeded": {"chalicelib.orders.payment:on_payment_intent_succeeded"},
    "payment_intent.payment_failed": {"chalicelib.orders.payment:on_payment_intent_failed"},
    "account.updated": {"chalicelib.sellers.service:on_stripe_account_updated"},
    "payment_intent.processing": {"chalicelib.orders.subscriptions:on_payment_intent_processing"},
}


def test_subscribers_and_webhook_handlers_keep_their_once_markers_names() -> None:
    subscribed = {t: {s.marker for s in subscribers} for t, subscribers in registry.subscriptions().items()}
    handled = {t: {h.marker for h in handlers} for endpoint in webhooks.ENDPOINTS.values()
               for t, handlers in endpoint.handlers.items()}

    assert subscribed == MARKERS_BEFORE_TYPED_EVENTS
    assert handled == WEBHOOK_MARKERS_BEFORE


def test_the_lambda_knows_every_event_type_agora_declares() -> None:
    # given every event declared in a package's events module (imported here one by one)
    import importlib

    declared = set()
    for module_path in sorted((ROOT / "chalicelib").glob("*/events.py")):
        module = importlib.import_module(f"chalicelib.{module_path.parent.name}.events")
        declared |= {cls.event_type for cls in vars(module).values() if isinstance(cls, type)
                     and issubclass(cls, DomainEvent) and "event_type" in cls.__dict__}

    # when a fresh interpreter imports only app.py, as the events Lambda does
    probe = ("import json, app; from chalicelib.events import registry; "
             "print(json.dumps(sorted(registry.event_classes())))")
    known = json.loads(subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                                      check=True).stdout)

    # then it knows every one of them (and they are all the registry holds)
    assert declared
    assert set(known) == declared == set(_agoras_events())


# --- payloads: model -> JSON -> model -------------------------------------------------------------

def _sample(annotation: Any, name: str) -> Any:
    """A value of the field's type, made by hand (each event below gets one of every field)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return _sample(next(a for a in args if a is not type(None)), name)
    if origin is list:
        return [_sample(args[0], name), _sample(args[0], name)]
    if origin is dict:
        return {"PK": {"S": f"{name}#1"}, "SK": {"S": "PROFILE"}}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation(**_fields(annotation))
    return {str: f"{name}-Ünïcode & co", int: 4200, bool: True}[annotation]


def _fields(model: type[BaseModel], *, optional: bool = True) -> dict[str, Any]:
    return {name: _sample(field.annotation, name) for name, field in model.model_fields.items()
            if optional or field.is_required()}


@pytest.mark.parametrize("optional", [True, False], ids=["every_field", "required_fields_only"])
@pytest.mark.parametrize("event_type", sorted(_agoras_events()))
def test_each_payload_survives_the_trip_through_json(event_type: str, optional: bool) -> None:
    cls = registry.event_class(event_type)
    event = cls(**_fields(cls, optional=optional))

    on_the_wire = json.loads(json.dumps(event.payload()))
    delivered = registry.parse({"event_id": "evt_1", "type": event_type, "version": cls.event_version,
                                "occurred_at": "2026-12-01T00:00:00+00:00", "payload": on_the_wire})

    assert delivered.event == event
    assert delivered.event.payload() == on_the_wire
    # fields a producer did not set travel not at all, as in the payload dicts before
    assert set(on_the_wire) == {f.alias or n for n, f in cls.model_fields.items() if optional or f.is_required()}


def test_a_keyword_field_travels_under_its_own_name() -> None:
    from chalicelib.orders.events import OrderStatusChanged

    moved = OrderStatusChanged(order_id="ord_1", seller_id="sel_1", user_id="usr_1", from_="paid", to="shipped",
                               at="2026-12-01T00:00:00+00:00")

    assert moved.payload() == {"order_id": "ord_1", "seller_id": "sel_1", "user_id": "usr_1", "from": "paid",
                               "to": "shipped", "at": "2026-12-01T00:00:00+00:00"}


def test_a_producer_cannot_send_a_field_its_model_does_not_declare() -> None:
    from pydantic import ValidationError

    from chalicelib.platform.events import PipelineCheck

    with pytest.raises(ValidationError):
        PipelineCheck(check_id="c1", notify="ops@example.com", notfy="typo@example.com")


def test_an_event_type_cannot_be_declared_twice() -> None:
    with pytest.raises(TypeError, match="declared twice"):
        type("AnotherPipelineCheck", (DomainEvent,), {"event_type": "system.pipeline_check",
                                                      "__module__": __name__})


# --- the failure path -------------------------------------------------------------------------------

def test_unknown_types_and_unreadable_payloads_end_in_the_dead_letter_queue(aws: dict[str, str]) -> None:
    # given one good event between an unknown type and a payload that does not fit its model
    events = aws["EventsQueueName"]
    for event_id, event_type, payload in (
            ("evt_unknown", "nobody.declares_this", {}),
            ("evt_good", "system.pipeline_check", {"check_id": "c1", "notify": "ops@example.com"}),
            ("evt_unfit", "account.erased", {"user_id": ["not", "a", "string"], "erased_at": "2026-12-01"})):
        boto3.client("sqs").send_message(QueueUrl=queue_url(events), MessageBody=json.dumps({
            "event_id": event_id, "type": event_type, "version": 1, "occurred_at": "", "payload": payload}))

    # when Lambda's event source polls the queue until it is empty
    for _ in range(12):
        batch = poll(events)
        if batch is None:
            break
        with contextlib.suppress(BatchPartiallyFailed):
            handle_events(batch)

    # then both bad ones are in the events DLQ, and the good one ran once
    assert sorted(m["event_id"] for m in bodies(f"{events}-dlq")) == ["evt_unfit", "evt_unknown"]
    assert [m["dedupe_key"] for m in received(aws["RetentionQueueName"])] == ["pipeline_check:evt_good"]


# --- the README ----------------------------------------------------------------------------------------

def test_the_readme_events_table_matches_the_registry() -> None:
    from dev.events_table import README, current, table

    assert current(README.read_text()) == table(), "run: python -m dev.events_table"
