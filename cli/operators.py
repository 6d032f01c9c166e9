"""`agora operators …` — operator accounts. Nobody can sign up as an operator over HTTP, so
the first (and every further) operator is created here, with direct access to the table.

    agora operators create --email ops@shop.example --name "Olga Operator"
        [--password-stdin | --password …] [--local | --stage prod]
    agora operators reset-mfa --email ops@shop.example [--local | --stage prod]
    agora operators otp --email operator@agora.example --local

``create`` also enrols the operator's second factor (TOTP) and prints its key once, for an
authenticator app; ``reset-mfa`` replaces a lost one. ``otp`` prints the current code, for
signing in to the local marketplace without an app; it refuses any other target.

It uses this environment's AWS credentials and agora settings (``AGORA_TABLE_NAME``,
``AWS_ENDPOINT_URL``, …); ``--local`` points it at the running `make run` marketplace,
``--stage`` at a deployed stage's table; without either, ``AGORA_STAGE`` must name one.

The new operator's password comes, in this order, from ``--password-stdin`` (the first line
of stdin: ``pass show ops | agora operators create … --password-stdin``), ``--password``
(visible in the shell's history and the process list), the environment variable
``AGORA_OPERATOR_PASSWORD``, or else it is asked for twice on the terminal; without a
terminal (a script, CI) the command stops and says so. Failures are reported by
:mod:`cli.failures`.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING

from cli import target
from cli.failures import CommandFailed

if TYPE_CHECKING:
    from chalicelib.accounts.models import User


def register(groups: argparse._SubParsersAction) -> None:
    parser = groups.add_parser("operators", help="operator accounts",
                               description="Operator accounts (direct table access).")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create an operator account",
                                 description="Create an operator account that signs in at POST /v1/auth/login, "
                                             "with a password and a one-time code from an authenticator app.")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    password = create.add_mutually_exclusive_group()
    password.add_argument("--password-stdin", action="store_true",
                          help="read the password from the first line of stdin (for scripts)")
    password.add_argument("--password", help="the password (visible in the shell history; prefer "
                                              "--password-stdin or AGORA_OPERATOR_PASSWORD)")
    target.add_arguments(create)
    create.set_defaults(run=create_operator)

    reset = commands.add_parser("reset-mfa", help="give an operator a new authenticator key",
                                description="Replace an operator's TOTP key (lost phone); the old codes stop "
                                            "working at once.")
    reset.add_argument("--email", required=True)
    target.add_arguments(reset)
    reset.set_defaults(run=reset_mfa)

    otp = commands.add_parser("otp", help="print an operator's current code (local marketplace only)",
                              description="Print the current one-time code of an operator of the local "
                                          "marketplace, e.g. the demo operator. Refused for any other target. "
                                          "A code signs in once: to sign in again, wait for the next one (30 s).")
    otp.add_argument("--email", required=True)
    target.add_arguments(otp)
    otp.set_defaults(run=print_code)


PASSWORD_ENV = "AGORA_OPERATOR_PASSWORD"


def _password(args: argparse.Namespace) -> str:
    """From stdin, the option, the environment, or the terminal (see the module docstring)."""
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise CommandFailed("--password-stdin: stdin gave no password (an empty first line or none).")
        return line
    if args.password is not None:
        return str(args.password)
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise CommandFailed(f"No terminal to ask for the password on: pipe it in with --password-stdin, or set "
                            f"{PASSWORD_ENV}.")
    return _ask_password()


def _ask_password() -> str:
    password = getpass.getpass("Password for the operator: ")
    if password != getpass.getpass("Once more: "):
        raise SystemExit("The passwords differ.")
    return password


def _print_key(secret: str, uri: str) -> None:
    print("Add this key to an authenticator app now; it is shown only this once. "
          "Sign-in asks for the app's 6-digit code.")
    print(f"  otpauth URI: {uri}")
    print(f"  secret (base32): {secret}")


def create_operator(args: argparse.Namespace) -> int:
    from chalicelib.accounts import mfa
    from chalicelib.accounts.emails import normalise_email
    from chalicelib.accounts.service import check_new_password, create_user, new_user
    from chalicelib.core.errors import Conflict, ValidationFailed

    target.point_at(args)
    try:
        email = normalise_email(args.email)
        password = _password(args)
        check_new_password(password, email, name=args.name)
        user = new_user(email, name=args.name, password=password, roles=("operator",))
        user.email_verified = True  # created by someone with access to the table: trusted
        user.totp_secret = mfa.new_secret()  # enrolled in the same write as the account
        create_user(user, event_payload={"method": "cli"})
    except ValidationFailed as error:
        reasons = " ".join(d["message"] for d in error.details or [])  # each one a sentence
        print(f"{error.message} {reasons}".strip(), file=sys.stderr)
        return 2
    except Conflict as error:
        print(error.message, file=sys.stderr)
        return 1
    print(f"Created operator {user.user_id} <{user.email}>. Sign in at POST /v1/auth/login.")
    _print_key(user.totp_secret, mfa.provisioning_uri(user.totp_secret, user.email))
    return 0


def _operator(email: str) -> User:
    """The operator with this email, or SystemExit(1) saying why not."""
    from chalicelib.accounts.emails import normalise_email
    from chalicelib.accounts.service import find_user_by_email
    from chalicelib.core.errors import ValidationFailed

    try:
        user = find_user_by_email(normalise_email(email))
    except ValidationFailed as error:
        raise SystemExit(error.message) from None
    if user is None or not user.is_active or "operator" not in user.roles:
        raise SystemExit(f"There is no operator with the email {email}.")
    return user


def reset_mfa(args: argparse.Namespace) -> int:
    from chalicelib.accounts import mfa

    target.point_at(args)
    user = _operator(args.email)
    secret, uri = mfa.enrol(user.user_id)
    print(f"New authenticator key for operator {user.user_id} <{user.email}>; the old one no longer works.")
    _print_key(secret, uri)
    return 0


def print_code(args: argparse.Namespace) -> int:
    from chalicelib.accounts import mfa
    from chalicelib.core.settings import get_settings

    if not args.local:
        print("`agora operators otp` works only with --local: elsewhere the code comes from the operator's "
              "authenticator app.", file=sys.stderr)
        return 2
    target.point_at(args)
    if not get_settings().is_local:  # a state file that points at a deployed stage
        print(f"Refused: --local points at stage {get_settings().stage!r}, which is not local.", file=sys.stderr)
        return 2
    user = _operator(args.email)
    if not user.totp_secret:
        print(f"{user.email} has no authenticator key; give it one with `agora operators reset-mfa`.",
              file=sys.stderr)
        return 1
    print(mfa.code_at(user.totp_secret))
    return 0
