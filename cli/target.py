"""Which marketplace a direct-access command works on: ``--local`` (the running `make run`)
or ``--stage`` (a deployed stage); without either, the stage this environment names in
``AGORA_STAGE`` (with its agora and AWS settings). Checked before anything is asked for or
read, so a command without a marketplace stops at once with what to pass."""

from __future__ import annotations

import argparse
import os

from cli.failures import WHICH_MARKETPLACE, CommandFailed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--local", action="store_true", help="the marketplace `make run` is running")
    target.add_argument("--stage", help="a deployed stage (dev, prod); its table is agora-<stage> unless "
                                        "AGORA_TABLE_NAME says otherwise")


def _region() -> str | None:
    """The region botocore will use. botocore reads AWS_DEFAULT_REGION (or the profile), not
    AWS_REGION, which agora's settings also accept: given only that, it is passed on."""
    if os.environ.get("AWS_REGION") and not os.environ.get("AWS_DEFAULT_REGION"):
        os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"]
    import botocore.session

    return botocore.session.get_session().get_config_variable("region")


def point_at(args: argparse.Namespace) -> None:
    """Choose the marketplace before any setting is read (settings are read once, lazily)."""
    if args.local:
        from dev.stack_state import apply_environment

        try:
            apply_environment()
        except SystemExit as missing:  # no `make run` running: say so like every other failure
            raise CommandFailed(str(missing.code)) from None
        return
    if args.stage:
        os.environ["AGORA_STAGE"] = args.stage
    elif not os.environ.get("AGORA_STAGE"):
        raise CommandFailed(f"Which marketplace? Please {WHICH_MARKETPLACE}; or set AGORA_STAGE and this "
                            "environment's AWS settings.")
    if not _region():
        raise CommandFailed(f"Stage {os.environ['AGORA_STAGE']!r} needs an AWS region: set AWS_REGION, or a region "
                            "in the AWS profile (`aws configure`).")
