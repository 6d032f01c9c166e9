"""dev/run.py: what `make run` prints once ready, and where the services' logs go."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from dev.run import LocalMarketplace, banner

URLS = {name: f"http://127.0.0.1:{port}" for name, port in
        (("api", 8000), ("stripe", 8420), ("aws", 4566), ("frontend", 3000))}
URLS.update(docs="http://127.0.0.1:8000/docs", openapi="http://127.0.0.1:8000/openapi.json",
            outbox="http://127.0.0.1:8025/outbox")


def _state(**extra: Any) -> dict[str, Any]:
    return {"urls": URLS, "ready_seconds": 12.3, "logs": "/work/.local/logs", "demo": None, **extra}


def test_the_summary_names_every_url_the_logs_and_the_demo_accounts() -> None:
    accounts = "Demo accounts (sign in at POST /v1/auth/login):\n  buyer     buyer@agora.example / paper-kite-demo-42"
    printed = banner(_state(demo=accounts, demo_loaded=True))
    for url in URLS.values():
        assert url in printed
    assert "/work/.local/logs/" in printed
    assert printed.rstrip().endswith("buyer@agora.example / paper-kite-demo-42")  # the last thing on screen


def test_a_failed_demo_load_is_said_plainly() -> None:
    printed = banner(_state(demo="(demo data not loaded)\n422 weak_password", demo_loaded=False))
    assert "LOADING THE DEMO DATA FAILED" in printed
    assert "422 weak_password" in printed


def test_without_the_demo_the_summary_says_how_to_start() -> None:
    assert "No demo data (--no-demo)" in banner(_state())


def test_service_output_goes_to_a_log_file_unless_verbose(tmp_path: Path) -> None:
    marketplace = LocalMarketplace({}, tmp_path / "stack.json", tmp_path / "logs")
    process = marketplace._spawn("api", [sys.executable, "-c", "print('request served')"], env={})
    process.wait(timeout=30)
    assert (tmp_path / "logs" / "api.log").read_text() == "request served\n"
