"""`agora analytics backfill` on the test stage's table."""

from __future__ import annotations

import io

from chalicelib.analytics.models import AnalyticsBackfill
from chalicelib.core.keys import ANALYTICS_BACKFILL_KEY, BACKFILL_CHECKPOINT_SK
from cli.analytics import run_backfill
from cli.main import build_parser


def test_the_backfill_command_runs_to_its_end_and_says_so() -> None:
    args = build_parser().parse_args(["analytics", "backfill", "--reset"])
    out = io.StringIO()

    assert run_backfill(args, out=out) == 0

    assert out.getvalue().splitlines()[-1] == "Backfill done: read 0 sub-orders."
    checkpoint = AnalyticsBackfill.get(ANALYTICS_BACKFILL_KEY, BACKFILL_CHECKPOINT_SK)
    assert (checkpoint.phase, checkpoint.reset) == ("done", True)
