"""Retention and cohort reports of a scope (a seller's customers, or the marketplace's),
read from the counters only (:mod:`chalicelib.analytics.models`).

Cost: a retention report is at most 3 Queries per shard of the scope (4 for a seller, 16
for the marketplace, run 8 at a time), a cohort report 1 per shard, however many customers
and orders there are; each Query reads one item per period it covers (the month items
before the range: one per month since the scope's first order). Definitions: README,
"Retention analytics".
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chalicelib.analytics.contributions import (
    GAP_BOUNDS,
    GAP_COUNTERS,
    label,
    month_label,
    next_period,
    period_start,
)
from chalicelib.analytics.models import AnalyticsCounter
from chalicelib.core import clock
from chalicelib.core.db import MAX_SHARD_QUERIES
from chalicelib.core.errors import Code, ValidationFailed
from chalicelib.core.keys import analytics_cohort_sk, analytics_counter_sk, analytics_keys
from chalicelib.core.settings import get_settings
from chalicelib.sellers.service import get_seller

MAX_PERIODS = 366
MAX_COHORT_MONTHS = 60
# Counters that are stocks: their running total from the scope's first day is the figure.
RUNNING = ("active", "new", "repeaters")
COUNTERS = ("active", "new", "orders", "revenue", "revenue_new", "revenue_returning", "repeaters", "buyers",
            *GAP_COUNTERS)
# Breakdowns the issue names; their counters are not kept yet.
BREAKDOWNS = ("country", "customer_group", "lifecycle_phase", "tier")
NO_CUSTOMERS_AT_START = "no_active_customers_at_start"

Counts = dict[str, int]


def _values(item: AnalyticsCounter) -> Counts:
    return {name: int(getattr(item, name) or 0) for name in COUNTERS}


def _add(total: Counts, more: Counts) -> None:
    for name, value in more.items():
        total[name] = total.get(name, 0) + value


def _each_shard(seller_id: str | None, read: Callable[[str], Iterable[AnalyticsCounter]]) -> list[AnalyticsCounter]:
    partitions = analytics_keys(seller_id)
    with ThreadPoolExecutor(max_workers=min(len(partitions), MAX_SHARD_QUERIES)) as pool:
        return [item for items in pool.map(lambda p: list(read(p)), partitions) for item in items]


def _between(partition: str, low: str, high: str) -> Iterable[AnalyticsCounter]:
    return AnalyticsCounter.query(partition, AnalyticsCounter.SK.between(low, high))


def percent(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return f"{(Decimal(part * 100) / Decimal(whole)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


def median_gap(counts: Counts) -> dict[str, int | None] | None:
    """The histogram bucket of the middle gap (the ceil(n/2)-th smallest): its least and most
    days (most None: above the last bound)."""
    total = sum(counts.get(name, 0) for name in GAP_COUNTERS)
    if not total:
        return None
    wanted, seen, low = (total + 1) // 2, 0, 0
    for bound, name in zip((*GAP_BOUNDS, None), GAP_COUNTERS, strict=True):
        seen += counts.get(name, 0)
        if seen >= wanted:
            return {"min": low, "max": bound}
        low = (bound or 0) + 1
    return None  # unreachable: the buckets hold every gap


@dataclass(frozen=True)
class Window:
    """The periods of ``kind`` that overlap [start, end)."""

    kind: str
    start: date  # the first period's first day
    end: date  # the day after the last period

    @classmethod
    def of(cls, kind: str, from_: date, to: date) -> Window:
        if to <= from_:
            raise ValidationFailed("'to' must be after 'from'.", code=Code.INVALID_WINDOW,
                                   details=[{"field": "query.to", "message": "must be after from", "type": "window"}])
        window = cls(kind, period_start(kind, from_), next_period(kind, to - timedelta(days=1)))
        if len(window.periods()) > MAX_PERIODS:
            raise ValidationFailed(f"Ask for at most {MAX_PERIODS} periods at once.", code=Code.WINDOW_TOO_LARGE,
                                   details=[{"field": "query.from", "message": "too many periods", "type": "window"}])
        return window

    def periods(self) -> list[tuple[str, date, date]]:
        found: list[tuple[str, date, date]] = []
        day = self.start
        while day < self.end and len(found) <= MAX_PERIODS:
            after = next_period(self.kind, day)
            found.append((label(self.kind, day), day, after))
            day = after
        return found


@dataclass(frozen=True)
class Counted:
    opening: Counts  # running totals before the window
    periods: dict[str, Counts] = field(default_factory=dict)


def read_counters(seller_id: str | None, currency: str, window: Window) -> Counted:
    """The window's counters and the running totals at its start: per shard, the month items
    before the first period's month, the day items of that month before the first period
    (day and week periods only) and the window's own items (<= 3 Queries)."""
    first_month = window.start.replace(day=1)
    month_before = month_label(first_month - timedelta(days=1))
    kind = window.kind

    def read(partition: str) -> list[AnalyticsCounter]:
        items = list(_between(partition, analytics_counter_sk(currency, "month", "0"),
                              analytics_counter_sk(currency, "month", month_before)))
        if window.start > first_month:
            items += _between(partition, analytics_counter_sk(currency, "day", label("day", first_month)),
                              analytics_counter_sk(currency, "day", label("day", window.start - timedelta(days=1))))
        items += _between(partition, analytics_counter_sk(currency, kind, label(kind, window.start)),
                          analytics_counter_sk(currency, kind, label(kind, window.end - timedelta(days=1))))
        return items

    opening: Counts = {}
    periods: dict[str, Counts] = defaultdict(dict)
    own = analytics_counter_sk(currency, kind, "")
    for item in _each_shard(seller_id, read):
        values = _values(item)
        if item.SK.startswith(own) and analytics_counter_sk(currency, kind, label(kind, window.start)) <= item.SK:
            _add(periods[item.SK[len(own):]], values)
        else:
            _add(opening, {name: values[name] for name in RUNNING})
    return Counted(opening, dict(periods))


def retention(seller_id: str | None, currency: str, kind: str, from_: date, to: date) -> dict[str, Any]:
    """The retention figures of each period of ``kind`` overlapping [from_, to)."""
    window = Window.of(kind, from_, to)
    counted = read_counters(seller_id, currency, window)
    return {"scope": "marketplace" if seller_id is None else "seller", "currency": currency, "period": kind,
            "from": window.start.isoformat(), "to": window.end.isoformat(),
            "active_days": get_settings().analytics_active_days,
            "periods": figures(window, counted, currency)}


def figures(window: Window, counted: Counted, currency: str) -> list[dict[str, Any]]:
    """Each period's figures from its counters and the running totals before it (pure)."""
    running = {name: counted.opening.get(name, 0) for name in RUNNING}
    rows = []
    for period, start, end in window.periods():
        counts = counted.periods.get(period, {})
        at_start = running["active"]
        for name in RUNNING:
            running[name] += counts.get(name, 0)
        at_end, new = running["active"], counts.get("new", 0)
        retained = percent(at_end - new, at_start)
        orders, buyers, revenue = counts.get("orders", 0), counts.get("buyers", 0), counts.get("revenue", 0)
        rows.append({
            "period": period, "start": start.isoformat(), "end": end.isoformat(),
            "customers_at_start": at_start, "customers_at_end": at_end, "new_customers": new,
            "retention_rate": retained,
            "churn_rate": None if retained is None else f"{Decimal(100) - Decimal(retained)}",
            "retention_rate_missing": NO_CUSTOMERS_AT_START if retained is None else None,
            "customers": running["new"], "repeat_customers": running["repeaters"],
            "repeat_purchase_rate": percent(running["repeaters"], running["new"]),
            "buyers": buyers, "orders": orders,
            "purchase_frequency": None if not buyers else
            f"{(Decimal(orders) / Decimal(buyers)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}",
            "revenue": {"amount": revenue, "currency": currency},
            "average_order_value": None if not orders else {
                "amount": int((Decimal(revenue) / Decimal(orders)).quantize(Decimal(1), rounding=ROUND_HALF_UP)),
                "currency": currency},
            "revenue_new": {"amount": counts.get("revenue_new", 0), "currency": currency},
            "revenue_returning": {"amount": counts.get("revenue_returning", 0), "currency": currency},
            "median_days_between_orders": median_gap(counts),
        })
    return rows


def check_breakdown(breakdown: str | None) -> None:
    if breakdown is not None:
        raise ValidationFailed(f"The breakdown by {breakdown} is not available yet.",
                               code=Code.BREAKDOWN_NOT_AVAILABLE,
                               details=[{"field": "query.breakdown", "message": "not available yet",
                                         "type": "breakdown_not_available"}])


def cohorts(seller_id: str | None, currency: str, from_: date, to: date) -> dict[str, Any]:
    """Customers by the month of their first counted order (cohorts starting in [from_, to)),
    and per month since: the share of the cohort buying and revenue per cohort customer.
    One Query per shard."""
    if to <= from_:
        raise ValidationFailed("'to' must be after 'from'.", code=Code.INVALID_WINDOW,
                               details=[{"field": "query.to", "message": "must be after from", "type": "window"}])
    first, last = month_label(from_), month_label(to - timedelta(days=1))
    months = Window("month", from_.replace(day=1), next_period("month", to - timedelta(days=1))).periods()
    if len(months) > MAX_COHORT_MONTHS:
        raise ValidationFailed(f"Ask for at most {MAX_COHORT_MONTHS} cohort months at once.",
                               code=Code.WINDOW_TOO_LARGE,
                               details=[{"field": "query.from", "message": "too many months", "type": "window"}])
    prefix = analytics_cohort_sk(currency, "", "")[:-1]  # COHORT#<currency>#

    def read(partition: str) -> Iterable[AnalyticsCounter]:
        return _between(partition, analytics_cohort_sk(currency, first, ""), analytics_cohort_sk(currency, last, "~"))

    cells: dict[tuple[str, str], Counts] = defaultdict(dict)
    for item in _each_shard(seller_id, read):
        cohort, month = item.SK[len(prefix):].split("#")
        _add(cells[(cohort, month)], {"buyers": int(item.buyers or 0), "revenue": int(item.revenue or 0)})
    return {"scope": "marketplace" if seller_id is None else "seller", "currency": currency,
            "from": first, "to": last, "cohorts": cohort_rows(cells, currency)}


def _months_between(cohort: str, month: str) -> int:
    return (int(month[:4]) - int(cohort[:4])) * 12 + int(month[5:7]) - int(cohort[5:7])


def cohort_rows(cells: dict[tuple[str, str], Counts], currency: str) -> list[dict[str, Any]]:
    """Pure: each cohort's size (its customers buying in their first month: all of them) and
    per month since its first, the customers buying, their share and revenue per customer."""
    rows = []
    for cohort in sorted({c for c, _ in cells}):
        size = cells.get((cohort, cohort), {}).get("buyers", 0)
        months = sorted((_months_between(cohort, m), counts) for (c, m), counts in cells.items() if c == cohort)
        rows.append({"cohort": cohort, "customers": size, "months": [
            {"months_since": since, "buyers": counts.get("buyers", 0),
             "share_buying": percent(counts.get("buyers", 0), size),
             "revenue": {"amount": counts.get("revenue", 0), "currency": currency},
             "revenue_per_customer": None if not size else {
                 "amount": int((Decimal(counts.get("revenue", 0)) / Decimal(size)).quantize(
                     Decimal(1), rounding=ROUND_HALF_UP)), "currency": currency}}
            for since, counts in months if counts.get("buyers", 0) or counts.get("revenue", 0)]})
    return rows


def cohorts_csv(report: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["cohort", "customers", "months_since", "buyers", "share_buying", "revenue",
                     "revenue_per_customer", "currency"])
    for cohort in report["cohorts"]:
        for month in cohort["months"]:
            per_customer = month["revenue_per_customer"]
            writer.writerow([cohort["cohort"], cohort["customers"], month["months_since"], month["buyers"],
                             month["share_buying"] or "", month["revenue"]["amount"],
                             "" if per_customer is None else per_customer["amount"], report["currency"]])
    return buffer.getvalue()


def currency_of(seller_id: str | None, asked: str | None) -> str:
    """The report's currency: as asked, else a seller's default currency (1 GetItem); the
    marketplace's view has no default."""
    if asked is not None:
        return asked
    if seller_id is None:
        raise ValidationFailed("The marketplace's figures need a currency.", code=Code.VALIDATION_FAILED,
                               details=[{"field": "query.currency", "message": "required", "type": "missing"}])
    return str(get_seller(seller_id).default_currency)


def default_range(kind: str, from_: date | None, to: date | None) -> tuple[date, date]:
    """[from, to) as asked; by default up to today included, from 11 periods before the current one."""
    end = to or clock.today() + timedelta(days=1)
    if from_ is not None:
        return from_, end
    start = period_start(kind, end - timedelta(days=1))
    for _ in range(11):
        start = period_start(kind, start - timedelta(days=1))
    return start, end
