"""The shipping quote of one seller's part of an order, and the VAT its price carries. Pure: no I/O.

The cart and checkout (next) read the seller's profiles by key and call :func:`quote`;
this module decides prices, so that both say the same.

**Which profile a line ships with.** A line's product names a profile, or none (the
seller's default, id ``default``). A product naming a profile the seller no longer has
(it was deleted) ships with the default. A seller without a default profile (every seller
before shipping profiles existed) ships such lines everywhere for free: today's behaviour.

**The price of a part.** Lines are grouped by the profile they ship with; each group looks
up the zone of its profile that holds the destination country:

- no zone holds the country: the group's products are ``undeliverable`` and the part
  cannot be ordered (no option is offered);
- standard: the zone's ``standard`` rate for the group's first item, plus
  ``per_extra_item`` (0 when the zone has none) for each further item;
- express, only when *every* group's zone offers it: the zone's express rate for the
  first item, plus the same ``per_extra_item`` for each further item;
- free shipping: a group whose goods value (after discounts) reaches its zone's
  ``free_shipping_threshold`` pays no standard shipping. Express is never free.

The part pays the sum over its groups. Handling days are the longest of the groups'
profiles; delivery days are the longest minimum and the longest maximum of the groups'
zones (unknown when a zone does not say).

**VAT of shipping** (:func:`shipping_vat`): shipping follows the goods it ships, by the
proportional rule: the shipping price is split over the VAT rates of the part's goods in
proportion to the goods value at each rate (largest remainder, so the parts add up to the
price exactly, ties to the lower rate), and each share includes VAT at its rate
(``tax = share * rate / (10000 + rate)``, half-up, as goods are taxed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from chalicelib.core.keys import DEFAULT_SHIPPING_PROFILE
from chalicelib.core.money import Money, divide_half_up

OptionKind = Literal["standard", "express"]


@dataclass(frozen=True)
class Express:
    rate: Money
    delivery_days_min: int
    delivery_days_max: int


@dataclass(frozen=True)
class Zone:
    countries: frozenset[str]
    standard: Money
    per_extra_item: Money | None = None
    express: Express | None = None
    free_shipping_threshold: Money | None = None
    delivery_days_min: int | None = None
    delivery_days_max: int | None = None


@dataclass(frozen=True)
class Profile:
    profile_id: str
    zones: tuple[Zone, ...]
    handling_days: int = 0

    def zone_for(self, country: str) -> Zone | None:
        return next((zone for zone in self.zones if country in zone.countries), None)


@dataclass(frozen=True)
class Line:
    """One line of a seller's part: ``goods_value`` is what the buyer pays for the goods of
    the line after every discount (VAT included)."""

    product_id: str
    profile_id: str | None
    quantity: int
    goods_value: Money


@dataclass(frozen=True)
class Option:
    kind: OptionKind
    price: Money
    handling_days: int
    delivery_days_min: int | None
    delivery_days_max: int | None


@dataclass(frozen=True)
class FreeShipping:
    """A profile group's threshold and what its goods lack to reach it (0 once reached)."""

    profile_id: str
    threshold: Money
    left: Money

    @property
    def reached(self) -> bool:
        return self.left.amount == 0


@dataclass(frozen=True)
class Quote:
    undeliverable: tuple[str, ...]  # product ids, in the order of the lines
    options: tuple[Option, ...]  # standard first; empty when anything is undeliverable
    free_shipping: tuple[FreeShipping, ...]  # groups with a threshold, by profile id; empty when undeliverable

    @property
    def deliverable(self) -> bool:
        return not self.undeliverable

    def option(self, kind: OptionKind) -> Option | None:
        return next((option for option in self.options if option.kind == kind), None)


@dataclass(frozen=True)
class _Group:
    profile: Profile
    zone: Zone
    items: int
    goods: Money


def effective_profile(profile_id: str | None, profiles: Mapping[str, Profile]) -> Profile | None:
    """The profile a line ships with: the one named, else the default; None: no profile at all."""
    if profile_id is not None and profile_id in profiles:
        return profiles[profile_id]
    return profiles.get(DEFAULT_SHIPPING_PROFILE)


def quote(profiles: Mapping[str, Profile], lines: Sequence[Line], country: str) -> Quote:
    """The shipping options of one seller's part (rules in the module docstring). ``profiles``
    are the seller's, by id; ``country`` is the ISO alpha-2 destination. Prices are in the
    lines' currency, which must be the profiles'."""
    if not lines:
        raise ValueError("a part without lines has no shipping")
    currency = lines[0].goods_value.currency
    zero = Money.zero(currency)
    country = country.upper()
    undeliverable: list[str] = []
    grouped: dict[str, tuple[Profile, Zone, int, Money]] = {}
    for line in lines:
        profile = effective_profile(line.profile_id, profiles)
        if profile is None:
            continue  # no profile: free, everywhere
        zone = profile.zone_for(country)
        if zone is None:
            undeliverable.append(line.product_id)
            continue
        _, _, items, goods = grouped.get(profile.profile_id, (profile, zone, 0, zero))
        grouped[profile.profile_id] = (profile, zone, items + line.quantity, goods + line.goods_value)
    if undeliverable:
        return Quote(undeliverable=tuple(undeliverable), options=(), free_shipping=())
    groups = [_Group(profile, zone, items, goods) for profile, zone, items, goods in
              (grouped[key] for key in sorted(grouped))]
    free = tuple(_free_shipping(group) for group in groups if group.zone.free_shipping_threshold is not None)
    reached = {entry.profile_id for entry in free if entry.reached}
    handling = max((int(group.profile.handling_days) for group in groups), default=0)
    standard = Option(
        kind="standard",
        price=sum((zero if group.profile.profile_id in reached else _price(group, group.zone.standard)
                   for group in groups), zero),
        handling_days=handling,
        delivery_days_min=_longest(group.zone.delivery_days_min for group in groups),
        delivery_days_max=_longest(group.zone.delivery_days_max for group in groups))
    options = [standard]
    expresses = [(group, group.zone.express) for group in groups if group.zone.express is not None]
    if groups and len(expresses) == len(groups):
        options.append(Option(
            kind="express",
            price=sum((_price(group, express.rate) for group, express in expresses), zero),
            handling_days=handling,
            delivery_days_min=max(express.delivery_days_min for _, express in expresses),
            delivery_days_max=max(express.delivery_days_max for _, express in expresses)))
    return Quote(undeliverable=(), options=tuple(options), free_shipping=free)


def _price(group: _Group, first_item: Money) -> Money:
    extra = group.zone.per_extra_item or Money.zero(first_item.currency)
    return first_item + extra.times(max(group.items - 1, 0))


def _free_shipping(group: _Group) -> FreeShipping:
    threshold = group.zone.free_shipping_threshold
    assert threshold is not None
    left = Money(threshold.currency, max(threshold.amount - group.goods.amount, 0))
    return FreeShipping(profile_id=group.profile.profile_id, threshold=threshold, left=left)


def _longest(days: Iterable[int | None]) -> int | None:
    """The longest of the groups' days; None when any group's zone does not say."""
    values = list(days)
    known = [value for value in values if value is not None]
    if not values or len(known) < len(values):
        return None
    return max(known)


# --- VAT ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ShippingVat:
    """The share of a shipping price that carries one VAT rate, and the VAT included in it."""

    rate_bp: int
    gross: Money
    tax: Money


def split_proportionally(price: Money, weights: Sequence[int]) -> list[Money]:
    """``price`` split in proportion to ``weights`` to the cent: each part gets its floor, the
    cents left go to the largest remainders, ties to the earlier weight. The parts add up to
    ``price`` exactly and none is negative (for a price and weights >= 0). All weights 0:
    everything on the first."""
    if price.amount < 0 or any(weight < 0 for weight in weights) or not weights:
        raise ValueError("a price >= 0 over at least one weight >= 0")
    total = sum(weights)
    if total == 0:
        return [price if i == 0 else Money.zero(price.currency) for i in range(len(weights))]
    shares = [price.amount * weight // total for weight in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(price.amount * weights[i] % total), i))
    for i in by_remainder[:price.amount - sum(shares)]:
        shares[i] += 1
    return [Money(price.currency, share) for share in shares]


def shipping_vat(price: Money, goods_by_rate: Mapping[int, Money]) -> list[ShippingVat]:
    """The VAT a part's shipping ``price`` carries, by the proportional rule of the module
    docstring. ``goods_by_rate``: the part's goods value after discounts per VAT rate in basis
    points (the rates the goods were taxed at). One entry per rate, lowest rate first."""
    rates = sorted(goods_by_rate)
    if not rates:
        raise ValueError("shipping follows the VAT of goods; the part has none")
    shares = split_proportionally(price, [goods_by_rate[rate].amount for rate in rates])
    return [ShippingVat(rate_bp=rate, gross=share,
                        tax=Money(share.currency, divide_half_up(share.amount * rate, 10_000 + rate)))
            for rate, share in zip(rates, shares, strict=True)]
