"""End-to-end tests: the real local marketplace (`make run`'s stack) on free ports, over HTTP."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


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
        response = requests.post(f"{self.api}/v1/sellers", json=application, timeout=20)
        assert response.status_code == 202, response.text
        token = self.mailed_token(application["email"], subject, seen=seen)
        confirmed = requests.post(f"{self.api}/v1/sellers/confirm", json={"token": token}, timeout=30)
        assert confirmed.status_code == 201, confirmed.text
        return confirmed.json()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    from dev.run import in_background

    state_file = tmp_path_factory.mktemp("local-stack") / "stack.json"
    try:
        with in_background(state_file, stdout=subprocess.PIPE) as state:
            yield LocalStack(urls=state["urls"], env=state["env"], outputs=state["outputs"], state=state)
    except RuntimeError as error:
        pytest.fail(str(error))


def eventually(check: Callable[[], Any], *, timeout: float = 20, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy (asynchronous workers take a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def private_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A local marketplace of the module's own, without the demo: for a test that changes what
    every other test relies on (the marketplace's settings, sellers' standing), so that it
    cannot disturb the shared ``local_stack``."""
    from dev.run import in_background

    state_file = tmp_path_factory.mktemp("private-stack") / "stack.json"
    try:
        with in_background(state_file, "--no-demo", stdout=subprocess.PIPE) as state:
            yield LocalStack(urls=state["urls"], env=state["env"], outputs=state["outputs"])
    except RuntimeError as error:
        pytest.fail(str(error))
