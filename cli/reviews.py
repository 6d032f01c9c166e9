"""`agora reviews …` — the operator's upkeep of reviews and questions.

    agora reviews backfill [--local | --stage prod]

``backfill`` gives listing entries written before the best-rated index their rating copy and
GSI3 key (so ``sort=rating`` lists every product), and questions and answers written before
the question markers their markers (so the buyer's data export and erasure find them), see
:mod:`chalicelib.reviews.backfill`. Run it once after deploying them; it is idempotent and
goes on from its checkpoint when a run stopped.

Exit codes: 0 done; 2 wrong usage; other failures as :mod:`cli.failures` says.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from cli import target


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("reviews", help="reviews' and questions' upkeep")
    commands = group.add_subparsers(dest="command", required=True)
    backfill = commands.add_parser(
        "backfill", help="bring old listing entries and questions up to the rating index and question markers",
        description="Read every seller's products (a Query per page) and rate their listing entries that lack the "
                    "best-rated key; then put the missing question markers. Idempotent; goes on from the "
                    "checkpoint of a run that stopped.")
    target.add_arguments(backfill)
    backfill.set_defaults(run=run_backfill)


def run_backfill(args: argparse.Namespace, *, out: TextIO = sys.stdout) -> int:
    target.point_at(args)
    from chalicelib.reviews import backfill  # after point_at: settings and clients follow the target

    outcome = backfill.run(progress=lambda line: print(line, file=out, flush=True))
    how = "went on from the checkpoint, " if outcome.resumed else ""
    print(f"Backfill done: {how}rated {outcome.entries:,} listing entries, put {outcome.markers:,} question markers.",
          file=out)
    return 0
