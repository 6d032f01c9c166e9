"""CSV import of a seller's customers, small files: imported within the upload request."""

from __future__ import annotations

import codecs
import gzip
from typing import Any

import pytest

from chalicelib.accounts.service import find_user_by_email, register
from chalicelib.core.passwords import verify_password
from tests.unit.customers.conftest import SELLER_B

GOOD_PASSWORD = "blue-cactus-morning-42"


def _emails(seller: Any, **params: str) -> list[str]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    status, body, _ = seller("GET", f"/v1/seller/customers?limit=100&{query}")
    assert status == 200, body
    return sorted(c["email"] for c in body["items"])


def _problems(body: dict[str, Any]) -> list[tuple[int, str]]:
    return [(e["line"], e["code"]) for e in body["errors"]]


def test_good_rows_are_imported_and_bad_ones_reported_by_line(upload: Any, seller: Any) -> None:
    csv_text = (
        "Name,E-Mail,Passwort\n"
        f"Anna Berg,anna@example.com,{GOOD_PASSWORD}\n"  # line 2: new account with a password
        "Ben Kurz,ben@example.com,\n"                    # line 3: new passwordless account
        "Carla Ohne,not-an-email,\n"                     # line 4: invalid email
        f"Anna Zwei,ANNA@example.com,{GOOD_PASSWORD}\n"  # line 5: same email as line 2
        ",dora@example.com,\n"                           # line 6: no name
        "Emil Schwach,emil@example.com,short\n"          # line 7: weak password
        "Fritz,fritz@example.com,,extra\n"               # line 8: one field too many
    )

    status, body, _ = upload(csv_text)

    assert status == 201
    assert (body["status"], body["mode"], body["total"], body["processed"]) == ("done", "sync", 7, 7)
    assert (body["imported"], body["accounts_created"], body["linked"], body["error_count"]) == (2, 2, 0, 5)
    assert _problems(body) == [(4, "invalid_email"), (5, "duplicate_email"), (6, "missing_name"),
                               (7, "weak_password"), (8, "wrong_column_count")]
    assert body["errors"][1]["message"] == "anna@example.com is already on line 2."
    assert body["errors"][3]["message"] == "Password must be at least 10 characters."
    assert _emails(seller) == ["anna@example.com", "ben@example.com"]
    assert find_user_by_email("emil@example.com") is None  # a refused row leaves nothing behind
    assert find_user_by_email("dora@example.com") is None


def test_a_new_account_gets_the_files_password_hashed(upload: Any) -> None:
    upload(f"Name,Email,Password\nAnna Berg,anna@example.com,{GOOD_PASSWORD}\nBen,ben@example.com,\n")

    anna, ben = find_user_by_email("anna@example.com"), find_user_by_email("ben@example.com")
    assert anna.password_hash != GOOD_PASSWORD
    assert verify_password(GOOD_PASSWORD, anna.password_hash)
    assert anna.name == "Anna Berg"
    assert ben.password_hash is None  # passwordless: signs in by magic link


def test_an_existing_account_is_linked_not_duplicated_and_keeps_its_password(upload: Any, seller: Any) -> None:
    existing = register(email="anna@example.com", password="her-own-secret-99", name="Anna B.").user

    status, body, _ = upload(f"Name,E-Mail,Passwort\nAnna from the file,Anna@Example.com,{GOOD_PASSWORD}\n")

    assert status == 201
    assert (body["imported"], body["accounts_created"], body["linked"]) == (1, 0, 1)
    account = find_user_by_email("anna@example.com")
    assert account.user_id == existing.user_id
    assert verify_password("her-own-secret-99", account.password_hash)
    assert not verify_password(GOOD_PASSWORD, account.password_hash)
    _, customer, _ = seller("GET", f"/v1/seller/customers/{existing.user_id}")
    assert (customer["name"], customer["source"]) == ("Anna B.", "import")  # the buyer's own name wins


def test_importing_the_same_file_again_changes_nothing(upload: Any, seller: Any) -> None:
    csv_text = "Name,E-Mail\nAnna,anna@example.com\nBen,ben@example.com\n"
    upload(csv_text)

    status, body, _ = upload(csv_text)

    assert status == 201
    assert (body["imported"], body["already_customers"], body["error_count"]) == (0, 2, 0)
    assert _emails(seller) == ["anna@example.com", "ben@example.com"]


def test_an_account_imported_by_one_seller_is_linked_by_another(upload: Any, seller: Any) -> None:
    upload("Name,E-Mail\nAnna,anna@example.com\n")

    _, body, _ = upload("Name,E-Mail\nAnna,anna@example.com\n", as_seller=SELLER_B)

    assert (body["accounts_created"], body["linked"]) == (0, 1)


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

    assert (status, again) == (200, report)
    assert (other_status, other["error"]["code"]) == (404, "import_not_found")


@pytest.mark.parametrize(("scope_header", "status"), [({}, 401), ({"Authorization": "Bearer nonsense"}, 401)])
def test_importing_needs_a_seller(api: Any, scope_header: dict[str, str], status: int) -> None:
    from tests.unit.conftest import call

    got, _, _ = call(api, "POST", "/v1/seller/customers/import", raw=b"Name,E-Mail\n",
                     headers={"Content-Type": "text/csv", **scope_header})

    assert got == status


def test_a_buyer_without_a_seller_cannot_import(api: Any) -> None:
    from chalicelib.core.auth import issue_access_token
    from tests.unit.conftest import call

    token, _ = issue_access_token(user_id="usr_buyer", roles={"buyer"})
    status, body, _ = call(api, "POST", "/v1/seller/customers/import", raw=b"Name,E-Mail\nA,a@example.com\n",
                           headers={"Content-Type": "text/csv", "Authorization": f"Bearer {token}"})

    assert (status, body["error"]["code"]) == (403, "seller_required")
