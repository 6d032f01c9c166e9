"""The pure rules of what a customer's orders add to the counters."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.analytics.contributions import (
    CountedOrder,
    active_spans,
    contribution,
    counted_orders,
    day_number,
    difference,
    gap_counter,
    label,
    next_period,
)


@pytest.mark.parametrize(("kind", "day", "expected", "after"), [
    ("day", date(2026, 12, 31), "2026-12-31", date(2027, 1, 1)),
    ("week", date(2027, 1, 1), "2026-W53", date(2027, 1, 4)),  # ISO weeks: Friday 1 January is in 2026's last
    ("month", date(2026, 12, 7), "2026-12", date(2027, 1, 1)),
    ("quarter", date(2026, 8, 31), "2026-Q3", date(2026, 10, 1)),
    ("year", date(2026, 3, 1), "2026", date(2027, 1, 1)),
])
def test_periods_are_labelled_in_time_order(kind: str, day: date, expected: str, after: date) -> None:
    assert label(kind, day) == expected
    assert next_period(kind, day) == after


def test_overlapping_active_spans_merge() -> None:
    assert active_spans([10, 100, 400, 1000], 365) == [(10, 765), (1000, 1365)]
    assert active_spans([10, 10], 30) == [(10, 40)]


@pytest.mark.parametrize(("days", "counter"), [(0, "g0"), (4, "g5"), (7, "g7"), (8, "g10"), (365, "g365"),
                                               (366, "g_more")])
def test_gaps_fall_in_the_bucket_of_their_upper_bound(days: int, counter: str) -> None:
    assert gap_counter(days) == counter


def test_refunds_count_net_and_wait_for_their_order() -> None:
    paid = [[5, 1_000, "ord_b"], [3, 2_000, "ord_a"], [9, 500, "ord_c"]]
    refunds = [["rfd_1", "ord_a", 500], ["rfd_2", "ord_c", 500], ["rfd_3", "ord_x", 100]]

    assert counted_orders(paid, refunds) == [CountedOrder(3, "ord_a", 1_500), CountedOrder(5, "ord_b", 1_000)]


def test_a_later_order_moves_the_end_of_the_active_span_only() -> None:
    first = [CountedOrder(day_number(date(2026, 1, 10)), "ord_1", 1_000)]
    both = [*first, CountedOrder(day_number(date(2026, 1, 20)), "ord_2", 3_000)]

    change = difference(contribution(first, 30), contribution(both, 30))

    assert change[("day", "2026-02-09")] == {"active": 1}  # no longer the end
    assert change[("day", "2026-02-19")] == {"active": -1}
    assert change[("day", "2026-01-20")] == {"orders": 1, "revenue": 3_000, "revenue_returning": 3_000,
                                             "repeaters": 1, "buyers": 1, "g10": 1}
    assert ("month", "2026-02") not in change  # the end moved within February
    assert change[("month", "2026-01")] == {"orders": 1, "revenue": 3_000, "revenue_returning": 3_000,
                                            "repeaters": 1, "g10": 1}
    assert change[("cohort", "2026-01#2026-01")] == {"revenue": 3_000}
