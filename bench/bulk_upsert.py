"""Bulk product upsert: a 500-row upload with row transactions written one at a time
versus ``BULK_WORKERS`` at a time.

    .venv/bin/python bench/bulk_upsert.py [--rows 500] [--latency-ms 10] [--workers 1 8]

Against moto in-process, where a DynamoDB call is CPU work in this process and no network
wait: to stand for DynamoDB, each TransactWriteItems is made to wait ``--latency-ms``
(DynamoDB's transactions take roughly 10-25 ms from a Lambda in the same region). Threads
overlap those waits; they cannot speed up moto's own CPU work, so the figures are the
shape of the gain, not production timings. Every run uploads fresh SKUs (all created)
and then the same upload again with new prices (all updated).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _moto import local_stack  # noqa: E402  (bench/, beside this script)


def _slow_transactions(latency: float) -> None:
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def waiting(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if operation_name == "TransactWriteItems":
            time.sleep(latency)
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = waiting


def _rows(n: int, run: int, price: int) -> list[dict[str, Any]]:
    return [{"sku": f"BENCH-{run}-{i}", "title": f"Bench product {i}", "category": "home/kitchen",
             "price": {"amount": price + i, "currency": "EUR"}, "stock": 5, "status": "active"} for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=10.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()

    with local_stack():
        from chalicelib.catalog import service
        from chalicelib.core.keys import seller_key
        from chalicelib.sellers.models import Seller

        Seller(seller_key("sel_bench"), "PROFILE", seller_id="sel_bench", status="approved", charges_enabled=True,
               business_name="Bench", display_name="Bench", contact_email="bench@example.com", country="DE",
               default_currency="EUR", created_at="2026-11-26T00:00:00+00:00").save()
        _slow_transactions(args.latency_ms / 1000)

        print(f"{args.rows} rows, TransactWriteItems made to take +{args.latency_ms:g} ms")
        for run, workers in enumerate(args.workers):
            service.BULK_WORKERS = workers
            for label, price in (("created", 1_000), ("updated", 2_000)):
                started = time.perf_counter()
                results = service.bulk_upsert("sel_bench", _rows(args.rows, run, price))
                seconds = time.perf_counter() - started
                assert {r.status for r in results} == {label}, {r.status for r in results}
                print(f"  workers={workers:<3} {label:<8} {seconds:6.2f} s  {args.rows / seconds:7.0f} rows/s")


if __name__ == "__main__":
    main()
