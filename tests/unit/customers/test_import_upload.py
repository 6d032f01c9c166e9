"""Large files through S3: a presigned PUT, a start call, the worker streaming the object into chunks."""

from __future__ import annotations

import gzip
import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests

from chalicelib.core.sqs import BatchPartiallyFailed
from chalicelib.customers import imports
from chalicelib.customers.reading import PASSWORD_IGNORED
from tests.support.customers import SELLER_A, SELLER_B, deliver_chunks, imports_queue_url, receive_chunks

UPLOADS = "/v1/seller/customers/imports/uploads"


@pytest.fixture(autouse=True)
def small_chunks(imports_bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 20 rows, committed 2 at a time: the machinery of 200 and 10, with less moto time."""
    monkeypatch.setattr(imports, "CHUNK_ROWS", 20)
    monkeypatch.setattr(imports, "FLUSH_CHUNKS", 2)


def _file(rows: int, *, bad: dict[int, str] | None = None) -> bytes:
    """``rows`` data rows (line n: Kunde n) with a password column; ``bad`` replaces lines."""
    lines = ["Name,E-Mail,Passwort"] + [f"Kunde {n},kunde{n}@example.com,geheim-{n}" for n in range(2, rows + 2)]
    for line, text in (bad or {}).items():
        lines[line - 1] = text
    return ("\n".join(lines) + "\n").encode()


def _upload(seller: Any, content: bytes, *, as_seller: str = SELLER_A, compressed: bool = True) -> dict[str, Any]:
    """Ask for an upload URL and PUT the file there, as a seller's tool would."""
    body = gzip.compress(content) if compressed else content
    status, answer, _ = seller("POST", UPLOADS, {"size_bytes": len(body), "gzip": compressed}, as_seller=as_seller)
    assert status == 201, answer
    put = requests.put(answer["upload"]["url"], data=body, headers=answer["upload"]["headers"], timeout=10)
    assert put.status_code == 200, put.text
    return answer


def _start(seller: Any, import_id: str, as_seller: str = SELLER_A) -> tuple[int, Any, dict[str, str]]:
    return seller("POST", f"/v1/seller/customers/imports/{import_id}/start", as_seller=as_seller)


def _progress(seller: Any, import_id: str) -> dict[str, Any]:
    status, body, _ = seller("GET", f"/v1/seller/customers/imports/{import_id}")
    assert status == 200, body
    return body


def _work_queue() -> tuple[int, int]:
    """Deliver every message on the imports queue, one at a time; (file messages, chunk messages)."""
    files = chunks = 0
    while messages := receive_chunks():
        body = json.loads(messages[0]["Body"])
        files, chunks = files + bool(body.get("file")), chunks + ("chunk" in body)
        deliver_chunks(messages)
    return files, chunks


def _objects(bucket: str) -> list[str]:
    return [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_large_file_is_uploaded_started_and_read_into_chunks(seller: Any, imports_bucket: str) -> None:
    # given a 300-row file with two refused rows, uploaded gzip-compressed to the presigned URL
    answer = _upload(seller, _file(300, bad={102: "Kunde 102,not-an-email,x", 151: "Kunde 151,kunde2@example.com,"}))
    import_id = answer["import_id"]
    signed = parse_qs(urlparse(answer["upload"]["url"]).query)["X-Amz-SignedHeaders"][0]
    assert signed == "content-length;content-type;host"  # S3 takes only the size and type that were asked for
    assert _objects(imports_bucket) == [f"uploads/{SELLER_A}/{import_id}.csv.gz"]
    assert (answer["status"]["status"], answer["start"]) == ("awaiting_upload",
                                                             f"/v1/seller/customers/imports/{import_id}/start")

    # when the seller starts it and the worker handles the queue
    status, started, headers = _start(seller, import_id)
    assert (status, started["status"], headers["Location"]) == (202, "processing",
                                                                f"/v1/seller/customers/imports/{import_id}")
    files, chunks = _work_queue()

    # then the file was read once into 15 chunks of 20 rows, every valid row imported, the
    # refused ones reported, the password column ignored, and the object deleted
    assert (files, chunks) == (1, 15)
    done = _progress(seller, import_id)
    assert (done["status"], done["total"], done["processed"], done["imported"], done["error_count"]) == (
        "done", 300, 300, 298, 2)
    assert [(e["line"], e["code"]) for e in done["errors"]] == [(102, "invalid_email"), (151, "duplicate_email")]
    assert done["ignored_columns"] == [{"column": "Passwort", "rows_with_values": 299, "reason": PASSWORD_IGNORED}]
    assert (done["failure"], done["finished_at"] is not None) == (None, True)
    assert _objects(imports_bucket) == []


def test_an_uncompressed_upload_works_too(seller: Any) -> None:
    answer = _upload(seller, _file(30), compressed=False)

    _start(seller, answer["import_id"])
    _work_queue()

    assert _progress(seller, answer["import_id"])["imported"] == 30


def test_another_sellers_upload_is_not_found(seller: Any) -> None:
    answer = _upload(seller, _file(5))

    started = _start(seller, answer["import_id"], as_seller=SELLER_B)
    read = seller("GET", f"/v1/seller/customers/imports/{answer['import_id']}", as_seller=SELLER_B)
    never_created = f"{answer['import_id'][:-6]}ZZZZZZ"
    missing_start = _start(seller, never_created, as_seller=SELLER_B)
    missing_read = seller("GET", f"/v1/seller/customers/imports/{never_created}", as_seller=SELLER_B)

    assert [(s, b["error"]["code"]) for s, b, _ in (started, read)] == [(404, "import_not_found")] * 2
    assert (started[:2], read[:2]) == (missing_start[:2], missing_read[:2])
    assert _progress(seller, answer["import_id"])["status"] == "awaiting_upload"
    assert receive_chunks() == []


def test_a_start_without_an_upload_fails_the_import(seller: Any) -> None:
    _, answer, _ = seller("POST", UPLOADS, {"size_bytes": 1000})

    _start(seller, answer["import_id"])
    _work_queue()

    failed = _progress(seller, answer["import_id"])
    assert (failed["status"], failed["failure"]["code"], failed["imported"]) == ("failed", "upload_missing", 0)


def test_a_problem_part_way_ends_the_reading_there_and_keeps_the_rows_before(seller: Any) -> None:
    content = _file(100) + "Jürgen,juergen@example.com,\n".encode("latin-1") + _file(10)[21:]

    answer = _upload(seller, content)
    _start(seller, answer["import_id"])
    _work_queue()

    failed = _progress(seller, answer["import_id"])
    assert (failed["status"], failed["imported"], failed["total"]) == ("failed", 100, 100)
    assert failed["failure"] == {"code": "not_utf8", "line": 102,
                                 "message": "The file is not UTF-8 (line 102); save it as CSV UTF-8."}


def test_a_reader_out_of_time_hands_over_and_the_next_resumes(seller: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a reader that runs out of time at its first commit, every time, and a duplicate
    # of line 2 far after the first commit
    monkeypatch.setattr(imports, "WORK_SECONDS", -1)
    answer = _upload(seller, _file(300, bad={250: "Doppelt,kunde2@example.com,"}))

    _start(seller, answer["import_id"])
    files, chunks = _work_queue()

    # then 8 invocations read 40 rows each (the last 19), and the result is that of one pass
    assert (files, chunks) == (8, 15)
    done = _progress(seller, answer["import_id"])
    assert (done["status"], done["total"], done["imported"], done["error_count"]) == ("done", 300, 299, 1)
    assert done["errors"] == [{"line": 250, "code": "duplicate_email",
                               "message": "kunde2@example.com is already on line 2."}]


def test_a_file_of_mostly_refused_rows_still_hands_over(seller: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a reader out of time at every commit, committing every 50 rows read, and a file
    # of 120 refused rows followed by 5 good ones
    monkeypatch.setattr(imports, "WORK_SECONDS", -1)
    monkeypatch.setattr(imports, "COMMIT_ROWS", 50)
    answer = _upload(seller, _file(125, bad={n: f"Kunde {n},kaputt-{n},x" for n in range(2, 122)}))

    _start(seller, answer["import_id"])
    files, chunks = _work_queue()

    # then it committed after rows 50 and 100 and at the end, and nothing was lost or doubled
    assert (files, chunks) == (3, 1)
    done = _progress(seller, answer["import_id"])
    assert (done["status"], done["total"], done["processed"], done["imported"], done["error_count"]) == (
        "done", 125, 125, 5, 120)
    assert len(done["errors"]) == 100  # the sample; the count is exact


def test_a_reader_that_crashed_after_writing_chunks_is_resumed_without_counting_twice(
        seller: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the reader crashes after its second batch of chunks is written and queued, but
    # before the job records it
    answer = _upload(seller, _file(100, bad={80: ",nameless@example.com,"}))
    _start(seller, answer["import_id"])
    real, calls = imports._contended, {"n": 0}

    def crash_at_the_second_job_update(write: Any, attempts: int = 5) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("Lambda timed out")
        return real(write, attempts)

    monkeypatch.setattr(imports, "_contended", crash_at_the_second_job_update)
    [message] = receive_chunks()
    with pytest.raises(BatchPartiallyFailed):
        deliver_chunks([message], delete=False)
    monkeypatch.setattr(imports, "_contended", real)

    # when SQS delivers the file message again and everything is worked off
    boto3.client("sqs").change_message_visibility(QueueUrl=imports_queue_url(), ReceiptHandle=message["ReceiptHandle"],
                                                  VisibilityTimeout=0)
    files, chunks = _work_queue()

    # then the result is that of one pass (chunks 3-4 were queued twice; the second is skipped)
    assert (files, chunks) == (1, 5 + 2)
    done = _progress(seller, answer["import_id"])
    assert (done["status"], done["total"], done["processed"], done["imported"], done["error_count"]) == (
        "done", 100, 100, 99, 1)


@pytest.mark.parametrize(("body", "field"), [({"size_bytes": 64 * 1024 * 1024 + 1}, "body.size_bytes"),
                                             ({"size_bytes": 0}, "body.size_bytes"), ({}, "body.size_bytes")])
def test_an_upload_needs_a_size_within_the_limit(seller: Any, body: dict[str, Any], field: str) -> None:
    status, answer, _ = seller("POST", UPLOADS, body)

    assert (status, answer["error"]["details"][0]["field"]) == (422, field)
