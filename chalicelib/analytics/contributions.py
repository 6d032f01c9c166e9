"""What one customer's orders add to a scope's counters; pure, so tests pin it and the
backfill and the event handlers compute it alike.

Counters are kept by difference: a change of a customer's summary adds
``contribution(after) - contribution(before)``, never the new order alone. So a late or
repeated event, a refund or an order that arrives before the one it follows all leave the
counters equal to the sum of what the summaries contribute now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

EPOCH = date(1970, 1, 1)
KINDS = ("day", "week", "month", "quarter", "year")
COHORT = "cohort"

# The bounds (in days) of the histogram of gaps between a customer's consecutive orders:
# ``g<b>`` counts the gaps of at most ``b`` days (and above the bound before), ``g_more``
# those above the last bound.
GAP_BOUNDS = (0, 1, 2, 3, 5, 7, 10, 14, 21, 30, 45, 60, 90, 120, 180, 270, 365)
GAP_COUNTERS = (*(f"g{bound}" for bound in GAP_BOUNDS), "g_more")

# (kind, period label) -> counter -> value; kind ``cohort``'s label is ``<cohort>#<month>``.
Contribution = dict[tuple[str, str], dict[str, int]]


def day_number(day: date) -> int:
    return (day - EPOCH).days


def day_of(number: int) -> date:
    return EPOCH + timedelta(days=number)


def month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def label(kind: str, day: date) -> str:
    """The period of ``kind`` that holds ``day``, spelt so that labels sort in time order."""
    if kind == "day":
        return day.isoformat()
    if kind == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if kind == "month":
        return month_label(day)
    if kind == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if kind == "year":
        return f"{day.year:04d}"
    raise ValueError(f"unknown period kind {kind!r}")


def period_start(kind: str, day: date) -> date:
    if kind == "day":
        return day
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if kind == "year":
        return date(day.year, 1, 1)
    raise ValueError(f"unknown period kind {kind!r}")


def next_period(kind: str, day: date) -> date:
    """The first day of the period after the one holding ``day``."""
    start = period_start(kind, day)
    if kind == "day":
        return start + timedelta(days=1)
    if kind == "week":
        return start + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def gap_counter(days: int) -> str:
    for bound in GAP_BOUNDS:
        if days <= bound:
            return f"g{bound}"
    return "g_more"


@dataclass(frozen=True, order=True)
class CountedOrder:
    """An order that counts: paid and not wholly refunded; ``net`` what is left of it."""

    day: int
    order_id: str
    net: int


def counted_orders(paid: Iterable[Sequence[object]], refunds: Iterable[Sequence[object]]) -> list[CountedOrder]:
    """The orders that count, oldest first, from the paid orders ``[day, gross, order id]``
    and the refunds ``[refund id, order id, amount]`` (a refund of an order not seen paid yet
    waits for it). A wholly refunded order does not count; a partly refunded one counts net."""
    refunded: dict[str, int] = defaultdict(int)
    for _, order_id, amount in refunds:
        refunded[str(order_id)] += int(str(amount))
    counted = []
    for day, gross, order_id in paid:
        net = int(str(gross)) - refunded[str(order_id)]
        if net > 0:
            counted.append(CountedOrder(int(str(day)), str(order_id), net))
    return sorted(counted)


def active_spans(days: Iterable[int], active_days: int) -> list[tuple[int, int]]:
    """The customer's active spans ``[start, end)`` in day numbers: active on day ``t`` when an
    order was paid on a day ``d`` with ``t - active_days < d <= t``; overlapping spans merge."""
    spans: list[tuple[int, int]] = []
    for day in sorted(set(days)):
        if spans and day <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], day + active_days))
        else:
            spans.append((day, day + active_days))
    return spans


def contribution(orders: Sequence[CountedOrder], active_days: int) -> Contribution:
    """Everything one customer's counted orders (oldest first) add to their scope's counters."""
    found: Contribution = defaultdict(lambda: defaultdict(int))
    spans = active_spans((o.day for o in orders), active_days)
    for kind in KINDS:
        previous: CountedOrder | None = None
        for position, order in enumerate(orders):
            counters = found[(kind, label(kind, day_of(order.day)))]
            counters["orders"] += 1
            counters["revenue"] += order.net
            counters["revenue_new" if position == 0 else "revenue_returning"] += order.net
            if position == 0:
                counters["new"] += 1
            if position == 1:
                counters["repeaters"] += 1
            if previous is not None:
                counters[gap_counter(order.day - previous.day)] += 1
            previous = order
        for period in {label(kind, day_of(o.day)) for o in orders}:
            found[(kind, period)]["buyers"] += 1
        for start, end in spans:
            found[(kind, label(kind, day_of(start)))]["active"] += 1
            found[(kind, label(kind, day_of(end)))]["active"] -= 1
    if orders:
        cohort = month_label(day_of(orders[0].day))
        for month in {month_label(day_of(o.day)) for o in orders}:
            found[(COHORT, f"{cohort}#{month}")]["buyers"] += 1
        for order in orders:
            found[(COHORT, f"{cohort}#{month_label(day_of(order.day))}")]["revenue"] += order.net
    return _without_zeros(found)


def difference(before: Mapping[tuple[str, str], Mapping[str, int]],
               after: Mapping[tuple[str, str], Mapping[str, int]]) -> Contribution:
    """What to add to the counters to go from ``before`` to ``after`` (no zeros)."""
    change: Contribution = defaultdict(lambda: defaultdict(int))
    for sign, side in ((-1, before), (1, after)):
        for key, counters in side.items():
            for counter, value in counters.items():
                change[key][counter] += sign * value
    return _without_zeros(change)


def _without_zeros(found: Mapping[tuple[str, str], Mapping[str, int]]) -> Contribution:
    cleaned = {key: {c: v for c, v in counters.items() if v} for key, counters in found.items()}
    return {key: counters for key, counters in cleaned.items() if counters}
