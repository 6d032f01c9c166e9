"""`make load`: the locust scenario (bench/locustfile.py) against a local marketplace of its own.

Starts the local stack with its demo on free ports of 127.0.0.1 (dev.run's machinery, its
state and logs under .local/load/, so a running `make run` is left alone), runs locust
headless for a bounded number of users and seconds, prints requests/s and p50/p95/p99 per
route, errors, connection resets and the expected business answers, and stops everything
it started. The summary is written to .local/load/summary.json (locust's CSVs beside it).
Exits non-zero on any error or connection reset.

    python bench/load.py --users 100 --spawn-rate 10 --duration 60
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dev.run import in_background  # noqa: E402 - after the path, as the other benches do

OUT = ROOT / ".local" / "load"


def report(result: dict[str, Any]) -> str:
    lines = [f"{result['users']} users (spawn rate {result['spawn_rate']}/s) for {result['run_time_s']} s "
             f"against {result['host']}",
             f"{'method':<7} {'route':<48} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
             f"{'p99 ms':>7} {'errors':>6}"]
    for row in result["routes"]:
        lines.append(f"{row['method']:<7} {row['route']:<48} {row['requests']:>8} {row['rps']:>7.2f} "
                     f"{row['p50_ms']:>7.0f} {row['p95_ms']:>7.0f} {row['p99_ms']:>7.0f} {row['errors']:>6}")
    lines.append(f"{'all':<7} {'':<48} {result['requests']:>8} {result['rps']:>7.2f} {result['p50_ms']:>7.0f} "
                 f"{result['p95_ms']:>7.0f} {result['p99_ms']:>7.0f} {result['errors']:>6}")
    lines.append(f"errors: {result['errors']}   connection resets: {result['connection_resets']}")
    for error in result["error_details"]:
        lines.append(f"  {error['count']:>5} x {error['method']} {error['route']}: {error['error']}")
    lines.append("expected business answers (not errors):" + ("" if result["expected_answers"] else " none"))
    for answer, n in sorted(result["expected_answers"].items()):
        lines.append(f"  {n:>5} x {answer}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load, after the stack is ready")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    summary_file = OUT / "summary.json"
    summary_file.unlink(missing_ok=True)
    print("Starting a local marketplace of its own on free ports (logs in .local/load/logs/) ...", flush=True)
    with in_background(OUT / "stack.json", timeout=300, stdout=subprocess.PIPE) as state:
        urls = state["urls"]
        if not state.get("demo_loaded"):
            print(f"The demo data did not load:\n{state.get('demo')}", file=sys.stderr)
            return 1
        print(f"Running locust: {args.users} users, {args.spawn_rate:g}/s, {args.duration} s at {urls['api']} ...",
              flush=True)
        locust = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
             "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.duration}s",
             "--stop-timeout", "30", "--host", urls["api"], "--outbox", urls["outbox"], "--stripe", urls["stripe"],
             "--summary-file", str(summary_file), "--csv", str(OUT / "locust"), "--only-summary",
             "--loglevel", "WARNING"],
            cwd=ROOT, check=False)
    if not summary_file.exists():
        print(f"locust wrote no summary (exit {locust.returncode})", file=sys.stderr)
        return 1
    result = json.loads(summary_file.read_text())
    print(report(result))
    print(f"Summary: {summary_file.relative_to(ROOT)} (locust's CSVs: .local/load/locust_*.csv)")
    return 1 if result["errors"] or result["connection_resets"] or locust.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
