"""`agora <group> <command> …` — each group lives in its own module with a ``register``.

    agora operators create --email …       (cli/operators.py)
    agora customers import FILE --seller … (cli/customers.py)
    agora customers purge-import-passwords  (cli/customers.py)
    agora ledger reconcile --from … --to …  (cli/ledger.py)
"""

from __future__ import annotations

import argparse
import importlib
import sys

GROUPS = ("cli.operators", "cli.customers", "cli.ledger")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agora", description="agora marketplace command line")
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
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
