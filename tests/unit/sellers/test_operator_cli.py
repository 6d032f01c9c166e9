"""`agora operators create`: the way operator accounts come to exist."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from tests.unit.conftest import call

PASSWORD = "operator-secret-2026"


def _create(*extra: str) -> int:
    return main(["operators", "create", "--email", "Olga@Agora.example", "--name", "Olga Operator", *extra])


def _sign_in(api: Any, password: str = PASSWORD) -> tuple[int, Any]:
    status, body, _ = call(api, "POST", "/v1/auth/login", {"email": "olga@agora.example", "password": password})
    return status, body


def test_a_created_operator_signs_in_and_runs_the_marketplace(api: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # when
    code = _create("--password", PASSWORD)

    # then
    assert code == 0
    status, tokens = _sign_in(api)
    assert status == 200
    assert tokens["account"]["roles"] == ["operator"]
    assert capsys.readouterr().out == (f"Created operator {tokens['account']['user_id']} <olga@agora.example>. "
                                       "Sign in at POST /v1/auth/login.\n")
    status, _, _ = call(api, "GET", "/v1/admin/settings", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert status == 200


def test_without_password_it_is_asked_for_twice(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))

    assert _create() == 0
    assert _sign_in(api)[0] == 200


def test_two_different_answers_create_nothing(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))

    with pytest.raises(SystemExit, match=r"^The passwords differ\.$"):
        _create()
    assert _sign_in(api)[0] == 401


def test_an_email_with_an_account_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    _create("--password", PASSWORD)

    assert _create("--password", PASSWORD) == 1
    assert capsys.readouterr().err == "An account with this email already exists.\n"


def test_a_weak_password_is_refused_with_the_reason(api: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert _create("--password", "short") == 2
    assert capsys.readouterr().err == "The password is too weak. Password must be at least 10 characters.\n"
    assert _sign_in(api, "short")[0] == 401


def test_local_uses_the_running_marketplaces_environment(api: Any, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.core.settings import reset_settings

    # given a state file as `make run` writes it (here: naming this test's in-process stack)
    env = {key: value for key, value in os.environ.items() if key.startswith(("AGORA_", "AWS_"))}
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # restored after the test, whatever the command sets
    state = tmp_path / "stack.json"
    state.write_text(json.dumps({"env": {**env, "AGORA_SENDER_EMAIL": "local@agora.example"}}))
    monkeypatch.setenv("AGORA_LOCAL_STATE", str(state))
    monkeypatch.setenv("AGORA_SENDER_EMAIL", "before@agora.example")
    reset_settings()

    assert _create("--local", "--password", PASSWORD) == 0
    assert os.environ["AGORA_SENDER_EMAIL"] == "local@agora.example"
    assert _sign_in(api)[0] == 200
