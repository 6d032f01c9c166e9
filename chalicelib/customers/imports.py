"""Importing a seller's customers from CSV: every valid row becomes one of the seller's contacts.

What an import may do: for each valid row whose email the seller has no customer record
for yet, create a contact holding exactly what the seller imported (name, email, source
``import``, the import id), and have the person invited by mail. What it may not do:
set, store or check anyone's password (the password column is read past, see
:mod:`chalicelib.customers.reading`), link or change an account, or tell the seller
anything about an account. The report's counts are the same whether or not an email has
an agora account: ``imported``, ``already_customers`` (the seller's own records, so that
reveals nothing) and the refused rows.

Per row the work is the same whatever the account: one transaction writes the contact
(conditional on it being new) and its ``customer.contact_imported`` event; the account
side (an invited, passwordless account for a new address, then one invitation mail) is
done later by that event's subscriber (:mod:`chalicelib.customers.invitations`). A
retried chunk is recognised by the import id on the contacts it wrote.

Three ways in:

- ``POST /v1/seller/customers/import`` with the file as the body, up to SYNC_MAX_BYTES
  uncompressed (413 ``file_too_large`` beyond, pointing at the upload route). It is read
  twice as a stream: first checked whole (a file that cannot be read is refused, 422, and
  nothing is written), then imported: up to SYNC_MAX_ROWS valid rows within the request
  (201, the report); more, or any file with ``?mode=background``, as queued chunks (202).
- ``POST /v1/seller/customers/imports/uploads`` gives a presigned S3 PUT (up to
  MAX_UPLOAD_BYTES, its size and type signed into the URL) and an import id; after the
  upload, ``POST /v1/seller/customers/imports/{id}/start`` queues the file. A start call
  rather than an S3 event: the tenant check stays in the API's one place (the job is
  under the principal's seller), the API needs no read access to the bucket, and the
  tests drive it like any route. The imports worker streams the object, checks rows and
  writes chunks as it reads, and deletes the object at the end. A file-level problem found
  part-way (not UTF-8 at line N, broken quoting, too many rows) ends the reading there: the
  rows before it are imported, and the report says where and why (status ``failed``).
- Chunks of CHUNK_ROWS rows, one item and one SQS message each, imported by the
  customer-imports queue worker. ``GET /v1/seller/customers/imports/{id}`` shows progress.

Round trips. Rows (per LOOKUP_BATCH = 100): three BatchGetItem (email claims; the seller's
contacts for those emails; the seller's linked records of the accounts found), then per
new row one TransactWriteItems (contact + event); a row the seller has already costs
nothing more. A chunk: GetItem(chunk), GetItem(job), its rows, one TransactWriteItems
(chunk done + the job's counts), GetItem(job) and perhaps UpdateItem(finished). The file
reader, per commit (FLUSH_CHUNKS full chunks, i.e. 2,000 valid rows, or COMMIT_ROWS rows
read): one TransactWriteItems (the chunk items, each conditional on being new), one
SendMessageBatch, one UpdateItem (the job's progress, conditional on the line it last
committed: a second reader of the same file stops).

Throughput (bench/customer_import.py, 2-core development machine, moto in-process):
reading and checking a file as a stream runs at ~190,000 rows/s with a ~31 MB peak of
traced memory (190,000 rows in a 1.4 MB gzip: ~1 s; it used to take 16 s and 632 MB RSS
when the file was read whole and every address fully validated). A 512 MB Lambda has about
a third of a vCPU, so expect ~3 s there; a reader that still runs out of WORK_SECONDS hands
over to a fresh invocation, which resumes after the line last committed (re-reading the
lines before it without checking them again, which is cheap). Importing costs per row one
2-item transaction (~10 ms on DynamoDB): a chunk of 200 rows ~2 s, well within the
worker's 30 s; chunks run in parallel up to the worker's Lambda concurrency (100,000 rows
are 500 chunks, ~2 minutes at a concurrency of 10).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from chalicelib.accounts.models import EmailClaim
from chalicelib.core import clock, sqs, throttle
from chalicelib.core.aws import client
from chalicelib.core.db import (
    LabelledTransaction,
    TransactionContention,
    find_item,
    get_item,
    is_contention,
    retrying,
    was_condition_failure,
)
from chalicelib.core.errors import AgoraError, Code, NotFound, PayloadTooLarge, TooManyRequests
from chalicelib.core.ids import new_id
from chalicelib.core.keys import EMAIL_SK, email_key, import_chunk_key, import_job_sk, seller_key
from chalicelib.core.logging import logger
from chalicelib.core.settings import get_settings
from chalicelib.customers import service
from chalicelib.customers.events import ContactImported
from chalicelib.customers.models import (
    AWAITING_UPLOAD,
    CHECKED,
    CHECKING,
    ERROR_SAMPLE,
    FAILED,
    QUEUED,
    Customer,
    ImportChunk,
    ImportJob,
    RowError,
    contact_id,
)
from chalicelib.customers.reading import MAX_ROWS, Report, Row, read_rows, too_large
from chalicelib.events.service import new_event

__all__ = ["MAX_ROWS", "Row", "create_upload", "get_import", "handle_message", "import_rows", "start_import",
           "start_upload"]

T = TypeVar("T")

SYNC_MAX_BYTES = 1024 * 1024  # uncompressed: what a request reads (twice), ~25,000 rows, ~1 s on a Lambda
SYNC_MAX_ROWS = 200  # imported within the request: ~2 s at ~10 ms a row, under API Gateway's 29 s
MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # an uploaded file as stored, and any file uncompressed
CHUNK_ROWS = 200  # rows per chunk item and SQS message (see the throughput note above)
FLUSH_CHUNKS = 10  # chunks the file reader writes per transaction and SQS batch
COMMIT_ROWS = 20_000  # rows read (refused ones too) after which the reader commits, even with fewer chunks
LOOKUP_BATCH = 100  # BatchGetItem's key limit
READ_BYTES = 64 * 1024  # S3 body pieces
WORK_SECONDS = 20  # the file reader hands over to a fresh invocation after this (the worker stops at 30 s)
UPLOAD_URL_SECONDS = 15 * 60
JOB_TTL_SECONDS = 30 * 24 * 3600
CHUNK_TTL_SECONDS = 2 * 24 * 3600
UPLOAD_ROUTE = "/v1/seller/customers/imports/uploads"
# Each import reads a file and may queue thousands of rows and mails: a seller gets a few an hour.
IMPORTS_PER_SELLER = throttle.Rule("customer-imports-seller", limit=10, window_seconds=3600)


@dataclass
class Tally:
    """What importing some rows did."""

    imported: int = 0
    already_customers: int = 0
    errors: list[RowError] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True)
class Upload:
    job: ImportJob
    url: str
    headers: dict[str, str]
    expires_in: int


# -- importing rows --------------------------------------------------------------------------------

def _batches(rows: list[Row], size: int) -> Iterator[list[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def import_rows(seller_id: str, import_id: str, rows: list[Row]) -> Tally:
    """Import checked rows as the seller's contacts (round trips in the module docstring)."""
    tally = Tally()
    for batch in _batches(rows, LOOKUP_BATCH):
        claims = {c.PK: c.user_id for c in EmailClaim.batch_get([(email_key(r.email), EMAIL_SK) for r in batch])}
        contacts = service.customers_by_id(seller_id, [contact_id(seller_id, r.email) for r in batch])
        linked = service.customers_by_id(seller_id, claims.values())
        for row in batch:
            existing = (contacts.get(contact_id(seller_id, row.email))
                        or linked.get(claims.get(email_key(row.email), "")))
            try:
                tally.count(_import_row(seller_id, import_id, row, existing))
            except AgoraError as error:
                tally.errors.append(RowError(line=row.line, code=error.code, message=error.message))
    return tally


def _outcome_of(record: Customer, import_id: str) -> str:
    """A record the seller has: written by this very import (a retried chunk) or before."""
    return "imported" if record.import_id == import_id else "already_customers"


def _import_row(seller_id: str, import_id: str, row: Row, existing: Customer | None) -> str:
    if existing is not None:
        return _outcome_of(existing, import_id)
    contact = service.new_contact(seller_id, name=row.name, email=row.email, import_id=import_id)
    event = new_event(ContactImported(seller_id=seller_id, customer_id=contact.customer_id, email=row.email))
    transaction = LabelledTransaction()
    transaction.put("contact", contact)  # versioned: its first save is conditional on the key being new
    transaction.put("event", event)
    if transaction.commit():
        found = service.find_customer(seller_id, contact.customer_id)  # written since we looked
        return _outcome_of(found, import_id) if found is not None else "already_customers"
    return "imported"


# -- jobs ----------------------------------------------------------------------------------------

def _new_job(seller_id: str, import_id: str, *, mode: str, phase: str | None = None,
             upload_key: str | None = None) -> ImportJob:
    return ImportJob(seller_key(seller_id), import_job_sk(import_id), seller_id=seller_id, import_id=import_id,
                     mode=mode, phase=phase, upload_key=upload_key, created_at=clock.stamp(),
                     expires_at=int(time.time()) + JOB_TTL_SECONDS)


def _count_import(seller_id: str) -> None:
    try:
        throttle.hit(IMPORTS_PER_SELLER, seller_id)
    except TooManyRequests as error:
        raise TooManyRequests(f"You started {IMPORTS_PER_SELLER.limit} imports within the hour; start the next one "
                              f"in {error.retry_after} seconds.", retry_after=error.retry_after,
                              code=Code.TOO_MANY_IMPORTS) from None


def _too_large_for_request() -> PayloadTooLarge:
    return too_large(SYNC_MAX_BYTES, f"upload it instead: POST {UPLOAD_ROUTE} gives you an upload URL for files "
                                     f"up to {MAX_UPLOAD_BYTES:,} bytes")


def get_import(seller_id: str, import_id: str) -> ImportJob:
    """Another seller's import is as missing as one that does not exist (the key holds the seller)."""
    return get_item(ImportJob, seller_key(seller_id), import_job_sk(import_id),
                    NotFound("No such import.", code=Code.IMPORT_NOT_FOUND))


def start_import(seller_id: str, raw: bytes, *, background: bool = False) -> ImportJob:
    """A file sent as the request body: checked whole, then imported now (small) or queued
    as chunks (more than SYNC_MAX_ROWS valid rows, or whenever the seller asks for
    ``background``).

    Round trips: UpdateItem(throttle); then either the rows' work and PutItem(job), or
    PutItem(job), the file reader's writes and the finish check."""
    _count_import(seller_id)
    if len(raw) > SYNC_MAX_BYTES:
        raise _too_large_for_request()
    checked = Report()
    first: list[Row] = []
    for row in read_rows([raw], checked, max_bytes=SYNC_MAX_BYTES, too_big=_too_large_for_request):
        if row is not None and len(first) <= SYNC_MAX_ROWS:
            first.append(row)
    import_id = new_id("imp")
    if len(first) <= SYNC_MAX_ROWS and not background:
        tally = import_rows(seller_id, import_id, first)
        job = _new_job(seller_id, import_id, mode="sync")
        job.total = job.processed = checked.total
        job.imported, job.already_customers = tally.imported, tally.already_customers
        job.error_count = checked.refused + len(tally.errors)
        job.errors = sorted(checked.errors + tally.errors, key=lambda e: int(e.line))[:ERROR_SAMPLE]
        job.password_column, job.password_rows = checked.password_column, checked.password_rows
        job.finished_at = clock.stamp()
        job.save()
        return job
    job = _new_job(seller_id, import_id, mode="async", phase=CHECKING)
    job.save()
    _read_into_chunks(job, [raw], max_bytes=SYNC_MAX_BYTES)
    return job  # refreshed by the reader's last commit


# -- large files through S3 ----------------------------------------------------------------------

def create_upload(seller_id: str, *, size_bytes: int, gzip: bool) -> Upload:
    """An import waiting for its file, and where to PUT it: a presigned S3 URL for
    ``uploads/<seller_id>/<import_id>.csv[.gz]`` whose signature covers the content type
    and ``Content-Length`` (S3 refuses any other size), valid UPLOAD_URL_SECONDS.

    Round trips: UpdateItem(throttle), PutItem(job); signing the URL is local."""
    _count_import(seller_id)
    if size_bytes > MAX_UPLOAD_BYTES:
        raise too_large(MAX_UPLOAD_BYTES)
    import_id = new_id("imp")
    key = f"uploads/{seller_id}/{import_id}.csv" + (".gz" if gzip else "")
    content_type = "application/gzip" if gzip else "text/csv"
    url = client("s3").generate_presigned_url(
        "put_object", ExpiresIn=UPLOAD_URL_SECONDS,
        Params={"Bucket": get_settings().imports_bucket, "Key": key, "ContentType": content_type,
                "ContentLength": size_bytes})
    job = _new_job(seller_id, import_id, mode="async", phase=AWAITING_UPLOAD, upload_key=key)
    job.save()
    return Upload(job, url, {"Content-Type": content_type, "Content-Length": str(size_bytes)}, UPLOAD_URL_SECONDS)


def _file_message(job: ImportJob) -> dict[str, Any]:
    return {"import_id": job.import_id, "seller_id": job.seller_id, "file": True}


def start_upload(seller_id: str, import_id: str) -> ImportJob:
    """Queue an uploaded file for the imports worker. Calling it again while the file waits
    in the queue sends it again (harmless: one worker takes it); once reading has begun it
    only answers the progress. Whether the object is there is the worker's to find out:
    the API may write the bucket, never read it.

    Round trips: GetItem(job), UpdateItem(phase), SQS SendMessage."""
    job = get_import(seller_id, import_id)
    if job.phase == AWAITING_UPLOAD:
        try:
            job.update(actions=[ImportJob.phase.set(QUEUED)], condition=ImportJob.phase == AWAITING_UPLOAD)
        except UpdateError as error:
            if not was_condition_failure(error):
                raise
            job.refresh(consistent_read=True)
    if job.phase == QUEUED:
        sqs.send(get_settings().imports_queue_name, _file_message(job))
    return job


def import_upload(message: dict[str, Any]) -> None:
    """The worker's side of an uploaded file (an SQS message): stream it from S3, write its
    chunks, delete it. Hands over to a new message after WORK_SECONDS; a redelivered
    message resumes where the last commit left off.

    Round trips: GetItem(job), UpdateItem(phase) the first time, S3 GetObject (read in
    READ_BYTES pieces), the file reader's writes, S3 DeleteObject, the finish check."""
    from botocore.exceptions import ClientError

    deadline = time.monotonic() + WORK_SECONDS
    job = find_item(ImportJob, seller_key(message["seller_id"]), import_job_sk(message["import_id"]))
    if job is None or job.phase not in (QUEUED, CHECKING):
        return
    if job.phase == QUEUED:
        try:
            job.update(actions=[ImportJob.phase.set(CHECKING)], condition=ImportJob.phase == QUEUED)
        except UpdateError as error:
            if was_condition_failure(error):  # another delivery of the message took it
                return
            raise
    bucket = get_settings().imports_bucket
    try:
        found = client("s3").get_object(Bucket=bucket, Key=job.upload_key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
            raise
        _commit_failure(job, Code.UPLOAD_MISSING, "No file was uploaded for this import before it was started (or it "
                                               f"was over {UPLOAD_URL_SECONDS // 60} minutes late); ask for a new "
                                               "upload URL and send the file again.")
        return
    if int(found["ContentLength"]) > MAX_UPLOAD_BYTES:  # the signed Content-Length makes this impossible
        _commit_failure(job, Code.FILE_TOO_LARGE, str(too_large(MAX_UPLOAD_BYTES)))
    else:
        body = found["Body"]
        try:
            finished = _read_into_chunks(job, body.iter_chunks(READ_BYTES), max_bytes=MAX_UPLOAD_BYTES,
                                         deadline=deadline)
        finally:
            body.close()
        if not finished:
            sqs.send(get_settings().imports_queue_name, _file_message(job))
            return
    client("s3").delete_object(Bucket=bucket, Key=job.upload_key)


def _commit_failure(job: ImportJob, code: Code, message: str) -> None:
    _ChunkWriter(job).commit(Report(), phase=FAILED, failure=(code, message, None))


# -- the file reader: checked rows into chunks ------------------------------------------------------

class _Superseded(Exception):
    """Another reader of the same file committed first (a duplicate delivery): stop."""


def _contended(write: Callable[[], T], attempts: int = 5) -> T:
    """Chunk workers and the file reader update one job item at once; DynamoDB refuses a
    write that meets another's transaction on it (TransactionConflict): retry shortly. If
    it still does, the contention itself is raised and the message is delivered again."""
    def once() -> T:
        try:
            return write()
        except UpdateError as error:
            if is_contention(error):
                raise TransactionContention from error
            raise

    return retrying(once, what="import", attempts=attempts, exhausted=lambda last: last)


class _ChunkWriter:
    """Collects checked rows into chunks and commits them when FLUSH_CHUNKS are full or
    COMMIT_ROWS rows were read since the last commit (a file of mostly refused rows must
    reach commits too): the chunk items (conditional on being new), their SQS messages,
    then the job's progress up to the line read (conditional on the line committed before).
    Where it commits depends only on the file and the line it started after, so a run that
    stopped anywhere in between resumes from the last committed line and builds exactly the
    chunks the stopped run may have written already: it rewrites nothing and loses nothing."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.rows: list[Row] = []
        self.chunks: list[ImportChunk] = []
        self.number = int(job.chunk_count)
        self.refused_before = self.errors_before = 0  # the report's refused rows and sample at the last commit
        self.read_before: int | None = None  # the report's rows read at the last commit (None: not yet known)
        self.errors_room = ERROR_SAMPLE - len(job.errors or [])

    def take(self, row: Row | None, report: Report) -> bool:
        """Take a row read (None: refused); True when that committed (a moment to stop at)."""
        if self.read_before is None:
            self.read_before = report.total - 1
        if row is not None:
            self.rows.append(row)
            if len(self.rows) == CHUNK_ROWS:
                self._close_chunk()
        if len(self.chunks) == FLUSH_CHUNKS or report.total - self.read_before >= COMMIT_ROWS:
            self.commit(report, line=report.line)
            return True
        return False

    def _close_chunk(self) -> None:
        if not self.rows:
            return
        self.number += 1
        job = self.job
        self.chunks.append(ImportChunk(*import_chunk_key(job.import_id, self.number), seller_id=job.seller_id,
                                       import_id=job.import_id, number=self.number,
                                       rows=[[r.line, r.name, r.email] for r in self.rows],
                                       expires_at=int(time.time()) + CHUNK_TTL_SECONDS))
        self.rows = []

    def commit(self, report: Report, *, line: int | None = None, phase: str | None = None,
               failure: tuple[str, str, int | None] | None = None) -> None:
        self._close_chunk()
        job, chunks = self.job, self.chunks
        if chunks:
            transaction = LabelledTransaction()
            for chunk in chunks:
                transaction.put("chunk", chunk, ImportChunk.PK.does_not_exist())
            transaction.commit()  # a condition failed: an earlier run wrote these very chunks before it stopped
            sqs.send_many(get_settings().imports_queue_name,
                          [{"import_id": job.import_id, "seller_id": job.seller_id, "chunk": c.number} for c in chunks])
        refused = report.refused - self.refused_before
        errors = report.errors[self.errors_before:][:max(self.errors_room, 0)]
        actions: list[Action] = [
            ImportJob.total.set(max(report.total, int(job.total))), ImportJob.processed.add(refused),
            ImportJob.error_count.add(refused), ImportJob.chunk_count.set(self.number),
            ImportJob.password_rows.set(max(report.password_rows, int(job.password_rows)))]
        if report.password_column:
            actions.append(ImportJob.password_column.set(report.password_column))
        if errors:
            actions.append(ImportJob.errors.set(ImportJob.errors.append(errors)))
        if line is not None:
            actions.append(ImportJob.checked_line.set(line))
        if phase is not None:
            actions.append(ImportJob.phase.set(phase))
        if failure is not None:
            code, message, failed_at = failure
            actions += [ImportJob.failure_code.set(code), ImportJob.failure_message.set(message)]
            if failed_at is not None:
                actions.append(ImportJob.failure_line.set(failed_at))
        condition = (ImportJob.phase == CHECKING) & (ImportJob.checked_line == int(job.checked_line))
        try:
            _contended(lambda: job.update(actions=actions, condition=condition))
        except UpdateError as error:
            if was_condition_failure(error):
                raise _Superseded from None
            raise
        self.chunks, self.refused_before, self.errors_before = [], report.refused, len(report.errors)
        self.read_before = report.total
        self.errors_room -= len(errors)
        if phase is not None:
            _finish_if_complete(job)


def _read_into_chunks(job: ImportJob, pieces: Iterable[bytes], *, max_bytes: int,
                      deadline: float | None = None) -> bool:
    """Read the file (resuming after ``job.checked_line``) into chunks; True when it was read
    to its end or to a problem that ends it, False when it stopped at ``deadline`` after a
    commit, for a new message to continue."""
    report, writer = Report(), _ChunkWriter(job)
    try:
        try:
            for row in read_rows(pieces, report, max_bytes=max_bytes, resume_after=int(job.checked_line),
                                 yield_refused=True):
                if writer.take(row, report) and deadline is not None and time.monotonic() > deadline:
                    return False
        except AgoraError as error:
            details = error.details if isinstance(error.details, list) else [{}]
            writer.commit(report, phase=FAILED, failure=(error.code, error.message, details[0].get("line")))
            return True
        writer.commit(report, phase=CHECKED)
    except _Superseded:
        logger.info("another reader of this import's file went ahead", extra={"import_id": job.import_id})
    return True


# -- the chunks ----------------------------------------------------------------------------------

def handle_message(message: dict[str, Any]) -> None:
    """The customer-imports queue: a chunk to import, or an uploaded file to read."""
    if "chunk" in message:
        import_chunk(message)
    elif message.get("file"):
        import_upload(message)
    else:
        logger.warning("unknown import message", extra=message)


def import_chunk(message: dict[str, Any]) -> None:
    """One chunk of a queued import (an SQS message). Safe to run twice: a done chunk is
    skipped, and a chunk that crashed half-way re-imports to the same outcome."""
    chunk = find_item(ImportChunk, *import_chunk_key(message["import_id"], int(message["chunk"])))
    if chunk is None:
        logger.warning("import chunk expired or unknown", extra=message)
        return
    if chunk.done:
        return
    try:
        job = get_import(chunk.seller_id, chunk.import_id)
    except NotFound:
        logger.warning("import expired before its chunk ran", extra=message)
        return
    rows = [Row(int(line), name, email) for line, name, email, *_ in chunk.rows or []]
    tally = import_rows(chunk.seller_id, chunk.import_id, rows)
    actions: list[Action] = [ImportJob.processed.add(len(rows)), ImportJob.imported.add(tally.imported),
               ImportJob.already_customers.add(tally.already_customers),
               ImportJob.error_count.add(len(tally.errors)), ImportJob.chunks_done.add(1)]
    room = ERROR_SAMPLE - len(job.errors or [])
    if tally.errors and room > 0:
        actions.append(ImportJob.errors.set(ImportJob.errors.append(tally.errors[:room])))

    def count() -> set[str]:
        transaction = LabelledTransaction()
        transaction.update("chunk", chunk, [ImportChunk.done.set(True), ImportChunk.rows.remove()],
                           ImportChunk.done == False)  # noqa: E712 - a DynamoDB condition
        transaction.update("job", job, actions, ImportJob.PK.exists())
        return transaction.commit()

    if _contended(count):  # the same chunk, delivered twice at once, finished first elsewhere
        return
    _finish_if_complete(job)


def _finish_if_complete(job: ImportJob) -> None:
    """Done when the file is read and every chunk counted; whichever of the reader and the
    last chunk sees that first stamps it (both may look; one writes)."""
    job.refresh(consistent_read=True)
    if not job.file_read or int(job.chunks_done) < int(job.chunk_count) or job.finished_at:
        return
    try:
        job.update(actions=[ImportJob.finished_at.set(clock.stamp())],
                   condition=ImportJob.finished_at.does_not_exist())
    except UpdateError as error:
        if not was_condition_failure(error):
            raise
