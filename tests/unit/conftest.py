"""Unit tests: moto in-process for every test, resources created from infra/template.yaml."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from moto import mock_aws

from tests.conftest import TEST_SECRETS

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


def call(client: Any, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
         raw: bytes | str | None = None) -> tuple[int, Any, dict[str, str]]:
    """One HTTP call through the test client; returns status, parsed JSON (or text) and headers."""
    send_headers = {"Content-Type": "application/json", **(headers or {})}
    data = raw if raw is not None else (json.dumps(body) if body is not None else b"")
    response = client.http.request(method.upper(), path, headers=send_headers, body=data)
    try:
        parsed = json.loads(response.body) if response.body else None
    except ValueError:
        parsed = response.body.decode()
    return response.status_code, parsed, response.headers


def received(queue_name: str, *, max_messages: int = 10) -> list[dict[str, Any]]:
    """Bodies of the messages waiting on a queue (received, so they leave it for now)."""
    import boto3

    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=max_messages,
                                   WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def queue_url(queue_name: str) -> str:
    import boto3

    return boto3.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]


def poll(queue_name: str) -> Any:
    """One poll of Lambda's SQS event source: up to 10 messages, visible again at once if
    not deleted (as if the visibility timeout had passed), as the Chalice ``SQSEvent`` the
    handler gets; None when the queue is empty."""
    import boto3
    from chalice.app import SQSEvent

    from dev import lambda_events

    messages = boto3.client("sqs").receive_message(
        QueueUrl=queue_url(queue_name), MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0,
        AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
    return SQSEvent(lambda_events.sqs_event_from_messages(messages, queue_name), None) if messages else None


def bodies(queue_name: str) -> list[Any]:
    """The messages waiting on a queue, looked at and left there."""
    import boto3

    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url(queue_name), MaxNumberOfMessages=10,
                                                   VisibilityTimeout=0, WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def deliver_mails() -> list[dict[str, Any]]:
    """Send every mail waiting on the retention queue, as the mail worker would (one-time
    links are minted now); returns every mail sent so far."""
    from chalicelib.core.settings import get_settings
    from chalicelib.retention.service import deliver

    while waiting := received(get_settings().retention_queue_name):
        for message in waiting:
            deliver(message)
    return sent_mails()


_LINK = re.compile(r"https?://[^\s\"<>]+?[?&]token=[^\s\"<>&]+")


def mailed_link(to: str) -> str:
    """The newest one-time link mailed to ``to`` (queued mails are sent first)."""
    mails = [m for m in deliver_mails() if to.lower() in (a.lower() for a in m["to"])]
    links = [link for mail in mails for link in _LINK.findall(mail["body"] or "")]
    assert links, f"no link was mailed to {to}"
    return links[-1]


def mailed_token(to: str) -> str:
    """The token of the newest one-time link mailed to ``to``."""
    from urllib.parse import parse_qs, urlparse

    return parse_qs(urlparse(mailed_link(to)).query)["token"][0]


def forget_pacing() -> None:
    """Let mails to every address go again at once, as if the pacing gap had passed (tests
    that mail one address twice in a row; pacing itself is tested in core/test_throttle)."""
    import boto3

    from chalicelib.core.settings import get_settings

    table = get_settings().table_name
    dynamodb = boto3.client("dynamodb")
    for item in dynamodb.scan(TableName=table, FilterExpression="begins_with(PK, :p)",  # a test may scan
                              ExpressionAttributeValues={":p": {"S": "PACE#"}})["Items"]:
        dynamodb.delete_item(TableName=table, Key={"PK": item["PK"], "SK": item["SK"]})


def sent_mails() -> list[dict[str, Any]]:
    """The mails SES accepted, as the local outbox shows them (subject, body, html, headers…)."""
    from moto.core import DEFAULT_ACCOUNT_ID

    from dev.fake_aws import sent_mails as outbox

    return outbox("eu-central-1", DEFAULT_ACCOUNT_ID)


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


def pump_events(seen: set[str] | None = None) -> list[str]:
    """Hand every outbox event written so far to its subscribers, as the stream and the
    events queue would, until no new ones appear; returns the event types delivered."""
    import boto3

    from chalicelib.core.settings import get_settings
    from chalicelib.events.service import dispatch

    seen = set() if seen is None else seen
    delivered: list[str] = []
    while True:
        items = boto3.client("dynamodb").scan(  # a test's view of the outbox; no request path scans
            TableName=get_settings().table_name, FilterExpression="begins_with(PK, :e)",
            ExpressionAttributeValues={":e": {"S": "EVENT#"}})["Items"]
        fresh = sorted((i for i in items if i["event_id"]["S"] not in seen), key=lambda i: i["event_id"]["S"])
        if not fresh:
            return delivered
        for item in fresh:
            seen.add(item["event_id"]["S"])
            payload = json.loads(item["payload"]["S"])
            dispatch({"event_id": item["event_id"]["S"], "type": item["type"]["S"],
                      "occurred_at": item["occurred_at"]["S"], "payload": payload})
            delivered.append(item["type"]["S"])


def deliver_events() -> None:
    """Hand every event written so far to its subscribers, as the events worker would (each
    subscriber runs once per event, so calling this again only delivers new events)."""
    from chalicelib.core.keys import EVENT_PREFIX
    from chalicelib.events import service
    from chalicelib.events.models import OutboxEvent

    for event in OutboxEvent.scan(OutboxEvent.PK.startswith(EVENT_PREFIX)):  # a test may scan
        service.dispatch({"event_id": event.event_id, "type": event.type, "version": event.version,
                          "occurred_at": event.occurred_at, "payload": event.payload})


# --- faults injected at the client boundary ------------------------------------------------------
# moto and the fake Stripe never throttle, time out or lose a response; these fixtures make them
# do so where the real clients send their requests, so that botocore's and the stripe SDK's own
# retries, and agora's code above them, run as they would against AWS and Stripe.

Fault = Any  # a callable (request) -> a botocore AWSResponse, or None to let the request through


class AwsFaults:
    """Faults in AWS answers, injected where botocore sends a request (inside its retry loop)
    before moto sees it: ``aws_faults.inject("dynamodb", "GetItem", aws_faults.error(...), times=2)``.
    ``calls`` counts every request per ``service.Operation``, faulty or not."""

    def __init__(self) -> None:
        self._plans: list[list[Any]] = []  # [service, operation, fault, times left]
        self.calls: dict[str, int] = {}

    def inject(self, service: str, operation: str, fault: Fault, *, times: int = 1) -> None:
        self._plans.append([service, operation, fault, times])

    def answer(self, event_name: str, request: Any) -> Any:
        """The injected response for this request, or None."""
        _, service, operation = event_name.split(".", 2)
        self.calls[f"{service}.{operation}"] = self.calls.get(f"{service}.{operation}", 0) + 1
        for plan in self._plans:
            if plan[0] == service and plan[1] == operation and plan[3] > 0:
                response = plan[2](request)
                if response is not None:
                    plan[3] -= 1
                    return response
        return None

    @staticmethod
    def response(request: Any, status: int, body: bytes, content_type: str = "application/x-amz-json-1.0") -> Any:
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse

        return AWSResponse(request.url, status, {"Content-Type": content_type, "x-amzn-RequestId": "fault"},
                           MockRawResponse(body))

    @classmethod
    def error(cls, code: str, *, message: str = "injected fault", status: int = 400) -> Fault:
        """A JSON-protocol error (DynamoDB)."""
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
        return lambda request: cls.response(request, status, body)

    @classmethod
    def query_error(cls, code: str, *, message: str = "injected fault", status: int = 400) -> Fault:
        """A query-protocol (XML) error (SES, SQS's XML answers)."""
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                f"</Error><RequestId>fault</RequestId></ErrorResponse>").encode()
        return lambda request: cls.response(request, status, body, "text/xml")

    @classmethod
    def transaction_conflict(cls) -> Fault:
        """TransactWriteItems cancelled because another transaction touched an item
        (``TransactionConflict`` on its first item, none on the others)."""
        def fault(request: Any) -> Any:
            items = json.loads(request.body)["TransactItems"]
            reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
            reasons += [{"Code": "None"}] * (len(items) - 1)
            body = json.dumps({
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
                           f"[{', '.join(r['Code'] for r in reasons)}]",
                "CancellationReasons": reasons}).encode()
            return cls.response(request, 400, body)
        return fault

    @classmethod
    def nothing_processed(cls) -> Fault:
        """BatchGetItem/BatchWriteItem answered 200 with every key or item unprocessed, as
        DynamoDB does when the table's partitions are throttled."""
        def fault(request: Any) -> Any:
            sent = json.loads(request.body)["RequestItems"]
            if all(isinstance(keys, dict) for keys in sent.values()):  # BatchGetItem: {table: {"Keys": [...]}}
                body = {"Responses": {table: [] for table in sent}, "UnprocessedKeys": sent}
            else:
                body = {"UnprocessedItems": sent}
            return cls.response(request, 200, json.dumps(body).encode())
        return fault


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


class StripeFaults:
    """Faults in Stripe's answers, injected where the stripe SDK sends a request (its own
    retries run): ``stripe_faults.inject("POST", "/v1/transfers", "timeout_after", times=1)``.

    Kinds: ``"500"``/``"429"`` answer so without reaching Stripe; ``"timeout"`` times out
    before reaching it; ``"500_after"``/``"timeout_after"`` let Stripe do the work and lose
    its answer (the dangerous case: only the idempotency key prevents a second object);
    ``"killed_after"`` lets Stripe do the work, then stops the process (:class:`LambdaKilled`)."""

    def __init__(self) -> None:
        self._plans: list[list[Any]] = []  # [method, path, kind, times left]
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Idempotency-Key)

    def inject(self, method: str, path: str, kind: str, *, times: int = 1) -> None:
        self._plans.append([method, path, kind, times])

    def _kind(self, method: str, path: str) -> str | None:
        for plan in self._plans:
            if plan[0] == method and path.startswith(plan[1]) and plan[3] > 0:
                plan[3] -= 1
                return plan[2]
        return None

    def send(self, original: Any, session: Any, method: str, url: str, **kwargs: Any) -> Any:
        from urllib.parse import urlparse

        import requests

        path = urlparse(url).path
        headers = kwargs.get("headers") or {}
        self.requests.append((method.upper(), path, headers.get("Idempotency-Key")))
        kind = self._kind(method.upper(), path)
        if kind in ("500", "429"):
            return _stripe_error_response(int(kind), url)
        if kind == "timeout":
            raise requests.exceptions.ReadTimeout("injected: Stripe did not answer in time")
        response = original(session, method, url, **kwargs)
        if kind == "500_after":
            return _stripe_error_response(500, url)
        if kind == "timeout_after":
            raise requests.exceptions.ReadTimeout("injected: Stripe's answer was lost")
        if kind == "killed_after":
            raise LambdaKilled(f"{method} {path}")
        return response

    def idempotency_keys(self, method: str, path: str) -> list[str | None]:
        return [key for m, p, key in self.requests if m == method and p == path]


def _stripe_error_response(status: int, url: str) -> Any:
    import requests

    response = requests.Response()
    response.status_code, response.url = status, url
    kind = "rate_limit_error" if status == 429 else "api_error"
    response._content = json.dumps({"error": {"type": kind, "message": f"injected {status}"}}).encode()
    response.headers["Content-Type"] = "application/json"
    return response


class LambdaKilled(BaseException):
    """The Lambda timed out or was killed mid-work: not an Exception, so no ``except
    Exception`` in agora's code sees it and nothing cleans up, as in a real timeout."""


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


class FrozenClock:
    """The marketplace's time standing still until the test moves it: ``clock.set(...)``
    (an aware datetime or a stored stamp), ``clock.advance(seconds=…)``."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, moment: datetime | str) -> None:
        from chalicelib.core import clock

        self.moment = clock.parse(moment) if isinstance(moment, str) else moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """Freeze ``chalicelib.core.clock`` at the real now, for this test."""
    from chalicelib.core import clock as marketplace_clock

    frozen = FrozenClock(marketplace_clock.now())
    monkeypatch.setattr(marketplace_clock, "_source", frozen)
    return frozen
