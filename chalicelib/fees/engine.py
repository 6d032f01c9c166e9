"""The marketplace fee of an order line, from the operator's schedules. Pure: no I/O.

**Which schedule applies** (precedence): a seller override beats a category override,
which beats the marketplace default. A category override applies to its slug and every
slug below it (``fashion`` covers ``fashion/shoes``, not ``fashionable``); the longest
matching slug wins. An override replaces the whole schedule (percentage, fixed amount,
minimum/maximum, tiers); volume tiers apply to whichever schedule was chosen.

**The rounding rule** (the only one): per order line,

1. ``percentage = line_total.percent_of(bp)``, rounded half-up to the minor unit
   (``bp`` is the schedule's basis points, or its volume tier's);
2. ``fee = percentage + fixed``;
3. clamp to ``[minimum, maximum]`` where the schedule sets them;
4. clamp to ``[0, line_total]``: a fee is never negative and never above its line.

An order's fee is the sum of its lines' fees, each rounded on its own. Integer minor
units and integer basis points throughout, never a float.

**Volume tiers**: a tier ``(above, bp)`` replaces the percentage once the seller's sales
of the trailing 30 days in the line's currency are strictly above ``above``. Thresholds
strictly increase and each tier's percentage is at most the one before it (the first at
most the schedule's), so selling more never raises a seller's percentage.

A currency the schedule does not list is charged the percentage only (no fixed amount,
limits or tiers).

**Shipping** (:func:`shipping_fee`): a seller's shipping is charged a fee only when the
seller's base schedule (its override, else the default; category overrides never apply:
shipping has no category) sets ``fee_on_shipping``. Then it pays that schedule's percentage
(its volume tier's) of the shipping amount, half-up, without the fixed amount or limits,
which are per order line. Off by default: shipping is charged no fee.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeGuard

from chalicelib.core.money import CURRENCY_EXPONENTS, CurrencyMismatch, Money

MAX_BP = 10_000
DEFAULT_SCOPE = "default"
CATEGORY_SCOPE = "category:"
SELLER_SCOPE = "seller:"


class InvalidFeeSchedule(ValueError):
    """A schedule breaks a rule; ``problems`` lists ``(field path, message)``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))
        self.problems = problems


@dataclass(frozen=True)
class VolumeTier:
    above: int  # trailing-30-day sales in minor units that must be exceeded
    percent_bp: int


@dataclass(frozen=True)
class CurrencyTerms:
    """The parts of a schedule that are amounts, hence per currency."""

    fixed: int = 0
    minimum: int | None = None
    maximum: int | None = None
    tiers: tuple[VolumeTier, ...] = ()
    subscription_fee: int | None = None  # per month; seller and default schedules only


_NO_TERMS = CurrencyTerms()


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _amount_problems(path: str, value: object) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not _is_int(value) or value < 0:
        return [(path, "must be a whole number of minor units, 0 or more")]
    return []


def _bp_problems(path: str, value: object) -> list[tuple[str, str]]:
    if not _is_int(value) or not 0 <= value <= MAX_BP:
        return [(path, f"must be whole basis points from 0 to {MAX_BP}")]
    return []


def _terms_problems(path: str, terms: CurrencyTerms, percent_bp: int, scope: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for name in ("fixed", "minimum", "maximum", "subscription_fee"):
        problems += _amount_problems(f"{path}.{name}", getattr(terms, name))
    if (terms.minimum is not None and terms.maximum is not None and not problems
            and terms.minimum > terms.maximum):
        problems.append((f"{path}.minimum", "must not be above the maximum"))
    if terms.subscription_fee is not None and scope.startswith(CATEGORY_SCOPE):
        problems.append((f"{path}.subscription_fee", "a category override cannot set a subscription fee"))
    previous_above, previous_bp = -1, percent_bp
    for i, tier in enumerate(terms.tiers):
        tier_problems = _amount_problems(f"{path}.tiers.{i}.above", tier.above)
        tier_problems += _bp_problems(f"{path}.tiers.{i}.percent_bp", tier.percent_bp)
        problems += tier_problems
        if tier_problems:
            break
        if tier.above <= previous_above:
            problems.append((f"{path}.tiers.{i}.above", "thresholds must strictly increase"))
        if _is_int(previous_bp) and tier.percent_bp > previous_bp:
            problems.append((f"{path}.tiers.{i}.percent_bp",
                             "a tier must not raise the percentage of the tier (or schedule) before it"))
        previous_above, previous_bp = tier.above, tier.percent_bp
    return problems


@dataclass(frozen=True)
class FeeSchedule:
    """One version of one schedule (the default, a category's or a seller's)."""

    percent_bp: int
    currencies: Mapping[str, CurrencyTerms] = field(default_factory=dict)
    scope: str = DEFAULT_SCOPE
    version: int = 0
    effective_from: str | None = None
    fee_on_shipping: bool = False  # see the module docstring; never on a category override

    def __post_init__(self) -> None:
        problems = _bp_problems("percent_bp", self.percent_bp)
        for currency, terms in self.currencies.items():
            if currency not in CURRENCY_EXPONENTS:
                problems.append((f"currencies.{currency}", "is not a supported currency"))
                continue
            problems += _terms_problems(f"currencies.{currency}", terms, self.percent_bp, self.scope)
        if self.fee_on_shipping and self.scope.startswith(CATEGORY_SCOPE):
            problems.append(("fee_on_shipping", "shipping has no category: set it on the default or a seller"))
        if problems:
            raise InvalidFeeSchedule(problems)

    @property
    def ref(self) -> str:
        """What an order stores to say which version priced it: ``category:fashion@3``."""
        return f"{self.scope}@{self.version}"

    def terms(self, currency: str) -> CurrencyTerms:
        return self.currencies.get(currency, _NO_TERMS)

    def rate(self, trailing_30_day_sales: Money) -> tuple[int, VolumeTier | None]:
        """The basis points that apply at this sales volume, and the tier that set them."""
        chosen: VolumeTier | None = None
        for tier in self.terms(trailing_30_day_sales.currency).tiers:
            if trailing_30_day_sales.amount > tier.above:
                chosen = tier
        return (chosen.percent_bp, chosen) if chosen else (self.percent_bp, None)

    def subscription_fee(self, currency: str) -> Money | None:
        amount = self.terms(currency).subscription_fee
        return Money(currency, amount) if amount is not None else None

    def terms_json(self) -> dict[str, Any]:
        """The stored/served form of the rules (without scope and version)."""
        return {
            "percent_bp": self.percent_bp,
            "currencies": {
                currency: {
                    "fixed": t.fixed, "minimum": t.minimum, "maximum": t.maximum,
                    "tiers": [{"above": tier.above, "percent_bp": tier.percent_bp} for tier in t.tiers],
                    "subscription_fee": t.subscription_fee,
                }
                for currency, t in sorted(self.currencies.items())
            },
            "fee_on_shipping": self.fee_on_shipping,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, scope: str = DEFAULT_SCOPE, version: int = 0,
                  effective_from: str | None = None) -> FeeSchedule:
        currencies = {
            str(code).upper(): CurrencyTerms(
                fixed=terms.get("fixed", 0), minimum=terms.get("minimum"), maximum=terms.get("maximum"),
                tiers=tuple(VolumeTier(t["above"], t["percent_bp"]) for t in terms.get("tiers") or ()),
                subscription_fee=terms.get("subscription_fee"),
            )
            for code, terms in (data.get("currencies") or {}).items()
        }
        return cls(percent_bp=data["percent_bp"], currencies=currencies, scope=scope, version=version,
                   effective_from=effective_from, fee_on_shipping=bool(data.get("fee_on_shipping", False)))


NO_FEES = FeeSchedule(percent_bp=0)  # the default until the operator sets one (version 0)


def category_scope(slug: str) -> str:
    return f"{CATEGORY_SCOPE}{slug}"


def seller_scope(seller_id: str) -> str:
    return f"{SELLER_SCOPE}{seller_id}"


def covers(override_slug: str, category: str) -> bool:
    """``fashion`` covers ``fashion`` and ``fashion/shoes`` but not ``fashionable``."""
    return category == override_slug or category.startswith(override_slug + "/")


@dataclass(frozen=True)
class FeePolicy:
    """Every schedule that may apply to one seller's lines."""

    default: FeeSchedule = NO_FEES
    categories: Mapping[str, FeeSchedule] = field(default_factory=dict)  # slug -> override
    seller: FeeSchedule | None = None

    def schedule_for(self, category: str) -> FeeSchedule:
        """Seller override, else the longest covering category override, else the default."""
        if self.seller is not None:
            return self.seller
        matching = [slug for slug in self.categories if covers(slug, category)]
        if matching:
            return self.categories[max(matching, key=len)]
        return self.default

    @property
    def base_schedule(self) -> FeeSchedule:
        """The seller's override, else the default: what applies outside overridden
        categories, and where the monthly subscription fee comes from (it is per seller,
        so categories never set one)."""
        return self.seller if self.seller is not None else self.default


@dataclass(frozen=True)
class FeeBreakdown:
    """How one line's fee came about; an order stores it (with ``schedule_ref``)."""

    line_total: Money
    fee: Money
    percent_bp: int
    percentage_part: Money
    fixed_part: Money
    schedule_ref: str
    tier_above: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "line_total": self.line_total.to_json(), "fee": self.fee.to_json(), "percent_bp": self.percent_bp,
            "percentage_part": self.percentage_part.to_json(), "fixed_part": self.fixed_part.to_json(),
            "schedule_ref": self.schedule_ref, "tier_above": self.tier_above,
        }


def _clamp(value: int, low: int | None, high: int | None) -> int:
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value


def line_fee(schedule: FeePolicy | FeeSchedule, *, line_total: Money, category: str,
             trailing_30_day_sales: Money) -> FeeBreakdown:
    """The fee of one order line (see the module docstring for the rule)."""
    if line_total.amount < 0:
        raise ValueError("a line total cannot be negative")
    if trailing_30_day_sales.currency != line_total.currency:
        raise CurrencyMismatch(f"{trailing_30_day_sales.currency} sales for a {line_total.currency} line")
    chosen = schedule.schedule_for(category) if isinstance(schedule, FeePolicy) else schedule
    terms = chosen.terms(line_total.currency)
    percent_bp, tier = chosen.rate(trailing_30_day_sales)
    percentage = line_total.percent_of(percent_bp)
    fee = _clamp(percentage.amount + terms.fixed, terms.minimum, terms.maximum)
    fee = _clamp(fee, 0, line_total.amount)
    return FeeBreakdown(
        line_total=line_total, fee=Money(line_total.currency, fee), percent_bp=percent_bp,
        percentage_part=percentage, fixed_part=Money(line_total.currency, terms.fixed),
        schedule_ref=chosen.ref, tier_above=tier.above if tier else None,
    )


def shipping_fee(policy: FeePolicy, *, shipping: Money, trailing_30_day_sales: Money) -> Money:
    """The fee on a seller's shipping amount (see the module docstring): 0 unless the seller's
    base schedule sets ``fee_on_shipping``."""
    schedule = policy.base_schedule
    if not schedule.fee_on_shipping or shipping.amount <= 0:
        return Money.zero(shipping.currency)
    if trailing_30_day_sales.currency != shipping.currency:
        raise CurrencyMismatch(f"{trailing_30_day_sales.currency} sales for {shipping.currency} shipping")
    percent_bp, _ = schedule.rate(trailing_30_day_sales)
    return Money(shipping.currency, min(shipping.percent_of(percent_bp).amount, shipping.amount))


class FeeLine(NamedTuple):
    line_total: Money
    category: str


@dataclass(frozen=True)
class OrderFees:
    lines: tuple[FeeBreakdown, ...]
    total: Money  # the sum of the lines' fees, each rounded on its own


def order_fees(policy: FeePolicy | FeeSchedule, lines: Sequence[FeeLine], *,
               trailing_30_day_sales: Money) -> OrderFees:
    """The fees of one seller's lines of an order (one currency: a sub-order's)."""
    breakdowns = tuple(
        line_fee(policy, line_total=line.line_total, category=line.category,
                 trailing_30_day_sales=trailing_30_day_sales)
        for line in lines
    )
    total = Money.zero(trailing_30_day_sales.currency)
    for breakdown in breakdowns:
        total = total + breakdown.fee
    return OrderFees(lines=breakdowns, total=total)
