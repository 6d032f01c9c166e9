"""The report's members against non-members: repeat-purchase rate and average order value over
the months of the window, from the counters kept as orders are paid and refunded. Figures
worked out by hand below."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core import clock as agora_clock
from chalicelib.loyalty import earning, programme, purchases, report
from tests.support.clock import FrozenClock

MARCH = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))


def at(day: str) -> str:
    return agora_clock.stamp(datetime.fromisoformat(f"{day}T12:00:00+00:00"))


def paid(user_id: str, order_id: str, day: str, amount: int, currency: str = "EUR") -> bool:
    return purchases.count_paid(user_id, order_id, paid_at=at(day), amounts=[(amount, currency)])


@pytest.fixture
def orders(aws: Any, clock: FrozenClock) -> None:
    """Members usr_m1 and usr_m2 (a sign-up bonus in February), non-members usr_n1 and usr_n2.

    | buyer  | order | paid       | amount | repeat? | group      |
    | usr_m1 | o1    | 2026-03-02 |  40.00 | no      | member     |
    | usr_m1 | o2    | 2026-03-10 |  60.00 | yes     | member     | 10.00 refunded
    | usr_m2 | o3    | 2026-03-05 |  20.00 | no      | member     |
    | usr_n1 | o4    | 2026-03-03 |  30.00 | no      | non-member |
    | usr_n1 | o5    | 2026-03-20 |  30.00 | yes     | non-member |
    | usr_n1 | o6    | 2026-03-25 |  15.00 | yes     | non-member |
    | usr_n1 | o7    | 2026-03-26 |  99.00 USD: not counted        |
    | usr_n2 | o8    | 2026-02-15 |  50.00 | no      | non-member | February: outside the window
    | usr_n2 | o9    | 2026-03-12 |  25.00 | yes     | non-member |
    """
    clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    programme.save_programme(programme.Programme(enabled=True, event_points={"sign_up": 100}), by="usr_operator")
    for user_id, day in (("usr_m1", "2026-02-20"), ("usr_m2", "2026-02-25")):
        assert earning.award_event_points(user_id, "sign_up", user_id, at=at(day)) == 100
    clock.set(datetime(2026, 3, 28, tzinfo=UTC))
    for user_id, order_id, day, amount in (
            ("usr_m1", "o1", "2026-03-02", 4_000), ("usr_m1", "o2", "2026-03-10", 6_000),
            ("usr_m2", "o3", "2026-03-05", 2_000), ("usr_n1", "o4", "2026-03-03", 3_000),
            ("usr_n1", "o5", "2026-03-20", 3_000), ("usr_n1", "o6", "2026-03-25", 1_500),
            ("usr_n2", "o8", "2026-02-15", 5_000), ("usr_n2", "o9", "2026-03-12", 2_500)):
        assert paid(user_id, order_id, day, amount)
    assert not paid("usr_n1", "o7", "2026-03-26", 9_900, "USD")
    assert purchases.count_refund("usr_m1", "o2", "ref_1", 1_000)


def test_members_and_non_members_compare_by_repeat_rate_and_average_order_value(orders: None) -> None:
    comparison = report.report(*MARCH).to_json()["member_comparison"]

    assert comparison["months"] == ["2026-03"]
    assert comparison["members"] == {
        "orders": 3, "repeat_orders": 1, "repeat_purchase_rate": "33.33",
        "revenue": {"amount": 12_000, "currency": "EUR"}, "refunded": {"amount": 1_000, "currency": "EUR"},
        "average_order_value": {"amount": 3_667, "currency": "EUR"}}  # (120.00 - 10.00) / 3 = 36.666…
    assert comparison["non_members"] == {
        "orders": 4, "repeat_orders": 3, "repeat_purchase_rate": "75.00",
        "revenue": {"amount": 10_000, "currency": "EUR"}, "refunded": {"amount": 0, "currency": "EUR"},
        "average_order_value": {"amount": 2_500, "currency": "EUR"}}


def test_an_order_and_a_refund_delivered_again_count_once(orders: None) -> None:
    assert not paid("usr_m1", "o2", "2026-03-10", 6_000)
    assert not purchases.count_refund("usr_m1", "o2", "ref_1", 1_000)

    members = report.report(*MARCH).to_json()["member_comparison"]["members"]
    assert (members["orders"], members["refunded"]["amount"]) == (3, 1_000)


def test_a_buyers_first_points_make_later_orders_members_orders(orders: None, clock: FrozenClock) -> None:
    # usr_n1 earns their first points on 2026-03-27 (a sign-up bonus), then orders again
    assert earning.award_event_points("usr_n1", "sign_up", "usr_n1", at=at("2026-03-27")) == 100
    assert paid("usr_n1", "o10", "2026-03-28", 1_000)

    comparison = report.report(*MARCH).to_json()["member_comparison"]
    assert (comparison["members"]["orders"], comparison["members"]["repeat_orders"]) == (4, 2)
    assert comparison["non_members"]["orders"] == 4


def test_the_csv_has_the_comparison_too(orders: None) -> None:
    rows = dict(csv.reader(io.StringIO(report.report_csv(report.report(*MARCH)))))

    assert (rows["comparison_months"], rows["members_repeat_purchase_rate_percent"],
            rows["members_average_order_value_minor"], rows["non_members_orders"],
            rows["non_members_repeat_purchase_rate_percent"]) == ("2026-03", "33.33", "3667", "4", "75.00")


def test_a_window_without_orders_has_no_rates(orders: None) -> None:
    comparison = report.report(datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 2, tzinfo=UTC)).to_json()[
        "member_comparison"]

    assert comparison["members"]["orders"] == 0
    assert (comparison["members"]["repeat_purchase_rate"], comparison["members"]["average_order_value"]) == (None, None)
