"""Fee schedules (versioned, set by the operator), the policy that prices a checkout,
and the sellers' trailing-30-day sales that select volume tiers. The arithmetic itself
is pure and lives in :mod:`chalicelib.fees.engine`; keys in :mod:`chalicelib.fees.models`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from chalicelib.core import clock
from chalicelib.core.db import ItemWrite, LabelledTransaction, find_item
from chalicelib.core.errors import Code, Conflict, NotFound, ValidationFailed
from chalicelib.core.keys import (
    CATEGORY_FEES_INDEX_KEY,
    DEFAULT_FEES_KEY,
    FEES_CURRENT_SK,
    SELLER_FEES_INDEX_KEY,
    category_fees_key,
    fees_version_sk,
    monthly_sales_sk,
    seller_key,
)
from chalicelib.core.money import Money
from chalicelib.fees.engine import (
    CATEGORY_SCOPE,
    DEFAULT_SCOPE,
    NO_FEES,
    SELLER_SCOPE,
    FeePolicy,
    FeeSchedule,
    InvalidFeeSchedule,
    category_scope,
    seller_scope,
)
from chalicelib.fees.models import SALES_TTL_DAYS_AFTER_MONTH, FeeScheduleItem, MonthlySales
from chalicelib.sellers.service import get_seller

TRAILING_DAYS = 30


def _partition(scope: str) -> str:
    if scope == DEFAULT_SCOPE:
        return DEFAULT_FEES_KEY
    if scope.startswith(CATEGORY_SCOPE):
        return category_fees_key(scope.removeprefix(CATEGORY_SCOPE))
    if scope.startswith(SELLER_SCOPE):
        return seller_key(scope.removeprefix(SELLER_SCOPE))
    raise ValueError(f"unknown fee scope {scope!r}")


def _index_keys(scope: str) -> tuple[str | None, str | None]:
    """GSI1 keys that list active overrides (the default is not listed)."""
    if scope.startswith(CATEGORY_SCOPE):
        return CATEGORY_FEES_INDEX_KEY, scope.removeprefix(CATEGORY_SCOPE)
    if scope.startswith(SELLER_SCOPE):
        return SELLER_FEES_INDEX_KEY, scope.removeprefix(SELLER_SCOPE)
    return None, None


def _schedule(item: FeeScheduleItem | None) -> FeeSchedule | None:
    if item is None or not item.active or item.terms is None:
        return None
    return FeeSchedule.from_json(item.terms, scope=item.scope, version=int(item.version),
                                 effective_from=item.effective_from)


def _current_item(scope: str) -> FeeScheduleItem | None:
    return find_item(FeeScheduleItem, _partition(scope), FEES_CURRENT_SK, consistent_read=True)


def current_schedule(scope: str) -> FeeSchedule | None:
    """The schedule in force for ``scope`` now, or None (GetItem, 1 RT)."""
    return _schedule(_current_item(scope))


def default_schedule() -> FeeSchedule:
    """The marketplace default; no fees (version 0) until the operator sets one."""
    return current_schedule(DEFAULT_SCOPE) or NO_FEES


def _write_version(scope: str, terms: Mapping[str, Any] | None, *, changed_by: str | None) -> FeeScheduleItem:
    """Append a version and make it current, in one transaction, on condition that no
    other change landed since we read the current version."""
    current = _current_item(scope)
    previous = int(current.version) if current is not None else 0
    version = previous + 1
    effective_from = clock.stamp()
    fields: dict[str, Any] = {"scope": scope, "version": version, "active": terms is not None,
                              "terms": dict(terms) if terms is not None else None,
                              "effective_from": effective_from, "changed_by": changed_by}
    pk = _partition(scope)
    history = FeeScheduleItem(PK=pk, SK=fees_version_sk(version), **fields)
    head = FeeScheduleItem(PK=pk, SK=FEES_CURRENT_SK, **fields)
    if terms is not None:
        head.GSI1PK, head.GSI1SK = _index_keys(scope)
    unchanged = (FeeScheduleItem.version == previous) if current is not None else FeeScheduleItem.PK.does_not_exist()
    transaction = LabelledTransaction()
    transaction.put("history", history, FeeScheduleItem.PK.does_not_exist())
    transaction.put("current", head, unchanged)
    if transaction.commit():
        raise Conflict("The fee schedule was changed at the same time; read it again and retry.",
                       code=Code.FEE_SCHEDULE_CHANGED)
    return head


def set_schedule(scope: str, terms: Mapping[str, Any], *, changed_by: str | None = None) -> FeeSchedule:
    """A new version of ``scope``'s schedule, effective now. Invalid terms: 422."""
    try:
        normalised = FeeSchedule.from_json(terms, scope=scope).terms_json()
    except InvalidFeeSchedule as invalid:
        raise ValidationFailed("The fee schedule is not valid.", code=Code.INVALID_FEE_SCHEDULE, details=[
            {"field": f"body.{path}", "message": message, "type": "fee_schedule"} for path, message in invalid.problems
        ]) from None
    schedule = _schedule(_write_version(scope, normalised, changed_by=changed_by))
    assert schedule is not None
    return schedule


def set_seller_override(seller_id: str, terms: Mapping[str, Any], *, changed_by: str | None = None) -> FeeSchedule:
    get_seller(seller_id)  # 404 for an unknown seller
    return set_schedule(seller_scope(seller_id), terms, changed_by=changed_by)


def remove_override(scope: str, *, changed_by: str | None = None) -> None:
    """Back to the next schedule in precedence; recorded as a version of its own."""
    if scope == DEFAULT_SCOPE:
        raise ValueError("the default schedule cannot be removed")
    if current_schedule(scope) is None:
        raise NotFound("There is no such fee override.", code=Code.FEE_OVERRIDE_NOT_FOUND)
    _write_version(scope, None, changed_by=changed_by)


def _overrides(index_key: str) -> list[FeeSchedule]:
    schedules = (_schedule(item) for item in FeeScheduleItem.overrides.query(index_key))
    return [s for s in schedules if s is not None]


def category_overrides() -> list[FeeSchedule]:
    """Active category overrides, by slug: Query GSI1 (1 RT)."""
    return _overrides(CATEGORY_FEES_INDEX_KEY)


def schedule_version(ref: str) -> FeeSchedule:
    """The exact version an order stored (``category:fashion@3``): GetItem (1 RT)."""
    scope, _, version = ref.rpartition("@")
    if not version.isdigit() or not scope:
        raise NotFound("No such fee schedule version.", code=Code.FEE_SCHEDULE_NOT_FOUND)
    if version == "0" and scope == DEFAULT_SCOPE:
        return NO_FEES
    try:
        item = FeeScheduleItem.get(_partition(scope), fees_version_sk(int(version)))
    except (FeeScheduleItem.DoesNotExist, ValueError):
        raise NotFound("No such fee schedule version.", code=Code.FEE_SCHEDULE_NOT_FOUND) from None
    schedule = _schedule(item)
    if schedule is None:
        raise NotFound("That version removed the override; it priced nothing.", code=Code.FEE_SCHEDULE_NOT_FOUND)
    return schedule


def category_prefixes(category: str) -> list[str]:
    """``fashion/shoes`` → ``["fashion", "fashion/shoes"]``: every override that may cover it."""
    parts = category.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def fee_policy_keys(seller_ids: Iterable[str], categories: Iterable[str]) -> list[tuple[str, str]]:
    """The schedules that may price these sellers' lines in ``categories``: the default,
    every category prefix's override and each seller's, for a caller that reads them with
    other items in one BatchGetItem (checkout)."""
    sellers = sorted(set(seller_ids))
    slugs = sorted({prefix for category in categories for prefix in category_prefixes(category)})
    scopes = [DEFAULT_SCOPE, *(category_scope(s) for s in slugs), *(seller_scope(s) for s in sellers)]
    return [(_partition(scope), FEES_CURRENT_SK) for scope in scopes]


def fee_policies_from(seller_ids: Iterable[str], categories: Iterable[str],
                      items: Iterable[FeeScheduleItem]) -> dict[str, FeePolicy]:
    """:func:`fee_policies` from the items read by :func:`fee_policy_keys` (pure)."""
    sellers = sorted(set(seller_ids))
    slugs = sorted({prefix for category in categories for prefix in category_prefixes(category)})
    found = {item.scope: _schedule(item) for item in items}
    category_schedules = {slug: schedule for slug in slugs if (schedule := found.get(category_scope(slug)))}
    default = found.get(DEFAULT_SCOPE) or NO_FEES
    return {seller: FeePolicy(default=default, categories=category_schedules, seller=found.get(seller_scope(seller)))
            for seller in sellers}


def fee_policies(seller_ids: Iterable[str], categories: Iterable[str]) -> dict[str, FeePolicy]:
    """The policy of every seller of a checkout, for lines in ``categories``: one
    BatchGetItem (1 RT up to 100 keys) whatever the number of lines."""
    seller_ids, categories = list(seller_ids), list(categories)
    items = FeeScheduleItem.batch_get(fee_policy_keys(seller_ids, categories))
    return fee_policies_from(seller_ids, categories, items)


def seller_fee_view(seller_id: str) -> tuple[FeePolicy, list[FeeSchedule]]:
    """What applies to one seller: its policy and, unless it has an override of its
    own, the category overrides (BatchGetItem + Query, 2 RT)."""
    policy = fee_policies([seller_id], [])[seller_id]
    return policy, ([] if policy.seller is not None else category_overrides())


# ------------------------------------------------------------------- trailing sales


def _month_text(day: date) -> str:
    return f"{day:%Y-%m}"


def record_sale(seller_id: str, amount: Money, day: date) -> ItemWrite:
    """ADD ``amount`` (negative for a refund) to the seller's sales of ``day`` (UTC), a day
    of the month's item: one item a seller in the order's transaction, as the daily item
    was. ``transaction.add(label, write)`` in the order's transaction, or ``.apply()`` on its own."""
    month_end = date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
    expires = calendar.timegm((month_end + timedelta(days=1 + SALES_TTL_DAYS_AFTER_MONTH)).timetuple())
    item = MonthlySales(PK=seller_key(seller_id), SK=monthly_sales_sk(amount.currency, _month_text(day)))
    return ItemWrite(item, actions=(
        MonthlySales.seller_id.set(seller_id), MonthlySales.currency.set(amount.currency),
        MonthlySales.month.set(_month_text(day)), MonthlySales.day_attribute(day.day).add(amount.amount),
        MonthlySales.expires_at.set(expires),
    ))


def _window(today: date) -> list[date]:
    return [today - timedelta(days=n) for n in range(TRAILING_DAYS)]


def trailing_sales(seller_id: str, currency: str, today: date) -> Money:
    """The seller's sales in the 30 days ending with ``today`` (today included): BatchGetItem
    of the window's 2 (or 3) months (1 RT)."""
    return trailing_sales_of([seller_id], currency, today)[seller_id]


def trailing_sales_keys(seller_ids: Iterable[str], currency: str, today: date) -> list[tuple[str, str]]:
    """The monthly sales items that hold the 30 days ending with ``today``, for a caller that
    reads them with other items in one BatchGetItem (checkout): 2 a seller, 3 on 1 March of
    a common year. The daily items written before the monthly ones are not read (see
    :mod:`chalicelib.fees.models`): 30 keys a seller is what the monthly items save."""
    currency = Money.zero(currency).currency
    months = sorted({_month_text(day) for day in _window(today)})
    return [(seller_key(s), monthly_sales_sk(currency, month)) for s in sorted(set(seller_ids)) for month in months]


def trailing_sales_from(seller_ids: Iterable[str], currency: str, items: Iterable[MonthlySales],
                        today: date) -> dict[str, Money]:
    """:func:`trailing_sales_of` from the items read by :func:`trailing_sales_keys` (pure):
    only the days of the window count, not the rest of its first month."""
    currency = Money.zero(currency).currency
    days_of: dict[str, list[int]] = {}
    for day in _window(today):
        days_of.setdefault(_month_text(day), []).append(day.day)
    totals = dict.fromkeys(sorted(set(seller_ids)), 0)
    for item in items:
        totals[item.seller_id] += sum(item.sales_on(day) for day in days_of.get(item.month, []))
    return {seller: Money(currency, total) for seller, total in totals.items()}


def trailing_sales_of(seller_ids: Iterable[str], currency: str, today: date) -> dict[str, Money]:
    """Trailing sales of several sellers by BatchGetItem (1 RT per 50 sellers)."""
    seller_ids = list(seller_ids)
    items = MonthlySales.batch_get(trailing_sales_keys(seller_ids, currency, today))
    return trailing_sales_from(seller_ids, currency, items, today)
