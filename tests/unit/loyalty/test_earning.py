"""Earning over HTTP and events: pending on payment, available when the return window ends,
taken back in proportion by a refund, once however often the events come."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.auth import operator_headers
from tests.support.builders import Marketplace
from tests.support.http import call

# 2 x 20.00 EUR incl. 19 % VAT per seller: 40.00 gross, 6.39 VAT, 33.61 net -> 33 points
PRICE, QUANTITY, POINTS_PER_PART = 2_000, 2, 33
PROGRAMME = {"enabled": True, "currency": "EUR", "points_per_unit": 1, "point_value": {"points": 100, "amount": 100}}


def set_programme(api: Any, **changes: Any) -> dict[str, Any]:
    status, body, _ = call(api, "PUT", "/v1/admin/loyalty/programme", {**PROGRAMME, **changes},
                           headers=operator_headers())
    assert status == 200, body
    return body


def loyalty_of(api: Any, buyer: dict[str, str]) -> dict[str, Any]:
    status, body, _ = call(api, "GET", "/v1/me/loyalty", headers=buyer)
    assert status == 200, body
    return body


def history_of(api: Any, buyer: dict[str, str]) -> list[dict[str, Any]]:
    status, body, _ = call(api, "GET", "/v1/me/loyalty/transactions", headers=buyer)
    assert status == 200, body
    return body["items"]


def liability_in_ledger() -> int:
    """What the ledger's loyalty_liability account holds (credits are negative)."""
    from chalicelib.ledger.postings import LOYALTY_LIABILITY
    from chalicelib.ledger.service import _platform_entries

    now = datetime.now(UTC)
    return -sum(int(e.amount) for e in _platform_entries(LOYALTY_LIABILITY, now - timedelta(days=1),
                                                         now + timedelta(days=1)))


def complete_parts(market: Marketplace) -> None:
    from chalicelib.orders.lifecycle import complete_due

    complete_due(datetime.now(UTC) + timedelta(days=14, minutes=1))
    market.events()


@pytest.fixture
def paid(market: Marketplace) -> dict[str, Any]:
    set_programme(market.api)
    return market.paid_order(("sel_a", "sel_b"), price=PRICE, quantity=QUANTITY)


def test_an_order_over_two_sellers_earns_pending_points_for_each_part(market: Marketplace,
                                                                       paid: dict[str, Any]) -> None:
    view = loyalty_of(market.api, paid["buyer"])
    assert (view["available"], view["pending"]) == (0, 2 * POINTS_PER_PART)
    assert view["pending_value"] == {"amount": 66, "currency": "EUR"}
    history = history_of(market.api, paid["buyer"])
    assert sorted((h["kind"], h["seller_id"], h["points"], h["pending_change"]) for h in history) == [
        ("earned", "sel_a", 33, 33), ("earned", "sel_b", 33, 33)]
    assert {h["order_id"] for h in history} == {paid["order"]["order_id"]}
    assert liability_in_ledger() == 66  # booked at earning, at 1 cent a point


def test_points_become_available_when_the_return_window_ends(market: Marketplace, paid: dict[str, Any]) -> None:
    order_id = paid["order"]["order_id"]
    market.deliver_order("sel_a", order_id)
    complete_parts(market)

    view = loyalty_of(market.api, paid["buyer"])
    assert (view["available"], view["pending"]) == (33, 33)  # sel_b's part is not delivered yet
    newest = history_of(market.api, paid["buyer"])[0]
    assert (newest["kind"], newest["seller_id"], newest["points"], newest["available_change"]) == (
        "available", "sel_a", 0, 33)


def test_a_partial_return_takes_back_its_share_of_the_available_points(market: Marketplace,
                                                                        paid: dict[str, Any]) -> None:
    order_id = paid["order"]["order_id"]
    market.deliver_order("sel_a", order_id)
    complete_parts(market)
    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
                           {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "too small"},
                           headers=paid["buyer"])
    assert status == 200, body
    status, body = market.act("sel_a", order_id, "returns/approve", {"restock": True})
    assert status == 200, body
    market.events()

    view = loyalty_of(market.api, paid["buyer"])
    assert (view["available"], view["pending"]) == (33 - 17, 33)  # half of 33, rounded half up
    reversal = history_of(market.api, paid["buyer"])[0]
    assert (reversal["kind"], reversal["reason"], reversal["points"], reversal["forgiven"]) == (
        "reversed", "refund", -17, 0)
    assert liability_in_ledger() == 16 + 33


def test_a_cancelled_part_takes_back_all_of_its_pending_points(market: Marketplace, paid: dict[str, Any]) -> None:
    status, body = market.act("sel_b", paid["order"]["order_id"], "cancel", {"reason": "out of stock"})
    assert status == 200, body
    market.events()

    view = loyalty_of(market.api, paid["buyer"])
    assert (view["available"], view["pending"]) == (0, 33)
    assert liability_in_ledger() == 33


def test_nothing_is_earned_while_the_programme_is_off_and_balances_stay(market: Marketplace,
                                                                         paid: dict[str, Any]) -> None:
    set_programme(market.api, enabled=False)
    other = market.paid_order(("sel_a",), price=PRICE, quantity=QUANTITY)

    assert loyalty_of(market.api, other["buyer"])["pending"] == 0
    assert loyalty_of(market.api, paid["buyer"])["pending"] == 66


def test_an_order_paid_event_delivered_twice_and_at_once_earns_once(market: Marketplace,
                                                                    paid: dict[str, Any]) -> None:
    from chalicelib.events.service import dispatch
    from tests.support.events import outbox

    [payload] = outbox("order.paid")
    # the same event again, four times at once, under ids the once-markers have not seen
    deliveries = [{"type": "order.paid", "payload": payload, "event_id": f"evt_again_{n}", "occurred_at": ""}
                  for n in range(4)]
    errors: list[BaseException] = []

    def deliver(delivered: dict[str, Any]) -> None:
        try:
            dispatch(delivered)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=deliver, args=(d,)) for d in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert loyalty_of(market.api, paid["buyer"])["pending"] == 66
    assert len(history_of(market.api, paid["buyer"])) == 2
    assert liability_in_ledger() == 66


def test_the_history_the_ledger_and_the_operators_report_agree(market: Marketplace, paid: dict[str, Any]) -> None:
    order_id = paid["order"]["order_id"]
    market.deliver_order("sel_a", order_id)
    complete_parts(market)
    status, body = market.act("sel_b", order_id, "cancel", {"reason": "out of stock"})
    assert status == 200, body
    market.events()
    today = datetime.now(UTC).date()
    window = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"

    history = history_of(market.api, paid["buyer"])
    status, report, _ = call(market.api, "GET", f"/v1/admin/loyalty/report?{window}", headers=operator_headers())
    assert status == 200, report
    status, revenue, _ = call(market.api, "GET", f"/v1/admin/revenue?{window}", headers=operator_headers())
    assert status == 200, revenue

    held = sum(h["points"] for h in history)
    assert held == 33 == report["outstanding_points"]
    assert report["outstanding_liability"] == {"amount": 33, "currency": "EUR"} and liability_in_ledger() == 33
    assert (report["points"]["issued"], report["points"]["reversed"]) == (66, 33)
    assert revenue["loyalty"] == [{"currency": "EUR", "points_issued": {"amount": 66, "currency": "EUR"},
                                   "points_released": {"amount": 33, "currency": "EUR"},
                                   "loyalty_expense": {"amount": 33, "currency": "EUR"},
                                   "loyalty_breakage": {"amount": 0, "currency": "EUR"}}]


def test_parallel_earnings_of_one_buyer_lose_no_points(market: Marketplace) -> None:
    from chalicelib.core import clock
    from chalicelib.loyalty import earning
    from tests.support.builders import user_of

    set_programme(market.api, enabled=False)
    paid = market.paid_order(("sel_a", "sel_b"), price=PRICE, quantity=QUANTITY)  # paid while off: nothing earned
    set_programme(market.api)
    user_id, order_id, at = user_of(paid["buyer"]), paid["order"]["order_id"], clock.stamp()
    errors: list[BaseException] = []

    def earn(seller_id: str) -> None:
        try:
            earning.earn_for_order(user_id, order_id, seller_id, paid_at=at)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=earn, args=(seller_id,)) for seller_id in ("sel_a", "sel_b") * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert loyalty_of(market.api, paid["buyer"])["pending"] == 66
    assert len(history_of(market.api, paid["buyer"])) == 2
    assert liability_in_ledger() == 66


def test_points_already_spent_are_forgiven_by_a_refund_and_the_balance_stays_at_zero(
        market: Marketplace, paid: dict[str, Any]) -> None:
    from tests.support.builders import user_of

    order_id = paid["order"]["order_id"]
    market.deliver_order("sel_a", order_id)
    complete_parts(market)
    status, body, _ = call(market.api, "POST", "/v1/admin/loyalty/adjustments",
                           {"user_id": user_of(paid["buyer"]), "points": -33, "reason": "spent"},
                           headers=operator_headers())
    assert status == 201, body
    call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
         {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "too small"}, headers=paid["buyer"])
    status, body = market.act("sel_a", order_id, "returns/approve", {"restock": True})
    assert status == 200, body
    market.events()

    view = loyalty_of(market.api, paid["buyer"])
    assert (view["available"], view["pending"]) == (0, 33)
    reversal = history_of(market.api, paid["buyer"])[0]
    assert (reversal["kind"], reversal["points"], reversal["forgiven"]) == ("reversed", 0, 17)
    assert liability_in_ledger() == 33
