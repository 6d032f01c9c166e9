"""Customer CSV import throughput and memory: how many rows a second each stage handles.

    .venv/bin/python bench/customer_import.py [--rows 190000] [--import-rows 2000]
    .venv/bin/python bench/customer_import.py --over-http [--rows 100000] [--poll-seconds 5]

``--over-http`` runs one whole import of ``--rows`` rows end to end against the local
marketplace (`python -m dev.run --no-demo` on free ports, started and stopped by this
script), sent as `agora customers import` sends it: gzip-compressed as the request body up
to 1 MiB, else uploaded to the presigned S3 URL and started; the worker reads the file
into chunks and imports them through SQS; progress is read from
``GET /v1/seller/customers/imports/{id}`` until done. It prints the progress it saw and
fails if progress ever went backwards or the final counts are not all rows.

Stages, each timed on its own, against moto in-process (no network):
1. reading and checking a gzip file as a stream (inflate, decode, parse, validate every
   email, find duplicates), on ``--rows`` rows; then the same under ``tracemalloc`` for the
   peak memory it needs (slower: every allocation is traced);
2. an uploaded file through the worker (the file read into chunks from S3, the chunks
   imported as contacts, each with its event), on ``--import-rows`` rows;
3. the same file again: every row is already the seller's customer (three BatchGetItem
   per 100 rows, no writes).

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


def _csv(rows: int, *, prefix: str) -> bytes:
    """An Ecwid-style export: its password column is read past."""
    lines = ["Name,E-Mail,Passwort"] + [f"Kunde {n},{prefix}{n}@example.com,geheim-{n}" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _pieces(data: bytes, size: int = 64 * 1024) -> Any:
    for start in range(0, len(data), size):
        yield data[start:start + size]


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
    """Upload ``content`` gzip-compressed as a seller's tool would, start it, work the queue off."""
    import boto3

    from chalicelib.core.settings import get_settings
    from chalicelib.customers import imports

    body = gzip.compress(content)
    upload = imports.create_upload(seller_id, size_bytes=len(body), gzip=True)
    boto3.client("s3").put_object(Bucket=get_settings().imports_bucket, Key=upload.job.upload_key, Body=body)
    imports.start_upload(seller_id, upload.job.import_id)
    _drain(queue_name)
    return imports.get_import(seller_id, upload.job.import_id)


@contextmanager
def _local_marketplace() -> Iterator[dict[str, Any]]:
    """The local marketplace, empty, on free ports; yields its state (urls, env)."""
    from dev.run import in_background

    with tempfile.TemporaryDirectory() as tmp, in_background(Path(tmp) / "stack.json", "--no-demo",
                                                             timeout=180, stop_timeout=30) as state:
        yield state


def _approved_seller(state: dict[str, Any], seller_id: str) -> None:
    """Only an approved seller may import: put one in the local marketplace's table."""
    from chalicelib.core.settings import reset_settings

    os.environ.update(state["env"])
    reset_settings()
    _put_seller(seller_id)


def _seller_token(state: dict[str, Any], seller_id: str) -> str:
    os.environ["AGORA_SECRET_TOKEN_SIGNING_KEY"] = state["env"]["AGORA_SECRET_TOKEN_SIGNING_KEY"]
    from chalicelib.core.auth import issue_access_token
    from chalicelib.core.settings import reset_settings

    reset_settings()
    return issue_access_token(user_id=f"usr_owner_{seller_id}", roles={"buyer", "seller"}, seller_id=seller_id)[0]


def over_http(rows: int, poll_seconds: float) -> None:
    from cli.customers import _send, urllib_http

    with _local_marketplace() as state:
        api, seller_id = state["urls"]["api"], f"sel_bench_{int(time.time())}"
        _approved_seller(state, seller_id)
        auth = {"Authorization": f"Bearer {_seller_token(state, seller_id)}"}
        content = _csv(rows, prefix=f"{seller_id}.")
        started = time.perf_counter()
        code, status = _send(api, auth, content, background=False, http=urllib_http)
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
    parser.add_argument("--rows", type=int, default=190_000)
    parser.add_argument("--import-rows", type=int, default=2_000)
    parser.add_argument("--over-http", action="store_true", help="one whole import against the local marketplace")
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    args = parser.parse_args()
    if args.over_http:
        over_http(args.rows, args.poll_seconds)
        return

    with _environment():
        import tracemalloc

        import boto3
        from moto.dynamodb.models import DynamoDBBackend

        from chalicelib.core.settings import get_settings, reset_settings
        from chalicelib.customers.reading import Report, read_rows
        from dev import moto_transactions
        from infra import stack

        # moto copies the whole table per transaction item (see moto_transactions); without
        # this the bench measures moto, quadratically.
        DynamoDBBackend.transact_write_items = moto_transactions.transact_write_items
        outputs = stack.create_stack(boto3.client("cloudformation"), "local")
        os.environ.update(AGORA_TABLE_NAME=outputs["TableName"],
                          AGORA_IMPORTS_QUEUE=outputs["CustomerImportsQueueName"],
                          AGORA_IMPORTS_BUCKET=outputs["ImportsBucketName"])
        reset_settings()
        queue = get_settings().imports_queue_name
        _put_seller("sel_bench")

        data = gzip.compress(_csv(args.rows, prefix="check"))
        started = time.perf_counter()
        report = Report()
        valid = sum(1 for _ in read_rows(_pieces(data), report, max_bytes=64 * 1024 * 1024))
        read_rate = _rate(f"1. read and check a gzip file ({len(data) / 1e6:.1f} MB) as a stream", valid,
                          time.perf_counter() - started)
        tracemalloc.start()
        sum(1 for _ in read_rows(_pieces(data), Report(), max_bytes=64 * 1024 * 1024))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{'   peak memory while reading (tracemalloc)':<58} {peak / 1e6:>18.1f} MB")

        content = _csv(args.import_rows, prefix="new")
        started = time.perf_counter()
        job = _import("sel_bench", content, queue)
        import_rate = _rate("2. an uploaded file through the worker: new contacts", int(job.imported),
                            time.perf_counter() - started)
        started = time.perf_counter()
        job = _import("sel_bench", content, queue)
        again_rate = _rate("3. the same file again: already customers", int(job.already_customers),
                           time.perf_counter() - started)

    print(f"\n{args.rows:,} rows, one process, no parallel chunks (add Lambda concurrency to divide):")
    for label, rate in (("reading and checking", read_rate), ("importing new contacts", import_rate),
                        ("re-importing (already customers)", again_rate)):
        print(f"  {label:<34} {args.rows / rate / 60:7.1f} min")


def _put_seller(seller_id: str) -> None:
    from chalicelib.core.keys import seller_key
    from chalicelib.sellers.models import Seller

    Seller(PK=seller_key(seller_id), SK="PROFILE", seller_id=seller_id, status="approved",
           business_name="Bench GmbH", display_name="Bench", contact_email="bench@example.com", country="DE",
           default_currency="EUR", charges_enabled=True, created_at="2026-11-01T00:00:00+00:00",
           approved_at="2026-11-02T00:00:00+00:00").save()


if __name__ == "__main__":
    main()
