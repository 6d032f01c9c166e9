"""End-to-end tests: the real local marketplace (`make run`'s stack) on free ports, over HTTP."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.support.stack import LocalStack


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    from dev.run import in_background

    state_file = tmp_path_factory.mktemp("local-stack") / "stack.json"
    try:
        with in_background(state_file, stdout=subprocess.PIPE) as state:
            yield LocalStack(urls=state["urls"], env=state["env"], outputs=state["outputs"], state=state)
    except RuntimeError as error:
        pytest.fail(str(error))


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
