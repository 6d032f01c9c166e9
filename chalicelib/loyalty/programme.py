"""The marketplace's loyalty programme (one, the operator's) and the bonus campaigns.

Earning rule, per paid sub-order: ``points = floor(Σ line goods x points_per_unit x tier
multiplier x campaign multipliers)``, where a line's goods are what the buyer paid for it
net of VAT, after every discount (``total - tax`` of the sub-order's line, as checkout
priced it) and without shipping (not a line). A seller's bonus campaign adds
``goods x points_per_unit x (multiplier - 1)`` on the seller's own products, as a lot of its
own that the seller funds. Round trips: GetItem (programme), Query (campaigns).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.core import clock
from chalicelib.core.db import find_item, was_condition_failure
from chalicelib.core.errors import Code, Conflict, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.keys import (
    LOYALTY_CAMPAIGN_PREFIX,
    LOYALTY_KEY,
    LOYALTY_PROGRAMME_SK,
    LOYALTY_TOTALS_SK,
    SELLER_LOYALTY_CAMPAIGN_PREFIX,
    loyalty_campaign_sk,
    loyalty_totals_keys,
    seller_key,
    seller_loyalty_campaign_sk,
)
from chalicelib.core.money import CURRENCY_EXPONENTS, Money, divide_half_up
from chalicelib.loyalty.models import LoyaltyCampaign, LoyaltyProgramme, LoyaltyTotals

EVENT_REASONS = ("sign_up", "newsletter_confirmed", "first_review", "birthday", "referral")
TIER_BASES = ("points_earned", "spend")
EXPIRY_POLICIES = ("lot", "inactivity", "never")
FULL_BP = 10_000
TARGETS = ("all", "categories", "sellers", "products")


@dataclass(frozen=True)
class Tier:
    name: str
    threshold: int  # points earned, or spend in minor units, over the rolling 12 months
    multiplier_bp: int = FULL_BP
    perks: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "threshold": self.threshold, "multiplier_bp": self.multiplier_bp,
                "perks": list(self.perks)}


@dataclass(frozen=True)
class Programme:
    enabled: bool = False
    currency: str = "EUR"
    points_per_unit: int = 1
    value_points: int = 100  # this many points...
    value_amount: int = 100  # ...are worth this much (minor units of ``currency``)
    min_redeem_points: int = 0  # the fewest points one checkout redeems
    min_order_share_bp: int = 0  # stored; checkout does not use it
    max_order_share_bp: int = FULL_BP  # of the order's goods after promotions, that points may pay
    event_points: Mapping[str, int] = field(default_factory=dict)
    tier_basis: str = "points_earned"
    tiers: tuple[Tier, ...] = ()
    expiry_policy: str = "lot"
    expiry_months: int = 12
    version: int = 0
    updated_at: str | None = None
    referral_monthly_cap: int = 10  # rewarded referrals per referrer and calendar month

    def value_of(self, points: int) -> Money:
        """What ``points`` are worth, rounded half-up to the minor unit."""
        return Money(self.currency, divide_half_up(points * self.value_amount, self.value_points))

    def redemption_value(self, points: int) -> Money:
        """What ``points`` take off an order at checkout: rounded down to the minor unit, so
        redeeming never pays out more than the points are worth."""
        return Money(self.currency, points * self.value_amount // self.value_points)

    def base_points(self, goods_minor: int) -> Fraction:
        """Points before multipliers for net goods of ``goods_minor`` (not yet floored)."""
        return Fraction(goods_minor * self.points_per_unit, 10 ** CURRENCY_EXPONENTS[self.currency])

    def tier(self, name: str | None) -> Tier | None:
        return next((tier for tier in self.tiers if tier.name == name), None)

    def rank(self, name: str | None) -> int:
        """0 below the first tier, then 1, 2… in threshold order."""
        return next((number for number, tier in enumerate(self.tiers, 1) if tier.name == name), 0)

    def qualified_tier(self, measure: int) -> Tier | None:
        """The highest tier whose threshold ``measure`` reaches."""
        reached = [tier for tier in self.tiers if measure >= tier.threshold]
        return reached[-1] if reached else None

    def next_tier(self, name: str | None) -> Tier | None:
        rank = self.rank(name)
        return self.tiers[rank] if rank < len(self.tiers) else None

    def settings(self) -> dict[str, Any]:
        return {"points_per_unit": self.points_per_unit,
                "point_value": {"points": self.value_points, "amount": self.value_amount},
                "redemption": {"min_points": self.min_redeem_points, "min_order_share_bp": self.min_order_share_bp,
                               "max_order_share_bp": self.max_order_share_bp},
                "event_points": dict(self.event_points), "tier_basis": self.tier_basis,
                "tiers": [tier.to_json() for tier in self.tiers],
                "expiry": {"policy": self.expiry_policy, "months": self.expiry_months},
                "referrals": {"monthly_cap": self.referral_monthly_cap}}


def _from_item(item: LoyaltyProgramme | None) -> Programme:
    if item is None:
        return Programme()
    s: dict[str, Any] = dict(item.settings or {})
    value = s.get("point_value", {})
    redemption = s.get("redemption", {})
    expiry = s.get("expiry", {})
    return Programme(
        enabled=bool(item.enabled), currency=item.currency, points_per_unit=int(s.get("points_per_unit", 1)),
        value_points=int(value.get("points", 100)), value_amount=int(value.get("amount", 100)),
        min_redeem_points=int(redemption.get("min_points", 0)),
        min_order_share_bp=int(redemption.get("min_order_share_bp", 0)),
        max_order_share_bp=int(redemption.get("max_order_share_bp", FULL_BP)),
        event_points={k: int(v) for k, v in s.get("event_points", {}).items()},
        tier_basis=s.get("tier_basis", "points_earned"),
        tiers=tuple(Tier(t["name"], int(t["threshold"]), int(t.get("multiplier_bp", FULL_BP)),
                         tuple(t.get("perks", ()))) for t in s.get("tiers", [])),
        expiry_policy=expiry.get("policy", "lot"), expiry_months=int(expiry.get("months", 12)),
        version=int(item.version or 0), updated_at=item.updated_at,
        referral_monthly_cap=int(s.get("referrals", {}).get("monthly_cap", 10)),
    )


def programme_from(item: LoyaltyProgramme | None) -> Programme:
    """The programme of an item read elsewhere (the checkout's BatchGetItem)."""
    return _from_item(item)


def get_programme() -> Programme:
    """The programme as stored (disabled until the operator sets it): GetItem (1 RT)."""
    return _from_item(find_item(LoyaltyProgramme, LOYALTY_KEY, LOYALTY_PROGRAMME_SK, consistent_read=True))


def _invalid(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code=Code.VALIDATION_FAILED,
                            details=[{"field": f"body.{field_name}", "message": message, "type": "value_error"}])


def check(programme: Programme) -> Programme:
    """The rules a schema cannot state: tiers in rising thresholds with distinct names."""
    names = [tier.name for tier in programme.tiers]
    if len(set(names)) != len(names):
        raise _invalid("tiers", "tier names must differ")
    thresholds = [tier.threshold for tier in programme.tiers]
    if thresholds != sorted(set(thresholds)):
        raise _invalid("tiers", "tiers must be listed by rising threshold, each threshold once")
    if programme.min_order_share_bp > programme.max_order_share_bp:
        raise _invalid("redemption", "the minimum share cannot exceed the maximum share")
    unknown = set(programme.event_points) - set(EVENT_REASONS)
    if unknown:
        raise _invalid("event_points", f"unknown reasons: {sorted(unknown)}")
    return programme


def _outstanding_points() -> int:
    """Pending and available points of every buyer: BatchGetItem of the totals' shards."""
    items = LoyaltyTotals.batch_get([(key, LOYALTY_TOTALS_SK) for key in loyalty_totals_keys()], consistent_read=True)
    return sum(int(item.outstanding or 0) for item in items)


def save_programme(programme: Programme, *, by: str) -> Programme:
    """Replace the programme (PutItem conditioned on the version read, 2 RT). Balances stay
    when it is switched off: only earning stops. A change of currency would make booked
    values and new ones incomparable, so it is refused (409) while points are outstanding.
    A new point value applies to points earned from then on: earned lots keep their value."""
    check(programme)
    current = find_item(LoyaltyProgramme, LOYALTY_KEY, LOYALTY_PROGRAMME_SK, consistent_read=True)
    version = int(current.version or 0) if current else 0
    if current is not None and current.currency != programme.currency and _outstanding_points():
        raise Conflict("Points are outstanding in the programme's currency; its currency cannot change.",
                       code=Code.CONFLICT, details={"currency": current.currency})
    item = LoyaltyProgramme(PK=LOYALTY_KEY, SK=LOYALTY_PROGRAMME_SK, enabled=programme.enabled,
                            currency=programme.currency, settings=programme.settings(), version=version + 1,
                            updated_at=clock.stamp(), updated_by=by)
    condition = (LoyaltyProgramme.version == version) if current else LoyaltyProgramme.PK.does_not_exist()
    try:
        item.save(condition=condition)
    except PutError as error:
        if was_condition_failure(error):
            raise Conflict("The programme changed meanwhile; read it again.", code=Code.CONCURRENT_UPDATE) from None
        raise
    return replace(programme, version=version + 1, updated_at=item.updated_at)


# ----------------------------------------------------------------------------- campaigns


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    multiplier_bp: int
    target: str
    target_values: tuple[str, ...]
    starts_at: str
    ends_at: str
    seller_id: str | None = None  # funded by this seller, on its own products
    created_at: str = ""

    def runs_at(self, moment: str) -> bool:
        return self.starts_at <= moment < self.ends_at

    def covers(self, line: Mapping[str, Any], seller_id: str) -> bool:
        if self.seller_id is not None and seller_id != self.seller_id:
            return False
        values = set(self.target_values)
        if self.target == "all":
            return True
        if self.target == "sellers":
            return seller_id in values
        if self.target == "products":
            return str(line.get("product_id")) in values
        category = str(line.get("category") or "")
        return any(category == slug or category.startswith(f"{slug}/") for slug in values)


def _campaign(item: LoyaltyCampaign) -> Campaign:
    return Campaign(campaign_id=item.campaign_id, name=item.name, multiplier_bp=int(item.multiplier_bp),
                    target=item.target, target_values=tuple(item.target_values or ()), starts_at=item.starts_at,
                    ends_at=item.ends_at, seller_id=item.seller_id, created_at=item.created_at)


def create_campaign(seller_id: str | None, *, name: str, multiplier_bp: int, target: str,
                    target_values: Sequence[str], starts_at: str, ends_at: str) -> Campaign:
    """The operator's campaign (``seller_id`` None) or a seller's bonus on its own products
    (the seller from the principal; ``products`` or ``all`` of its own). PutItem (1 RT)."""
    if ends_at <= starts_at:
        raise _invalid("ends_at", "a campaign ends after it starts")
    if seller_id is not None and target not in ("all", "products"):
        raise _invalid("target", "a seller's bonus covers its own products: all of them, or some by id")
    campaign_id = new_id("lcp")
    pk, sk = (LOYALTY_KEY, loyalty_campaign_sk(campaign_id)) if seller_id is None else \
        (seller_key(seller_id), seller_loyalty_campaign_sk(campaign_id))
    item = LoyaltyCampaign(PK=pk, SK=sk, campaign_id=campaign_id, seller_id=seller_id, name=name,
                           multiplier_bp=multiplier_bp, target=target, target_values=list(target_values),
                           starts_at=starts_at, ends_at=ends_at, created_at=clock.stamp())
    item.save(condition=LoyaltyCampaign.PK.does_not_exist())
    return _campaign(item)


def campaigns_of(seller_id: str | None) -> list[Campaign]:
    """The operator's campaigns, or one seller's, newest first: Query (1 RT a MB)."""
    pk, prefix = (LOYALTY_KEY, LOYALTY_CAMPAIGN_PREFIX) if seller_id is None else \
        (seller_key(seller_id), SELLER_LOYALTY_CAMPAIGN_PREFIX)
    items = LoyaltyCampaign.query(pk, LoyaltyCampaign.SK.startswith(prefix), scan_index_forward=False)
    return [_campaign(item) for item in items]


def running_campaigns(seller_ids: Iterable[str], moment: str) -> list[Campaign]:
    """Campaigns running at ``moment`` that may touch these sellers' lines: one Query for the
    marketplace's and one per seller."""
    found = campaigns_of(None)
    for seller_id in dict.fromkeys(seller_ids):
        found += campaigns_of(seller_id)
    return [campaign for campaign in found if campaign.runs_at(moment)]
