"""One-off maintenance of the customers' data, run by an operator from the command line
(``agora customers purge-import-passwords``), never from a request.

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

from chalicelib.core.db import was_condition_failure
from chalicelib.customers.models import ImportChunk

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
    scope = ImportChunk.PK.startswith("IMPORT#") & ImportChunk.SK.startswith("CHUNK#")
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
