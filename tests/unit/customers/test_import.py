"""CSV import of a seller's customers, small files: imported within the upload request."""

from __future__ import annotations

import codecs
import gzip
import json
from typing import Any

import pytest

from chalicelib.accounts.service import find_user_by_email
from chalicelib.customers import imports
from chalicelib.customers.models import contact_id
from chalicelib.customers.reading import PASSWORD_IGNORED
from tests.support.auth import buyer_headers, seller_headers
from tests.support.builders import buyer_account, put_seller
from tests.support.customers import SELLER_A, SELLER_B, customers_by_email
from tests.support.events import pump_events
from tests.support.http import call
from tests.support.mail import deliver_mails

GOOD_PASSWORD = "blue-cactus-morning-42"


def _emails(seller: Any, **params: str) -> list[str]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    status, body, _ = seller("GET", f"/v1/seller/customers?limit=100&{query}")
    assert status == 200, body
    return sorted(c["email"] for c in body["items"])


def _problems(body: dict[str, Any]) -> list[tuple[int, str]]:
    return [(e["line"], e["code"]) for e in body["errors"]]


def _report_shape(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what differs between any two imports (ids, times)."""
    return {k: v for k, v in report.items() if k not in ("import_id", "created_at", "finished_at")}


def test_good_rows_are_imported_and_bad_ones_reported_by_line(upload: Any, seller: Any) -> None:
    csv_text = (
        "Name,E-Mail,Passwort\n"
        f"Anna Berg,anna@example.com,{GOOD_PASSWORD}\n"  # line 2: a password, ignored
        "Ben Kurz,ben@example.com,\n"                    # line 3
        "Carla Ohne,not-an-email,\n"                     # line 4: invalid email
        f"Anna Zwei,ANNA@example.com,{GOOD_PASSWORD}\n"  # line 5: same email as line 2
        ",dora@example.com,\n"                           # line 6: no name
        "Emil Schwach,emil@example.com,short\n"          # line 7: a password is never checked either
        "Fritz,fritz@example.com,,extra\n"               # line 8: one field too many
    )

    status, body, _ = upload(csv_text)

    assert status == 201
    assert (body["status"], body["mode"], body["total"], body["processed"]) == ("done", "sync", 7, 7)
    assert (body["imported"], body["already_customers"], body["error_count"]) == (3, 0, 4)
    assert _problems(body) == [(4, "invalid_email"), (5, "duplicate_email"), (6, "missing_name"),
                               (8, "wrong_column_count")]
    assert body["errors"][1]["message"] == "anna@example.com is already on line 2."
    assert body["ignored_columns"] == [{"column": "Passwort", "rows_with_values": 3, "reason": PASSWORD_IGNORED}]
    assert "accounts_created" not in body and "linked" not in body
    assert _emails(seller) == ["anna@example.com", "ben@example.com", "emil@example.com"]


def test_an_imported_row_is_the_sellers_contact_holding_what_it_imported(upload: Any, seller: Any) -> None:
    _, report, _ = upload("Name,E-Mail\nAnna Berg,Anna@Example.com\n")

    [anna] = customers_by_email(seller).values()
    assert anna == {
        "customer_id": contact_id(SELLER_A, "anna@example.com"), "linked": False, "name": "Anna Berg",
        "email": "anna@example.com", "group_id": None, "tax_exempt": False, "tax_exempt_reason": None,
        "vat_id": None, "order_count": 0, "total_spent": [], "first_order_at": None, "last_order_at": None,
        "source": "import", "created_at": anna["created_at"],
    }
    assert report["ignored_columns"] == []


def test_a_password_column_is_stored_nowhere_and_signs_nobody_in(api: Any, upload: Any, aws: dict[str, str]) -> None:
    import boto3

    # given a seller's file with a password for a person who has no account yet
    status, _, _ = upload(f"Name,Email,Password\nAnna Berg,anna@example.com,{GOOD_PASSWORD}\n")
    assert status == 201

    # when every event and mail of the import has been handled
    pump_events()
    deliver_mails()

    # then the password is in no item of the table, the invited account has no password,
    # and the seller cannot sign in as Anna with it
    items = boto3.client("dynamodb").scan(TableName=aws["TableName"])["Items"]  # a test may scan
    assert [i for i in items if GOOD_PASSWORD in json.dumps(i)] == []
    account = find_user_by_email("anna@example.com")
    assert (account.status, account.password_hash, account.name) == ("invited", None, "")
    status, body, _ = call(api, "POST", "/v1/auth/login", {"email": "anna@example.com", "password": GOOD_PASSWORD})
    assert (status, body["error"]["code"]) == (401, "invalid_credentials")


def test_a_background_import_stores_no_password_in_its_chunks(upload: Any, aws: dict[str, str]) -> None:
    import boto3

    upload(f"Name,E-Mail,Passwort\nAnna,anna@example.com,{GOOD_PASSWORD}\n", query="?mode=background")

    items = boto3.client("dynamodb").scan(TableName=aws["TableName"])["Items"]  # a test may scan
    [chunk] = [i for i in items if i["SK"]["S"].startswith("CHUNK#")]
    assert json.loads(chunk["rows"]["S"]) == [[2, "Anna", "anna@example.com"]]
    assert [i for i in items if GOOD_PASSWORD in json.dumps(i)] == []


def test_an_existing_buyer_is_imported_like_anyone_else(upload: Any, seller: Any) -> None:
    from chalicelib.accounts.models import Consent

    # given Anna has her own account, with her name, a password and the newsletter consent
    anna = buyer_account("anna@example.com", name="Anna B.", password="her-own-secret-99")
    Consent(f"USER#{anna.user_id}", "CONSENT#newsletter", user_id=anna.user_id, topic="newsletter",
            status="granted", text_version="newsletter-2026-01", updated_at="2026-06-01T00:00:00+00:00").save()

    # when seller A imports her and a person without an account, and seller B imports
    # the same two rows the other way round
    _, with_account, _ = upload(f"Name,E-Mail,Passwort\nAnna from the file,Anna@Example.com,{GOOD_PASSWORD}\n")
    _, without_account, _ = upload(f"Name,E-Mail,Passwort\nBen from the file,ben@example.com,{GOOD_PASSWORD}\n")

    # then both reports are the same: nothing in them tells whether an email has an account
    assert _report_shape(with_account) == _report_shape(without_account)
    assert (with_account["imported"], with_account["already_customers"]) == (1, 0)
    # and the seller's record holds what the seller imported, linked to nothing: no account
    # name, no consent; her account is unchanged
    record = customers_by_email(seller)["anna@example.com"]
    assert (record["name"], record["linked"], record["customer_id"]) == (
        "Anna from the file", False, contact_id(SELLER_A, "anna@example.com"))
    status, exported, _ = seller("GET", "/v1/seller/customers/export")
    assert status == 200
    assert "anna@example.com,,false,,,0,,,,none,import" in exported
    account = find_user_by_email("anna@example.com")
    assert (account.user_id, account.name, account.password_hash) == (anna.user_id, "Anna B.", anna.password_hash)


def test_importing_the_same_file_again_changes_nothing(upload: Any, seller: Any) -> None:
    csv_text = "Name,E-Mail\nAnna,anna@example.com\nBen,ben@example.com\n"
    upload(csv_text)

    status, body, _ = upload(csv_text)

    assert status == 201
    assert (body["imported"], body["already_customers"], body["error_count"]) == (0, 2, 0)
    assert _emails(seller) == ["anna@example.com", "ben@example.com"]


def test_each_seller_keeps_its_own_contact_of_the_same_person(upload: Any, seller: Any) -> None:
    _, for_a, _ = upload("Name,E-Mail\nAnna,anna@example.com\n")

    _, for_b, _ = upload("Name,E-Mail\nFrau Berg,anna@example.com\n", as_seller=SELLER_B)

    assert (for_a["imported"], for_b["imported"]) == (1, 1)
    assert customers_by_email(seller)["anna@example.com"]["name"] == "Anna"
    assert customers_by_email(seller, SELLER_B)["anna@example.com"]["name"] == "Frau Berg"


@pytest.mark.parametrize("header", ["Name,E-Mail,Passwort", "Name,Email,Password", "name,e-mail", "E-Mail,Name",
                                    " NAME , EMAIL , PASSWORD "])
@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_german_and_english_headers_with_or_without_bom(upload: Any, seller: Any, header: str, bom: bytes) -> None:
    columns = [c.strip().lower() for c in header.split(",")]
    values = {"name": "Jürgen Groß", "e-mail": "juergen@example.com", "email": "juergen@example.com",
              "passwort": "", "password": ""}
    row = ",".join(values[c] for c in columns)

    status, body, _ = upload(bom + f"{header}\r\n{row}\r\n".encode())

    assert (status, body["imported"], body["error_count"]) == (201, 1, 0)
    _, page, _ = seller("GET", "/v1/seller/customers")
    assert [(c["name"], c["email"]) for c in page["items"]] == [("Jürgen Groß", "juergen@example.com")]


def test_quoted_fields_and_line_numbers_across_multiline_fields(upload: Any, seller: Any) -> None:
    csv_text = ('Name,E-Mail\n'
                '"Berg, Anna",anna@example.com\n'
                '"Ben\nmit Umbruch",not-valid\n'   # lines 3-4
                '\n'                               # a blank line is skipped
                '"Carla ""CC"" Ohne",carla@example.com\n')

    _, body, _ = upload(csv_text)

    assert _problems(body) == [(3, "invalid_email")]
    _, page, _ = seller("GET", "/v1/seller/customers")
    assert sorted(c["name"] for c in page["items"]) == ["Berg, Anna", 'Carla "CC" Ohne']


def test_a_gzipped_file_is_accepted(upload: Any) -> None:
    status, body, _ = upload(gzip.compress(b"Name,E-Mail\nAnna,anna@example.com\n"),
                             content_type="application/octet-stream")

    assert (status, body["imported"]) == (201, 1)


@pytest.mark.parametrize(("content", "code"), [
    (b"", "empty_file"),
    (b"Name,E-Mail\n", "empty_file"),
    (b"Name;E-Mail\nAnna;anna@example.com\n", "not_comma_separated"),
    (b"Name,Mail\nAnna,anna@example.com\n", "invalid_header"),
    (b"Name,Passwort\nAnna,x\n", "invalid_header"),
    (b"Name,E-Mail\nJ\xfcrgen,juergen@example.com\n", "not_utf8"),  # Latin-1, not UTF-8
    (b'Name,E-Mail\n"Anna,anna@example.com\n', "malformed_csv"),
])
def test_a_file_that_cannot_be_read_is_refused_whole(upload: Any, seller: Any, content: bytes, code: str) -> None:
    status, body, _ = upload(content)

    assert (status, body["error"]["code"]) == (422, code)
    assert _emails(seller) == []


def test_the_latin1_error_names_the_line(upload: Any) -> None:
    _, body, _ = upload(b"Name,E-Mail\nAnna,anna@example.com\nJ\xfcrgen,juergen@example.com\n")

    assert body["error"]["message"] == "The file is not UTF-8 (line 3); save it as CSV UTF-8."


def test_json_is_not_a_csv_file(seller: Any) -> None:
    status, body, _ = seller("POST", "/v1/seller/customers/import", {"rows": []})

    assert (status, body["error"]["code"]) == (415, "unsupported_media_type")


def test_the_import_report_can_be_read_again_by_its_seller_only(upload: Any, seller: Any) -> None:
    _, report, _ = upload("Name,E-Mail\nAnna,anna@example.com\nBen,nope\n")

    status, again, _ = seller("GET", f"/v1/seller/customers/imports/{report['import_id']}")
    other_status, other, _ = seller("GET", f"/v1/seller/customers/imports/{report['import_id']}", as_seller=SELLER_B)
    missing = seller("GET", f"/v1/seller/customers/imports/{report['import_id'][:-6]}ZZZZZZ", as_seller=SELLER_B)

    assert (status, again) == (200, report)
    assert (other_status, other) == missing[:2]
    assert (other_status, other["error"]["code"]) == (404, "import_not_found")


@pytest.mark.parametrize(("scope_header", "status"), [({}, 401), ({"Authorization": "Bearer nonsense"}, 401)])
def test_importing_needs_a_seller(api: Any, scope_header: dict[str, str], status: int) -> None:
    got, _, _ = call(api, "POST", "/v1/seller/customers/import", raw=b"Name,E-Mail\n",
                     headers={"Content-Type": "text/csv", **scope_header})

    assert got == status


def test_a_buyer_without_a_seller_cannot_import(api: Any) -> None:
    status, body, _ = call(api, "POST", "/v1/seller/customers/import", raw=b"Name,E-Mail\nA,a@example.com\n",
                           headers={"Content-Type": "text/csv", **buyer_headers("usr_buyer")})

    assert (status, body["error"]["code"]) == (403, "seller_required")


@pytest.mark.parametrize(("method", "path"), [("POST", "/v1/seller/customers/import"),
                                              ("POST", "/v1/seller/customers/imports/uploads"),
                                              ("GET", "/v1/seller/customers/export")])
def test_a_pending_seller_can_neither_import_nor_export(api: Any, method: str, path: str) -> None:
    put_seller("sel_pending", status="pending")

    status, body, _ = call(api, method, path, {"size_bytes": 100} if "uploads" in path else None,
                           raw=b"Name,E-Mail\nAnna,anna@example.com\n" if path.endswith("/import") else None,
                           headers={**seller_headers("sel_pending"), "Content-Type": "text/csv"
                                    if path.endswith("/import") else "application/json"})

    assert (status, body["error"]["code"]) == (403, "seller_pending")
    assert find_user_by_email("anna@example.com") is None


def test_a_body_over_the_request_limit_points_at_the_upload_route(upload: Any) -> None:
    big = "Name,E-Mail\n" + "".join(f"Kunde {n},k{n}@example.com\n" for n in range(45_000))  # ~1.1 MB

    status, body, _ = upload(big)

    assert (status, body["error"]["code"]) == (413, "file_too_large")
    assert "POST /v1/seller/customers/imports/uploads" in body["error"]["message"]


def test_a_gzip_bomb_is_stopped_at_the_request_limit_without_inflating_it(upload: Any, seller: Any) -> None:
    bomb = gzip.compress(b"Name,E-Mail\n" + b"Anna,anna@example.com\n" * 3_000_000)  # 66 MB, ~200 KB gzipped

    status, body, _ = upload(bomb, content_type="application/octet-stream")

    assert (status, body["error"]["code"], body["error"]["details"]) == (
        413, "file_too_large", {"limit_bytes": imports.SYNC_MAX_BYTES})
    assert _emails(seller) == []


def test_a_seller_gets_ten_imports_an_hour(upload: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from chalicelib.core import throttle

    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: 1_800_000_000 + 1_800))  # mid-window
    for n in range(10):
        status, _, _ = upload(f"Name,E-Mail\nKunde,k{n}@example.com\n")
        assert status == 201

    status, body, headers = upload("Name,E-Mail\nKunde,k10@example.com\n")
    other, _, _ = upload("Name,E-Mail\nKunde,k10@example.com\n", as_seller=SELLER_B)

    assert (status, body["error"]["code"]) == (429, "too_many_imports")
    assert headers["Retry-After"] == "1800"
    assert other == 201
