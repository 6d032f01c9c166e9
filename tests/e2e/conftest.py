"""End-to-end tests: the real local marketplace (`make run`'s stack) on free ports, over HTTP."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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

    @property
    def api(self) -> str:
        return self.urls["api"]

    def boto3_client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.urls["aws"], region_name=self.env["AWS_DEFAULT_REGION"],
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def outbox(self) -> list[dict[str, Any]]:
        return requests.get(self.urls["outbox"], timeout=5).json()["messages"]


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    from dev.run import in_background

    state_file = tmp_path_factory.mktemp("local-stack") / "stack.json"
    try:
        with in_background(state_file, stdout=subprocess.PIPE) as state:
            yield LocalStack(urls=state["urls"], env=state["env"], outputs=state["outputs"])
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
