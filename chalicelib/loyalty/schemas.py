"""Request and response shapes of the loyalty programme (buyer, seller and operator)."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool

from chalicelib.catalog.schemas import Currency
from chalicelib.core.pagination import DEFAULT_LIMIT, Cursor, Limit
from chalicelib.core.schemas import (
    DateTimeIn,
    MoneySchema,
    PageSchema,
    QuerySchema,
    RequestSchema,
    ResponseSchema,
    WholeNumber,
)
from chalicelib.ledger.schemas import Window
from chalicelib.loyalty import programme as rules

Points = Annotated[WholeNumber, Field(ge=0, le=1_000_000_000)]
Multiplier = Annotated[WholeNumber, Field(ge=10_000, le=100_000, description=(
    "In basis points of the base rate: 10000 = x1, 15000 = x1.5, 20000 = double points."))]
ShareBp = Annotated[WholeNumber, Field(ge=0, le=10_000, description="Basis points of the order: 5000 = 50 %.")]
Name = Annotated[str, Field(min_length=1, max_length=50)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Id = Annotated[str, Field(min_length=1, max_length=100)]
Reason = Literal["sign_up", "newsletter_confirmed", "first_review", "birthday", "referral"]


class PointValueIn(RequestSchema):
    points: Annotated[WholeNumber, Field(ge=1, le=1_000_000)] = 100
    amount: Annotated[WholeNumber, Field(ge=1, le=1_000_000, description="Minor units of the programme's currency.")] \
        = 100


class RedemptionIn(RequestSchema):
    min_points: Points = Field(default=0, description="The fewest points a checkout may redeem.")
    min_order_share_bp: ShareBp = Field(default=0, description="Stored; checkout does not use it.")
    max_order_share_bp: ShareBp = Field(default=10_000, description=(
        "The most that points may pay of an order's goods after promotions (VAT included, shipping excluded)."))


class EventPointsIn(RequestSchema):
    sign_up: Points = 0
    newsletter_confirmed: Points = 0
    first_review: Points = 0
    birthday: Points = 0
    referral: Points = 0


class TierIn(RequestSchema):
    name: Name
    threshold: Points = Field(description="Points earned, or spend in minor units (``tier_basis``), over the "
                                          "rolling 12 months.")
    earn_multiplier_bp: Multiplier = 10_000
    perks: list[Text] = Field(default_factory=list, max_length=20)


class ExpiryIn(RequestSchema):
    policy: Literal["lot", "inactivity", "never"] = Field(default="lot", description=(
        "lot: each earning's points expire `months` after they became available; inactivity: all available "
        "points expire `months` after the buyer last earned, spent or was adjusted; never."))
    months: Annotated[WholeNumber, Field(ge=1, le=120)] = 12


class ReferralsIn(RequestSchema):
    monthly_cap: Annotated[WholeNumber, Field(ge=0, le=1_000, description=(
        "Referrals a referrer is rewarded for per calendar month; later ones that month earn nothing."))] = 10


class ProgrammeIn(RequestSchema):
    enabled: StrictBool
    currency: Currency = "EUR"
    points_per_unit: Annotated[WholeNumber, Field(ge=0, le=1_000, description=(
        "Points per whole currency unit of goods paid: net of VAT, after every discount, without shipping."))] = 1
    point_value: PointValueIn = Field(default_factory=PointValueIn, description="`points` are worth `amount`.")
    redemption: RedemptionIn = Field(default_factory=RedemptionIn, description=(
        "Checkout's `redeem_points`: at least `min_points`, worth at most `max_order_share_bp` of the goods."))
    event_points: EventPointsIn = Field(default_factory=EventPointsIn)
    tier_basis: Literal["points_earned", "spend"] = "points_earned"
    tiers: list[TierIn] = Field(default_factory=list, max_length=10, description="By rising threshold.")
    expiry: ExpiryIn = Field(default_factory=ExpiryIn)
    referrals: ReferralsIn = Field(default_factory=ReferralsIn, description=(
        "The referrer and the new buyer each get `event_points.referral` when the new buyer's first order "
        "completes, unless their emails, addresses or cards match."))


class TierOut(ResponseSchema):
    name: str
    threshold: int
    earn_multiplier_bp: int
    perks: list[str]


class ProgrammeOut(ResponseSchema):
    enabled: bool
    currency: str
    points_per_unit: int
    point_value: dict[str, int]
    redemption: dict[str, int]
    event_points: dict[str, int]
    tier_basis: str
    tiers: list[TierOut]
    expiry: dict[str, Any]
    version: int
    updated_at: str | None
    referrals: dict[str, int]


def programme_from(body: ProgrammeIn) -> rules.Programme:
    return rules.Programme(
        enabled=body.enabled, currency=body.currency, points_per_unit=body.points_per_unit,
        value_points=body.point_value.points, value_amount=body.point_value.amount,
        min_redeem_points=body.redemption.min_points, min_order_share_bp=body.redemption.min_order_share_bp,
        max_order_share_bp=body.redemption.max_order_share_bp,
        event_points={k: v for k, v in body.event_points.model_dump().items() if v},
        tier_basis=body.tier_basis,
        tiers=tuple(rules.Tier(t.name, t.threshold, t.earn_multiplier_bp, tuple(t.perks)) for t in body.tiers),
        expiry_policy=body.expiry.policy, expiry_months=body.expiry.months,
        referral_monthly_cap=body.referrals.monthly_cap)


def programme_out(programme: rules.Programme) -> ProgrammeOut:
    settings = programme.settings()
    return ProgrammeOut(
        enabled=programme.enabled, currency=programme.currency, points_per_unit=programme.points_per_unit,
        point_value=settings["point_value"], redemption=settings["redemption"],
        event_points={reason: int(programme.event_points.get(reason, 0)) for reason in rules.EVENT_REASONS},
        tier_basis=programme.tier_basis,
        tiers=[TierOut(name=t.name, threshold=t.threshold, earn_multiplier_bp=t.multiplier_bp, perks=list(t.perks))
               for t in programme.tiers],
        expiry=settings["expiry"], version=programme.version, updated_at=programme.updated_at,
        referrals=settings["referrals"])


# ----------------------------------------------------------------------------- campaigns


class CampaignIn(RequestSchema):
    name: Text
    multiplier_bp: Multiplier
    target: Literal["all", "categories", "sellers", "products"] = "all"
    values: list[Id] = Field(default_factory=list, max_length=100, description=(
        "categories: slugs (each covers its subcategories); sellers: seller ids; products: product ids."))
    starts_at: DateTimeIn
    ends_at: DateTimeIn


class SellerCampaignIn(RequestSchema):
    name: Text
    multiplier_bp: Multiplier = Field(description=(
        "The bonus is (multiplier - 1) x the base points on your products, charged to you when earned."))
    product_ids: list[Id] = Field(default_factory=list, max_length=100, description="Empty: all your products.")
    starts_at: DateTimeIn
    ends_at: DateTimeIn


class CampaignOut(ResponseSchema):
    campaign_id: str
    name: str
    multiplier_bp: int
    target: str
    values: list[str]
    starts_at: str
    ends_at: str
    funded_by: str = Field(description="marketplace, or seller (the seller's own bonus).")
    created_at: str


class CampaignList(ResponseSchema):
    items: list[CampaignOut]


def campaign_out(campaign: rules.Campaign) -> CampaignOut:
    return CampaignOut(campaign_id=campaign.campaign_id, name=campaign.name, multiplier_bp=campaign.multiplier_bp,
                       target=campaign.target, values=list(campaign.target_values), starts_at=campaign.starts_at,
                       ends_at=campaign.ends_at, funded_by="seller" if campaign.seller_id else "marketplace",
                       created_at=campaign.created_at)


# ----------------------------------------------------------------------------- the buyer


class TierView(ResponseSchema):
    name: str | None = Field(description="null below the first tier (or without tiers).")
    earn_multiplier_bp: int
    perks: list[str]
    next_tier: str | None
    progress: int = Field(description="Points earned (or spend in minor units) over the rolling 12 months.")
    next_threshold: int | None
    to_next: int | None = Field(description="What is missing for the next tier; null at the top.")
    basis: str
    requalify_on: date | None = Field(description="The yearly re-qualification day; null before any points.")


class ExpiringOut(ResponseSchema):
    points: int = Field(description="Available points that expire within 30 days.")
    first_expires_at: str | None


class ReferralOut(ResponseSchema):
    code: str = Field(description="Made the first time it is asked for; a new buyer gives it at sign-up.")
    link: str = Field(description="The marketplace frontend with `?ref=<code>`.")
    referred: int = Field(description="Buyers who signed up with my code.")
    rewarded: int = Field(description="Of them, those whose first completed order earned us both points.")


class LoyaltyOverview(ResponseSchema):
    enabled: bool
    available: int
    pending: int = Field(description="Earned on orders whose return window has not ended yet.")
    lifetime_earned: int
    available_value: MoneySchema
    pending_value: MoneySchema
    tier: TierView
    expiring: ExpiringOut
    referral: ReferralOut = Field(description="My referral code and link to share, and how it did.")


def overview_out(view: Any) -> LoyaltyOverview:
    programme = view.programme
    nxt = view.next_tier
    return LoyaltyOverview(
        enabled=programme.enabled, available=view.available, pending=view.pending, lifetime_earned=view.earned,
        available_value=view.available_value.to_json(), pending_value=view.pending_value.to_json(),
        tier=TierView(name=view.tier.name if view.tier else None,
                      earn_multiplier_bp=view.tier.multiplier_bp if view.tier else 10_000,
                      perks=list(view.tier.perks) if view.tier else [], next_tier=nxt.name if nxt else None,
                      progress=view.measure, next_threshold=nxt.threshold if nxt else None,
                      to_next=max(0, nxt.threshold - view.measure) if nxt else None, basis=programme.tier_basis,
                      requalify_on=view.requalify_on),
        expiring=ExpiringOut(points=view.expiring_points, first_expires_at=view.expiring_at),
        referral=ReferralOut(code=view.referral.code, link=view.referral.link, referred=view.referral.referred,
                             rewarded=view.referral.rewarded))


class PageQuery(QuerySchema):
    cursor: Cursor | None = Field(default=None, description="`next_cursor` of the previous page.")
    limit: Limit = DEFAULT_LIMIT


class TransactionOut(ResponseSchema):
    movement_id: str
    kind: Literal["earned", "available", "reversed", "expired", "adjusted", "redeemed"]
    reason: str = Field(description="order, order_completed, refund, expiry, adjustment, sign_up, "
                                    "newsletter_confirmed, first_review, birthday, referral; `redeemed`: checkout "
                                    "(points paid part of an order, once it was paid) or refund (given back).")
    points: int = Field(description="What available + pending changed by (0 when pending became available).")
    available_change: int
    pending_change: int
    forgiven: int = Field(description="Points a refund would have taken back that were spent before: not taken.")
    order_id: str | None
    seller_id: str | None
    note: str | None = Field(description="The operator's reason of an adjustment.")
    at: str


class TransactionPage(PageSchema):
    items: list[TransactionOut]


def transaction_page(page: Any) -> TransactionPage:
    return TransactionPage(items=[TransactionOut(
        movement_id=m.movement_id, kind=m.kind, reason=m.reason, points=int(m.points),
        available_change=int(m.available_change or 0), pending_change=int(m.pending_change or 0),
        forgiven=int(m.forgiven or 0), order_id=m.order_id, seller_id=m.seller_id, note=m.note, at=m.at)
        for m in page.items], next_cursor=page.next_cursor)


# ----------------------------------------------------------------------------- the operator


class AdjustmentIn(RequestSchema):
    user_id: Id = Field(description="The buyer's account id.")
    points: Annotated[WholeNumber, Field(ge=-1_000_000, le=1_000_000, description=(
        "Positive: points given, available at once; negative: taken from the available points, oldest first "
        "(409 `insufficient_points` when fewer are available). Not 0."))]
    reason: Text


class AdjustmentOut(ResponseSchema):
    adjustment_id: str
    user_id: str
    points: int
    reason: str
    by: str = Field(description="The operator who made it.")
    at: str


class AdjustmentPage(PageSchema):
    items: list[AdjustmentOut]


def adjustment_out(item: Any) -> AdjustmentOut:
    return AdjustmentOut(adjustment_id=item.adjustment_id, user_id=item.user_id, points=int(item.points),
                         reason=item.reason, by=item.by, at=item.at)


class ReportQuery(Window):
    format: Literal["json", "csv"] = Field(default="json", description="csv: `metric,value` rows.")


class PointsFlows(ResponseSchema):
    issued: int
    reversed: int
    redeemed: int
    expired: int
    adjusted_in: int
    adjusted_out: int


class TierCount(ResponseSchema):
    tier: str | None = Field(description="null: members below the first tier.")
    members: int


class GroupComparison(ResponseSchema):
    orders: int = Field(description="Orders paid in the programme's currency.")
    repeat_orders: int = Field(description="Of them, orders by a buyer who had paid an order before.")
    repeat_purchase_rate: str | None = Field(description="repeat_orders per order, percent; null without orders.")
    revenue: MoneySchema = Field(description="What the orders charged: goods, shipping and VAT.")
    refunded: MoneySchema = Field(description="Refunded since, of those orders.")
    average_order_value: MoneySchema | None = Field(description="(revenue - refunded) / orders, rounded half up; "
                                                                "null without orders.")


class MemberComparison(ResponseSchema):
    months: list[str] = Field(description="The calendar months (yyyy-mm) the window touches, which are counted.")
    members: GroupComparison = Field(description="Orders of buyers who had earned points before paying them.")
    non_members: GroupComparison


class LoyaltyReport(ResponseSchema):
    model_config = ConfigDict(extra="ignore", defer_build=True, serialize_by_alias=True, validate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    members: int = Field(description="Buyers with points or a points history, now.")
    active_members: int = Field(description="Members who earned, spent or were adjusted in the calendar months the "
                                            "window touches.")
    members_joined: int
    points: PointsFlows = Field(description="Movements in the window.")
    outstanding_points: int = Field(description="Pending and available, now.")
    outstanding_liability: MoneySchema = Field(description="Their value in the ledger (loyalty_liability), now.")
    redemption_rate: str | None = Field(description="Redeemed per issued in the window, percent; null when none "
                                                    "was issued.")
    tiers: list[TierCount]
    member_comparison: MemberComparison = Field(description=(
        "Members' against non-members' orders over the calendar months the window touches."))
