"""Trailing-30-day sales: one counter item a seller and month, a day in each attribute, ADDed
by the order path and read in one round trip."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import boto3
import pytest

from chalicelib.core.db import LabelledTransaction
from chalicelib.core.keys import seller_key
from chalicelib.core.money import Money
from chalicelib.core.settings import get_settings
from chalicelib.fees import service
from chalicelib.fees.engine import CurrencyTerms, FeeSchedule, VolumeTier, line_fee
from chalicelib.fees.models import MonthlySales

TODAY = date(2025, 6, 30)


def test_trailing_sales_cover_the_30_days_ending_today() -> None:
    # given sales inside and just outside the window, in two currencies and for two sellers
    for days_ago, amount in ((0, 1000), (29, 500), (30, 70_000)):
        service.record_sale("sel_a", Money("EUR", amount), TODAY - timedelta(days=days_ago)).apply()
    service.record_sale("sel_a", Money("EUR", 200), TODAY).apply()
    service.record_sale("sel_a", Money("USD", 9000), TODAY).apply()
    service.record_sale("sel_b", Money("EUR", 4000), TODAY).apply()
    # then only the last 30 days of that seller and currency count
    assert service.trailing_sales("sel_a", "EUR", TODAY) == Money("EUR", 1700)
    assert service.trailing_sales("sel_a", "usd", TODAY) == Money("USD", 9000)
    assert service.trailing_sales("sel_c", "EUR", TODAY) == Money("EUR", 0)
    assert service.trailing_sales_of(["sel_a", "sel_b", "sel_c"], "EUR", TODAY) == {
        "sel_a": Money("EUR", 1700), "sel_b": Money("EUR", 4000), "sel_c": Money("EUR", 0)}


@pytest.mark.parametrize(("today", "first_day", "months"), [
    (date(2025, 7, 15), date(2025, 6, 16), ["2025-06", "2025-07"]),
    (date(2025, 3, 1), date(2025, 1, 31), ["2025-01", "2025-02", "2025-03"]),  # a common year's February
    (date(2024, 3, 1), date(2024, 2, 1), ["2024-02", "2024-03"]),  # a leap year's
])
def test_the_window_spans_its_months_and_counts_only_its_own_days(
        today: date, first_day: date, months: list[str]) -> None:
    # given sales on the window's first and last day, the day before it and in between
    for day, amount in ((first_day - timedelta(days=1), 70_000), (first_day, 300), (first_day + timedelta(days=14), 20),
                        (today, 1)):
        service.record_sale("sel_a", Money("EUR", amount), day).apply()
    # then the window's months are read, 2 keys a seller (3 when February is short), and
    # the day before the window, in its first month, does not count
    assert service.trailing_sales_keys(["sel_b", "sel_a"], "EUR", today) == [
        (seller_key(seller), f"SALES#EUR#{month}") for seller in ("sel_a", "sel_b") for month in months]
    assert service.trailing_sales("sel_a", "EUR", today) == Money("EUR", 321)


def test_a_sellers_month_is_one_item_that_expires_31_days_after_the_month() -> None:
    for day in (1, 2, 2, 28):
        service.record_sale("sel_a", Money("EUR", 100 * day), date(2025, 2, day)).apply()

    items = list(MonthlySales.query(seller_key("sel_a"), MonthlySales.SK.startswith("SALES#")))

    assert [(item.SK, item.month) for item in items] == [("SALES#EUR#2025-02", "2025-02")]
    assert [items[0].sales_on(day) for day in (1, 2, 3, 28)] == [100, 400, 0, 2800]
    assert items[0].expires_at == calendar.timegm(date(2025, 4, 1).timetuple())  # 1 March + 31 days


def test_daily_items_written_before_the_monthly_ones_are_not_counted() -> None:
    # given a day's item as the order path wrote it before, and a sale since
    boto3.client("dynamodb").put_item(TableName=get_settings().table_name, Item={
        "PK": {"S": seller_key("sel_a")}, "SK": {"S": "SALES#EUR#2025-06-29"}, "seller_id": {"S": "sel_a"},
        "currency": {"S": "EUR"}, "day": {"S": "2025-06-29"}, "amount": {"N": "5000"},
        "expires_at": {"N": str(calendar.timegm(date(2025, 8, 8).timetuple()))}})
    service.record_sale("sel_a", Money("EUR", 700), TODAY).apply()
    # then the trailing sales start from the monthly items (the documented transition)
    assert service.trailing_sales("sel_a", "EUR", TODAY) == Money("EUR", 700)


def test_a_sale_is_recorded_inside_the_order_transaction_and_refunds_subtract() -> None:
    transaction = LabelledTransaction()
    transaction.add("sale", service.record_sale("sel_a", Money("EUR", 5000), TODAY))
    transaction.add("sale", service.record_sale("sel_b", Money("EUR", 3000), TODAY))
    assert transaction.commit() == set()
    service.record_sale("sel_a", Money("EUR", -1200), TODAY).apply()
    assert service.trailing_sales("sel_a", "EUR", TODAY) == Money("EUR", 3800)


def test_a_seller_crossing_a_tier_pays_the_lower_rate() -> None:
    schedule = FeeSchedule(percent_bp=1000, currencies={"EUR": CurrencyTerms(tiers=(VolumeTier(5000, 700),))})

    def fee_after_selling(amount: int) -> Money:
        service.record_sale("sel_a", Money("EUR", amount), TODAY).apply()
        sales = service.trailing_sales("sel_a", "EUR", TODAY)
        return line_fee(schedule, line_total=Money("EUR", 1000), category="x", trailing_30_day_sales=sales).fee

    assert fee_after_selling(5000) == Money("EUR", 100)  # at the threshold: not above it yet
    assert fee_after_selling(1) == Money("EUR", 70)
