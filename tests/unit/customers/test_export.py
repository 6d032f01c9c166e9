"""CSV export of a seller's customers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.accounts.service import ensure_account
from chalicelib.core.money import Money
from chalicelib.customers import export, service
from tests.support.builders import put_seller
from tests.support.customers import SELLER_A, SELLER_B, customers_by_email

EXPORT = "/v1/seller/customers/export"


def _exported(seller: Any, as_seller: str = SELLER_A, cursor: str = "") -> tuple[list[dict[str, str]], dict]:
    status, text, headers = seller("GET", EXPORT + (f"?cursor={cursor}" if cursor else ""), as_seller=as_seller)
    assert status == 200
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(text, newline=""))), headers


def _consent(user_id: str, status: str) -> None:
    from chalicelib.accounts.models import Consent

    Consent(f"USER#{user_id}", "CONSENT#newsletter", user_id=user_id, topic="newsletter", status=status,
            text_version="newsletter-2026-01", updated_at="2026-06-01T00:00:00+00:00").save()


def test_export_round_trip_gives_back_the_same_customers(seller: Any, upload: Any) -> None:
    upload('Name,E-Mail\n"Berg, Anna",anna@example.com\nJürgen Groß,juergen@example.com\nBen,ben@example.com\n')
    contact = customers_by_email(seller)["anna@example.com"]["customer_id"]
    _, vip, _ = seller("POST", "/v1/seller/customer-groups", {"name": "VIP", "discount_percent": 5})
    seller("PATCH", f"/v1/seller/customers/{contact}", {"group_id": vip["group_id"], "tax_exempt": True,
                                                        "vat_id": "DE123456789"})
    anna, _ = ensure_account("anna@example.com", name="Anna B.")  # her orders link the contact to her account
    service.record_order(SELLER_A, anna.user_id, "ord_1", Money("EUR", 123456), datetime(2026, 6, 1, tzinfo=UTC))
    service.record_order(SELLER_A, anna.user_id, "ord_2", Money("JPY", 500), datetime(2026, 7, 1, tzinfo=UTC))
    _, listed, _ = seller("GET", "/v1/seller/customers")

    rows, _ = _exported(seller)

    assert list(rows[0]) == list(export.COLUMNS)
    assert sorted((r["customer_id"], r["name"], r["email"]) for r in rows) == sorted(
        (c["customer_id"], c["name"], c["email"]) for c in listed["items"])
    [anna_row] = [r for r in rows if r["email"] == "anna@example.com"]
    assert anna_row == {
        "customer_id": anna.user_id, "name": "Berg, Anna", "email": "anna@example.com", "group": "VIP",
        "tax_exempt": "true", "tax_exempt_reason": "", "vat_id": "DE123456789", "order_count": "2",
        "total_spent": "1234.56 EUR; 500 JPY", "first_order_at": "2026-06-01T00:00:00.000000+00:00",
        "last_order_at": "2026-07-01T00:00:00.000000+00:00", "newsletter_consent": "none", "source": "import",
        "created_at": anna_row["created_at"],
    }


def test_the_export_holds_only_the_sellers_own_customers(seller: Any, upload: Any) -> None:
    put_seller("sel_C")
    upload("Name,E-Mail\nAnna,anna@example.com\nBen,ben@example.com\n")
    upload("Name,E-Mail\nBen,ben@example.com\nCarla,carla@example.com\n", as_seller=SELLER_B)

    rows_a, _ = _exported(seller)
    rows_b, _ = _exported(seller, SELLER_B)
    rows_c, _ = _exported(seller, "sel_C")

    assert sorted(r["email"] for r in rows_a) == ["anna@example.com", "ben@example.com"]
    assert sorted(r["email"] for r in rows_b) == ["ben@example.com", "carla@example.com"]
    assert rows_c == []


@pytest.mark.parametrize("status", ["granted", "pending", "withdrawn"])
def test_the_export_shows_a_linked_customers_newsletter_consent_only(seller: Any, upload: Any, status: str) -> None:
    # given Anna and Ben were imported, both have accounts with a newsletter consent, and
    # only Anna has ordered (which links her)
    upload("Name,E-Mail\nAnna,anna@example.com\nBen,ben@example.com\n")
    for email in ("anna@example.com", "ben@example.com"):
        _consent(ensure_account(email)[0].user_id, status)
    anna = ensure_account("anna@example.com")[0].user_id
    service.record_order(SELLER_A, anna, "ord_1", Money("EUR", 100), datetime(2026, 6, 1, tzinfo=UTC))

    rows, _ = _exported(seller)

    # then Ben, an unlinked contact, shows none: his account's consent is not the seller's to see
    assert {(r["email"], r["customer_id"].split("_")[0]): r["newsletter_consent"] for r in rows} == {
        ("anna@example.com", "usr"): status, ("ben@example.com", "ctc"): "none"}


def test_a_formula_in_a_name_is_neutralised(seller: Any, upload: Any) -> None:
    upload('Name,E-Mail\n"=HYPERLINK(""http://evil.example"")",anna@example.com\n')

    rows, _ = _exported(seller)

    assert rows[0]["name"] == "'=HYPERLINK(\"http://evil.example\")"


def test_a_large_export_comes_in_parts(seller: Any, upload: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    upload("Name,E-Mail\n" + "".join(f"K{n},k{n}@example.com\n" for n in range(5)))
    monkeypatch.setattr(export, "EXPORT_ROWS", 2)

    emails, cursor = [], ""
    for _ in range(4):
        rows, headers = _exported(seller, cursor=cursor)
        emails += [r["email"] for r in rows]
        cursor = headers.get("X-Next-Cursor", "")
        if not cursor:
            break

    assert sorted(emails) == [f"k{n}@example.com" for n in range(5)]


@pytest.mark.parametrize(("amount", "currency", "text"), [
    (123456, "EUR", "1234.56 EUR"), (5, "EUR", "0.05 EUR"), (-250, "USD", "-2.50 USD"), (500, "JPY", "500 JPY"),
])
def test_amounts_are_written_from_minor_units(amount: int, currency: str, text: str) -> None:
    assert export.format_amount(amount, currency) == text
