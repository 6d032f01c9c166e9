"""`agora customers …` — a seller's customer tasks, and the operator's purge of old imports.

    agora customers import FILE --seller sel_… [--api URL] [--token TOKEN] [--background]
    agora customers purge-import-passwords [--dry-run] [--local | --stage prod]
    agora customers unlink-imported [--dry-run] [--local | --stage prod]

``import`` sends a CSV file — gzip-compressed, as the request body when it is at most the
API's 1 MiB, else to a presigned S3 URL (``POST /v1/seller/customers/imports/uploads``, a
PUT, then ``…/start``) — then follows the import with a progress bar on stderr until it
is done and prints the refused rows with their line numbers, and the columns that were
ignored (a password column always is). ``--api``/``--token`` default to
``AGORA_API_URL``/``AGORA_TOKEN``; the token is a seller user's access token or a seller
API key with the ``customers:write`` scope.

The API takes the seller from the token, never from the command line. ``--seller`` is
there so that the operator states which seller they mean: when the token is an access
token (a JWT) the command refuses to run if it belongs to another seller. An API key's
seller cannot be read without asking the API, so with an API key the flag is only a
label and the customers land at the key's seller.

Exit codes: 0 every row imported; 3 done, but some rows were refused (listed);
1 the API refused the file, could not be reached, or could not read the file to its end;
2 wrong usage.

``purge-import-passwords`` works on the table directly (this environment's settings;
``--local`` the running `make run`, ``--stage`` a deployed stage): it removes the
passwords that imports before 2026-12 kept in their queued chunks
(:mod:`chalicelib.customers.migrations`, which says what it cannot reach: stream records
for 24 h, point-in-time recovery for up to 35 days). Exit 0.

``unlink-imported`` (the same way) turns the records that imports before 2026-12 linked to
buyers' accounts, and that no order has confirmed since, into seller-owned contacts, so a
seller's CRM no longer follows those accounts (their names, their newsletter consent).
Exit 0.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from cli import target

Http = Callable[[str, str, bytes | None, dict[str, str]], tuple[int, Any]]

IMPORT_PATH = "/v1/seller/customers/import"
UPLOADS_PATH = "/v1/seller/customers/imports/uploads"
BAR_WIDTH = 30
ROWS_REFUSED_EXIT = 3


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("customers", help="a seller's customers")
    commands = group.add_subparsers(dest="command", required=True)
    command = commands.add_parser("import", help="import customers from a CSV file (Name,E-Mail[,Passwort])")
    command.add_argument("file", type=Path, help="the CSV file, UTF-8, comma-separated")
    command.add_argument("--seller", required=True, help="the seller you import for (must match the token)")
    command.add_argument("--api", help="API base URL (default: $AGORA_API_URL)")
    command.add_argument("--token", help="seller access token or API key with customers:write (default: $AGORA_TOKEN)")
    command.add_argument("--poll-seconds", type=float, default=1.0, help="how often to ask for progress")
    command.add_argument("--background", action="store_true",
                         help="import through the queue even a small file (large files always are)")
    command.set_defaults(run=run_import)

    purge = commands.add_parser(
        "purge-import-passwords", help="remove passwords old imports kept in queued chunks (operator, one-off)",
        description="Rewrite every customer-import chunk in the table without the password column that imports "
                    "before 2026-12 stored. Scans the table; idempotent.")
    purge.add_argument("--dry-run", action="store_true", help="count, change nothing")
    target.add_arguments(purge)
    purge.set_defaults(run=run_purge)

    unlink = commands.add_parser(
        "unlink-imported", help="turn customers old imports linked to accounts into contacts (operator, one-off)",
        description="Records that imports before 2026-12 linked to marketplace accounts, and that no order has "
                    "confirmed since, become seller-owned contacts. Scans the table; idempotent.")
    unlink.add_argument("--dry-run", action="store_true", help="count, change nothing")
    target.add_arguments(unlink)
    unlink.set_defaults(run=run_unlink)


def urllib_http(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, Any]:
    """One HTTP call; returns (status, parsed JSON body or None)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 - checked above
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - checked above
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def token_seller(token: str) -> str | None:
    """The seller id inside an access token (read, not verified: the API verifies it)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None  # an API key: opaque
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return claims.get("seller_id")


def progress_bar(status: dict[str, Any]) -> str:
    total = max(int(status["total"]), 1)
    done = int(status["processed"])
    filled = BAR_WIDTH * done // total
    return (f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {100 * done // total:3d}% "
            f"{done:,}/{status['total']:,} rows, {status['error_count']:,} refused")


def report(status: dict[str, Any], seller_id: str, out: TextIO) -> None:
    print(f"Import {status['import_id']} for seller {seller_id}: {status['imported']:,} of {status['total']:,} rows "
          f"imported; already your customers: {status['already_customers']:,}; refused: "
          f"{status['error_count']:,}.", file=out)
    for column in status.get("ignored_columns") or []:
        print(f"  column {column['column']} ignored ({column['rows_with_values']:,} rows had a value): "
              f"{column['reason']}", file=out)
    if status.get("failure"):
        failure = status["failure"]
        where = f"line {failure['line']}: " if failure.get("line") else ""
        print(f"  the file could not be read to its end: {where}{failure['code']}: {failure['message']}", file=out)
    for error in status["errors"]:
        print(f"  line {error['line']}: {error['code']}: {error['message']}", file=out)
    hidden = int(status["error_count"]) - len(status["errors"])
    if hidden > 0:
        print(f"  … and {hidden:,} more refused rows (only the first {len(status['errors'])} are kept).", file=out)


def _problem(body: Any) -> str:
    error = (body or {}).get("error") if isinstance(body, dict) else None
    return f"{error['code']}: {error['message']}" if error else "no details"


def run_import(args: argparse.Namespace, *, http: Http = urllib_http, out: TextIO = sys.stdout,
               err: TextIO = sys.stderr, sleep: Callable[[float], None] = time.sleep) -> int:
    api = (args.api or os.environ.get("AGORA_API_URL") or "").rstrip("/")
    token = args.token or os.environ.get("AGORA_TOKEN") or ""
    if not api or not token:
        print("agora customers import: give --api and --token (or set AGORA_API_URL and AGORA_TOKEN).", file=err)
        return 2
    owner = token_seller(token)
    if owner is not None and owner != args.seller:
        print(f"agora customers import: the token belongs to seller {owner}, not {args.seller}.", file=err)
        return 2
    try:
        content = args.file.read_bytes()
    except OSError as error:
        print(f"agora customers import: cannot read {args.file}: {error.strerror}.", file=err)
        return 2
    auth = {"Authorization": f"Bearer {token}"}
    status_code, status = _send(api, auth, content, background=args.background, http=http)
    if status_code not in (201, 202):
        print(f"agora customers import: the API refused the file ({status_code}, {_problem(status)}).", file=err)
        return 1
    while status["status"] not in ("done", "failed"):
        err.write(progress_bar(status))
        err.flush()
        sleep(args.poll_seconds)
        status_code, polled = http("GET", f"{api}/v1/seller/customers/imports/{status['import_id']}", None, auth)
        if status_code == 401:
            print(f"\nagora customers import: the token expired while the import runs on; it continues on "
                  f"the server (GET /v1/seller/customers/imports/{status['import_id']}). Use a seller API key "
                  f"(agora_sk_…, it does not expire) to follow a long import to its end.", file=err)
            return 1
        if status_code != 200:
            print(f"\nagora customers import: cannot read the progress ({status_code}, {_problem(polled)}).",
                  file=err)
            return 1
        status = polled
    err.write(progress_bar(status) + "\n")
    err.flush()
    report(status, args.seller, out)
    if status["status"] == "failed":
        return 1
    return ROWS_REFUSED_EXIT if status["error_count"] else 0


def _send(api: str, auth: dict[str, str], content: bytes, *, background: bool, http: Http) -> tuple[int, Any]:
    """The file as the request body when the API takes it so, else through an S3 upload;
    (status, import status) of the call that started the import."""
    from chalicelib.customers.imports import SYNC_MAX_BYTES

    body = gzip.compress(content)
    if len(content) <= SYNC_MAX_BYTES:
        path = IMPORT_PATH + ("?mode=background" if background else "")
        return http("POST", api + path, body, {**auth, "Content-Type": "application/octet-stream"})
    code, answer = http("POST", api + UPLOADS_PATH, json.dumps({"size_bytes": len(body), "gzip": True}).encode(),
                        {**auth, "Content-Type": "application/json"})
    if code != 201:
        return code, answer
    code, _ = http("PUT", answer["upload"]["url"], body, answer["upload"]["headers"])
    if code != 200:
        return code, {"error": {"code": "upload_failed", "message": f"S3 answered {code} to the upload."}}
    return http("POST", api + answer["start"], None, auth)


def run_unlink(args: argparse.Namespace, *, out: TextIO = sys.stdout) -> int:
    target.point_at(args)
    from chalicelib.customers.migrations import unlink_imported_customers

    result = unlink_imported_customers(dry_run=args.dry_run)
    verb = "would unlink" if args.dry_run else "unlinked"
    print(f"{result.records_seen:,} customer records scanned; {verb} {result.unlinked:,} that imports had linked "
          f"to accounts; kept {result.kept:,} that orders confirmed.", file=out)
    return 0


def run_purge(args: argparse.Namespace, *, out: TextIO = sys.stdout) -> int:
    target.point_at(args)
    from chalicelib.customers.migrations import purge_import_passwords

    result = purge_import_passwords(dry_run=args.dry_run)
    verb = "would rewrite" if args.dry_run else "rewrote"
    print(f"{result.chunks_seen:,} import chunks scanned; {verb} {result.chunks_rewritten:,} holding "
          f"{result.passwords_removed:,} passwords.", file=out)
    print("Stream records keep what was rewritten for 24 h, point-in-time recovery for up to 35 days: see "
          "chalicelib/customers/migrations.py.", file=out)
    return 0
