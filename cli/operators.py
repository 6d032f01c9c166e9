"""`agora operators …` — operator accounts. Nobody can sign up as an operator over HTTP, so
the first (and every further) operator is created here, with direct access to the table.

    agora operators create --email ops@shop.example --name "Olga Operator" [--password …]
        [--local | --stage prod]

It uses this environment's AWS credentials and agora settings (``AGORA_TABLE_NAME``,
``AWS_ENDPOINT_URL``, …); ``--local`` points it at the running `make run` marketplace,
``--stage`` at a deployed stage's table. Without ``--password`` the password is asked for.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from cli import target


def register(groups: argparse._SubParsersAction) -> None:
    parser = groups.add_parser("operators", help="operator accounts",
                               description="Operator accounts (direct table access).")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create an operator account",
                                 description="Create an operator account that signs in at POST /v1/auth/login.")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--password", help="asked for when omitted (keeps it out of the shell history)")
    target.add_arguments(create)
    create.set_defaults(run=create_operator)


def _ask_password() -> str:
    password = getpass.getpass("Password for the operator: ")
    if password != getpass.getpass("Once more: "):
        raise SystemExit("The passwords differ.")
    return password


def create_operator(args: argparse.Namespace) -> int:
    from chalicelib.accounts.emails import normalise_email
    from chalicelib.accounts.service import check_new_password, create_user, new_user
    from chalicelib.core.errors import Conflict, ValidationFailed

    target.point_at(args)
    try:
        email = normalise_email(args.email)
        password = args.password if args.password is not None else _ask_password()
        check_new_password(password, email)
        user = create_user(new_user(email, name=args.name, password=password, roles=("operator",)),
                           event_payload={"method": "cli"})
    except ValidationFailed as error:
        reasons = "; ".join(d["message"] for d in error.details or [])
        print(f"{error.message} {reasons}".strip(), file=sys.stderr)
        return 2
    except Conflict as error:
        print(error.message, file=sys.stderr)
        return 1
    print(f"Created operator {user.user_id} <{user.email}>. Sign in at POST /v1/auth/login.")
    return 0
