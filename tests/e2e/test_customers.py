"""A seller's customers over real HTTP against the local marketplace: a small CSV imported at
once (its password column ignored: nobody signs in with it), the imported person invited by
mail and linked by using the link, others through the customer-imports queue and the local
worker (followed by the `agora customers import` command's progress bar, and by polling),
the export compared with what was imported, and another seller seeing none of it.

The queued imports here are small and sent with ``mode=background``: a file over the 200
rows that are imported at once takes minutes on the local stack, because moto's server
copies the whole table for every item of a transaction (tests/unit/customers/
moto_transactions.py), and its rows would slow every later e2e test the same way. Large
files with many chunks are covered by tests/unit/customers/test_import_async.py."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.stack import ROOT, LocalStack, eventually

ASYNC_ROWS = 40  # queued with mode=background (see above)


def _approve(local_stack: LocalStack, seller_id: str) -> None:
    """An approved seller, written straight into the local table (only those may import)."""
    from chalicelib.core.keys import seller_key
    from chalicelib.sellers.models import Seller

    item = Seller(PK=seller_key(seller_id), SK="PROFILE", seller_id=seller_id, status="approved",
                  business_name=f"{seller_id} GmbH", display_name=f"Laden {seller_id[-8:]}",
                  contact_email=f"{seller_id}@example.com", country="DE", default_currency="EUR",
                  charges_enabled=True, created_at="2026-11-25T00:00:00+00:00")
    local_stack.boto3_client("dynamodb").put_item(TableName=local_stack.outputs["TableName"], Item=item.serialize())


@pytest.fixture(scope="module")
def mint(local_stack: LocalStack) -> Iterator[Any]:
    """Access tokens of approved sellers, signed with the local stack's key as its sign-in
    would issue them."""
    from chalicelib.core.auth import issue_access_token
    from chalicelib.core.settings import reset_settings

    saved = os.environ.get("AGORA_SECRET_TOKEN_SIGNING_KEY")
    os.environ["AGORA_SECRET_TOKEN_SIGNING_KEY"] = local_stack.env["AGORA_SECRET_TOKEN_SIGNING_KEY"]
    reset_settings()
    approved: set[str] = set()

    def token(seller_id: str) -> str:
        if seller_id not in approved:
            _approve(local_stack, seller_id)
            approved.add(seller_id)
        return issue_access_token(user_id=f"usr_owner_{seller_id}", roles={"buyer", "seller"},
                                  seller_id=seller_id)[0]

    yield token
    if saved is None:
        os.environ.pop("AGORA_SECRET_TOKEN_SIGNING_KEY", None)
    else:
        os.environ["AGORA_SECRET_TOKEN_SIGNING_KEY"] = saved
    reset_settings()


@pytest.fixture(scope="module")
def run_id() -> str:
    """Emails unique to this run: the local stack is shared by every e2e test."""
    return uuid.uuid4().hex[:8]


def _rows(run_id: str, count: int, start: int = 0) -> str:
    return "".join(f"Kundin {n},kundin{n}.{run_id}@example.com\n" for n in range(start, start + count))


def _export(local_stack: LocalStack, token: str) -> list[dict[str, str]]:
    response = requests.get(f"{local_stack.api}/v1/seller/customers/export",
                            headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


def test_a_small_csv_is_imported_at_once_and_the_person_invited(local_stack: LocalStack, mint: Any,
                                                                 run_id: str) -> None:
    seller_id = f"sel_e2e_small_{run_id}"
    anna = f"anna.{run_id}@example.com"
    headers = {"Authorization": f"Bearer {mint(seller_id)}"}
    body = ("\ufeffName,E-Mail,Passwort\n"
            f"Anna Berg,{anna},blue-cactus-morning-42\n"
            f"Ben,ben.{run_id}@example.com,\n"
            "Carla,kaputt,\n").encode()

    response = requests.post(f"{local_stack.api}/v1/seller/customers/import", data=body, timeout=60,
                             headers={**headers, "Content-Type": "text/csv"})

    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["mode"], report["status"], report["imported"], report["error_count"]) == ("sync", "done", 2, 1)
    assert [(e["line"], e["code"]) for e in report["errors"]] == [(4, "invalid_email")]
    assert [(c["column"], c["rows_with_values"]) for c in report["ignored_columns"]] == [("Passwort", 1)]
    login = requests.post(f"{local_stack.api}/v1/auth/login", timeout=30, json={
        "email": anna, "password": "blue-cactus-morning-42"})
    assert login.status_code == 401, login.text  # the seller's password for Anna signs nobody in

    # the events worker invites Anna; her link takes the account and links the seller's contact
    def invitation() -> str | None:
        for mail in local_stack.outbox():
            if anna in mail["to"] and f"Laden {seller_id[-8:]}" in (mail["subject"] or ""):
                found = re.search(r"token=(agora_ml_[\w-]+)", mail["body"] or "")
                return found.group(1) if found else None
        return None

    token = eventually(invitation, timeout=60, what="the invitation mail")
    redeemed = requests.post(f"{local_stack.api}/v1/auth/magic-link/verify", json={"token": token}, timeout=30)
    assert redeemed.status_code == 200, redeemed.text

    def linked() -> dict[str, Any] | None:
        found = requests.get(f"{local_stack.api}/v1/seller/customers?q=anna.", headers=headers, timeout=10).json()
        return found["items"][0] if found["items"] and found["items"][0]["linked"] else None

    record = eventually(linked, timeout=60, what="the contact linked")
    assert (record["name"], record["customer_id"].startswith("usr_")) == ("Anna Berg", True)


def test_a_queued_import_with_the_cli_progress_bar_then_the_export(
        local_stack: LocalStack, mint: Any, run_id: str, tmp_path: Path) -> None:
    seller_id = f"sel_e2e_large_{run_id}"
    file = tmp_path / "kunden.csv"
    file.write_text("Name,Email\n" + _rows(run_id, ASYNC_ROWS) + "Doppelt,kundin0." + run_id + "@example.com\n",
                    encoding="utf-8")

    finished = subprocess.run(
        [sys.executable, "-m", "cli", "customers", "import", str(file), "--seller", seller_id,
         "--poll-seconds", "0.2", "--background"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "AGORA_API_URL": local_stack.api, "AGORA_TOKEN": mint(seller_id)},
    )

    assert finished.returncode == 3, finished.stderr  # done, one row refused
    assert f"{ASYNC_ROWS:,} of {ASYNC_ROWS + 1:,} rows imported" in finished.stdout
    assert f"line {ASYNC_ROWS + 2}: duplicate_email: kundin0.{run_id}@example.com is already on line 2." \
        in finished.stdout
    assert finished.stderr.rstrip("\n").endswith(
        f"[{'#' * 30}] 100% {ASYNC_ROWS + 1:,}/{ASYNC_ROWS + 1:,} rows, 1 refused")

    exported = _export(local_stack, mint(seller_id))
    assert sorted(r["email"] for r in exported) == sorted(
        f"kundin{n}.{run_id}@example.com" for n in range(ASYNC_ROWS))
    assert {r["name"] for r in exported} == {f"Kundin {n}" for n in range(ASYNC_ROWS)}
    assert _export(local_stack, mint(f"sel_e2e_other_{run_id}")) == []  # another seller sees none of them


def test_import_progress_over_http_until_done(local_stack: LocalStack, mint: Any, run_id: str) -> None:
    seller_id = f"sel_e2e_poll_{run_id}"
    headers = {"Authorization": f"Bearer {mint(seller_id)}"}
    body = ("Name,E-Mail\n" + _rows(run_id, ASYNC_ROWS, start=1_000)).encode()

    started = requests.post(f"{local_stack.api}/v1/seller/customers/import?mode=background", data=body, timeout=60,
                            headers={**headers, "Content-Type": "text/csv"})
    assert started.status_code == 202, started.text
    location = local_stack.api + started.headers["Location"]

    def done() -> dict[str, Any] | None:
        status = requests.get(location, headers=headers, timeout=30).json()
        assert status["processed"] <= status["total"] == ASYNC_ROWS
        return status if status["status"] == "done" else None

    report = eventually(done, timeout=120, what="the queued import")
    assert (report["imported"], report["error_count"], report["processed"]) == (ASYNC_ROWS, 0, ASYNC_ROWS)
    listed = requests.get(f"{local_stack.api}/v1/seller/customers?q=kundin1005.", headers=headers, timeout=10).json()
    assert [c["email"] for c in listed["items"]] == [f"kundin1005.{run_id}@example.com"]
