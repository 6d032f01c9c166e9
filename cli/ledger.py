"""`agora ledger …` — the operator's checks of the books.

    agora ledger reconcile --from 2026-06-01 --to 2026-07-01 [--json] [--local | --stage prod]

Compares the ledger with Stripe's objects over ``[from, to)`` (UTC; a date means its 00:00,
so ``--to`` is the first day *not* checked; full ISO times such as ``2026-06-01T12:00:00+02:00``
work too) and prints every difference with its problem code, posting id, Stripe id and both
amounts (see :mod:`chalicelib.ledger.reconcile` for what is compared). It reads the table and
Stripe directly with this environment's settings; ``--local`` points it at the running
`make run` marketplace (moto + the fake Stripe), ``--stage`` at a deployed stage.

Exit codes: 0 the books match; 1 differences (listed); 2 wrong usage; 3 Stripe or DynamoDB
could not be read (nothing was decided).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from typing import TextIO

from cli import target

DIFFERENCES_EXIT = 1
USAGE_EXIT = 2
UNAVAILABLE_EXIT = 3


def moment(text: str) -> datetime:
    """``YYYY-MM-DD`` (00:00 UTC) or an ISO time with its offset (UTC when it has none)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD) or ISO time: {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def register(groups: argparse._SubParsersAction) -> None:
    parser = groups.add_parser("ledger", help="the ledger's checks",
                               description="The ledger, read directly from the table.")
    commands = parser.add_subparsers(dest="command", required=True)
    reconcile = commands.add_parser(
        "reconcile", help="compare the ledger with Stripe's objects",
        description="Compare the ledger's postings with Stripe's PaymentIntents, transfers, refunds and transfer "
                    "reversals over [from, to) and report every difference. Exit 0: they match; 1: differences.")
    reconcile.add_argument("--from", dest="from_", required=True, type=moment,
                           help="first day (or time) checked, UTC: YYYY-MM-DD")
    reconcile.add_argument("--to", required=True, type=moment,
                           help="first day (or time) no longer checked, UTC: YYYY-MM-DD")
    reconcile.add_argument("--json", action="store_true", help="print the report as JSON")
    target.add_arguments(reconcile)
    reconcile.set_defaults(run=run_reconcile)


def run_reconcile(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError
    from pynamodb.exceptions import PynamoDBException

    from chalicelib.core.errors import ServiceUnavailable, ValidationFailed
    from chalicelib.ledger.reconcile import reconcile

    out, err = out or sys.stdout, err or sys.stderr
    target.point_at(args)
    try:
        report = reconcile(args.from_, args.to)
    except ValidationFailed as error:
        print(f"agora ledger reconcile: {error.message}", file=err)
        return USAGE_EXIT
    except ServiceUnavailable as error:
        print(f"agora ledger reconcile: {error.message} Nothing was compared.", file=err)
        return UNAVAILABLE_EXIT
    except (BotoCoreError, ClientError, PynamoDBException) as error:
        print(f"agora ledger reconcile: could not read the ledger ({type(error).__name__}: {error}). "
              "Nothing was compared.", file=err)
        return UNAVAILABLE_EXIT
    print(json.dumps(report.to_json(), indent=2) if args.json else report.text(), file=out)
    return 0 if report.ok else DIFFERENCES_EXIT
