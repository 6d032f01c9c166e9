"""Unit tests: moto in-process for every test, resources created from infra/template.yaml."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from tests.conftest import TEST_SECRETS
from tests.support.builders import Buyer, Marketplace, register
from tests.support.clock import FrozenClock
from tests.support.faults import AwsFaults, StripeFaults

STAGE = "local"


@pytest.fixture(scope="session")
def _shared_aws() -> Iterator[tuple[dict[str, str], _Baseline]]:
    """One in-process AWS per test process, with the production stack created in it once from
    infra/template.yaml (creating it costs about 0.3 s; a thousand tests would spend minutes
    on it). Every test starts from that stack emptied again (:class:`_Baseline`)."""
    import boto3

    from dev import moto_transactions
    from infra import stack

    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**_FAKE_CREDENTIALS, "AGORA_STAGE": STAGE, **TEST_SECRETS}.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        moto_transactions.install(patch)  # same semantics, without moto's table copy per item
        with mock_aws():
            outputs = stack.create_stack(boto3.client("cloudformation"), STAGE)
            boto3.client("ses").verify_email_identity(EmailAddress=outputs["SenderEmail"])
            yield outputs, _Baseline.take()


@pytest.fixture(autouse=True, scope="session")
def wired() -> None:
    """Event models, subscribers, Stripe webhook handlers and the seller hooks register as
    they do in Lambda: by importing app.py."""
    import app  # noqa: F401


@pytest.fixture(autouse=True)
def aws(aws_credentials: None, _shared_aws: tuple[dict[str, str], _Baseline],
        monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The in-process AWS with the production stack, as if created for this test alone."""
    from chalicelib.core.container import start_cold

    outputs, baseline = _shared_aws
    monkeypatch.setenv("AGORA_STAGE", STAGE)
    for name, value in TEST_SECRETS.items():
        monkeypatch.setenv(name, value)
    for variable, output in _ENVIRONMENT.items():
        monkeypatch.setenv(variable, outputs[output])
    start_cold()
    try:
        yield outputs
    finally:
        baseline.restore()
        start_cold()


_FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing",
                     "AWS_DEFAULT_REGION": "eu-central-1"}
_ENVIRONMENT = {"AGORA_TABLE_NAME": "TableName", "AGORA_RETENTION_QUEUE": "RetentionQueueName",
                "AGORA_EVENTS_QUEUE": "EventsQueueName", "AGORA_IMPORTS_QUEUE": "CustomerImportsQueueName",
                "AGORA_IMPORTS_BUCKET": "ImportsBucketName", "AGORA_SENDER_EMAIL": "SenderEmail",
                "AGORA_STREAM_DLQ": "TableStreamDeadLetterQueueName"}


class _Baseline:
    """What the shared AWS holds right after the stack was created, and how to go back to it:
    the stack's table, queues and bucket emptied (items, stream records, messages, objects),
    mails sent forgotten, parameters as they were, and whatever a test created besides (other
    stacks with their tables, queues, buckets and topics) removed. Done on moto's backends
    directly: deleting item by item through the API would cost what it saves."""

    def __init__(self, names: dict[str, set[str]], parameters: Any, exports: dict[str, Any]) -> None:
        self.names, self.parameters, self.exports = names, parameters, exports

    @staticmethod
    def _backends() -> dict[str, Any]:
        from moto.cloudformation.models import cloudformation_backends
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends
        from moto.s3.models import s3_backends
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends
        from moto.sqs.models import sqs_backends
        from moto.ssm.models import ssm_backends

        region = _FAKE_CREDENTIALS["AWS_DEFAULT_REGION"]
        return {name: backends[DEFAULT_ACCOUNT_ID]["aws" if name == "s3" else region] for name, backends in {
            "cloudformation": cloudformation_backends, "dynamodb": dynamodb_backends, "s3": s3_backends,
            "ses": ses_backends, "sns": sns_backends, "sqs": sqs_backends, "ssm": ssm_backends}.items()}

    @classmethod
    def take(cls) -> _Baseline:
        b = cls._backends()
        names = {"stacks": set(b["cloudformation"].stacks), "tables": set(b["dynamodb"].tables),
                 "queues": set(b["sqs"].queues), "buckets": set(b["s3"].buckets), "topics": set(b["sns"].topics)}
        parameters = {name: copy.deepcopy(versions) for name, versions in b["ssm"]._parameters.items()}
        return cls(names, parameters, dict(b["cloudformation"].exports))

    def restore(self) -> None:
        from collections import defaultdict

        from moto.s3.models import MultipartDict, _VersionedKeyStore

        b = self._backends()
        for container, name in ((b["cloudformation"].stacks, "stacks"), (b["dynamodb"].tables, "tables"),
                                (b["sqs"].queues, "queues"), (b["sns"].topics, "topics")):
            for extra in set(container) - self.names[name]:
                del container[extra]
        for extra in set(b["s3"].buckets) - self.names["buckets"]:  # also frees the name (S3's names are global)
            b["s3"].buckets[extra].keys = _VersionedKeyStore()
            b["s3"].delete_bucket(extra)
        b["cloudformation"].exports = type(b["cloudformation"].exports)(self.exports)
        for table in b["dynamodb"].tables.values():
            table.items = defaultdict(dict)
            if table.stream_shard is not None:
                table.stream_shard.items = []
        for queue in b["sqs"].queues.values():
            queue._messages, queue._pending_messages = [], set()
        for bucket in b["s3"].buckets.values():
            bucket.keys, bucket.multiparts = _VersionedKeyStore(), MultipartDict()
        b["ses"].sent_messages, b["ses"].sent_message_count = [], 0
        b["ssm"]._parameters.clear()
        b["ssm"]._parameters.update(copy.deepcopy(self.parameters))


@pytest.fixture
def api() -> Iterator[Any]:
    """The real Chalice app behind Chalice's test client."""
    from chalice.test import Client

    import app

    with Client(app.app, stage_name="local") as client:
        yield client


@pytest.fixture
def buyer(api: Any) -> Buyer:
    """Anna, signed up and signed in through the API."""
    return register(api)


@pytest.fixture
def other_buyer(api: Any) -> Buyer:
    return register(api, email="ben@example.com", name="Ben Vogel")


@pytest.fixture
def market(api: Any, fake_stripe: str) -> Marketplace:
    """Sellers onboarded at the fake Stripe, their products, buyers and their orders."""
    return Marketplace(api=api, stripe_url=fake_stripe)


@pytest.fixture(scope="session")
def stripe_url() -> Iterator[str]:
    """The local fake Stripe (localstripe + Connect) on 127.0.0.1, one per test session."""
    from dev.fake_stripe import start_in_thread

    url, stop = start_in_thread("127.0.0.1", 0)
    yield url
    stop()


@pytest.fixture
def fake_stripe(aws: dict[str, str], stripe_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point agora's Stripe gateway at the fake Stripe for this test, emptied first: its
    objects and saved idempotent responses would otherwise leak between tests (the same
    seller id with other details would be an idempotency error, as on Stripe)."""
    import requests

    from chalicelib.core.settings import reset_settings
    from chalicelib.payments.stripe_gateway import reset_client

    requests.delete(f"{stripe_url}/_config/data", timeout=5).raise_for_status()
    monkeypatch.setenv("AGORA_STRIPE_API_BASE", stripe_url)
    reset_settings()
    reset_client()
    yield stripe_url
    reset_client()


# --- faults injected at the client boundary ------------------------------------------------------
# moto and the fake Stripe never throttle, time out or lose a response; these fixtures make them
# do so where the real clients send their requests, so that botocore's and the stripe SDK's own
# retries, and agora's code above them, run as they would against AWS and Stripe.

@pytest.fixture
def aws_faults(monkeypatch: pytest.MonkeyPatch) -> AwsFaults:
    """Inject AWS faults for this test (see :class:`AwsFaults`); botocore's retry waits are
    skipped (its retries happen, not the seconds between them)."""
    from botocore.retries import standard
    from moto.core.botocore_stubber import BotocoreStubber

    faults = AwsFaults()
    moto_answer = BotocoreStubber.__call__

    def answer(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if stubber.enabled:
            injected = faults.answer(event_name, request)
            if injected is not None:
                return injected
        return moto_answer(stubber, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", answer)
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    return faults


@pytest.fixture
def stripe_faults(fake_stripe: str, monkeypatch: pytest.MonkeyPatch) -> StripeFaults:
    """Inject Stripe faults for this test (see :class:`StripeFaults`); the SDK's retry waits
    are skipped (its retries happen, not the seconds between them)."""
    import requests
    import stripe

    faults = StripeFaults()
    original = requests.Session.request

    def request(session: Any, method: str, url: str, **kwargs: Any) -> Any:
        if not url.startswith(fake_stripe):
            return original(session, method, url, **kwargs)
        return faults.send(original, session, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", request)
    monkeypatch.setattr(stripe.RequestsClient, "_sleep_time_seconds", lambda self, num_retries: 0)
    return faults


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """Freeze ``chalicelib.core.clock`` at the real now, for this test."""
    from chalicelib.core import clock as marketplace_clock

    frozen = FrozenClock(marketplace_clock.now())
    monkeypatch.setattr(marketplace_clock, "_source", frozen)
    return frozen
