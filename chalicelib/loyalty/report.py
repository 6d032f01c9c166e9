"""The operator's programme report (seed 001, "Programm überwachen").

Flows over the window come from the daily statistics items (points issued, reversed,
redeemed, expired, adjusted; members joined), ADDed in each movement's transaction, so
they agree with the buyers' histories. Stocks are as of now: members and outstanding
points with their liability (the totals items, equal to the ledger's ``loyalty_liability``),
and the tier distribution (Select COUNT on the tier index). Active members: buyers who
earned, spent or were adjusted in the calendar months the window touches (distinct).

Members against non-members (``member_comparison``), over the calendar months the window
touches: orders, repeat orders (the buyer had paid an order before) and the repeat-purchase
rate (repeat orders per order, percent), revenue (what the orders charged), refunds and the
average order value net of refunds. Counted per month and group as orders are paid and
refunded (:mod:`chalicelib.loyalty.purchases`); an order is a member's when the buyer had
earned points before paying it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chalicelib.core.db import query_shards
from chalicelib.core.errors import Code, ValidationFailed
from chalicelib.core.keys import (
    LOYALTY_STATS_SK,
    LOYALTY_TOTALS_SK,
    loyalty_active_keys,
    loyalty_day_keys,
    loyalty_orders_month_keys,
    loyalty_tier_keys,
    loyalty_totals_keys,
)
from chalicelib.core.money import Money, divide_half_up
from chalicelib.loyalty.models import LoyaltyActive, LoyaltyDay, LoyaltyMember, LoyaltyOrderMonth, LoyaltyTotals
from chalicelib.loyalty.programme import get_programme
from chalicelib.loyalty.purchases import GROUPS, MEMBER, NON_MEMBER
from chalicelib.loyalty.store import tier_label, window_days

MAX_REPORT_DAYS = 366
FLOWS = ("issued", "reversed", "redeemed", "expired", "adjusted_in", "adjusted_out", "joined")


@dataclass(frozen=True)
class GroupFigures:
    """One group's orders over the months of the window (minor units of the programme's currency)."""

    orders: int = 0
    repeat_orders: int = 0
    revenue: int = 0
    refunded: int = 0

    @property
    def repeat_purchase_rate(self) -> Decimal | None:
        """Repeat orders per order, in percent (None without orders)."""
        if not self.orders:
            return None
        return (Decimal(self.repeat_orders * 100) / Decimal(self.orders)).quantize(Decimal("0.01"),
                                                                                  rounding=ROUND_HALF_UP)

    @property
    def average_order_value(self) -> int | None:
        """Revenue net of refunds per order, rounded half up (None without orders)."""
        return divide_half_up(self.revenue - self.refunded, self.orders) if self.orders else None

    def to_json(self, currency: str) -> dict[str, Any]:
        rate, average = self.repeat_purchase_rate, self.average_order_value
        return {"orders": self.orders, "repeat_orders": self.repeat_orders,
                "repeat_purchase_rate": None if rate is None else f"{rate}",
                "revenue": Money(currency, self.revenue).to_json(),
                "refunded": Money(currency, self.refunded).to_json(),
                "average_order_value": None if average is None else Money(currency, average).to_json()}


@dataclass(frozen=True)
class Report:
    from_: datetime
    to: datetime
    flows: dict[str, int]
    members: int
    active_members: int
    outstanding_points: int
    outstanding_liability: Money
    tiers: dict[str, int]
    months: tuple[str, ...] = ()
    members_figures: GroupFigures = GroupFigures()
    non_members_figures: GroupFigures = GroupFigures()

    @property
    def redemption_rate(self) -> Decimal | None:
        """Points redeemed per point issued in the window, in percent (None when none issued)."""
        if not self.flows["issued"]:
            return None
        rate = Decimal(self.flows["redeemed"] * 100) / Decimal(self.flows["issued"])
        return rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def to_json(self) -> dict[str, Any]:
        rate = self.redemption_rate
        return {"from": self.from_.isoformat(), "to": self.to.isoformat(), "members": self.members,
                "active_members": self.active_members,
                "points": {"issued": self.flows["issued"], "reversed": self.flows["reversed"],
                           "redeemed": self.flows["redeemed"], "expired": self.flows["expired"],
                           "adjusted_in": self.flows["adjusted_in"], "adjusted_out": self.flows["adjusted_out"]},
                "members_joined": self.flows["joined"],
                "outstanding_points": self.outstanding_points,
                "outstanding_liability": self.outstanding_liability.to_json(),
                "redemption_rate": None if rate is None else f"{rate}",
                "tiers": [{"tier": None if name == "-" else name, "members": count}
                          for name, count in self.tiers.items()],
                "member_comparison": {"months": list(self.months),
                                      "members": self.members_figures.to_json(self.outstanding_liability.currency),
                                      "non_members": self.non_members_figures.to_json(
                                          self.outstanding_liability.currency)}}


def _check(from_: datetime, to: datetime) -> list[str]:
    if to <= from_:
        raise ValidationFailed("'to' must be after 'from'.", code=Code.INVALID_WINDOW,
                               details=[{"field": "query.to", "message": "must be after from", "type": "window"}])
    days = window_days(from_, to)
    if len(days) > MAX_REPORT_DAYS:
        raise ValidationFailed(f"Ask for at most {MAX_REPORT_DAYS} days at once.", code=Code.WINDOW_TOO_LARGE,
                               details=[{"field": "query.to", "message": "window too long", "type": "window"}])
    return days


def report(from_: datetime, to: datetime) -> Report:
    """Round trips: BatchGetItem of 8 items a day of the window (1 RT per 100), one of the 8
    totals, a Query per shard of each month touched (active members), a Select COUNT per
    shard of each tier, shards in parallel, and a BatchGetItem of 16 items a month touched
    (members' and non-members' orders)."""
    days = _check(from_, to)
    programme = get_programme()
    flows = dict.fromkeys(FLOWS, 0)
    for item in LoyaltyDay.batch_get([(key, LOYALTY_STATS_SK) for day in days for key in loyalty_day_keys(day)]):
        for name in FLOWS:
            flows[name] += int(getattr(item, name) or 0)
    totals = list(LoyaltyTotals.batch_get([(key, LOYALTY_TOTALS_SK) for key in loyalty_totals_keys()],
                                          consistent_read=True))
    months = sorted({day[:7] for day in days})
    active = query_shards(lambda partition: LoyaltyActive.query(partition),
                          [key for month in months for key in loyalty_active_keys(month)], order_by=lambda a: a.SK)
    tiers: dict[str, int] = {}
    for name in ["-", *(tier.name for tier in programme.tiers)]:
        counts = query_shards(lambda partition: [LoyaltyMember.by_tier.count(partition)],
                              loyalty_tier_keys(tier_label(name)), order_by=str)
        tiers[name] = sum(counts)
    figures = _order_figures(months)
    return Report(from_=from_, to=to, flows=flows, members=sum(int(t.members or 0) for t in totals),
                  active_members=len({a.SK for a in active}),
                  outstanding_points=sum(int(t.outstanding or 0) for t in totals),
                  outstanding_liability=Money(programme.currency, sum(int(t.value or 0) for t in totals)),
                  tiers=tiers, months=tuple(months), members_figures=figures[MEMBER],
                  non_members_figures=figures[NON_MEMBER])


def _order_figures(months: list[str]) -> dict[str, GroupFigures]:
    """Both groups' counters over ``months``: BatchGetItem of 16 items a month (1 RT per 100)."""
    sums = {group: dict.fromkeys(("orders", "repeat_orders", "revenue", "refunded"), 0) for group in GROUPS}
    keys = [(key, group) for month in months for key in loyalty_orders_month_keys(month) for group in GROUPS]
    for item in LoyaltyOrderMonth.batch_get(keys):
        for name in sums[item.SK]:
            sums[item.SK][name] += int(getattr(item, name) or 0)
    return {group: GroupFigures(**values) for group, values in sums.items()}


def report_csv(result: Report) -> str:
    """The report as ``metric,value`` rows (tiers as ``tier:<name>``)."""
    data = result.to_json()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("metric", "value"))
    rows: list[tuple[str, Any]] = [("from", data["from"]), ("to", data["to"]), ("members", data["members"]),
                                   ("active_members", data["active_members"]),
                                   ("members_joined", data["members_joined"])]
    rows += [(f"points_{name}", value) for name, value in data["points"].items()]
    rows += [("outstanding_points", data["outstanding_points"]),
             ("outstanding_liability_minor", result.outstanding_liability.amount),
             ("currency", result.outstanding_liability.currency),
             ("redemption_rate_percent", data["redemption_rate"] or "")]
    rows += [(f"tier:{entry['tier'] or '-'}", entry["members"]) for entry in data["tiers"]]
    rows += [("comparison_months", " ".join(result.months))]
    for label, figures in (("members", result.members_figures), ("non_members", result.non_members_figures)):
        rate, average = figures.repeat_purchase_rate, figures.average_order_value
        rows += [(f"{label}_orders", figures.orders), (f"{label}_repeat_orders", figures.repeat_orders),
                 (f"{label}_repeat_purchase_rate_percent", "" if rate is None else f"{rate}"),
                 (f"{label}_revenue_minor", figures.revenue), (f"{label}_refunded_minor", figures.refunded),
                 (f"{label}_average_order_value_minor", "" if average is None else average)]
    writer.writerows(rows)
    return out.getvalue()
