"""Customer CSV import throughput: how many rows a second each stage handles.

    .venv/bin/python bench/customer_import.py [--rows 100000] [--import-rows 5000] [--password-rows 200]
    .venv/bin/python bench/customer_import.py --over-http [--rows 100000] [--poll-seconds 5]

``--over-http`` runs one whole import of ``--rows`` rows (no passwords) end to end against
the local marketplace (`python -m dev.run --no-demo` on free ports, started and stopped by
this script): the file gzip-uploaded as `agora customers import` sends it, the chunks
imported by the local worker through SQS, progress read from
``GET /v1/seller/customers/imports/{id}`` until done. It prints the progress it saw and
fails if progress ever went backwards or the final counts are not all rows.

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
import gzip
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _csv(rows: int, *, prefix: str, password: str = "") -> bytes:
    lines = ["Name,E-Mail,Passwort"] + [f"Kunde {n},{prefix}{n}@example.com,{password}" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _rate(label: str, rows: int, seconds: float) -> float:
    rate = rows / seconds
    print(f"{label:<58} {rows:>7,} rows {seconds:8.2f} s {rate:10,.0f} rows/s")
    return rate


def _environment() -> Any:
    os.environ.update(AWS_DEFAULT_REGION="eu-central-1", AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AGORA_STAGE="local",
                      AGORA_SECRET_TOKEN_SIGNING_KEY="bench-signing-key-0123456789abcdef0123",
                      AGORA_SECRET_HASH_PEPPER="1=bench-hash-pepper-0123456789abcdef0123")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    warnings.simplefilter("ignore")
    from moto import mock_aws

    return mock_aws()


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


@contextmanager
def _local_marketplace() -> Iterator[dict[str, Any]]:
    """The local marketplace, empty, on free ports; yields its state (urls, env)."""
    from dev.run import in_background

    with tempfile.TemporaryDirectory() as tmp, in_background(Path(tmp) / "stack.json", "--no-demo",
                                                             timeout=180, stop_timeout=30) as state:
        yield state


def _seller_token(state: dict[str, Any], seller_id: str) -> str:
    os.environ["AGORA_SECRET_TOKEN_SIGNING_KEY"] = state["env"]["AGORA_SECRET_TOKEN_SIGNING_KEY"]
    from chalicelib.core.auth import issue_access_token
    from chalicelib.core.settings import reset_settings

    reset_settings()
    return issue_access_token(user_id=f"usr_owner_{seller_id}", roles={"buyer", "seller"}, seller_id=seller_id)[0]


def over_http(rows: int, poll_seconds: float) -> None:
    from cli.customers import IMPORT_PATH, urllib_http

    with _local_marketplace() as state:
        api, seller_id = state["urls"]["api"], f"sel_bench_{int(time.time())}"
        auth = {"Authorization": f"Bearer {_seller_token(state, seller_id)}"}
        content = _csv(rows, prefix=f"{seller_id}.")
        started = time.perf_counter()
        code, status = urllib_http("POST", api + IMPORT_PATH, gzip.compress(content),
                                   {**auth, "Content-Type": "application/octet-stream"})
        if code not in (201, 202):
            raise SystemExit(f"the upload was refused: {code} {status}")
        print(f"uploaded {len(content) / 1e6:.1f} MB ({rows:,} rows) in {time.perf_counter() - started:.1f} s: "
              f"{status['mode']}, {status['processed']:,}/{status['total']:,} processed")
        seen = [(0.0, int(status["processed"]))]
        while status["status"] != "done":
            time.sleep(poll_seconds)
            url = f"{api}/v1/seller/customers/imports/{status['import_id']}"
            code, answer = urllib_http("GET", url, None, auth)
            if code == 401:  # access tokens live 15 minutes; a long import outlives several
                auth = {"Authorization": f"Bearer {_seller_token(state, seller_id)}"}
                code, answer = urllib_http("GET", url, None, auth)
            if code != 200:
                raise SystemExit(f"cannot read the progress: {code} {answer}")
            status = answer
            elapsed = time.perf_counter() - started
            if int(status["processed"]) < seen[-1][1]:
                raise SystemExit(f"progress went backwards: {seen[-1][1]} -> {status['processed']}")
            if int(status["processed"]) != seen[-1][1]:
                print(f"{elapsed:8.0f} s  {int(status['processed']):>8,}/{status['total']:,} processed, "
                      f"{status['error_count']:,} refused", flush=True)
            seen.append((elapsed, int(status["processed"])))
        elapsed = time.perf_counter() - started
        final = (int(status["processed"]), int(status["total"]), int(status["imported"]), int(status["error_count"]))
        print(f"\ndone in {elapsed:.0f} s ({elapsed / 60:.1f} min, {rows / elapsed:,.0f} rows/s): "
              f"processed/total/imported/refused = {final}; "
              f"{len({p for _, p in seen})} distinct progress values seen")
        if final != (rows, rows, rows, 0):
            raise SystemExit(f"expected {(rows, rows, rows, 0)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--import-rows", type=int, default=5_000)
    parser.add_argument("--password-rows", type=int, default=200)
    parser.add_argument("--over-http", action="store_true", help="one whole import against the local marketplace")
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    args = parser.parse_args()
    if args.over_http:
        over_http(args.rows, args.poll_seconds)
        return

    with _environment():
        import boto3
        from moto.dynamodb.models import DynamoDBBackend

        from chalicelib.core.settings import get_settings, reset_settings
        from chalicelib.customers import imports
        from dev import moto_transactions
        from infra import stack

        # moto copies the whole table per transaction item (see moto_transactions); without
        # this the bench measures moto, quadratically.
        DynamoDBBackend.transact_write_items = moto_transactions.transact_write_items
        outputs = stack.create_stack(boto3.client("cloudformation"), "local")
        os.environ.update(AGORA_TABLE_NAME=outputs["TableName"],
                          AGORA_IMPORTS_QUEUE=outputs["CustomerImportsQueueName"])
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
