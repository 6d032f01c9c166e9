from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.money import CurrencyMismatch, Money, divide_half_up


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 2, 3), (4, 2, 2), (7, 2, 4), (1, 3, 0), (2, 3, 1), (-5, 2, -3), (-1, 3, 0), (0, 7, 0)],
)
def test_divide_half_up_rounds_halves_away_from_zero(numerator: int, denominator: int, expected: int) -> None:
    assert divide_half_up(numerator, denominator) == expected


def test_percent_of_rounds_half_up_per_line() -> None:
    # 12.5% of 1.00 EUR is 12.5 cents -> 13 cents
    assert Money("EUR", 100).percent_of(1250) == Money("EUR", 13)
    # 12.5% of 0.99 EUR is 12.375 cents -> 12 cents
    assert Money("EUR", 99).percent_of(1250) == Money("EUR", 12)


def test_money_refuses_floats_and_unknown_currencies() -> None:
    with pytest.raises(TypeError):
        Money("EUR", 9.99)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unsupported currency"):
        Money("XXX", 100)


def test_money_never_mixes_currencies() -> None:
    with pytest.raises(CurrencyMismatch):
        Money("EUR", 100) + Money("USD", 100)


def test_currency_code_is_normalised() -> None:
    assert Money("eur", 5) == Money("EUR", 5)
    assert Money("EUR", 5).to_json() == {"amount": 5, "currency": "EUR"}


def test_allocate_splits_without_losing_a_cent() -> None:
    assert [m.amount for m in Money("EUR", 100).allocate([1, 1, 1])] == [34, 33, 33]


@given(st.integers(min_value=0, max_value=10**12),
       st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(lambda w: sum(w) > 0))
def test_allocate_always_sums_to_the_whole(amount: int, weights: list[int]) -> None:
    parts = Money("EUR", amount).allocate(weights)
    assert sum(p.amount for p in parts) == amount
    assert all(p.amount >= 0 for p in parts)
    assert all(p.amount == 0 for p, w in zip(parts, weights, strict=True) if w == 0)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10_000))
def test_percent_of_stays_between_zero_and_the_amount(amount: int, basis_points: int) -> None:
    fee = Money("EUR", amount).percent_of(basis_points)
    assert 0 <= fee.amount <= amount
