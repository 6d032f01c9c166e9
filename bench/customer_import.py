"""Customer CSV import throughput: how many rows a second each stage handles.

    .venv/bin/python bench/customer_import.py [--rows 100000] [--import-rows 5000] [--password-rows 200]

Stages, each timed on its own, against moto in-process (no network):
1. checking the file (parse, validate every email and password, find duplicates): what
   the upload request does for all rows — measured on ``--rows`` rows;
2. importing through the queue worker (chunks in DynamoDB, one SQS message per chunk,
   app.py's handler as Lambda calls it), new passwordless accounts and existing ones
   linked — measured on ``--import-rows`` rows and extrapolated to ``--rows``;
3. new accounts with a password (one argon2id hash each).

moto's DynamoDB is not DynamoDB: a transaction there is CPU work in this process, on
DynamoDB it is a ~5 to 10 ms round trip that many chunks wait for in parallel. Read stage
2 as "the work per row is a few milliseconds", not as a production figure; the
production estimate is in chalicelib/customers/imports.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _moto import local_stack  # noqa: E402  (bench/, beside this script)


def _csv(rows: int, *, prefix: str, password: str = "") -> bytes:
    lines = ["Name,E-Mail,Passwort"] + [f"Kunde {n},{prefix}{n}@example.com,{password}" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _rate(label: str, rows: int, seconds: float) -> float:
    rate = rows / seconds
    print(f"{label:<58} {rows:>7,} rows {seconds:8.2f} s {rate:10,.0f} rows/s")
    return rate


def _drain(queue_name: str) -> None:
    import boto3

    import app
    from dev import lambda_events

    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", []):
        app.customer_imports(lambda_events.sqs_event_from_messages(messages, queue_name),
                             lambda_events.context("customer_imports"))
        sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])


def _import(seller_id: str, content: bytes, queue_name: str) -> Any:
    from chalicelib.customers import imports

    job = imports.start_import(seller_id, content)
    _drain(queue_name)
    return imports.get_import(seller_id, job.import_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--import-rows", type=int, default=5_000)
    parser.add_argument("--password-rows", type=int, default=200)
    args = parser.parse_args()

    with local_stack() as outputs:
        from chalicelib.core.settings import get_settings, reset_settings
        from chalicelib.customers import imports

        os.environ["AGORA_IMPORTS_QUEUE"] = outputs["CustomerImportsQueueName"]
        reset_settings()
        queue = get_settings().imports_queue_name

        content = _csv(args.rows, prefix="check")
        started = time.perf_counter()
        checked = imports.check_file(content)
        check_rate = _rate(f"1. check the file ({len(content) / 1e6:.1f} MB)", len(checked.rows),
                           time.perf_counter() - started)

        started = time.perf_counter()
        job = _import("sel_bench", _csv(args.import_rows, prefix="new"), queue)
        new_rate = _rate("2a. import via the worker: new passwordless accounts", int(job.accounts_created),
                         time.perf_counter() - started)
        started = time.perf_counter()
        job = _import("sel_bench_2", _csv(args.import_rows, prefix="new"), queue)
        link_rate = _rate("2b. import via the worker: existing accounts linked", int(job.linked),
                          time.perf_counter() - started)

        started = time.perf_counter()
        job = imports.start_import("sel_bench", _csv(args.password_rows, prefix="pw", password="blue-cactus-42"))
        _drain(queue)
        password_rate = _rate("3. new accounts with a password (argon2id each)", args.password_rows,
                              time.perf_counter() - started)

    print(f"\n{args.rows:,} rows, one process, no parallel chunks (add Lambda concurrency to divide):")
    for label, rate in (("checking", check_rate), ("new passwordless accounts", new_rate),
                        ("existing accounts linked", link_rate), ("new accounts with a password", password_rate)):
        print(f"  {label:<30} {args.rows / rate / 60:7.1f} min")


if __name__ == "__main__":
    main()
