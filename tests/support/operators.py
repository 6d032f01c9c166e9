"""Operators as `agora operators create` makes them, and their sign-in with the second factor."""

from __future__ import annotations

from typing import Any

from tests.support.http import call

PASSWORD = "operator-secret-2026"


def create_operator(*extra: str) -> int:
    """Olga, created by the CLI; returns its exit code."""
    from cli.main import main

    return main(["operators", "create", "--email", "Olga@Agora.example", "--name", "Olga Operator", *extra])


def operator_account() -> Any:
    """Olga's stored user, or None."""
    from chalicelib.accounts.service import find_user_by_email

    return find_user_by_email("olga@agora.example")


def operator_sign_in(api: Any, password: str = PASSWORD) -> tuple[int, Any]:
    """Password and, when the operator exists, the current code of their authenticator."""
    from chalicelib.accounts import mfa

    operator = operator_account()
    otp = mfa.code_at(operator.totp_secret) if operator is not None and operator.totp_secret else None
    status, body, _ = call(api, "POST", "/v1/auth/login", {"email": "olga@agora.example", "password": password,
                                                           "otp": otp})
    return status, body
