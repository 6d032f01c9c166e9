"""Faults injected where the real clients send their requests: moto and the fake Stripe never
throttle, time out or lose a response, so these make them do so (the fixtures that install
them are ``aws_faults`` and ``stripe_faults`` in tests/unit/conftest.py)."""

from __future__ import annotations

import json
from typing import Any

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
