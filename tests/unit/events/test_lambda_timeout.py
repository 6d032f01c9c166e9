"""A Lambda killed mid-work (a timeout raises nothing, so nothing cleans up): the redelivered
event is neither skipped as done nor run twice at once. Its subscriber's marker stays in
progress; before the lease runs out the message comes back later, after it the work runs
exactly once."""

from __future__ import annotations

import pytest

from chalicelib.core import once
from chalicelib.events import service
from chalicelib.events.registry import Delivered, DomainEvent, subscribe
from tests.support.clock import FrozenClock
from tests.support.faults import LambdaKilled

WORK_DONE: list[str] = []
KILL_NEXT: list[bool] = []


class SlowWorkAsked(DomainEvent):
    event_type = "test.slow"


def slow_subscriber(delivered: Delivered[SlowWorkAsked]) -> None:
    """Does its (idempotent) work, unless this Lambda is killed first."""
    if KILL_NEXT and KILL_NEXT.pop():
        raise LambdaKilled("Task timed out after 30.00 seconds")
    WORK_DONE.append(delivered.event_id)


@pytest.fixture
def subscriber(scratch_subscriptions: None) -> None:
    WORK_DONE.clear()
    KILL_NEXT.clear()
    subscribe(SlowWorkAsked)(slow_subscriber)


MESSAGE = {"event_id": "evt_1", "type": "test.slow", "occurred_at": "", "payload": {}}


def test_a_killed_subscriber_is_run_again_after_its_lease_and_then_never(subscriber: None, clock: FrozenClock) -> None:
    # given a delivery whose Lambda dies inside the subscriber
    KILL_NEXT.append(True)
    with pytest.raises(LambdaKilled):
        service.dispatch(MESSAGE)

    # when SQS delivers the message again before the lease ran out, then it is not done:
    # the message fails (and comes back later) without running the work a second time at once
    with pytest.raises(once.InProgress):
        service.dispatch(MESSAGE)
    assert WORK_DONE == []

    # when it comes back after the lease (SQS's visibility timeout outlasts it), the work runs
    clock.advance(seconds=once.DEFAULT_LEASE_SECONDS + 1)
    service.dispatch(MESSAGE)
    assert WORK_DONE == ["evt_1"]

    # and any later delivery finds it done
    clock.advance(seconds=once.DEFAULT_LEASE_SECONDS + 1)
    service.dispatch(MESSAGE)
    assert WORK_DONE == ["evt_1"]


def test_the_lease_outlasts_the_lambda_and_ends_before_sqs_delivers_again() -> None:
    from chalicelib.core.resources import WORKER_TIMEOUT_SECONDS
    from infra import stack

    queues = [r["Properties"] for r in stack.load_template()["Resources"].values()
              if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]]

    assert once.DEFAULT_LEASE_SECONDS > WORKER_TIMEOUT_SECONDS
    assert all(q["VisibilityTimeout"] > once.DEFAULT_LEASE_SECONDS for q in queues)


def test_a_marker_from_before_leases_counts_as_done(subscriber: None) -> None:
    # given a marker written by the previous code (no status)
    once.OnceMarker(PK=f"ONCE#event:evt_1:{__name__}:slow_subscriber", SK="ONCE", expires_at=2_000_000_000).save()

    service.dispatch(MESSAGE)

    assert WORK_DONE == []
