"""End-to-end tests: the real local marketplace (`make run`'s stack) on free ports, over HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
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
    state_file = tmp_path_factory.mktemp("local-stack") / "stack.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "dev.run", "--free-ports", "--quiet", "--state-file", str(state_file)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (state_file.exists() and json.loads(state_file.read_text()).get("ready")):
            if process.poll() is not None:
                logs = "\n".join(p.read_text()[-3000:] for p in (state_file.parent / "logs").glob("*.log"))
                pytest.fail(f"the local marketplace exited early:\n{process.stdout.read()}\n{logs}")
            if time.monotonic() > deadline:
                pytest.fail("the local marketplace did not become ready within 120 s")
            time.sleep(0.2)
        state = json.loads(state_file.read_text())
        yield LocalStack(urls=state["urls"], env=state["env"], outputs=state["outputs"])
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


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
