"""The running local marketplace as end-to-end tests reach it: over HTTP, its mail outbox,
its AWS endpoint, and the CLI."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parents[2]  # the repository


@dataclass
class LocalStack:
    urls: dict[str, str]
    env: dict[str, str]
    outputs: dict[str, str]
    state: dict[str, Any] = field(default_factory=dict)  # what dev/run.py wrote: its summary is printed from it

    @property
    def api(self) -> str:
        return self.urls["api"]

    def boto3_client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.urls["aws"], region_name=self.env["AWS_DEFAULT_REGION"],
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def outbox(self) -> list[dict[str, Any]]:
        return requests.get(self.urls["outbox"], timeout=5).json()["messages"]

    def _mails(self, to: str, subject: str) -> int:
        return len([m for m in self.outbox() if to in m["to"] and subject in (m["subject"] or "")])

    def mailed_token(self, to: str, subject: str, *, seen: int = 0) -> str:
        """The token of the link in the newest mail to ``to`` whose subject contains
        ``subject``, waiting for the mail worker; ``seen``: how many such mails to skip
        (an earlier one that was already used)."""

        def find() -> str | None:
            mails = [m for m in self.outbox() if to in m["to"] and subject in (m["subject"] or "")]
            if len(mails) <= seen:
                return None
            found = re.search(r"[?&]token=([\w.-]+)", mails[-1]["body"] or "")
            return found.group(1) if found else None

        return eventually(find, what=f"the mail {subject!r} to {to}")

    def forget_pacing(self) -> None:
        """Let mails to every address go again at once (as if the pacing gap had passed)."""
        dynamodb, table = self.boto3_client("dynamodb"), self.outputs["TableName"]
        for item in dynamodb.scan(TableName=table, FilterExpression="begins_with(PK, :p)",  # a test may scan
                                  ExpressionAttributeValues={":p": {"S": "PACE#"}})["Items"]:
            dynamodb.delete_item(TableName=table, Key={"PK": item["PK"], "SK": item["SK"]})

    def sign_up(self, email: str, password: str, name: str, **extra: Any) -> dict[str, Any]:
        """A buyer's sign-up, confirmed with the link the local outbox received; the tokens."""
        subject = "Confirm your email address"
        seen = self._mails(email, subject)
        response = requests.post(f"{self.api}/v1/auth/register", timeout=20,
                                 json={"email": email, "password": password, "name": name, **extra})
        assert response.status_code == 202, response.text
        token = self.mailed_token(email, subject, seen=seen)
        confirmed = requests.post(f"{self.api}/v1/auth/magic-link/verify", json={"token": token}, timeout=20)
        assert confirmed.status_code == 200, confirmed.text
        return confirmed.json()

    def apply_as_seller(self, application: dict[str, Any]) -> dict[str, Any]:
        """A seller's application, confirmed with the mailed link; the seller and its tokens."""
        subject = "Confirm your seller application"
        seen = self._mails(application["email"], subject)
        with from_own_address() as http:
            response = http.post(f"{self.api}/v1/sellers", json=application, timeout=20)
            assert response.status_code == 202, response.text
            token = self.mailed_token(application["email"], subject, seen=seen)
            confirmed = http.post(f"{self.api}/v1/sellers/confirm", json={"token": token}, timeout=30)
        assert confirmed.status_code == 201, confirmed.text
        return confirmed.json()


_LOOPBACK_HOSTS = itertools.count(2)


class _FromAddress(HTTPAdapter):
    """Connections from one loopback address (the servers still listen on 127.0.0.1 only)."""

    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


def from_own_address() -> requests.Session:
    """A session whose requests come from a loopback address of their own: each test seller
    applies from its own address, as real sellers do, so the per-address limit on seller
    applications (10 an hour) holds for the shared stack however many tests onboard sellers."""
    session = requests.Session()
    host = next(_LOOPBACK_HOSTS) % 250 + 2
    adapter = _FromAddress(f"127.0.0.{host}")
    session.mount("http://", adapter)
    return session


def eventually(check: Callable[[], Any], *, timeout: float = 60, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy (asynchronous workers take a moment;
    on a loaded two-core machine the stream, queue and worker hops took over 20 s once)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.2)


def expect_json(response: requests.Response, status: int) -> Any:
    """The JSON body of an answer that must have ``status`` (None when it has no body)."""
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def operator_headers(local_stack: LocalStack) -> dict[str, str]:
    """A new operator, created by the CLI on the local marketplace and signed in with its
    second factor."""
    from chalicelib.accounts import mfa

    email, password = f"ops-{uuid.uuid4().hex[:8]}@agora.example", "operator-e2e-password"
    result = subprocess.run(
        [sys.executable, "-m", "cli", "operators", "create", "--local", "--email", email, "--name", "Olga",
         "--password", password],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "AGORA_LOCAL_STATE": local_stack.env["AGORA_LOCAL_STATE"]},
    )
    assert result.returncode == 0, result.stderr
    secret = re.search(r"secret \(base32\): ([A-Z2-7]+)", result.stdout)
    assert secret, result.stdout
    tokens = expect_json(requests.post(f"{local_stack.api}/v1/auth/login", timeout=10, json={
        "email": email, "password": password, "otp": mfa.code_at(secret.group(1))}), 200)
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def onboarded_seller(local_stack: LocalStack, n: int) -> tuple[str, dict[str, str]]:
    """Seller ``n``, applied and onboarded at the fake Stripe until it can sell; its id and headers."""
    api = local_stack.api
    signed_up = local_stack.apply_as_seller({
        "business_name": f"Laden {n} GmbH", "email": f"laden{n}-{uuid.uuid4().hex[:8]}@shops.example",
        "password": "laden-e2e-Kerze-2031", "country": "DE", "default_currency": "EUR"})
    headers = {"Authorization": f"Bearer {signed_up['tokens']['access_token']}"}
    link = expect_json(requests.post(f"{api}/v1/seller/onboarding-link", headers=headers, timeout=20), 200)
    assert requests.get(link["url"], allow_redirects=False, timeout=10).status_code == 302
    eventually(lambda: expect_json(requests.get(f"{api}/v1/seller", headers=headers, timeout=10), 200)["can_sell"],
               what="the seller to be approved after onboarding")
    return signed_up["seller"]["seller_id"], headers
