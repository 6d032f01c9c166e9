"""Customer summaries and the counters kept from them by difference: paid orders, refunds,
duplicate and out-of-order deliveries."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from chalicelib.analytics import summaries
from chalicelib.analytics.contributions import contribution, counted_orders, day_number
from chalicelib.analytics.models import AnalyticsCounter, AnalyticsSummary
from chalicelib.core.keys import analytics_customer_sk, analytics_key, analytics_keys
from chalicelib.events import registry

SELLER, OTHER_SELLER = "sel_a", "sel_b"
LENA = "usr_lena"


def paid(order_id: str, day: date, *shares: tuple[str, int], customer: str = LENA) -> None:
    summaries.record_paid(customer, order_id, day, [summaries.Share(s, amount, "EUR") for s, amount in shares])


def refund(order_id: str, refund_id: str, amount: int, seller_id: str = SELLER, customer: str = LENA) -> None:
    summaries.record_refund(customer, order_id, refund_id, seller_id, amount, "EUR")


def summary(seller_id: str | None, customer: str = LENA) -> AnalyticsSummary:
    return AnalyticsSummary.get(analytics_key(seller_id, customer), analytics_customer_sk(customer, "EUR"))


def counters(seller_id: str | None) -> dict[str, dict[str, int]]:
    """Every counter item of a scope, summed over its shards, by sort key."""
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for partition in analytics_keys(seller_id):
        for item in AnalyticsCounter.query(partition, AnalyticsCounter.SK.startswith("CO")):
            values = {name: int(value) for name, value in item.attribute_values.items()
                      if name not in ("PK", "SK") and value}
            for name, value in values.items():
                found[item.SK][name] = found[item.SK].get(name, 0) + value
    return {sk: values for sk, values in found.items() if values}


def wipe() -> None:
    for seller_id in (SELLER, OTHER_SELLER, None):
        for partition in analytics_keys(seller_id):
            for counter in AnalyticsCounter.query(partition, AnalyticsCounter.SK.startswith("CO")):
                counter.delete()
            for item in AnalyticsSummary.query(partition, AnalyticsSummary.SK.startswith("CUSTOMER#")):
                item.delete()


def test_a_paid_order_makes_a_summary_in_the_sellers_scope_and_the_marketplaces() -> None:
    paid("ord_1", date(2026, 3, 10), (SELLER, 4_000), (OTHER_SELLER, 1_500))

    mine = summary(SELLER)
    marketplace = summary(None)
    assert (mine.orders, mine.order_count, mine.monetary) == ([[day_number(date(2026, 3, 10)), 4_000, "ord_1"]], 1,
                                                              4_000)
    assert (mine.first_day, mine.last_day, mine.currency) == (day_number(date(2026, 3, 10)),) * 2 + ("EUR",)
    assert (marketplace.orders, marketplace.monetary) == ([[day_number(date(2026, 3, 10)), 5_500, "ord_1"]], 5_500)
    assert summary(OTHER_SELLER).monetary == 1_500


def test_the_counters_of_a_first_and_a_repeat_order() -> None:
    paid("ord_1", date(2026, 3, 10), (SELLER, 4_000))
    paid("ord_2", date(2026, 3, 17), (SELLER, 1_000))

    found = counters(SELLER)
    assert found["COUNT#EUR#month#2026-03"] == {"active": 1, "new": 1, "orders": 2, "revenue": 5_000,
                                               "revenue_new": 4_000, "revenue_returning": 1_000, "repeaters": 1,
                                               "buyers": 1, "g7": 1}
    assert found["COUNT#EUR#day#2026-03-10"] == {"active": 1, "new": 1, "orders": 1, "revenue": 4_000,
                                                "revenue_new": 4_000, "buyers": 1}
    # active for 365 days from the last order: 2026-03-17 + 365 days
    assert found["COUNT#EUR#day#2027-03-17"] == {"active": -1}
    assert found["COUNT#EUR#year#2027"] == {"active": -1}
    assert found["COHORT#EUR#2026-03#2026-03"] == {"buyers": 1, "revenue": 5_000}


def test_a_duplicate_delivery_changes_nothing() -> None:
    paid("ord_1", date(2026, 3, 10), (SELLER, 4_000))
    refund("ord_1", "rfd_1", 1_000)
    before = counters(SELLER), counters(None), summary(SELLER).version

    paid("ord_1", date(2026, 3, 10), (SELLER, 4_000))
    refund("ord_1", "rfd_1", 1_000)

    assert (counters(SELLER), counters(None), summary(SELLER).version) == before


def test_a_partial_refund_counts_net_and_a_full_refund_not_at_all() -> None:
    paid("ord_1", date(2026, 3, 10), (SELLER, 4_000))
    paid("ord_2", date(2026, 4, 2), (SELLER, 2_000))

    refund("ord_1", "rfd_1", 1_500)
    assert counters(SELLER)["COUNT#EUR#month#2026-03"]["revenue"] == 2_500
    assert summary(None).monetary == 4_500

    refund("ord_2", "rfd_2", 500)
    refund("ord_2", "rfd_3", 1_500)  # the rest of it: the order no longer counts
    assert summary(SELLER).orders == [[day_number(date(2026, 3, 10)), 2_500, "ord_1"]]
    april = counters(SELLER).get("COUNT#EUR#month#2026-04", {})
    assert "orders" not in april and "repeaters" not in april
    assert counters(SELLER)["COHORT#EUR#2026-03#2026-03"] == {"buyers": 1, "revenue": 2_500}


def test_a_wholly_refunded_only_order_leaves_no_counter() -> None:
    paid("ord_1", date(2026, 3, 10), (SELLER, 4_000))
    refund("ord_1", "rfd_1", 4_000)

    assert counters(SELLER) == {}
    assert counters(None) == {}
    assert summary(SELLER).order_count == 0


def test_any_order_of_deliveries_ends_in_the_same_counters() -> None:
    def deliver(steps: list[str]) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
        actions = {"p1": lambda: paid("ord_1", date(2026, 1, 5), (SELLER, 3_000)),
                   "p2": lambda: paid("ord_2", date(2026, 2, 20), (SELLER, 2_000), (OTHER_SELLER, 700)),
                   "p3": lambda: paid("ord_3", date(2025, 12, 24), (SELLER, 1_000)),
                   "r2": lambda: refund("ord_2", "rfd_1", 500)}
        for step in steps:
            actions[step]()
        result = counters(SELLER), counters(None)
        wipe()
        return result

    in_order = deliver(["p3", "p1", "p2", "r2"])
    shuffled = deliver(["r2", "p2", "p1", "p3", "p2"])

    assert shuffled == in_order
    assert in_order[0]["COHORT#EUR#2025-12#2026-02"] == {"buyers": 1, "revenue": 1_500}


def test_the_counters_are_the_sum_of_the_summaries_contributions() -> None:
    paid("ord_1", date(2026, 1, 5), (SELLER, 3_000))
    paid("ord_2", date(2026, 1, 6), (SELLER, 2_000), customer="usr_max")
    paid("ord_3", date(2026, 5, 6), (SELLER, 2_000), customer="usr_max")
    refund("ord_3", "rfd_1", 400, customer="usr_max")

    expected: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for customer in (LENA, "usr_max"):
        mine = summary(SELLER, customer)
        for key, values in contribution(counted_orders(mine.paid, mine.refunds), 365).items():
            for name, value in values.items():
                expected[key][name] += value
    found = counters(SELLER)
    assert {f"COUNT#EUR#{kind}#{period}": dict(values) for (kind, period), values in expected.items()
            if kind != "cohort"} == {sk: v for sk, v in found.items() if sk.startswith("COUNT#")}


def test_the_events_reach_the_summaries() -> None:
    """Through the registry, as the events worker hands them over (other packages'
    subscribers left out: they need accounts and orders)."""
    def deliver(event_type: str, event_id: str, payload: dict[str, Any]) -> None:
        delivered = registry.parse({"type": event_type, "event_id": event_id, "payload": payload,
                                    "occurred_at": "2026-03-10T09:00:00+00:00"})
        [mine] = [s for s in registry.subscribers_of(event_type) if s.marker.startswith("chalicelib.analytics.")]
        mine.handle(delivered)

    deliver("order.paid", "evt_1", {
        "order_id": "ord_1", "user_id": LENA, "paid_at": "2026-03-10T23:30:00-02:00",
        "sellers": [{"seller_id": SELLER, "amount": 4_000, "currency": "EUR"}]})
    deliver("order.refund_requested", "evt_2", {
        "order_id": "ord_1", "user_id": LENA, "seller_id": SELLER, "refund_id": "rfd_1", "amount": 1_000,
        "currency": "EUR"})

    assert summary(SELLER).orders == [[day_number(date(2026, 3, 11)), 3_000, "ord_1"]]  # the day in UTC
    assert summary(None).monetary == 3_000
