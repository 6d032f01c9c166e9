"""Which marketplace a direct-access command works on: ``--local`` (the running `make run`)
or ``--stage`` (a deployed stage); without either, this environment's agora settings."""

from __future__ import annotations

import argparse
import os


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--local", action="store_true", help="the marketplace `make run` is running")
    target.add_argument("--stage", help="a deployed stage (dev, prod); its table is agora-<stage> unless "
                                        "AGORA_TABLE_NAME says otherwise")


def point_at(args: argparse.Namespace) -> None:
    """Choose the marketplace before any setting is read (settings are read once, lazily)."""
    if args.local:
        from dev.stack_state import apply_environment

        apply_environment()
    elif args.stage:
        os.environ["AGORA_STAGE"] = args.stage
