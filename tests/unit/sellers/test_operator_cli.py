"""`agora operators create`, `reset-mfa` and `otp`: the way operator accounts come to exist and
get their second factor."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from cli.main import main
from tests.support.http import call
from tests.support.operators import PASSWORD, create_operator, operator_account, operator_sign_in


def _printed_key(out: str) -> tuple[str, str]:
    """The (secret, otpauth URI) a command printed."""
    uri = re.search(r"^  otpauth URI: (\S+)$", out, re.MULTILINE)
    secret = re.search(r"^  secret \(base32\): ([A-Z2-7]+)$", out, re.MULTILINE)
    assert uri and secret, out
    return secret.group(1), uri.group(1)


def test_a_created_operator_signs_in_and_runs_the_marketplace(api: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # when
    code = create_operator("--password", PASSWORD)

    # then
    assert code == 0
    status, tokens = operator_sign_in(api)
    assert status == 200
    assert tokens["account"]["roles"] == ["operator"]
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == [
        f"Created operator {tokens['account']['user_id']} <olga@agora.example>. Sign in at POST /v1/auth/login.",
        "Add this key to an authenticator app now; it is shown only this once. "
        "Sign-in asks for the app's 6-digit code."]
    status, _, _ = call(api, "GET", "/v1/admin/settings", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert status == 200


def test_a_created_operator_is_verified_and_enrolled_with_the_printed_key(capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib.accounts import mfa

    assert create_operator("--password", PASSWORD) == 0

    secret, uri = _printed_key(capsys.readouterr().out)
    operator = operator_account()
    assert operator.email_verified is True
    assert operator.totp_secret == secret
    assert parse_qs(urlparse(uri).query) == {"secret": [secret], "issuer": ["agora"]}
    assert mfa.verify_totp(operator, mfa.code_at(secret)) is True


def test_reset_mfa_replaces_the_key(capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib.accounts import mfa

    # given an operator whose phone is lost
    create_operator("--password", PASSWORD)
    old_secret, _ = _printed_key(capsys.readouterr().out)

    # when
    assert main(["operators", "reset-mfa", "--email", "OLGA@agora.example"]) == 0

    # then the new key is printed once and is the only one that works
    out = capsys.readouterr().out
    operator = operator_account()
    assert out.splitlines()[0] == (f"New authenticator key for operator {operator.user_id} <olga@agora.example>; "
                                   "the old one no longer works.")
    new_secret, _ = _printed_key(out)
    assert new_secret != old_secret
    assert operator.totp_secret == new_secret
    assert mfa.verify_totp(operator, mfa.code_at(old_secret)) is False or \
        mfa.code_at(old_secret) == mfa.code_at(new_secret)  # pragma: no cover - a one-in-a-million equal code
    assert mfa.verify_totp(operator_account(), mfa.code_at(new_secret)) is True


@pytest.mark.parametrize("email", ["nobody@agora.example", "anna@example.com"])
def test_reset_mfa_is_only_for_operators(email: str) -> None:
    from chalicelib.accounts.service import create_user, new_user

    create_user(new_user("anna@example.com", password="correct horse battery"))  # a buyer

    with pytest.raises(SystemExit, match=rf"^There is no operator with the email {re.escape(email)}\.$"):
        main(["operators", "reset-mfa", "--email", email])


def test_without_password_it_is_asked_for_twice(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)  # a terminal to ask on
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))

    assert create_operator() == 0
    assert operator_sign_in(api)[0] == 200


def test_two_different_answers_create_nothing(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)  # a terminal to ask on
    answers = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))

    with pytest.raises(SystemExit, match=r"^The passwords differ\.$"):
        create_operator()
    assert operator_sign_in(api)[0] == 401


def test_an_email_with_an_account_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    create_operator("--password", PASSWORD)

    assert create_operator("--password", PASSWORD) == 1
    assert capsys.readouterr().err == "An account with this email already exists.\n"


def test_a_weak_password_is_refused_with_the_reason(api: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert create_operator("--password", "short") == 2
    assert capsys.readouterr().err == "The password is too weak. Password must be at least 10 characters.\n"
    assert operator_sign_in(api, "short")[0] == 401


def test_a_guessable_password_is_refused_with_every_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert create_operator("--password", "olga-operator") == 2
    assert capsys.readouterr().err == (
        'The password is too weak. Password must not contain "olga", the part of your email address before the @. '
        'Password is too easy to guess. It contains "operator" (your name), among the first words an attacker '
        "tries. Add another word or two. Uncommon words are better.\n")
    assert operator_account() is None


def _local_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **overrides: str) -> None:
    """A state file as `make run` writes it (here: naming this test's in-process stack)."""
    from chalicelib.core.settings import reset_settings

    env = {key: value for key, value in os.environ.items() if key.startswith(("AGORA_", "AWS_"))}
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # restored after the test, whatever the command sets
    state = tmp_path / "stack.json"
    state.write_text(json.dumps({"env": {**env, "AGORA_SENDER_EMAIL": "local@agora.example", **overrides}}))
    monkeypatch.setenv("AGORA_LOCAL_STATE", str(state))
    monkeypatch.setenv("AGORA_SENDER_EMAIL", "before@agora.example")
    reset_settings()


def test_local_uses_the_running_marketplaces_environment(api: Any, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _local_state(tmp_path, monkeypatch)

    assert create_operator("--local", "--password", PASSWORD) == 0
    assert os.environ["AGORA_SENDER_EMAIL"] == "local@agora.example"
    assert operator_sign_in(api)[0] == 200


def test_reset_mfa_works_on_the_local_marketplace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    create_operator("--password", PASSWORD)
    capsys.readouterr()
    _local_state(tmp_path, monkeypatch)

    assert main(["operators", "reset-mfa", "--email", "olga@agora.example", "--local"]) == 0
    assert os.environ["AGORA_SENDER_EMAIL"] == "local@agora.example"
    assert operator_account().totp_secret == _printed_key(capsys.readouterr().out)[0]


def test_otp_prints_the_local_operators_current_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib.accounts import mfa

    create_operator("--password", PASSWORD)
    capsys.readouterr()
    _local_state(tmp_path, monkeypatch)

    assert main(["operators", "otp", "--email", "olga@agora.example", "--local"]) == 0

    code = capsys.readouterr().out
    assert re.fullmatch(r"\d{6}\n", code)
    assert mfa.verify_totp(operator_account(), code.strip()) is True


@pytest.mark.parametrize("where", [[], ["--stage", "prod"]])
def test_otp_is_refused_unless_the_target_is_local(where: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    create_operator("--password", PASSWORD)
    capsys.readouterr()

    assert main(["operators", "otp", "--email", "olga@agora.example", *where]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("`agora operators otp` works only with --local: elsewhere the code comes from the "
                            "operator's authenticator app.\n")


def test_otp_is_refused_when_local_points_at_a_deployed_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    create_operator("--password", PASSWORD)
    capsys.readouterr()
    _local_state(tmp_path, monkeypatch, AGORA_STAGE="prod")

    assert main(["operators", "otp", "--email", "olga@agora.example", "--local"]) == 2
    assert capsys.readouterr() == ("", "Refused: --local points at stage 'prod', which is not local.\n")
