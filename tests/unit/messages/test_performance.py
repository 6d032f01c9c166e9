"""Seller performance kept from events: the figures a seller and the operator read equal a
recount of what happened, however often each event is delivered and in whatever order."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from chalicelib.core.keys import order_sk, seller_key
from chalicelib.events.registry import Delivered
from chalicelib.messages import performance
from chalicelib.messages.events import DisputeOpened, DisputeResolved, MessagePosted
from chalicelib.messages.models import RESPONSE_BUCKETS
from chalicelib.orders.events import OrderStatusChanged
from chalicelib.orders.models import SubOrder
from chalicelib.reviews.events import SellerRatingCounted
from tests.support.auth import operator_headers, seller_headers
from tests.support.builders import Marketplace, put_seller
from tests.support.clock import FrozenClock
from tests.support.conversations import seller_says, start
from tests.support.events import outbox
from tests.support.http import call

SELLER = "sel_01M8P0000000000000000000PA"
OTHER = "sel_01M8P0000000000000000000PB"
TODAY = date(2026, 12, 7)


def _sub_order(order_id: str, *, paid_at: str, cancel_reason: str | None = None) -> None:
    SubOrder(seller_key(SELLER), order_sk(order_id), order_id=order_id, seller_id=SELLER, user_id="usr_1",
             status="paid", currency="EUR", subtotal=1, discount=0, tax=0, total=1, fee=0, paid_at=paid_at,
             cancel_reason=cancel_reason).save()


def _moved(event_id: str, order_id: str, before: str, after: str, at: str) -> Delivered[Any]:
    return Delivered(OrderStatusChanged(order_id=order_id, seller_id=SELLER, user_id="usr_1", from_=before, to=after,
                                        at=at), event_id, at)


def _stamp(day: date, hour: int = 12) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00.000000+00:00"


def _handle(delivered: Delivered[Any]) -> None:
    event = delivered.event
    if isinstance(event, OrderStatusChanged):
        performance.on_status_changed(delivered)
    elif isinstance(event, MessagePosted):
        performance.on_message_posted(delivered)
    elif isinstance(event, DisputeOpened):
        performance.on_dispute_opened(delivered)
    elif isinstance(event, SellerRatingCounted):
        performance.on_seller_rating_counted(delivered)
    else:
        performance.on_dispute_resolved(delivered)


def test_figures_equal_a_recount_after_a_random_sequence_delivered_twice() -> None:
    """Random facts over 100 days, each event handled twice (and the sequence shuffled): every
    count equals the recount of the facts, in both windows."""
    rng = random.Random(15)
    events: list[Delivered[Any]] = []
    facts: list[tuple[date, str, int]] = []  # (day, counter, how many)
    responses: list[tuple[date, int]] = []
    open_disputes = 0
    for n in range(160):
        day = TODAY - timedelta(days=rng.randrange(100))
        order_id = f"ord_perf{n:04d}"
        kind = rng.choice(["paid", "shipped", "late", "seller_cancel", "buyer_cancel", "delivered", "return",
                           "response", "dispute", "review"])
        at = _stamp(day)
        if kind == "paid":
            events.append(_moved(f"evt_{n}", order_id, "pending_payment", "paid", at))
            facts.append((day, "paid", 1))
        elif kind in ("shipped", "late"):
            paid = day - timedelta(days=1 if kind == "shipped" else 5)
            _sub_order(order_id, paid_at=_stamp(paid))
            events.append(_moved(f"evt_{n}", order_id, "accepted", "shipped", at))
            facts += [(day, "shipped", 1)] + ([(day, "shipped_on_time", 1)] if kind == "shipped" else [])
        elif kind in ("seller_cancel", "buyer_cancel"):
            reason = "Out of stock" if kind == "seller_cancel" else "cancelled_by_buyer"
            _sub_order(order_id, paid_at=_stamp(day), cancel_reason=reason)
            events.append(_moved(f"evt_{n}", order_id, "paid", "cancelled", at))
            facts += [(day, "cancelled_by_seller", 1)] if kind == "seller_cancel" else []
        elif kind == "delivered":
            events.append(_moved(f"evt_{n}", order_id, "shipped", "delivered", at))
            facts.append((day, "delivered", 1))
        elif kind == "return":
            events.append(_moved(f"evt_{n}", order_id, "delivered", "return_requested", at))
            facts.append((day, "returns", 1))
        elif kind == "review":  # a seller review published; then perhaps re-rated, or hidden or deleted
            rating, when = rng.randint(1, 5), day.isoformat()
            events.append(Delivered(SellerRatingCounted(review_id=f"rev_{n}", seller_id=SELLER, after=rating,
                                                        after_day=when, at=at), f"evt_{n}", at))
            later = rng.choice(["stays", "re-rated", "withdrawn"])
            if later == "re-rated":
                events.append(Delivered(SellerRatingCounted(
                    review_id=f"rev_{n}", seller_id=SELLER, before=rating, before_day=when,
                    after=(rating := rng.randint(1, 5)), after_day=when, at=at), f"evt_{n}e", at))
            if later == "withdrawn":
                events.append(Delivered(SellerRatingCounted(review_id=f"rev_{n}", seller_id=SELLER, before=rating,
                                                            before_day=when, at=at), f"evt_{n}w", at))
            else:
                facts += [(day, "ratings", 1), (day, "rating_sum", rating)]
        elif kind == "response":
            seconds = rng.randrange(0, 5 * 24 * 3600)
            events.append(Delivered(MessagePosted(conversation_id="cnv_x", message_id=f"msg_{n}", kind="order",
                                                  sender="seller", user_id="usr_1", seller_id=SELLER, at=at,
                                                  response_seconds=seconds), f"evt_{n}", at))
            responses.append((day, seconds))
        else:
            opened = DisputeOpened(dispute_id=f"dsp_{n}", conversation_id="cnv_x", order_id=order_id, seller_id=SELLER,
                                   user_id="usr_1", reason="Broken", at=at)
            events.append(Delivered(opened, f"evt_{n}", at))
            facts.append((day, "disputes_opened", 1))
            open_disputes += 1
            if rng.random() < 0.5:
                resolved = DisputeResolved(dispute_id=f"dsp_{n}", conversation_id="cnv_x", order_id=order_id,
                                           seller_id=SELLER, user_id="usr_1", note="Settled", at=at)
                events.append(Delivered(resolved, f"evt_{n}r", at))
                open_disputes -= 1
    deliveries = events + events
    rng.shuffle(deliveries)
    for delivered in deliveries:
        _handle(delivered)

    figures = performance.report(SELLER, TODAY)

    for window, figure in figures.items():
        first = TODAY - timedelta(days=window - 1)
        recount = {name: sum(n for day, counter, n in facts if counter == name and day >= first)
                   for name in performance.COUNTERS}
        assert figure.counts == recount, window
        answered = sorted(seconds for day, seconds in responses if day >= first)
        median = answered[(len(answered) - 1) // 2]
        bound = next((b for b in RESPONSE_BUCKETS if median / 60 <= b), RESPONSE_BUCKETS[-1] + 1)
        assert figure.measures()["median_first_response_minutes"] == bound, window
        assert figure.open_disputes == open_disputes
        assert figure.average_rating() == (round(recount["rating_sum"] / recount["ratings"], 2)
                                           if recount["ratings"] else None)
        assert figure.average_rating() is not None  # the sequence has seller reviews in both windows


def test_a_duplicate_delivery_counts_once_even_past_the_dispatch_markers() -> None:
    at = _stamp(TODAY)
    event = _moved("evt_dup", "ord_dup", "pending_payment", "paid", at)

    performance.on_status_changed(event)
    performance.on_status_changed(event)

    assert performance.report(SELLER, TODAY)[30].counts["paid"] == 1


def test_the_seller_reads_its_figures_from_real_orders_and_messages(api: Any, market: Marketplace) -> None:
    """Three paid sub-orders: one shipped on time and delivered with a return, one cancelled by
    the seller, one cancelled by the buyer; a buyer's message answered; a dispute open."""
    shipped, seller_cancelled, buyer_cancelled = (market.paid_order(("sel_a",)) for _ in range(3))
    market.deliver_order("sel_a", shipped["order"]["order_id"])
    status, body, _ = call(api, "POST", f"/v1/me/orders/{shipped['order']['order_id']}/returns",
                           {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "Too small"},
                           headers=shipped["buyer"])
    assert status == 200, body
    assert market.act("sel_a", seller_cancelled["order"]["order_id"], "cancel", {"reason": "Out of stock"})[0] == 200
    status, body, _ = call(api, "POST", f"/v1/me/orders/{buyer_cancelled['order']['order_id']}/cancel", {},
                           headers=buyer_cancelled["buyer"])
    assert status == 200, body
    conversation_id = start(api, shipped["buyer"], shipped)["conversation"]["conversation_id"]
    seller_says(api, conversation_id, "Sorry, we will look into it.")
    seller_says(api, conversation_id, "A second answer does not count again.")
    call(api, "POST", f"/v1/me/conversations/{conversation_id}/dispute", {"reason": "No answer"},
         headers=shipped["buyer"])
    status, body, _ = call(api, "POST", "/v1/me/seller-reviews",
                           {"order_id": shipped["order"]["order_id"], "seller_id": "sel_a", "overall": 4,
                            "delivery": 5, "communication": 2, "language": "de"}, headers=shipped["buyer"])
    assert status == 201, body
    market.events()
    market.events()

    status, report, _ = call(api, "GET", "/v1/seller/performance", headers=seller_headers("sel_a"))

    assert status == 200, report
    month = report["windows"][0]
    assert month["days"] == 30
    assert month["counts"] == {"paid": 3, "shipped": 1, "shipped_on_time": 1, "cancelled_by_seller": 1,
                               "delivered": 1, "returns": 1, "disputes_opened": 1, "first_responses": 1,
                               "ratings": 1, "rating_sum": 4, "unanswered": 0}
    assert month["measures"] == {"on_time_shipping_rate_bp": 10_000, "cancellation_rate_bp": 3_333,
                                 "return_rate_bp": 10_000, "median_first_response_minutes": 15,
                                 "open_disputes": 1, "average_rating": 4.0}
    assert report["windows"][1]["counts"] == month["counts"]


def test_unanswered_conversations_count_in_the_median_at_their_age(api: Any, market: Marketplace,
                                                                   clock: FrozenClock) -> None:
    """One question answered after 10 minutes, two waiting for five hours: the median is the
    waiting ones' bucket, not the one answer's; answering one takes it out of ``unanswered``."""
    answered, waiting, also_waiting = (market.paid_order(("sel_a",)) for _ in range(3))
    first = start(api, answered["buyer"], answered)["conversation"]["conversation_id"]
    clock.advance(minutes=10)
    seller_says(api, first, "On its way.")
    waiting_id = start(api, waiting["buyer"], waiting)["conversation"]["conversation_id"]
    start(api, also_waiting["buyer"], also_waiting)
    clock.advance(hours=5)
    start(api, waiting["buyer"], waiting, "Hello?")  # a second message does not restart the wait
    start(api, answered["buyer"], answered, "Thanks!")  # after the first answer nothing waits
    market.events()

    def month() -> tuple[dict[str, Any], dict[str, Any]]:
        report = call(api, "GET", "/v1/seller/performance", headers=seller_headers("sel_a"))[1]
        return report["windows"][0]["counts"], report["windows"][0]["measures"]

    counts, measures = month()
    assert (counts["first_responses"], counts["unanswered"]) == (1, 2)
    assert measures["median_first_response_minutes"] == 480
    seller_says(api, waiting_id, "Sorry, here it is.")
    market.events()
    counts, measures = month()
    assert (counts["first_responses"], counts["unanswered"]) == (2, 1)
    assert measures["median_first_response_minutes"] == 480  # 15, 480 answered; 480 waiting


def test_the_operator_ranks_sellers_and_a_threshold_raises_a_warning(api: Any) -> None:
    put_seller(SELLER)
    put_seller(OTHER)
    today = TODAY
    for n in range(4):
        performance.on_status_changed(_moved(f"evt_p{n}", f"ord_p{n}", "pending_payment", "paid", _stamp(today)))
    _sub_order("ord_c0", paid_at=_stamp(today), cancel_reason="Out of stock")
    performance.on_status_changed(_moved("evt_c0", "ord_c0", "paid", "cancelled", _stamp(today)))
    status, body, _ = call(api, "PUT", "/v1/admin/performance/settings",
                           {"max_cancellation_rate_bp": 1_000, "min_orders": 3}, headers=operator_headers())
    assert status == 200, body

    assert performance.rank_sellers(today) == 2
    performance.rank_sellers(today)  # a second run the same day warns no more

    status, page, _ = call(api, "GET", "/v1/admin/sellers/performance?sort=cancellation_rate_bp&order=desc",
                           headers=operator_headers())
    assert status == 200, page
    assert [(r["seller_id"], r["value"]) for r in page["items"]] == [(SELLER, 2_500)]
    warnings = outbox("seller.performance_warning")
    assert [(w["seller_id"], w["breaches"], w.get("suspended")) for w in warnings] == [
        (SELLER, ["cancellation_rate_bp"], False)]
    seller = call(api, "GET", f"/v1/admin/sellers/{SELLER}", headers=operator_headers())[1]
    assert seller["status"] == "approved"
    status, figures, _ = call(api, "GET", f"/v1/admin/sellers/{SELLER}/performance", headers=operator_headers())
    assert figures["windows"][0]["measures"]["cancellation_rate_bp"] == 2_500


def test_automatic_suspension_is_off_by_default_and_uses_the_suspend_path(api: Any) -> None:
    put_seller(SELLER)
    for n in range(3):
        performance.on_status_changed(_moved(f"evt_p{n}", f"ord_p{n}", "pending_payment", "paid", _stamp(TODAY)))
        _sub_order(f"ord_c{n}", paid_at=_stamp(TODAY), cancel_reason="Out of stock")
        performance.on_status_changed(_moved(f"evt_c{n}", f"ord_c{n}", "paid", "cancelled", _stamp(TODAY)))
    call(api, "PUT", "/v1/admin/performance/settings",
         {"max_cancellation_rate_bp": 5_000, "min_orders": 3, "auto_suspend": True}, headers=operator_headers())

    performance.rank_sellers(TODAY)

    seller = call(api, "GET", f"/v1/admin/sellers/{SELLER}", headers=operator_headers())[1]
    assert (seller["status"], seller["status_reason"]) == (
        "suspended", "Seller performance below the marketplace's thresholds: cancellation_rate_bp")
    assert [w["suspended"] for w in outbox("seller.performance_warning")] == [True]
    assert [e["seller_id"] for e in outbox("seller.suspended")] == [SELLER]
