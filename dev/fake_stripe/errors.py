"""Errors shaped like Stripe's, so the SDK raises the same exception classes locally as in production.

Stripe answers ``{"error": {"type", "message", "param", "code"}}``; the SDK picks its exception from the
status and ``type`` (400/404 -> InvalidRequestError, 400 + idempotency_error -> IdempotencyError,
402 -> CardError, 403 -> PermissionError).
"""

from __future__ import annotations

from localstripe.errors import UserError


def stripe_error(status: int, message: str, *, param: str | None = None, code: str | None = None,
                 error_type: str = "invalid_request_error") -> UserError:
    """A localstripe UserError (so its middleware renders it) carrying Stripe's fields."""
    contents = {key: value for key, value in (("param", param), ("code", code)) if value is not None}
    error = UserError(status, message, contents)
    error.body["error"]["type"] = error_type
    return error


def no_such(object_name: str, object_id: str, *, param: str = "id", status: int = 404) -> UserError:
    return stripe_error(status, f"No such {object_name}: '{object_id}'", param=param, code="resource_missing")


def missing_param(param: str) -> UserError:
    return stripe_error(400, f"Missing required param: {param}.", param=param, code="parameter_missing")


def invalid_param(param: str, message: str) -> UserError:
    return stripe_error(400, message, param=param, code="parameter_invalid")


def unknown_param(param: str) -> UserError:
    return stripe_error(400, f"Received unknown parameter: {param}", param=param, code="parameter_unknown")
