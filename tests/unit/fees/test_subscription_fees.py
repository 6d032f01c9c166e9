"""The monthly seller subscription fee: a scheduled job that charges approved sellers once a month."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.app import ScheduledEventConfig

import app
from chalicelib.fees import service as fees
from chalicelib.fees.workers import charge_subscription_fees, period_of
from chalicelib.ledger import service as ledger
from dev import scheduler
from dev.schedules import next_run
from tests.support.builders import approved_seller_headers, eur, put_seller
from tests.support.http import call

JULY = "2026-07"
DEFAULT = {"percent_bp": 1000, "currencies": {"EUR": {"subscription_fee": 2900}}}


@pytest.fixture
def marketplace() -> None:
    """A default schedule with a EUR subscription fee; sellers of every kind."""
    fees.set_schedule("default", DEFAULT)
    put_seller("sel_a")  # approved, EUR: pays the default fee
    put_seller("sel_b", currency="USD")  # approved, USD: the schedule sets no USD fee
    put_seller("sel_c", status="pending")  # not approved: pays nothing
    put_seller("sel_d")  # approved with an override of its own
    fees.set_seller_override("sel_d", {"percent_bp": 800, "currencies": {"EUR": {"subscription_fee": 1500}}})
    put_seller("sel_e", status="suspended")


def test_approved_sellers_are_charged_their_schedules_fee(marketplace: None) -> None:
    run = charge_subscription_fees(JULY)

    assert run.to_json() == {"period": JULY, "sellers": 3, "charged": 2, "already_charged": 0, "no_fee": 1,
                             "not_yet_due": 0}
    assert {s: ledger.seller_balance(s, "EUR").owed for s in ("sel_a", "sel_c", "sel_d")} == {
        "sel_a": eur(-2900), "sel_c": eur(0), "sel_d": eur(-1500)}
    july = (datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC))
    assert ledger.platform_fee_revenue(*july)["EUR"].subscription_fees == eur(4400)


def test_running_twice_in_a_month_charges_once(marketplace: None) -> None:
    charge_subscription_fees(JULY)

    again = charge_subscription_fees(JULY)

    assert (again.charged, again.already_charged) == (0, 2)
    assert ledger.seller_balance("sel_a", "EUR").owed == eur(-2900)


def test_each_month_is_charged_again(marketplace: None) -> None:
    charge_subscription_fees(JULY)
    charge_subscription_fees("2026-08")

    assert ledger.seller_balance("sel_a", "EUR").owed == eur(-5800)


def test_a_seller_approved_during_the_month_starts_paying_the_next(marketplace: None) -> None:
    put_seller("sel_new", approved_at="2026-07-03T09:00:00+00:00")

    charge_subscription_fees(JULY)
    assert ledger.seller_balance("sel_new", "EUR").owed == eur(0)

    charge_subscription_fees("2026-08")
    assert ledger.seller_balance("sel_new", "EUR").owed == eur(-2900)


def test_without_a_fee_in_the_schedule_nobody_is_charged() -> None:
    put_seller("sel_a")

    run = charge_subscription_fees(JULY)

    assert (run.charged, run.no_fee) == (0, 1)
    assert ledger.seller_balances("sel_a") == []


def test_every_page_of_the_status_index_is_charged(marketplace: None) -> None:
    for n in range(5):
        put_seller(f"sel_p{n}")

    run = charge_subscription_fees(JULY, page_size=2)

    assert (run.sellers, run.charged) == (8, 7)
    assert all(ledger.seller_balance(f"sel_p{n}", "EUR").owed == eur(-2900) for n in range(5))


def test_the_seller_sees_the_fee_in_statement_and_balance(api: Any, marketplace: None) -> None:
    charge_subscription_fees(JULY)
    headers = approved_seller_headers("sel_a")

    status, statement, _ = call(api, "GET", "/v1/seller/statements?from=2026-07-01T00:00:00Z&to=2026-08-01T00:00:00Z",
                                headers=headers)
    assert status == 200, statement
    assert [(e["kind"], e["posting_id"], e["occurred_at"], e["amount"]) for e in statement["items"]] == [
        ("subscription_fee", "subscription_fee:sel_a:2026-07", "2026-07-01T00:00:00.000000Z",
         {"amount": -2900, "currency": "EUR"})]
    status, balance, _ = call(api, "GET", "/v1/seller/balance", headers=headers)
    assert status == 200
    assert balance["balances"] == [{"currency": "EUR", "earned": {"amount": -2900, "currency": "EUR"},
                                    "transferred": {"amount": 0, "currency": "EUR"},
                                    "owed": {"amount": -2900, "currency": "EUR"}}]


def test_the_job_runs_at_one_on_the_first_of_each_month() -> None:
    [source] = [s for s in app.app.event_sources
                if isinstance(s, ScheduledEventConfig) and s.name == "seller_subscription_fees"]

    assert source.schedule_expression == "cron(0 1 1 * ? *)"
    june_15 = datetime(2026, 6, 15, 12, tzinfo=UTC).timestamp()
    assert next_run(source.schedule_expression, june_15) == datetime(2026, 7, 1, 1, tzinfo=UTC).timestamp()


def test_make_sweep_charges_the_current_month(marketplace: None) -> None:
    result = scheduler.run_once(app, "seller_subscription_fees")

    assert result == {"period": period_of(datetime.now(UTC)), "sellers": 3, "charged": 2, "already_charged": 0,
                      "no_fee": 1, "not_yet_due": 0}
