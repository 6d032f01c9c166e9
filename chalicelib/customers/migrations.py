"""One-off maintenance of the customers' data, run by an operator from the command line
(``agora customers purge-import-passwords``, ``agora customers unlink-imported``), never
from a request.

:func:`purge_import_passwords`: until 2026-12 a queued import kept each row's password, in
plaintext as the seller's file had it, in its ``ImportChunk`` item (``rows`` =
``[[line, name, email, password], ...]``) until the chunk was imported, and for two days
at most (TTL). This rewrites every chunk that still holds rows of four elements with the
rows cut to three. It is idempotent: a chunk is rewritten only while it holds such a row,
and only if it is not done (a chunk marked done meanwhile has lost its rows and must not
get them back), so a second run changes nothing.

It Scans the table (filtered to ``IMPORT#…/CHUNK#…`` items, but DynamoDB still reads and
bills the whole table once). That is acceptable here, and only here: a maintenance task run
once, not a request path (DESIGN.md: request paths never scan).

What rewriting the items cannot reach, and what to do about it:
- The table's stream keeps every change record for 24 hours, and the records of chunk
  writes carry their rows. Nothing but the relay reads the stream, and it forwards only
  outbox items; the records expire 24 h after the last write. Nothing to do but wait.
- Point-in-time recovery keeps every earlier image of the table for its recovery window,
  up to 35 days: a restore to a moment before the purge brings the passwords back. Either
  let the window pass (35 days after the last such chunk was written), or turn point-in-
  time recovery off and on again (``aws dynamodb update-continuous-backups``), which
  discards the window — and with it the ability to restore to any earlier moment, so
  weigh that first. Never restore a pre-purge copy into production without purging it.
- On-demand backups and exports to S3 taken since the first background import hold them
  too: delete them (or purge a restored copy) once they are not needed.
- The passwords themselves were chosen by sellers. Accounts created with them by the old
  import have unproven addresses, so the password never signed in (login needs a proven
  address), and the owner's first mailed-link sign-in clears it (accounts.service).
"""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import UpdateError

from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, was_condition_failure
from chalicelib.core.keys import (
    CHUNK_PREFIX,
    CUSTOMER_PREFIX,
    IMPORT_PREFIX,
    customer_of_key,
    customer_sk,
    member_sk,
    seller_key,
)
from chalicelib.customers.models import Customer, CustomerOf, GroupMember, ImportChunk, contact_id

PAGE_SIZE = 500


@dataclass
class PurgeResult:
    chunks_seen: int = 0  # import chunks in the table
    chunks_rewritten: int = 0  # those that held rows of four elements (or would be, in a dry run)
    passwords_removed: int = 0  # rows among them with a password in it


def purge_import_passwords(*, dry_run: bool = False) -> PurgeResult:
    """Cut every import chunk's rows to ``[line, name, email]`` (one Scan, one conditional
    UpdateItem per chunk that holds a password column)."""
    result = PurgeResult()
    scope = ImportChunk.PK.startswith(IMPORT_PREFIX) & ImportChunk.SK.startswith(CHUNK_PREFIX)
    for chunk in ImportChunk.scan(scope, page_size=PAGE_SIZE):  # maintenance only, see above
        result.chunks_seen += 1
        rows = chunk.rows or []
        if not any(len(row) > 3 for row in rows):
            continue
        passwords = sum(1 for row in rows if len(row) > 3 and row[3])
        if not dry_run:
            try:
                chunk.update(actions=[ImportChunk.rows.set([row[:3] for row in rows])],
                             condition=ImportChunk.done == False)  # noqa: E712 - a DynamoDB condition
            except UpdateError as error:
                if was_condition_failure(error):  # imported meanwhile: its rows are gone already
                    continue
                raise
        result.chunks_rewritten += 1
        result.passwords_removed += passwords
    return result


@dataclass
class UnlinkResult:
    records_seen: int = 0  # customer records in the table
    unlinked: int = 0  # imported links to an account, turned into contacts (or would be, in a dry run)
    kept: int = 0  # imported links the buyer has since confirmed with an order: real, left alone


def unlink_imported_customers(*, dry_run: bool = False) -> UnlinkResult:
    """Until 2026-12 an import linked a seller's record to the marketplace account of each
    address, so the seller's CRM followed that account (its name, its newsletter consent in
    the export). A link may only come from a real order or the buyer's confirmation: this
    turns every record an import linked and no order confirmed since (``source`` import,
    no orders) into the seller-owned contact an import makes today — same seller, email,
    name as the record holds now, group, tax data and import id — and drops the link (the
    ``CustomerOf`` relation, so account changes no longer reach it). Records with orders are
    real customers and stay. Idempotent: a second run finds nothing to change.

    One Scan (maintenance only, as above) and one TransactWriteItems per record changed
    (contact, linked record deleted, relation deleted, group pointer moved). The names
    already copied stay: the seller has seen them, and nothing more is copied."""
    result = UnlinkResult()
    scope = Customer.SK.startswith(CUSTOMER_PREFIX)
    for record in Customer.scan(scope, page_size=PAGE_SIZE):  # maintenance only, see above
        result.records_seen += 1
        if not record.linked or record.source != "import":
            continue
        if int(record.order_count or 0) > 0:
            result.kept += 1
            continue
        if not dry_run and not _unlink(record):
            continue
        result.unlinked += 1
    return result


def _unlink(record: Customer) -> bool:
    """False when the record changed meanwhile (an order linked it for real, or a run in
    parallel did it): nothing is written then."""
    from chalicelib.customers.service import group_pointer

    seller = seller_key(record.seller_id)
    contact = Customer(seller, customer_sk(contact_id(record.seller_id, record.email)), seller_id=record.seller_id,
                       user_id=None, name=record.name, email=record.email, source="import",
                       created_at=record.created_at or clock.stamp(), import_id=record.import_id,
                       group_id=record.group_id, tax_exempt=bool(record.tax_exempt),
                       tax_exempt_reason=record.tax_exempt_reason, vat_id=record.vat_id).index()
    transaction = LabelledTransaction()
    transaction.put("contact", contact, Customer.PK.does_not_exist())
    transaction.delete("record", record, Customer.order_count == 0)
    transaction.delete("relation", CustomerOf(customer_of_key(record.user_id), seller))
    if record.group_id:
        transaction.delete("member", GroupMember(seller, member_sk(record.group_id, record.customer_id)))
        transaction.put("contact_member", group_pointer(contact))
    return not transaction.commit()

