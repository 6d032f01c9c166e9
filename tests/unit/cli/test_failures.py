"""Every `agora` command fails with a message and an exit code, never a traceback: no
marketplace named, no region, no terminal for a prompt, AWS, SSM or Stripe failing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

from cli.main import main
from tests.support.operators import PASSWORD, create_operator, operator_account, operator_sign_in

WHICH = ("Which marketplace? Please pass --local (the marketplace `make run` is running) or --stage <name> (a "
         "deployed stage, with AWS credentials and a region for it); or set AGORA_STAGE and this environment's "
         "AWS settings.")


class _Stdin(io.StringIO):
    def __init__(self, text: str, *, tty: bool) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as a script would: stdin is not a terminal, and asking on it would be a test bug."""
    monkeypatch.setattr("sys.stdin", _Stdin("", tty=False))
    monkeypatch.setattr("getpass.getpass", lambda prompt: pytest.fail(f"asked {prompt!r} without a terminal"))


@pytest.mark.parametrize("argv", [
    ["operators", "create", "--email", "olga@agora.example", "--name", "Olga Operator"],
    ["operators", "reset-mfa", "--email", "olga@agora.example"],
    ["ledger", "reconcile", "--from", "2026-06-01", "--to", "2026-07-01"],
    ["customers", "unlink-imported", "--dry-run"],
])
def test_without_a_marketplace_a_command_says_which_to_name(argv: list[str], no_terminal: None,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AGORA_STAGE")

    assert main(argv) == 2

    assert capsys.readouterr() == ("", f"agora {argv[0]} {argv[1]}: {WHICH}\n")
    assert operator_account() is None


def test_local_without_a_running_marketplace_says_how_to_start_one(
        no_terminal: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AGORA_LOCAL_STATE", str(tmp_path / "stack.json"))

    assert create_operator("--local") == 2

    assert capsys.readouterr().err == ("agora operators create: No local marketplace is running "
                                       f"({tmp_path}/stack.json is missing). Start one with `make run`.\n")


def test_a_stage_without_a_region_is_refused_before_the_password_is_asked(
        no_terminal: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))

    assert create_operator("--stage", "prod") == 2

    assert capsys.readouterr().err == ("agora operators create: Stage 'prod' needs an AWS region: set AWS_REGION, or "
                                       "a region in the AWS profile (`aws configure`).\n")


def test_without_a_terminal_the_password_must_come_from_stdin_or_the_environment(
        no_terminal: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert create_operator() == 2

    assert capsys.readouterr().err == ("agora operators create: No terminal to ask for the password on: pipe it in "
                                       "with --password-stdin, or set AGORA_OPERATOR_PASSWORD.\n")
    assert operator_account() is None


def test_the_password_can_come_from_stdin(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", _Stdin(f"{PASSWORD}\nignored\n", tty=False))

    assert create_operator("--password-stdin") == 0
    assert operator_sign_in(api)[0] == 200


def test_an_empty_stdin_gives_no_password(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", _Stdin("", tty=False))

    assert create_operator("--password-stdin") == 2
    assert capsys.readouterr().err == ("agora operators create: --password-stdin: stdin gave no password (an empty "
                                       "first line or none).\n")


def test_the_password_can_come_from_the_environment(api: Any, no_terminal: None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_OPERATOR_PASSWORD", PASSWORD)

    assert create_operator() == 0
    assert operator_sign_in(api)[0] == 200


def test_a_missing_table_is_named_with_what_to_check(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib.core.settings import reset_settings

    monkeypatch.setenv("AGORA_TABLE_NAME", "agora-nowhere")
    reset_settings()

    assert main(["operators", "reset-mfa", "--email", "olga@agora.example"]) == 3

    err = capsys.readouterr().err
    assert err.startswith("agora operators reset-mfa: AWS refused the request (ResourceNotFoundException: ")
    assert err.endswith("Is the stage deployed, and AGORA_TABLE_NAME right?\n")


def _client_error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def _stripe_error() -> Exception:
    import stripe

    return stripe.APIConnectionError("Could not connect to Stripe.")


def _wrapped(error: Exception) -> Exception:
    from pynamodb.exceptions import GetError

    return GetError("Failed to get item", cause=error)


@pytest.mark.parametrize(("error", "exit_code", "message"), [
    (NoRegionError(), 2, "No AWS region is configured: pass --local (the marketplace `make run` is running) or "
                         "--stage <name> (a deployed stage, with AWS credentials and a region for it); or set "
                         "AWS_REGION."),
    (NoCredentialsError(), 2, "No AWS credentials were found: use --local for the marketplace `make run` is "
                              "running, or give this shell credentials for the stage (AWS_PROFILE, `aws configure`)."),
    (_wrapped(EndpointConnectionError(endpoint_url="http://127.0.0.1:5001/")), 3,
     "Could not connect to http://127.0.0.1:5001/. With --local: is `make run` still running?"),
    (_client_error("ParameterNotFound", "Parameter /agora/prod/secrets/ not found.", "GetParametersByPath"), 3,
     "AWS refused the request (ParameterNotFound: Parameter /agora/prod/secrets/ not found.). Are the stage's "
     "secrets in SSM (AGORA_SECRETS_PATH)?"),
    (_stripe_error(), 3, "Stripe failed (APIConnectionError: Could not connect to Stripe.)."),
    (EOFError(), 2, "The input ended while a value was asked for (no terminal?). Give it as an option instead; see "
                    "--help."),
    (KeyboardInterrupt(), 130, "Interrupted."),
    (ValueError("bad"), 1, "Unexpected ValueError: bad. Run `agora --debug …` to see where it happened."),
])
def test_a_failure_is_a_message_and_an_exit_code(error: BaseException, exit_code: int, message: str,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def fail(email: str) -> None:
        raise error

    monkeypatch.setattr("chalicelib.accounts.service.find_user_by_email", fail)

    assert main(["operators", "reset-mfa", "--email", "olga@agora.example"]) == exit_code
    assert capsys.readouterr() == ("", f"agora operators reset-mfa: {message}\n")


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(email: str) -> None:
        raise NoRegionError

    monkeypatch.setattr("chalicelib.accounts.service.find_user_by_email", fail)

    with pytest.raises(NoRegionError):
        main(["--debug", "operators", "reset-mfa", "--email", "olga@agora.example"])
