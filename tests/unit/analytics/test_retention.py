"""The retention report's figures, hand-computed on a small fixed set of customers (W = 90
days), and its routes.

Seller A's customers (EUR); a customer is active on the days [order day, order day + 90):

- Ben: 2025-11-01 (20.00) — active until 2026-01-29.
- Anna: 2025-12-15 (10.00), 2026-02-10 (30.00; 57 days later) — active 2025-12-15 to 2026-05-10.
- Cara: 2026-01-20 (40.00), 2026-01-25 (10.00, 5.00 refunded; 5 days later) — active to 2026-04-24.
- Dan: 2026-03-05 (25.00, wholly refunded) — never a customer.
- Eva: 2026-03-31 (15.00).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest

from chalicelib.analytics import reports, summaries
from chalicelib.core.settings import reset_settings
from tests.support.auth import operator_headers
from tests.support.builders import approved_seller_headers
from tests.support.http import call

SELLER, OTHER_SELLER = "sel_a", "sel_b"


def paid(customer: str, order_id: str, day: date, amount: int, seller_id: str = SELLER) -> None:
    summaries.record_paid(customer, order_id, day, [summaries.Share(seller_id, amount, "EUR")])


@pytest.fixture
def customers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_ANALYTICS_ACTIVE_DAYS", "90")
    reset_settings()
    paid("usr_ben", "ord_b1", date(2025, 11, 1), 2_000)
    paid("usr_anna", "ord_a1", date(2025, 12, 15), 1_000)
    paid("usr_anna", "ord_a2", date(2026, 2, 10), 3_000)
    paid("usr_cara", "ord_c2", date(2026, 1, 25), 1_000)  # arrives before the first
    paid("usr_cara", "ord_c1", date(2026, 1, 20), 4_000)
    summaries.record_refund("usr_cara", "ord_c2", "rfd_c", SELLER, 500, "EUR")
    summaries.record_refund("usr_dan", "ord_d1", "rfd_d", SELLER, 2_500, "EUR")  # before its payment
    paid("usr_dan", "ord_d1", date(2026, 3, 5), 2_500)
    paid("usr_eva", "ord_e1", date(2026, 3, 31), 1_500)
    paid("usr_zoe", "ord_z1", date(2026, 1, 3), 9_900, seller_id=OTHER_SELLER)  # another seller's customer
    yield
    reset_settings()


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


def pick(row: dict[str, Any], *names: str) -> tuple[Any, ...]:
    return tuple(row[name] for name in names)


def test_monthly_retention_of_a_sellers_customers(customers: None) -> None:
    report = reports.retention(SELLER, "EUR", "month", date(2025, 10, 1), date(2026, 5, 1))

    rows = {row["period"]: row for row in report["periods"]}
    assert list(rows) == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]
    sen = ("customers_at_start", "customers_at_end", "new_customers", "retention_rate", "churn_rate",
           "retention_rate_missing")
    assert pick(rows["2025-10"], *sen) == (0, 0, 0, None, None, "no_active_customers_at_start")
    assert pick(rows["2025-11"], *sen) == (0, 1, 1, None, None, "no_active_customers_at_start")
    assert pick(rows["2025-12"], *sen) == (1, 2, 1, "100.00", "0.00", None)
    assert pick(rows["2026-01"], *sen) == (2, 2, 1, "50.00", "50.00", None)  # Ben lapsed, Cara new
    assert pick(rows["2026-02"], *sen) == (2, 2, 0, "100.00", "0.00", None)
    assert pick(rows["2026-03"], *sen) == (2, 3, 1, "100.00", "0.00", None)  # Eva new; Dan refunded
    assert pick(rows["2026-04"], *sen) == (3, 2, 0, "66.67", "33.33", None)  # Cara lapsed

    january = rows["2026-01"]
    assert pick(january, "customers", "repeat_customers", "repeat_purchase_rate") == (3, 1, "33.33")
    assert pick(january, "buyers", "orders", "purchase_frequency") == (1, 2, "2.00")
    assert pick(january, "revenue", "average_order_value", "revenue_new", "revenue_returning") == (
        eur(4_500), eur(2_250), eur(4_000), eur(500))
    assert january["median_days_between_orders"] == {"min": 4, "max": 5}

    february = rows["2026-02"]
    assert pick(february, "repeat_purchase_rate", "revenue_new", "revenue_returning") == ("66.67", eur(0), eur(3_000))
    assert february["median_days_between_orders"] == {"min": 46, "max": 60}
    assert pick(rows["2026-03"], "orders", "revenue", "repeat_purchase_rate", "median_days_between_orders") == (
        1, eur(1_500), "50.00", None)
    assert pick(rows["2026-04"], "orders", "purchase_frequency", "average_order_value") == (0, None, None)
    assert (report["from"], report["to"], report["active_days"]) == ("2025-10-01", "2026-05-01", 90)


def test_weekly_periods_start_from_the_running_totals_of_the_days_before(customers: None) -> None:
    report = reports.retention(SELLER, "EUR", "week", date(2026, 1, 28), date(2026, 2, 9))

    rows = [pick(r, "period", "start", "customers_at_start", "customers_at_end", "new_customers", "retention_rate")
            for r in report["periods"]]
    assert rows == [("2026-W05", "2026-01-26", 3, 2, 0, "66.67"),  # Cara counted from 20 January
                    ("2026-W06", "2026-02-02", 2, 2, 0, "100.00")]


def test_a_year_and_a_quarter_agree_with_the_months(customers: None) -> None:
    [year] = reports.retention(SELLER, "EUR", "year", date(2026, 1, 1), date(2027, 1, 1))["periods"]
    [first, _] = reports.retention(SELLER, "EUR", "quarter", date(2026, 1, 1), date(2026, 7, 1))["periods"]

    assert pick(year, "customers_at_start", "new_customers", "orders", "revenue") == (2, 2, 4, eur(9_000))
    assert pick(first, "customers_at_start", "customers_at_end", "new_customers", "buyers") == (2, 3, 2, 3)
    assert first["retention_rate"] == "50.00"  # (3 - 2) / 2: of Ben and Anna only Anna stayed


def test_the_marketplace_sees_every_sellers_customers(customers: None) -> None:
    [january] = reports.retention(None, "EUR", "month", date(2026, 1, 1), date(2026, 2, 1))["periods"]

    assert pick(january, "customers_at_start", "customers_at_end", "new_customers", "orders") == (2, 3, 2, 3)
    assert january["revenue"] == eur(4_500 + 9_900)


def test_the_routes_answer_for_the_seller_and_the_operator(api: Any, customers: None) -> None:
    status, mine, _ = call(api, "GET", "/v1/seller/analytics/retention?period=month&from=2026-01-01&to=2026-03-01",
                           headers=approved_seller_headers(SELLER))
    assert status == 200, mine
    assert (mine["scope"], mine["currency"], [r["retention_rate"] for r in mine["periods"]]) == (
        "seller", "EUR", ["50.00", "100.00"])

    status, theirs, _ = call(api, "GET", "/v1/seller/analytics/retention?from=2026-01-01&to=2026-02-01",
                             headers=approved_seller_headers(OTHER_SELLER))
    assert status == 200
    assert pick(theirs["periods"][0], "customers_at_end", "revenue") == (1, eur(9_900))  # Zoe only

    status, marketplace, _ = call(api, "GET", "/v1/admin/analytics/retention?from=2026-01-01&to=2026-02-01"
                                              "&currency=EUR", headers=operator_headers())
    assert status == 200
    assert (marketplace["scope"], marketplace["periods"][0]["new_customers"]) == ("marketplace", 2)


@pytest.mark.parametrize(("path", "code"), [
    ("/v1/seller/analytics/retention?breakdown=country", "breakdown_not_available"),
    ("/v1/seller/analytics/retention?breakdown=lifecycle_phase", "breakdown_not_available"),
    ("/v1/seller/analytics/retention?from=2026-02-01&to=2026-01-01", "invalid_window"),
    ("/v1/seller/analytics/retention?period=day&from=2025-01-01&to=2026-02-01", "window_too_large"),
    ("/v1/seller/analytics/retention?period=fortnight", "validation_failed"),
])
def test_what_the_report_cannot_answer_is_a_422(api: Any, path: str, code: str) -> None:
    status, body, _ = call(api, "GET", path, headers=approved_seller_headers(SELLER))

    assert (status, body["error"]["code"]) == (422, code)


def test_the_marketplace_view_needs_a_currency_and_an_operator(api: Any) -> None:
    status, body, _ = call(api, "GET", "/v1/admin/analytics/retention", headers=operator_headers())
    assert (status, body["error"]["code"]) == (422, "validation_failed")

    status, _, _ = call(api, "GET", "/v1/admin/analytics/retention?currency=EUR",
                        headers=approved_seller_headers(SELLER))
    assert status == 403


def test_cohorts_share_still_buying_and_revenue_per_customer(api: Any, customers: None) -> None:
    report = reports.cohorts(SELLER, "EUR", date(2025, 11, 1), date(2026, 4, 1))

    cohorts = {c["cohort"]: c for c in report["cohorts"]}
    assert list(cohorts) == ["2025-11", "2025-12", "2026-01", "2026-03"]
    assert cohorts["2025-12"]["customers"] == 1
    assert cohorts["2025-12"]["months"] == [
        {"months_since": 0, "buyers": 1, "share_buying": "100.00", "revenue": eur(1_000),
         "revenue_per_customer": eur(1_000)},
        {"months_since": 2, "buyers": 1, "share_buying": "100.00", "revenue": eur(3_000),
         "revenue_per_customer": eur(3_000)}]
    assert cohorts["2026-01"]["months"] == [{"months_since": 0, "buyers": 1, "share_buying": "100.00",
                                             "revenue": eur(4_500), "revenue_per_customer": eur(4_500)}]

    status, text, headers = call(api, "GET", "/v1/seller/analytics/cohorts?from=2025-12-01&to=2026-01-01&format=csv",
                                 headers=approved_seller_headers(SELLER))
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(text))) == [
        ["cohort", "customers", "months_since", "buyers", "share_buying", "revenue", "revenue_per_customer",
         "currency"],
        ["2025-12", "1", "0", "1", "100.00", "1000", "1000", "EUR"],
        ["2025-12", "1", "2", "1", "100.00", "3000", "3000", "EUR"]]
