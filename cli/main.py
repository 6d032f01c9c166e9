"""`agora <group> <command> …` — each group lives in its own module with a ``register``.

    agora operators create --email …       (cli/operators.py)
    agora customers import FILE --seller … (cli/customers.py)
    agora customers purge-import-passwords  (cli/customers.py)
    agora ledger reconcile --from … --to …  (cli/ledger.py)
    agora analytics backfill [--reset]      (cli/analytics.py)
    agora reviews backfill                 (cli/reviews.py)

A command that fails prints why on stderr and exits non-zero (:mod:`cli.failures`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

GROUPS = ("cli.operators", "cli.customers", "cli.ledger", "cli.analytics", "cli.reviews")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agora", description="agora marketplace command line")
    parser.add_argument("--debug", action="store_true", help="show the traceback when a command fails")
    groups = parser.add_subparsers(dest="group", required=True)
    for module_name in GROUPS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name != module_name:
                raise
            continue
        module.register(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except SystemExit:
        raise
    except BaseException as error:  # KeyboardInterrupt too: a message, not a traceback
        if args.debug:
            raise
        from cli.failures import explain

        exit_code, message = explain(error)
        print(f"agora {args.group} {args.command}: {message}", file=sys.stderr)
        return exit_code


if __name__ == "__main__":
    sys.exit(main())
