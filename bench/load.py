"""`make load`: the locust scenario (bench/locustfile.py) against a local marketplace of its own.

Starts the local stack with its demo on free ports of 127.0.0.1 (dev.run's machinery, its
state and logs under .local/load/, so a running `make run` is left alone), runs locust
headless for a bounded number of users and seconds, prints requests/s and p50/p95/p99 per
route, errors, connection resets and the expected business answers, and stops everything
it started. Before the run it signs up one buyer per user through the API (sign-up, mailed
link, confirmation), each from its own loopback address. The summary is written to
.local/load/summary.json (locust's CSVs beside it). Exits non-zero on any error or
connection reset.

    python bench/load.py --users 100 --spawn-rate 10 --duration 60
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dev.run import in_background  # noqa: E402 - after the path, as the other benches do

OUT = ROOT / ".local" / "load"
SIGN_UP_SUBJECT = "Confirm your email address"


class FromAddress(HTTPAdapter):
    """Connections from one loopback address: one buyer's own device."""

    def __init__(self, address: str) -> None:
        self.source = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, source_address=(self.source, 0), **kwargs)


def _session(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(address))
    return session


def sign_up_buyers(api: str, outbox: str, count: int, *, parallel: int = 4) -> list[dict[str, str]]:
    """``count`` new buyers, each from its own address on 127.1.0.0/16, signed up through the
    API as a person would: register, take the link from the outbox, confirm. Their access
    tokens last 15 minutes (core.auth), longer than any run this allows."""
    run = uuid.uuid4().hex[:6]
    buyers = [{"email": f"load-{run}-{i}@example.com", "address": f"127.1.{i // 250}.{i % 250 + 2}"}
              for i in range(count)]

    def register(buyer: dict[str, str]) -> None:
        response = _session(buyer["address"]).post(f"{api}/v1/auth/register", timeout=120, json={
            "email": buyer["email"], "password": f"brisk-meadow-{uuid.uuid4().hex}", "name": "Lena Last"})
        if response.status_code != 202:
            raise RuntimeError(f"sign-up of {buyer['email']}: {response.status_code} {response.text[:300]}")

    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(register, buyers))
    tokens: dict[str, str] = {}
    deadline = time.monotonic() + 300
    while len(tokens) < count and time.monotonic() < deadline:
        for mail in requests.get(outbox, timeout=60).json()["messages"]:
            if SIGN_UP_SUBJECT in (mail["subject"] or ""):
                found = re.search(r"[?&]token=([\w.-]+)", mail["body"] or "")
                for buyer in buyers:
                    if found and buyer["email"] in mail["to"]:
                        tokens.setdefault(buyer["email"], found.group(1))
        time.sleep(1)
    if len(tokens) < count:
        raise RuntimeError(f"only {len(tokens)} of {count} sign-up mails reached the outbox in 300 s")

    def confirm(buyer: dict[str, str]) -> dict[str, str]:
        response = _session(buyer["address"]).post(f"{api}/v1/auth/magic-link/verify", timeout=120,
                                                   json={"token": tokens[buyer["email"]]})
        if response.status_code != 200:
            raise RuntimeError(f"confirming {buyer['email']}: {response.status_code} {response.text[:300]}")
        return {**buyer, "access_token": response.json()["access_token"]}

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(confirm, buyers))


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
    if not 1 <= args.duration <= 600:
        parser.error("--duration: 1 to 600 seconds (the buyers' sessions last 15 minutes)")
    OUT.mkdir(parents=True, exist_ok=True)
    summary_file = OUT / "summary.json"
    summary_file.unlink(missing_ok=True)
    print("Starting a local marketplace of its own on free ports (logs in .local/load/logs/) ...", flush=True)
    with in_background(OUT / "stack.json", timeout=300, stdout=subprocess.PIPE) as state:
        urls = state["urls"]
        if not state.get("demo_loaded"):
            print(f"The demo data did not load:\n{state.get('demo')}", file=sys.stderr)
            return 1
        started = time.monotonic()
        buyers = sign_up_buyers(urls["api"], urls["outbox"], args.users)
        (OUT / "buyers.json").write_text(json.dumps(buyers))
        print(f"Signed up {len(buyers)} buyers through the API in {time.monotonic() - started:.0f} s.", flush=True)
        print(f"Running locust: {args.users} users, {args.spawn_rate:g}/s, {args.duration} s at {urls['api']} ...",
              flush=True)
        locust = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
             "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.duration}s",
             "--stop-timeout", "30", "--host", urls["api"], "--stripe", urls["stripe"],
             "--buyers", str(OUT / "buyers.json"),
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
