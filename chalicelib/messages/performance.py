"""Seller performance (quality control), over rolling 30 and 90 days, kept from events.

Each measure comes from daily counters per seller (``PERF#<day>``, UTC days, ADD): a report
is one Query of at most 91 small items, whatever the seller's volume. What counts, exactly:

- ``on_time_shipping_rate_bp``: of the sub-orders shipped in the window (counted on the day
  they shipped), the share shipped within the handling time after payment. The handling time
  is the seller's default shipping profile's ``handling_days`` (calendar days, at least 1); a
  seller without one gets the operator's ``handling_days`` setting (default 2). Sub-orders do
  not yet store the profile they used; when they do, that profile's time should count.
- ``cancellation_rate_bp``: sub-orders the seller cancelled after payment (counted on the day
  of the cancellation) over the sub-orders paid in the window. A buyer's cancellation and an
  unpaid order's expiry do not count.
- ``return_rate_bp``: return requests (on the day requested) over sub-orders delivered in the
  window.
- ``median_first_response_minutes``: per conversation, the time from a buyer's first message
  waiting for an answer to the seller's first answer (counted on the day of the answer).
  A conversation still unanswered counts too, at its age when the report is made, as if
  answered then (so in both windows), provided its wait began in the last 90 days: a seller
  who leaves buyers waiting does not look fast. They are read from the sellers' unanswered
  index (one Query) and shown as ``unanswered``. Answers are kept as a histogram with fixed buckets
  (:data:`RESPONSE_BUCKETS`); the median is the upper bound of the bucket holding it, so it
  is exact to the bucket (15 minutes below one hour, then a doubling scale; ``null`` above
  72 hours is reported as 4321).
- ``disputes_opened``: disputes opened in the window; ``open_disputes``: open now (not
  windowed).
- ``average_rating``: the mean overall rating (two decimals) of the seller reviews published in
  the window that count now, each on its publication day. Kept from
  ``review.seller_rating_counted``, which the reviews package writes whenever a seller review
  starts or stops counting or its rating changes (published, hidden, edited, deleted): the
  event takes the old rating from its day and adds the new one to its day. ``null`` without
  such reviews. Not in the operator's ranking (the ranks hold whole numbers).

Rates are basis points (1 bp = 0.01 %, rounded half up) and ``null`` when the denominator is
0. Every event is counted once: the day's ADD and a once-marker (``ONCE#perf:<event id>``)
are one transaction, so a duplicate delivery (or a retry after a crash mid-way) adds nothing.

Cost: subscribing to ``order.status_changed`` makes the stream relay queue every move of a
sub-order (about five in its life: paid, accepted, shipped, delivered, completed), each an SQS
message and a dispatch (its once-marker: 2 writes). A counted move is one TransactWriteItems of
the marker and the day item (4 WRU); a shipment also reads the sub-order and the seller's
default shipping profile, a cancellation the sub-order (1-2 GetItems).

The operator's list sorted by a measure is a ranking the nightly job writes
(:func:`rank_sellers`, 02:30 UTC): one item per seller, window and measure under
``PERF_RANK#<window>#<measure>#<run>`` sorted by value, read with one Query a page. The same
job checks the operator's thresholds on the 30-day figures and raises
``seller.performance_warning`` (once per seller and day), suspending the seller through the
sellers' own suspend path when the operator turned that on (off by default).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, find_item, query_shards
from chalicelib.core.errors import AgoraError
from chalicelib.core.keys import (
    DEFAULT_SHIPPING_PROFILE,
    ONCE_SK,
    PERFORMANCE_SETTINGS_KEY,
    PERFORMANCE_TOTALS_SK,
    once_key,
    order_sk,
    performance_day_sk,
    performance_rank_key,
    seller_key,
    seller_status_index_key,
    shipping_profile_sk,
    unanswered_index_key,
)
from chalicelib.core.logging import logger
from chalicelib.core.once import OnceMarker
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.events.registry import Delivered
from chalicelib.events.service import new_event
from chalicelib.messages.events import (
    DisputeOpened,
    DisputeResolved,
    MessagePosted,
    PerformanceFigures,
    SellerPerformanceWarning,
)
from chalicelib.messages.models import (
    RESPONSE_BUCKETS,
    Conversation,
    PerformanceDay,
    PerformanceRank,
    PerformanceSettings,
)
from chalicelib.orders.events import OrderStatusChanged
from chalicelib.orders.models import SubOrder
from chalicelib.reviews.events import SellerRatingCounted
from chalicelib.sellers.models import Seller
from chalicelib.sellers.service import change_status
from chalicelib.shipping.models import ShippingProfile

WINDOWS = (30, 90)
MEASURES = ("on_time_shipping_rate_bp", "cancellation_rate_bp", "return_rate_bp",
            "median_first_response_minutes", "open_disputes")
MARKER_SECONDS = 100 * 24 * 3600  # past the longest window: a redelivery comes within days
DAY_SECONDS = 24 * 3600
RANK_SECONDS = 3 * DAY_SECONDS
ABOVE_LAST_BUCKET = RESPONSE_BUCKETS[-1] + 1
_BUCKET_ATTRIBUTES = [f"r{bound}" for bound in RESPONSE_BUCKETS] + ["r_more"]
COUNTERS = ("paid", "shipped", "shipped_on_time", "cancelled_by_seller", "delivered", "returns", "disputes_opened",
            "ratings", "rating_sum")


# --- counting -------------------------------------------------------------------------------

def _count(event_id: str, seller_id: str, day: str, counters: Mapping[str, int], *, open_disputes: int = 0) -> bool:
    """Add ``counters`` to the seller's day (and ``open_disputes`` to the totals) once per event:
    a transaction with the event's once-marker. False when it was counted before."""
    return _count_days(event_id, seller_id, {day: counters} if counters else {}, open_disputes=open_disputes)


def _count_days(event_id: str, seller_id: str, days: Mapping[str, Mapping[str, int]], *,
                open_disputes: int = 0) -> bool:
    """:func:`_count` for counters on several days, in one transaction."""
    now = int(clock.epoch())
    transaction = LabelledTransaction()
    marker = OnceMarker(once_key(f"perf:{event_id}"), ONCE_SK, status="done", expires_at=now + MARKER_SECONDS)
    transaction.put("marker", marker, OnceMarker.PK.does_not_exist())
    for day, counters in sorted(days.items()):
        actions: list[Action] = [getattr(PerformanceDay, name).add(value) for name, value in counters.items()]
        actions.append(PerformanceDay.expires_at.set(now + 100 * DAY_SECONDS))
        transaction.update("day", PerformanceDay(seller_key(seller_id), performance_day_sk(day)), actions)
    if open_disputes:
        transaction.update("totals", PerformanceDay(seller_key(seller_id), PERFORMANCE_TOTALS_SK),
                           [PerformanceDay.open_disputes.add(open_disputes)])
    if len(transaction) == 1:
        return False
    return not transaction.commit()


def settings() -> PerformanceSettings:
    found = find_item(PerformanceSettings, *PERFORMANCE_SETTINGS_KEY, consistent_read=True)
    return found if found is not None else PerformanceSettings(*PERFORMANCE_SETTINGS_KEY)


def handling_days(seller_id: str) -> int:
    """The seller's default shipping profile's handling time, else the operator's setting (≥ 1)."""
    profile = find_item(ShippingProfile, seller_key(seller_id), shipping_profile_sk(DEFAULT_SHIPPING_PROFILE))
    days = int(profile.handling_days) if profile is not None else int(settings().handling_days)
    return max(days, 1)


def _paid_at(sub: SubOrder) -> str | None:
    if sub.paid_at:
        return str(sub.paid_at)
    return next((entry["at"] for entry in sub.history if entry["status"] == "paid"), None)


def status_counters(event: OrderStatusChanged) -> dict[str, int]:
    """What one move of a sub-order adds to its seller's day (reads the sub-order for a shipment
    or a cancellation: 1 GetItem)."""
    if event.to == "paid":
        return {"paid": 1}
    if event.to == "delivered":
        return {"delivered": 1}
    if event.to == "return_requested":
        return {"returns": 1}
    if event.to not in ("shipped", "cancelled") or (event.to == "cancelled" and event.from_ == "pending_payment"):
        return {}
    sub = find_item(SubOrder, seller_key(event.seller_id), order_sk(event.order_id), consistent_read=True)
    if sub is None:
        return {}
    if event.to == "cancelled":
        return {} if sub.cancel_reason == "cancelled_by_buyer" else {"cancelled_by_seller": 1}
    paid_at = _paid_at(sub)
    on_time = paid_at is not None and (clock.parse(event.at) - clock.parse(paid_at)
                                       <= timedelta(days=handling_days(event.seller_id)))
    return {"shipped": 1, "shipped_on_time": 1} if on_time else {"shipped": 1}


def response_bucket(seconds: int) -> str:
    minutes = seconds / 60
    for bound, attribute in zip(RESPONSE_BUCKETS, _BUCKET_ATTRIBUTES, strict=False):
        if minutes <= bound:
            return attribute
    return "r_more"


def on_status_changed(delivered: Delivered[OrderStatusChanged]) -> None:
    event = delivered.event
    counters = status_counters(event)
    if counters:
        _count(delivered.event_id, event.seller_id, event.at[:10], counters)


def on_message_posted(delivered: Delivered[MessagePosted]) -> None:
    event = delivered.event
    if event.response_seconds is not None:
        _count(delivered.event_id, event.seller_id, event.at[:10], {response_bucket(event.response_seconds): 1})


def rating_counters(event: SellerRatingCounted) -> dict[str, dict[str, int]]:
    """What a seller review's change of counted rating adds to the days it was published on."""
    days: dict[str, dict[str, int]] = {}
    for rating, day, sign in ((event.before, event.before_day, -1), (event.after, event.after_day, 1)):
        if rating is not None and day is not None:
            counters = days.setdefault(day, {"ratings": 0, "rating_sum": 0})
            counters["ratings"] += sign
            counters["rating_sum"] += sign * rating
    return {day: counters for day, counters in days.items() if any(counters.values())}


def on_seller_rating_counted(delivered: Delivered[SellerRatingCounted]) -> None:
    event = delivered.event
    days = rating_counters(event)
    if days:
        _count_days(delivered.event_id, event.seller_id, days)


def on_dispute_opened(delivered: Delivered[DisputeOpened]) -> None:
    event = delivered.event
    _count(delivered.event_id, event.seller_id, event.at[:10], {"disputes_opened": 1}, open_disputes=1)


def on_dispute_resolved(delivered: Delivered[DisputeResolved]) -> None:
    event = delivered.event
    _count(delivered.event_id, event.seller_id, event.at[:10], {}, open_disputes=-1)


# --- reporting ------------------------------------------------------------------------------

def rate_bp(part: int, whole: int) -> int | None:
    return None if whole <= 0 else (part * 10_000 + whole // 2) // whole


def median_minutes(histogram: Mapping[str, int]) -> int | None:
    """The upper bound of the bucket holding the median (the lower median for an even count)."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for bound, attribute in zip([*RESPONSE_BUCKETS, ABOVE_LAST_BUCKET], _BUCKET_ATTRIBUTES, strict=True):
        seen += histogram.get(attribute, 0)
        if 2 * seen >= total:
            return bound
    return ABOVE_LAST_BUCKET  # pragma: no cover - the loop reaches the total


@dataclass(frozen=True)
class Figures:
    window: int
    counts: dict[str, int]
    responses: dict[str, int]  # answered: the histogram of first response times
    open_disputes: int
    waiting: dict[str, int] = field(default_factory=dict)  # unanswered: the histogram of their ages

    def measures(self) -> dict[str, int | None]:
        c = self.counts
        waited = {name: self.responses.get(name, 0) + self.waiting.get(name, 0)
                  for name in {*self.responses, *self.waiting}}
        return {"on_time_shipping_rate_bp": rate_bp(c["shipped_on_time"], c["shipped"]),
                "cancellation_rate_bp": rate_bp(c["cancelled_by_seller"], c["paid"]),
                "return_rate_bp": rate_bp(c["returns"], c["delivered"]),
                "median_first_response_minutes": median_minutes(waited),
                "open_disputes": self.open_disputes}

    def average_rating(self) -> float | None:
        """Two decimals, like a product's; not a ranked measure."""
        c = self.counts
        return round(c["rating_sum"] / c["ratings"], 2) if c["ratings"] > 0 else None


def figures_of(items: Iterable[PerformanceDay], today: date, waiting: Mapping[str, int] | None = None,
               ) -> dict[int, Figures]:
    """The 30- and 90-day figures of a seller's day items (and totals) as read, with the
    histogram of the unanswered conversations' ages (the same in both windows)."""
    days = list(items)
    open_disputes = sum(int(i.open_disputes or 0) for i in days if i.SK == PERFORMANCE_TOTALS_SK)
    result = {}
    for window in WINDOWS:
        first = performance_day_sk((today - timedelta(days=window - 1)).isoformat())
        inside = [i for i in days if i.SK != PERFORMANCE_TOTALS_SK and i.SK >= first]  # noqa: SIM300
        counts = {name: sum(int(getattr(i, name) or 0) for i in inside) for name in COUNTERS}
        responses = {name: sum(int(getattr(i, name) or 0) for i in inside) for name in _BUCKET_ATTRIBUTES}
        result[window] = Figures(window, counts, {k: v for k, v in responses.items() if v}, max(open_disputes, 0),
                                 dict(waiting or {}))
    return result


def waiting_ages(seller_id: str, since: str, now: datetime) -> dict[str, int]:
    """The histogram of how long the seller's unanswered conversations whose wait began at
    ``since`` or later have waited by ``now``: one Query of the unanswered index (GSI2)."""
    found: dict[str, int] = {}
    for conversation in Conversation.unanswered.query(unanswered_index_key(seller_id),
                                                      Conversation.GSI2SK >= since):  # noqa: SIM300
        waited = max(0, int((now - clock.parse(str(conversation.awaiting_since))).total_seconds()))
        bucket = response_bucket(waited)
        found[bucket] = found.get(bucket, 0) + 1
    return found


def report(seller_id: str, today: date | None = None) -> dict[int, Figures]:
    """Two Queries: the seller's days of the last 90 and the totals item (which sorts after
    them); the conversations still waiting for its first answer that began in those days."""
    today = today or clock.today()
    start = today - timedelta(days=max(WINDOWS) - 1)
    first = performance_day_sk(start.isoformat())
    items = PerformanceDay.query(seller_key(seller_id), PerformanceDay.SK.between(first, PERFORMANCE_TOTALS_SK),
                                 consistent_read=True)
    return figures_of(items, today, waiting_ages(seller_id, start.isoformat(), clock.now()))


# --- the operator: settings, ranking, warnings ------------------------------------------------

def update_settings(changes: Mapping[str, Any]) -> PerformanceSettings:
    current = settings()
    for name, value in changes.items():
        setattr(current, name, ("yes" if value else None) if name == "auto_suspend" else value)
    current.updated_at = clock.stamp()
    current.save()
    return current


def breaches(measures: Mapping[str, int | None], counts: Mapping[str, int], limits: PerformanceSettings) -> list[str]:
    """The measures past the operator's thresholds. Rates count only from ``min_orders`` of their
    denominator on: two orders say little about a seller."""
    enough = int(limits.min_orders or 0)
    found = []
    checks = (("on_time_shipping_rate_bp", limits.min_on_time_rate_bp, "shipped", False),
              ("cancellation_rate_bp", limits.max_cancellation_rate_bp, "paid", True),
              ("return_rate_bp", limits.max_return_rate_bp, "delivered", True),
              ("median_first_response_minutes", limits.max_median_response_minutes, None, True),
              ("open_disputes", limits.max_open_disputes, None, True))
    for measure, limit, denominator, is_maximum in checks:
        value = measures.get(measure)
        if limit is None or value is None or (denominator is not None and counts[denominator] < enough):
            continue
        if (value > int(limit)) if is_maximum else (value < int(limit)):
            found.append(measure)
    return found


def _warn(seller_id: str, day: str, found: list[str], measures: Mapping[str, int | None], suspend: bool) -> bool:
    """``seller.performance_warning`` once per seller and day (a once-marker in its transaction)."""
    transaction = LabelledTransaction()
    marker = OnceMarker(once_key(f"perf-warning:{seller_id}:{day}"), ONCE_SK, status="done",
                        expires_at=int(clock.epoch()) + 2 * DAY_SECONDS)
    transaction.put("marker", marker, OnceMarker.PK.does_not_exist())
    transaction.put("event", new_event(SellerPerformanceWarning(seller_id=seller_id, day=day, breaches=found,
                                                                figures=PerformanceFigures(**{
                                                                    k: measures[k] for k in MEASURES}),
                                                                suspended=suspend)))
    if transaction.commit():
        return False
    if suspend:
        try:
            change_status(seller_id, "suspend", operator_id=None,
                          reason="Seller performance below the marketplace's thresholds: " + ", ".join(found))
        except AgoraError as error:  # not a sellers' standing that can be suspended: the warning stands
            logger.warning("automatic suspension refused", extra={"seller_id": seller_id, "code": error.code})
    return True


def _ranked_sellers() -> list[tuple[str, str]]:
    """Approved and suspended sellers and their status: one Query per status of the sellers'
    status index."""
    statuses = [seller_status_index_key(status) for status in ("approved", "suspended")]
    found = query_shards(lambda key: Seller.by_status.query(key), statuses, order_by=lambda s: str(s.GSI1SK))
    return [(s.seller_id, s.status) for s in found]


def value_key(value: int, seller_id: str) -> str:
    return f"{value:012d}#{seller_id}"


def rank_sellers(today: date | None = None) -> int:
    """Nightly: every seller's report, its rank items and threshold warnings. One Query per
    seller; BatchWriteItem of the ranks. Returns how many sellers were ranked.

    **Scale**: ~10 ms per seller, so the 30-second Lambda ranks some 2,500 sellers. Beyond that
    the schedule must fan out: walk the status index and send one SQS message per page of
    sellers to a handler that ranks that page (everything here is per seller and repeatable;
    the run's stamp in the rank keys keeps pages of one run together)."""
    today = today or clock.today()
    day = today.isoformat()
    run = clock.stamp()  # a run's own partition: a second run never mixes with the first
    limits = settings()
    expires = int(clock.epoch()) + RANK_SECONDS
    sellers = _ranked_sellers()
    with PerformanceRank.batch_write() as batch:
        for seller_id, status in sellers:
            figures = report(seller_id, today)
            for window, figure in figures.items():
                for measure, value in figure.measures().items():
                    if measure in MEASURES and value is not None:
                        batch.save(PerformanceRank(performance_rank_key(window, measure, run),
                                                   value_key(value, seller_id), seller_id=seller_id, value=value,
                                                   expires_at=expires))
            month = figures[30]
            found = breaches(month.measures(), month.counts, limits)
            if found and status == "approved":  # a suspended seller is being dealt with already
                _warn(seller_id, day, found, month.measures(), suspend=limits.auto_suspend == "yes")
    settings().update(actions=[PerformanceSettings.ranked_at.set(run)])
    return len(sellers)


def ranking(measure: str, window: int, *, descending: bool, cursor: str | None,
            limit: int) -> tuple[str | None, Page[PerformanceRank]]:
    """The last nightly ranking by ``measure``: GetItem of the settings (when it was made) and
    one Query a page. Sellers without a value for the measure are not in it."""
    run = settings().ranked_at
    if run is None:
        return None, Page([], None)
    partition = performance_rank_key(window, measure, str(run))
    scope = f"{partition}/{'desc' if descending else 'asc'}"
    results = PerformanceRank.query(partition, scan_index_forward=not descending, limit=limit,
                                    last_evaluated_key=decode_cursor(cursor, scope=scope))
    items = list(results)
    return str(run), Page(items, encode_cursor(results.last_evaluated_key, scope=scope))
