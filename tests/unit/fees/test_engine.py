"""The fee arithmetic: exact examples of the rounding rule and its invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.money import CurrencyMismatch, Money
from chalicelib.fees.engine import (
    CurrencyTerms,
    FeeLine,
    FeePolicy,
    FeeSchedule,
    InvalidFeeSchedule,
    VolumeTier,
    line_fee,
    order_fees,
)
from tests.support.builders import eur

NO_SALES = Money("EUR", 0)


def fee_of(schedule: FeeSchedule | FeePolicy, total: int, *, category: str = "fashion/shoes",
           sales: int = 0) -> int:
    return line_fee(schedule, line_total=eur(total), category=category, trailing_30_day_sales=eur(sales)).fee.amount


def test_percentage_rounds_half_up_per_line() -> None:
    schedule = FeeSchedule(percent_bp=1250)
    assert fee_of(schedule, 99) == 12  # 12.375 -> 12
    assert fee_of(schedule, 100) == 13  # 12.5 -> 13
    assert fee_of(schedule, 4) == 1  # 0.5 -> 1


def test_fixed_is_added_after_rounding_then_min_and_max_clamp() -> None:
    schedule = FeeSchedule(percent_bp=1000, currencies={"EUR": CurrencyTerms(fixed=25, minimum=50, maximum=300)})
    assert fee_of(schedule, 1005) == 126  # 100.5 -> 101, + 25
    assert fee_of(schedule, 200) == 50  # 20 + 25 = 45, raised to the minimum
    assert fee_of(schedule, 10_000) == 300  # 1000 + 25, capped at the maximum


def test_a_fee_never_exceeds_its_line_even_with_a_minimum() -> None:
    schedule = FeeSchedule(percent_bp=500, currencies={"EUR": CurrencyTerms(fixed=30, minimum=100)})
    assert fee_of(schedule, 40) == 40
    assert fee_of(schedule, 0) == 0


def test_the_breakdown_says_how_the_fee_came_about() -> None:
    schedule = FeeSchedule(percent_bp=1000, currencies={"EUR": CurrencyTerms(fixed=25)}, scope="default", version=4)
    breakdown = line_fee(schedule, line_total=eur(1005), category="books", trailing_30_day_sales=NO_SALES)
    assert breakdown.to_json() == {
        "line_total": {"amount": 1005, "currency": "EUR"}, "fee": {"amount": 126, "currency": "EUR"},
        "percent_bp": 1000, "percentage_part": {"amount": 101, "currency": "EUR"},
        "fixed_part": {"amount": 25, "currency": "EUR"}, "schedule_ref": "default@4", "tier_above": None,
    }


def test_an_unlisted_currency_pays_the_percentage_only() -> None:
    schedule = FeeSchedule(percent_bp=1000, currencies={"EUR": CurrencyTerms(fixed=25, minimum=50)})
    breakdown = line_fee(schedule, line_total=Money("USD", 1000), category="books",
                         trailing_30_day_sales=Money("USD", 0))
    assert breakdown.fee == Money("USD", 100)


def test_volume_tier_applies_once_sales_are_strictly_above_its_threshold() -> None:
    tiers = (VolumeTier(above=100_000, percent_bp=800), VolumeTier(above=500_000, percent_bp=500))
    schedule = FeeSchedule(percent_bp=1000, currencies={"EUR": CurrencyTerms(tiers=tiers)})
    assert fee_of(schedule, 1000, sales=100_000) == 100
    assert fee_of(schedule, 1000, sales=100_001) == 80
    assert fee_of(schedule, 1000, sales=500_001) == 50
    breakdown = line_fee(schedule, line_total=eur(1000), category="x", trailing_30_day_sales=eur(200_000))
    assert (breakdown.percent_bp, breakdown.tier_above) == (800, 100_000)


def test_order_fee_is_the_sum_of_per_line_rounded_fees() -> None:
    # Per line: 12.375 -> 12 twice = 24; rounding the order's 24.75 once would give 25.
    fees = order_fees(FeeSchedule(percent_bp=1250), [FeeLine(eur(99), "books"), FeeLine(eur(99), "books")],
                      trailing_30_day_sales=NO_SALES)
    assert [line.fee.amount for line in fees.lines] == [12, 12]
    assert fees.total == eur(24)


def test_sales_in_another_currency_are_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        line_fee(FeeSchedule(percent_bp=100), line_total=eur(100), category="x",
                 trailing_30_day_sales=Money("USD", 0))


def test_precedence_seller_over_longest_category_over_default() -> None:
    default = FeeSchedule(percent_bp=1000)
    fashion = FeeSchedule(percent_bp=1500, scope="category:fashion")
    shoes = FeeSchedule(percent_bp=1200, scope="category:fashion/shoes")
    seller = FeeSchedule(percent_bp=300, scope="seller:sel_1")
    categories = {"fashion": fashion, "fashion/shoes": shoes}
    without_seller = FeePolicy(default=default, categories=categories)
    assert without_seller.schedule_for("fashion/shoes") is shoes
    assert without_seller.schedule_for("fashion/kids") is fashion
    assert without_seller.schedule_for("fashionable") is default
    assert without_seller.schedule_for("books/fiction") is default
    with_seller = FeePolicy(default=default, categories=categories, seller=seller)
    assert with_seller.schedule_for("fashion/shoes") is seller
    assert line_fee(with_seller, line_total=eur(1000), category="fashion/shoes",
                    trailing_30_day_sales=NO_SALES).schedule_ref == "seller:sel_1@0"


@pytest.mark.parametrize(("schedule", "field"), [
    (dict(percent_bp=10_001), "percent_bp"),
    (dict(percent_bp=-1), "percent_bp"),
    (dict(percent_bp=True), "percent_bp"),
    (dict(percent_bp=100, currencies={"XXX": CurrencyTerms()}), "currencies.XXX"),
    (dict(percent_bp=100, currencies={"EUR": CurrencyTerms(fixed=-1)}), "currencies.EUR.fixed"),
    (dict(percent_bp=100, currencies={"EUR": CurrencyTerms(minimum=10, maximum=9)}), "currencies.EUR.minimum"),
    (dict(percent_bp=100, currencies={"EUR": CurrencyTerms(
        tiers=(VolumeTier(10, 90), VolumeTier(10, 80)))}), "currencies.EUR.tiers.1.above"),
    (dict(percent_bp=100, currencies={"EUR": CurrencyTerms(tiers=(VolumeTier(10, 101),))}),
     "currencies.EUR.tiers.0.percent_bp"),
    (dict(percent_bp=100, currencies={"EUR": CurrencyTerms(
        tiers=(VolumeTier(10, 90), VolumeTier(20, 95)))}), "currencies.EUR.tiers.1.percent_bp"),
    (dict(percent_bp=100, scope="category:books", currencies={"EUR": CurrencyTerms(subscription_fee=900)}),
     "currencies.EUR.subscription_fee"),
])
def test_invalid_schedules_name_the_field(schedule: dict, field: str) -> None:
    with pytest.raises(InvalidFeeSchedule) as raised:
        FeeSchedule(**schedule)
    assert [path for path, _ in raised.value.problems] == [field]


# --------------------------------------------------------------------- invariants

bps = st.integers(min_value=0, max_value=10_000)
amounts = st.integers(min_value=0, max_value=10**9)


@st.composite
def terms(draw: st.DrawFn, percent_bp: int, *, with_tiers: bool = True) -> CurrencyTerms:
    minimum = draw(st.none() | st.integers(0, 10**6))
    maximum = draw(st.none() | st.integers(minimum or 0, 10**7))
    tiers: list[VolumeTier] = []
    if with_tiers:
        above, rate = -1, percent_bp
        for _ in range(draw(st.integers(0, 4))):
            above = draw(st.integers(above + 1, above + 10**7))
            rate = draw(st.integers(0, rate))
            tiers.append(VolumeTier(above, rate))
    return CurrencyTerms(fixed=draw(st.integers(0, 10**5)), minimum=minimum, maximum=maximum, tiers=tuple(tiers))


@st.composite
def schedules(draw: st.DrawFn, *, with_tiers: bool = True, scope: str = "default") -> FeeSchedule:
    percent_bp = draw(bps)
    return FeeSchedule(percent_bp=percent_bp, currencies={"EUR": draw(terms(percent_bp, with_tiers=with_tiers))},
                       scope=scope)


@settings(max_examples=200)
@given(schedules(), amounts, amounts)
def test_fee_is_between_zero_and_the_line_total(schedule: FeeSchedule, total: int, sales: int) -> None:
    assert 0 <= fee_of(schedule, total, sales=sales) <= total


@settings(max_examples=200)
@given(schedules(with_tiers=False), amounts, amounts, amounts)
def test_fee_never_falls_when_the_line_grows(schedule: FeeSchedule, a: int, b: int, sales: int) -> None:
    small, large = sorted((a, b))
    assert fee_of(schedule, small, sales=sales) <= fee_of(schedule, large, sales=sales)


@settings(max_examples=200)
@given(schedules(), amounts, amounts, amounts)
def test_selling_more_never_raises_the_percentage_or_the_fee(schedule: FeeSchedule, total: int, a: int,
                                                            b: int) -> None:
    low, high = sorted((a, b))
    before = line_fee(schedule, line_total=eur(total), category="x", trailing_30_day_sales=eur(low))
    after = line_fee(schedule, line_total=eur(total), category="x", trailing_30_day_sales=eur(high))
    assert after.percent_bp <= before.percent_bp
    assert after.fee.amount <= before.fee.amount


@settings(max_examples=200)
@given(schedules(), st.lists(amounts, min_size=1, max_size=8), amounts)
def test_an_order_fee_is_rounded_per_line(schedule: FeeSchedule, totals: list[int], sales: int) -> None:
    fees = order_fees(schedule, [FeeLine(eur(t), "x") for t in totals], trailing_30_day_sales=eur(sales))
    assert fees.total.amount == sum(fee_of(schedule, t, sales=sales) for t in totals)


@settings(max_examples=100)
@given(schedules(), schedules(scope="category:fashion"), schedules(scope="seller:sel_1"), amounts, amounts,
       st.booleans(), st.booleans())
def test_seller_beats_category_beats_default(default: FeeSchedule, category: FeeSchedule, seller: FeeSchedule,
                                             total: int, sales: int, has_category: bool, has_seller: bool) -> None:
    policy = FeePolicy(default=default, categories={"fashion": category} if has_category else {},
                       seller=seller if has_seller else None)
    expected = seller if has_seller else category if has_category else default
    assert fee_of(policy, total, category="fashion/shoes", sales=sales) == fee_of(expected, total, sales=sales)
