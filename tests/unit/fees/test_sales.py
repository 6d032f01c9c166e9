"""Trailing-30-day sales: daily counters ADDed by the order path, read in one round trip."""

from __future__ import annotations

from datetime import date, timedelta

from chalicelib.core.db import LabelledTransaction
from chalicelib.core.money import Money
from chalicelib.fees import service
from chalicelib.fees.engine import CurrencyTerms, FeeSchedule, VolumeTier, line_fee

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
