"""`agora analytics …` — the operator's upkeep of retention analytics.

    agora analytics backfill [--reset] [--local | --stage prod]

``backfill`` rebuilds every customer's summary (per seller and for the marketplace), and the
counters with them, from the orders in the table (:mod:`chalicelib.analytics.backfill`). It
is idempotent and resumable: a run that stopped goes on from its checkpoint when started
again (with that run's ``--reset``). ``--reset`` first deletes every analytics item: needed
after changing ``AGORA_ANALYTICS_ACTIVE_DAYS``; run it while no order is paid or refunded.

Exit codes: 0 done; 2 wrong usage; other failures as :mod:`cli.failures` says.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from cli import target


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("analytics", help="retention analytics' upkeep")
    commands = group.add_subparsers(dest="command", required=True)
    backfill = commands.add_parser(
        "backfill", help="rebuild the customers' summaries and counters from the orders",
        description="Read every seller's orders (a Query per page) and merge each paid one into its customer's "
                    "summaries and the counters. Idempotent; goes on from the checkpoint of a run that stopped.")
    backfill.add_argument("--reset", action="store_true",
                          help="delete every summary and counter first (after a change of the active window)")
    target.add_arguments(backfill)
    backfill.set_defaults(run=run_backfill)


def run_backfill(args: argparse.Namespace, *, out: TextIO = sys.stdout) -> int:
    target.point_at(args)
    from chalicelib.analytics import backfill

    outcome = backfill.run(reset=args.reset, progress=lambda line: print(line, file=out, flush=True))
    how = "went on from the checkpoint and read" if outcome.resumed else "read"
    print(f"Backfill done: {how} {outcome.sub_orders:,} sub-orders.", file=out)
    return 0
