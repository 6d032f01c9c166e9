"""Large CSV imports: stored as chunks, imported by the customer-imports queue worker."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from chalicelib.core.sqs import BatchPartiallyFailed
from chalicelib.customers import imports
from tests.support.customers import deliver_chunks, drain, imports_queue_url, receive_chunks

ROWS = 2_000  # 10 chunks of 200
SMALL_CHUNK = 20  # the tests of redelivery use 300 rows in chunks of 20: the same machinery, less moto time
BAD_LINES = {102: "invalid_email", 151: "duplicate_email"}


def _big_file(rows: int = ROWS) -> str:
    lines = ["Name,E-Mail"]
    for n in range(2, rows + 2):  # n is the line number; the header is line 1
        if BAD_LINES.get(n) == "invalid_email":
            lines.append(f"Kunde {n},kunde{n}-at-example.com")
        elif BAD_LINES.get(n) == "duplicate_email":
            lines.append(f"Kunde {n},kunde2@example.com")
        else:
            lines.append(f"Kunde {n},kunde{n}@example.com")
    return "\n".join(lines) + "\n"


def _progress(seller: Any, import_id: str) -> dict[str, Any]:
    status, body, _ = seller("GET", f"/v1/seller/customers/imports/{import_id}")
    assert status == 200, body
    return body


def _start(upload: Any, rows: int) -> dict[str, Any]:
    status, body, headers = upload(_big_file(rows))
    assert status == 202, body
    assert headers["Location"] == f"/v1/seller/customers/imports/{body['import_id']}"
    return body


@pytest.fixture
def started(upload: Any) -> dict[str, Any]:
    """A 2,000-row import, queued."""
    return _start(upload, ROWS)


@pytest.fixture
def small_started(upload: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A 300-row import in chunks of 20, queued."""
    monkeypatch.setattr(imports, "SYNC_MAX_ROWS", SMALL_CHUNK)
    monkeypatch.setattr(imports, "CHUNK_ROWS", SMALL_CHUNK)
    return _start(upload, 300)


def test_a_large_file_is_queued_with_its_refused_rows_already_counted(started: dict[str, Any]) -> None:
    assert (started["status"], started["mode"]) == ("processing", "async")
    assert (started["total"], started["processed"], started["imported"]) == (ROWS, 2, 0)
    assert [(e["line"], e["code"]) for e in started["errors"]] == sorted(BAD_LINES.items())
    assert len(receive_chunks(10)) == 10  # one message per chunk of 200 valid rows


def test_progress_grows_chunk_by_chunk_until_done(started: dict[str, Any], seller: Any) -> None:
    for _ in range(3):
        deliver_chunks(receive_chunks())

    midway = _progress(seller, started["import_id"])
    assert (midway["status"], midway["processed"], midway["imported"]) == ("processing", 2 + 600, 600)

    assert drain() == 7
    done = _progress(seller, started["import_id"])
    assert (done["status"], done["processed"], done["imported"], done["already_customers"]) == (
        "done", ROWS, ROWS - 2, 0)
    assert done["error_count"] == 2
    assert done["finished_at"] is not None
    _, page, _ = seller("GET", "/v1/seller/customers?q=kunde1999@")
    assert [c["email"] for c in page["items"]] == ["kunde1999@example.com"]


def test_a_redelivered_chunk_is_not_counted_twice(small_started: dict[str, Any], seller: Any) -> None:
    [message] = receive_chunks()
    deliver_chunks([message], delete=False)  # processed, but the delete was lost: SQS delivers it again
    boto3.client("sqs").change_message_visibility(QueueUrl=imports_queue_url(), ReceiptHandle=message["ReceiptHandle"],
                                                  VisibilityTimeout=0)
    drain()

    done = _progress(seller, small_started["import_id"])
    assert (done["status"], done["processed"], done["imported"]) == ("done", 300, 298)


def test_a_chunk_that_crashed_half_way_counts_right_when_retried(
        small_started: dict[str, Any], seller: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import_row = imports._import_row
    calls = {"n": 0}

    def crash_after_10_rows(*args: Any) -> str:
        calls["n"] += 1
        if calls["n"] > 10:
            raise RuntimeError("Lambda timed out")
        return real_import_row(*args)

    monkeypatch.setattr(imports, "_import_row", crash_after_10_rows)
    [message] = receive_chunks()
    with pytest.raises(BatchPartiallyFailed):
        deliver_chunks([message], delete=False)
    monkeypatch.setattr(imports, "_import_row", real_import_row)
    boto3.client("sqs").change_message_visibility(QueueUrl=imports_queue_url(), ReceiptHandle=message["ReceiptHandle"],
                                                  VisibilityTimeout=0)
    drain()

    done = _progress(seller, small_started["import_id"])
    assert (done["processed"], done["imported"], done["already_customers"]) == (300, 298, 0)


def test_a_chunk_whose_rows_are_done_holds_no_rows_any_more(small_started: dict[str, Any]) -> None:
    from chalicelib.customers.models import ImportChunk

    drain()

    chunk = ImportChunk.get(f"IMPORT#{small_started['import_id']}", "CHUNK#00001")
    assert (chunk.done, chunk.rows) == (True, None)


def test_a_message_for_an_expired_chunk_is_dropped(small_started: dict[str, Any]) -> None:
    from chalicelib.customers.models import ImportChunk

    for chunk in ImportChunk.query(f"IMPORT#{small_started['import_id']}"):
        chunk.delete()  # TTL removed them

    assert drain() == 15


def test_a_small_file_goes_through_the_queue_when_asked(upload: Any, seller: Any) -> None:
    status, body, _ = upload("Name,E-Mail\nAnna,anna@example.com\n", query="?mode=background")

    assert (status, body["mode"], body["status"]) == (202, "async", "processing")
    assert drain() == 1
    assert _progress(seller, body["import_id"])["imported"] == 1
