"""The backfill rebuilds from the orders what the events built: the same summaries and
reports, after a wiped analytics state, resumed after a stop, or with ``reset``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.analytics import backfill, reports
from chalicelib.analytics.models import AnalyticsCounter, AnalyticsSummary
from chalicelib.core import clock
from chalicelib.core.keys import analytics_counter_sk, analytics_keys
from tests.support.builders import Marketplace
from tests.support.http import call

SELLERS = ("sel_a", "sel_b")


@pytest.fixture
def orders(market: Marketplace) -> None:
    """A two-seller order, a wholly refunded one and a partly refunded one (1 of 2 units)."""
    market.paid_order(SELLERS)
    market.order_in_state("refunded", seller_id="sel_a")
    placed = market.placed_order(("sel_b",), price=1_500, quantity=2)
    market.pay(placed["checkout"])
    order_id = placed["order"]["order_id"]
    market.deliver_order("sel_b", order_id)
    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/returns", {
        "seller_id": "sel_b", "lines": [{"line": 1, "quantity": 1}], "reason": "Too small"}, headers=placed["buyer"])
    assert status == 200, body
    status, answer = market.act("sel_b", order_id, "returns/approve", {"restock": True})
    assert status == 200, answer
    market.events()


def state() -> dict[str, Any]:
    """What the analytics say: every scope's daily retention and cohorts, and the summaries."""
    today = clock.today()
    found: dict[str, Any] = {}
    for scope in (*SELLERS, None):
        found[f"retention {scope}"] = reports.retention(scope, "EUR", "day", today - timedelta(days=1),
                                                        today + timedelta(days=1))
        found[f"cohorts {scope}"] = reports.cohorts(scope, "EUR", today.replace(day=1), today + timedelta(days=1))
        found[f"summaries {scope}"] = sorted(
            (s.customer_id, [list(map(str, row)) for row in s.orders], int(s.monetary))
            for partition in analytics_keys(scope)
            for s in AnalyticsSummary.query(partition, AnalyticsSummary.SK.startswith("CUSTOMER#")))
    return found


def wipe() -> None:
    for scope in (*SELLERS, None):
        for partition in analytics_keys(scope):
            for item in AnalyticsCounter.query(partition, attributes_to_get=["PK", "SK"]):
                item.delete()


def test_a_backfill_after_a_wiped_state_gives_what_the_events_gave(orders: None) -> None:
    live = state()
    [today_a] = live["retention sel_a"]["periods"][1:]
    assert (today_a["new_customers"], today_a["orders"], today_a["revenue"]["amount"]) == (1, 1, 4_000)
    assert live["retention sel_b"]["periods"][1]["revenue"]["amount"] == 4_000 + 1_500  # one unit kept
    wipe()
    assert state()["summaries None"] == []

    outcome = backfill.run()

    assert state() == live
    assert (outcome.sub_orders, outcome.resumed) == (4, False)


def test_a_stopped_backfill_goes_on_from_its_checkpoint(orders: None, monkeypatch: pytest.MonkeyPatch) -> None:
    live = state()
    wipe()
    monkeypatch.setattr(backfill, "PAGE", 1)
    rebuild, calls = backfill.rebuild_sub_order, []

    def failing(sub: Any) -> None:
        calls.append(sub.order_id)
        if len(calls) == 3:
            raise RuntimeError("the Lambda ran out of time")
        rebuild(sub)

    monkeypatch.setattr(backfill, "rebuild_sub_order", failing)
    with pytest.raises(RuntimeError):
        backfill.run()
    monkeypatch.setattr(backfill, "rebuild_sub_order", rebuild)

    outcome = backfill.run()

    assert outcome.resumed
    assert state() == live


def test_reset_replaces_counters_no_summary_explains(orders: None) -> None:
    live = state()
    stray = AnalyticsCounter(analytics_keys("sel_a")[0], analytics_counter_sk("EUR", "day", clock.today().isoformat()))
    stray.update(actions=[AnalyticsCounter.orders.add(5), AnalyticsCounter.active.add(3)])
    assert state() != live

    backfill.run(reset=True)

    assert state() == live
    assert backfill.run().resumed is False  # the finished run left no checkpoint to go on from
