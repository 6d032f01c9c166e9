"""`agora customers purge-import-passwords`: the passwords old imports kept in queued chunks."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import boto3
import pytest

from chalicelib.customers.models import ImportChunk
from cli.main import build_parser

OLD_PASSWORD = "blue-cactus-morning-42"


def _chunk(number: int, rows: list[list[Any]] | None, *, done: bool = False) -> None:
    """A chunk as an import before 2026-12 stored it (rows with a fourth, password element)."""
    ImportChunk("IMPORT#imp_old", f"CHUNK#{number:05d}", seller_id="sel_A", import_id="imp_old", number=number,
                rows=rows, done=done, expires_at=int(time.time()) + 3600).save()


def _purge(*flags: str) -> tuple[int, str]:
    args = build_parser().parse_args(["customers", "purge-import-passwords", *flags])
    out = io.StringIO()
    return args.run(args, out=out), out.getvalue()


def _table_text(table: str) -> str:
    return json.dumps(boto3.client("dynamodb").scan(TableName=table)["Items"])  # a test may scan


@pytest.fixture
def old_chunks() -> None:
    _chunk(1, [[2, "Anna", "anna@example.com", OLD_PASSWORD], [3, "Ben", "ben@example.com", None]])
    _chunk(2, [[4, "Carla", "carla@example.com", "another-secret-77"]])
    _chunk(3, None, done=True)  # imported: its rows were removed then
    _chunk(4, [[5, "Dora", "dora@example.com"]])  # written after the fix


def test_the_purge_cuts_every_chunks_rows_to_line_name_email(old_chunks: None, aws: dict[str, str]) -> None:
    code, out = _purge()

    assert code == 0
    assert out.splitlines()[0] == "4 import chunks scanned; rewrote 2 holding 2 passwords."
    assert [c.rows for c in ImportChunk.query("IMPORT#imp_old")] == [
        [[2, "Anna", "anna@example.com"], [3, "Ben", "ben@example.com"]], [[4, "Carla", "carla@example.com"]],
        None, [[5, "Dora", "dora@example.com"]]]
    text = _table_text(aws["TableName"])
    assert OLD_PASSWORD not in text and "another-secret-77" not in text


def test_the_purge_is_idempotent_and_a_dry_run_changes_nothing(old_chunks: None) -> None:
    dry_code, dry = _purge("--dry-run")
    assert (dry_code, dry.splitlines()[0]) == (0, "4 import chunks scanned; would rewrite 2 holding 2 passwords.")
    assert ImportChunk.get("IMPORT#imp_old", "CHUNK#00002").rows == [[4, "Carla", "carla@example.com",
                                                                      "another-secret-77"]]

    _purge()
    _, again = _purge()

    assert again.splitlines()[0] == "4 import chunks scanned; rewrote 0 holding 0 passwords."


def test_a_chunk_imported_meanwhile_does_not_get_its_rows_back(old_chunks: None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.customers import migrations

    real_scan = ImportChunk.scan

    def scan_then_chunk_2_is_imported(*args: Any, **kwargs: Any) -> Any:
        for chunk in real_scan(*args, **kwargs):
            if chunk.number == 2:
                chunk.update(actions=[ImportChunk.done.set(True), ImportChunk.rows.remove()])
            yield chunk

    monkeypatch.setattr(migrations.ImportChunk, "scan", scan_then_chunk_2_is_imported)

    result = migrations.purge_import_passwords()

    assert (result.chunks_rewritten, ImportChunk.get("IMPORT#imp_old", "CHUNK#00002").rows) == (1, None)


# -- agora customers unlink-imported ---------------------------------------------------------

def _unlink(*flags: str) -> tuple[int, str]:
    args = build_parser().parse_args(["customers", "unlink-imported", *flags])
    out = io.StringIO()
    return args.run(args, out=out), out.getvalue()


def _old_link(user_id: str, email: str, *, orders: int = 0, group_id: str | None = None) -> None:
    """A record as an import before 2026-12 linked it: keyed by the account, following it."""
    from chalicelib.core.keys import customer_sk, seller_key
    from chalicelib.customers.models import Customer, CustomerOf
    from chalicelib.customers.service import group_pointer

    record = Customer(seller_key("sel_A"), customer_sk(user_id), seller_id="sel_A", user_id=user_id,
                      name="Real Account Name", email=email, source="import", created_at="2026-11-01T00:00:00+00:00",
                      import_id="imp_old", order_count=orders, group_id=group_id).index()
    record.save()
    CustomerOf(f"USER#{user_id}#SELLERS", seller_key("sel_A"), user_id=user_id, seller_id="sel_A").save()
    if group_id:
        group_pointer(record).save()


def test_old_import_links_become_contacts_and_confirmed_ones_stay(seller: Any) -> None:
    from chalicelib.customers.models import CustomerOf, contact_id
    from chalicelib.customers.service import create_group, customers_by_id

    group = create_group("sel_A", name="VIP", discount_basis_points=500)
    _old_link("usr_linked", "linked@example.com", group_id=group.group_id)
    _old_link("usr_buyer", "buyer@example.com", orders=2)

    code, out = _unlink()

    assert (code, out.strip()) == (0, "2 customer records scanned; unlinked 1 that imports had linked to accounts; "
                                      "kept 1 that orders confirmed.")
    contact = contact_id("sel_A", "linked@example.com")
    found = customers_by_id("sel_A", ["usr_linked", contact, "usr_buyer"])
    assert set(found) == {contact, "usr_buyer"}
    assert (found[contact].linked, found[contact].name, found[contact].group_id) == (False, "Real Account Name",
                                                                                    group.group_id)
    assert list(CustomerOf.query("USER#usr_linked#SELLERS")) == []
    _, members, _ = seller("GET", f"/v1/seller/customers?group={group.group_id}")
    assert [m["customer_id"] for m in members["items"]] == [contact]
    assert _unlink()[1].startswith("2 customer records scanned; unlinked 0")
