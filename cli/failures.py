"""The one place where a command's failure becomes a message and an exit code, never a
traceback: `agora` is run by operators, often in scripts, who need to know what to fix.

Exit codes of every command: 1 refused (the marketplace said no: an account exists, no such
operator…); 2 wrong usage or missing configuration (which marketplace, a region, a terminal
for a prompt); 3 a dependency (DynamoDB, SSM, Stripe) could not be reached or failed, so
the command did not finish (each is safe to run again); 130 interrupted. Commands may use
further codes of their own (see each command's help). ``agora --debug …`` shows the
traceback instead.
"""

from __future__ import annotations

from typing import Any

REFUSED_EXIT = 1
USAGE_EXIT = 2
UNAVAILABLE_EXIT = 3
INTERRUPTED_EXIT = 130

WHICH_MARKETPLACE = ("pass --local (the marketplace `make run` is running) or --stage <name> (a deployed stage, "
                     "with AWS credentials and a region for it)")


class CommandFailed(Exception):
    """A command stops with ``message`` and ``exit_code``; raised where the reason is known."""

    def __init__(self, message: str, exit_code: int = USAGE_EXIT) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def explain(error: BaseException) -> tuple[int, str]:
    """What to tell the operator about ``error``, and the exit code."""
    if isinstance(error, CommandFailed):
        return error.exit_code, error.message
    if isinstance(error, KeyboardInterrupt):
        return INTERRUPTED_EXIT, "Interrupted."
    if isinstance(error, EOFError):
        return USAGE_EXIT, ("The input ended while a value was asked for (no terminal?). Give it as an option "
                            "instead; see --help.")
    agora = _agora_error(error)
    if agora is not None:
        return agora
    aws = _aws_error(error)
    if aws is not None:
        return aws
    if type(error).__module__.split(".")[0] == "stripe":
        return UNAVAILABLE_EXIT, f"Stripe failed ({type(error).__name__}: {error})."
    return REFUSED_EXIT, (f"Unexpected {type(error).__name__}: {error}. Run `agora --debug …` to see where it "
                          "happened.")


def _agora_error(error: BaseException) -> tuple[int, str] | None:
    from chalicelib.core.errors import AgoraError

    if not isinstance(error, AgoraError):
        return None
    reasons = " ".join(str(d["message"]) for d in error.details if isinstance(d, dict) and "message" in d) \
        if isinstance(error.details, list) else ""
    message = f"{error.message} {reasons}".strip()
    if error.status == 503:
        return UNAVAILABLE_EXIT, message
    return (USAGE_EXIT if error.status in (400, 422) else REFUSED_EXIT), message


def _aws_error(error: BaseException) -> tuple[int, str] | None:
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    cause: Any = error
    if type(error).__module__.startswith("pynamodb"):  # PynamoDB wraps botocore's error
        cause = getattr(error, "cause", None) or error
    if isinstance(cause, NoRegionError):
        return USAGE_EXIT, f"No AWS region is configured: {WHICH_MARKETPLACE}; or set AWS_REGION."
    if isinstance(cause, (NoCredentialsError, PartialCredentialsError)):
        return USAGE_EXIT, ("No AWS credentials were found: use --local for the marketplace `make run` is running, "
                            "or give this shell credentials for the stage (AWS_PROFILE, `aws configure`).")
    if isinstance(cause, EndpointConnectionError):
        return UNAVAILABLE_EXIT, (f"Could not connect to {cause.kwargs.get('endpoint_url', 'AWS')}. With --local: is "
                                  "`make run` still running?")
    if isinstance(cause, ClientError):
        details = cause.response.get("Error", {})
        code, text = details.get("Code", "error"), details.get("Message", str(cause))
        hint = {
            "ResourceNotFoundException": " Is the stage deployed, and AGORA_TABLE_NAME right?",
            "ParameterNotFound": " Are the stage's secrets in SSM (AGORA_SECRETS_PATH)?",
            "AccessDeniedException": " These credentials may not do this on this stage.",
            "UnrecognizedClientException": " These credentials are not valid for this account or region.",
            "ExpiredTokenException": " Renew the session's credentials.",
        }.get(code, "")
        return UNAVAILABLE_EXIT, f"AWS refused the request ({code}: {text}).{hint}"
    if isinstance(cause, BotoCoreError) or cause is not error:
        return UNAVAILABLE_EXIT, f"AWS could not be used ({type(cause).__name__}: {cause})."
    return None
