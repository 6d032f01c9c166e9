"""Request and response shapes of promotions and their codes (sellers' and the operator's)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, model_validator

from chalicelib.accounts.validation import COUNTRIES
from chalicelib.catalog.schemas import Currency, PriceIn
from chalicelib.core import clock
from chalicelib.core.categories import CATEGORIES
from chalicelib.core.pagination import DEFAULT_LIMIT, Cursor, Limit
from chalicelib.core.schemas import (
    DateTimeIn,
    MoneySchema,
    PageSchema,
    PatchSchema,
    QuerySchema,
    RequestSchema,
    ResponseSchema,
    WholeNumber,
    omit_null_defaults,
)

PromotionKind = Literal["percentage", "fixed_amount", "free_shipping", "buy_x_get_y", "spend_threshold"]
TargetKind = Literal["order", "sellers", "categories", "brands", "products"]
FirstOrder = Literal["marketplace", "seller"]
MAX_CODES = 10_000


def _country(code: str) -> str:
    if code not in COUNTRIES:
        raise ValueError(f"unknown country {code!r}")
    return code


Country = Annotated[str, AfterValidator(_country), Field(json_schema_extra={"enum": sorted(COUNTRIES)})]
Quantity = Annotated[WholeNumber, Field(ge=1, le=100)]
Count = Annotated[WholeNumber, Field(ge=1, le=1_000_000_000)]
BasisPoints = Annotated[WholeNumber, Field(ge=1, le=10_000, description="1 bp = 0.01 %: 1000 is 10 %.")]
Share = Annotated[WholeNumber, Field(ge=0, le=10_000, description=(
    "Operator promotions: the share the sellers bear, in basis points (0: the marketplace pays it all; "
    "10000: the sellers do). A seller's promotion is always the seller's own (0 here)."))]
Priority = Annotated[WholeNumber, Field(ge=0, le=1_000, description=(
    "Lower runs first; each promotion applies to the prices the ones before it left."))]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Tier = Annotated[str, Field(min_length=1, max_length=50)]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class TierIn(RequestSchema):
    from_amount: PriceIn = Field(description="From this goods value (after the discounts before it)...")
    amount_off: PriceIn = Field(description="...this much off.")


class TargetIn(RequestSchema):
    kind: TargetKind = "order"
    values: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=100,
        description="sellers: seller ids (operator only); categories: slugs, each covering its subcategories; "
                    "brands (case-insensitive); products: product ids. Empty for the order.")

    @model_validator(mode="after")
    def _known_categories(self) -> "TargetIn":
        unknown = [slug for slug in self.values if self.kind == "categories" and slug not in CATEGORIES]
        if unknown:
            raise ValueError(f"unknown categories: {', '.join(unknown)}")
        return self


_MONEY_FIELDS = ("amount_off", "minimum_goods_value", "budget", "cap")


class _Fields(RequestSchema):
    """What both creating and changing take; checks that every amount is in the promotion's currency."""

    @model_validator(mode="after")
    def _one_currency(self) -> "_Fields":
        currency = getattr(self, "currency", None)
        amounts = [getattr(self, name, None) for name in _MONEY_FIELDS]
        for tier in getattr(self, "tiers", None) or []:
            amounts += [tier.from_amount, tier.amount_off]
        found = {amount.currency for amount in amounts if amount is not None}
        if len(found) > 1 or (currency is not None and found - {currency}):
            raise ValueError("every amount of a promotion is in its one currency")
        return self


class PromotionCreate(_Fields):
    name: Name = Field(examples=["Sommer -10 %"])
    kind: PromotionKind
    currency: Currency = Field(description="The promotion's amounts, budget and figures; it applies to carts in "
                                           "this currency.")
    percent_bp: BasisPoints | None = Field(default=None, description="percentage: how much off, in basis points.")
    amount_off: PriceIn | None = Field(default=None, description="fixed_amount: allocated to the targeted lines.")
    buy_quantity: Quantity | None = Field(default=None, description="buy_x_get_y: X.")
    get_quantity: Quantity | None = Field(default=None, description="buy_x_get_y: Y free (the cheapest units), per "
                                                                    "multiple of X+Y.")
    tiers: list[TierIn] | None = Field(default=None, min_length=1, max_length=10,
                                       description="spend_threshold: the highest tier reached applies.")
    target: TargetIn = Field(default_factory=TargetIn)
    minimum_goods_value: PriceIn | None = Field(default=None, description="Of the targeted lines.")
    customer_group_ids: list[Id] = Field(default_factory=list, max_length=20,
                                         description="Only buyers in one of these customer groups.")
    first_order_only: FirstOrder | None = Field(default=None, description=(
        "Only the buyer's first order with the marketplace, or with the promotion's seller."))
    countries: list[Country] = Field(default_factory=list, max_length=60,
                                     description="Only for these destination countries (empty: any).")
    starts_at: DateTimeIn | None = None
    ends_at: DateTimeIn | None = None
    loyalty_tier: Tier | None = Field(default=None, description=(
        "Only signed-in buyers in this loyalty tier (its name, exactly) get the promotion; guests never."))
    max_uses: Count | None = None
    max_uses_per_buyer: Count | None = None
    budget: PriceIn | None = Field(default=None, description="The most this promotion gives in all.")
    cap: PriceIn | None = Field(default=None, description="The most it takes off one order.")
    priority: Priority = 100
    exclusive: StrictBool = Field(default=False, description=(
        "When it applies, the promotions after it (by priority) do not."))
    automatic: StrictBool = Field(default=False, description="Applies without a code (fixed once created).")
    active: StrictBool = True
    seller_share_bp: Share = 0


class PromotionChange(_Fields, PatchSchema):
    """Only the fields sent change; null clears a condition or a limit."""

    name: Name = Field(default=None)  # type: ignore[assignment]
    percent_bp: BasisPoints = Field(default=None)  # type: ignore[assignment]
    amount_off: PriceIn = Field(default=None)  # type: ignore[assignment]
    buy_quantity: Quantity = Field(default=None)  # type: ignore[assignment]
    get_quantity: Quantity = Field(default=None)  # type: ignore[assignment]
    tiers: list[TierIn] = Field(default=None, min_length=1, max_length=10)  # type: ignore[arg-type]
    target: TargetIn = Field(default=None)  # type: ignore[assignment]
    minimum_goods_value: PriceIn | None = None
    customer_group_ids: list[Id] = Field(default=None, max_length=20)  # type: ignore[arg-type]
    first_order_only: FirstOrder | None = None
    countries: list[Country] = Field(default=None, max_length=60)  # type: ignore[arg-type]
    starts_at: DateTimeIn | None = None
    ends_at: DateTimeIn | None = None
    loyalty_tier: Tier | None = None
    max_uses: Count | None = None
    max_uses_per_buyer: Count | None = None
    budget: PriceIn | None = None
    cap: PriceIn | None = None
    priority: Priority = Field(default=None)  # type: ignore[assignment]
    exclusive: StrictBool = Field(default=None)  # type: ignore[assignment]
    active: StrictBool = Field(default=None)  # type: ignore[assignment]
    seller_share_bp: Share = Field(default=None)  # type: ignore[assignment]


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else clock.stamp(moment)


def promotion_fields(body: PromotionCreate | PromotionChange) -> dict[str, Any]:
    """The fields sent, as the promotion's attributes (amounts in minor units)."""
    sent = body.model_fields_set if isinstance(body, PromotionChange) else set(type(body).model_fields)
    fields: dict[str, Any] = {}
    for name in sent:
        value = getattr(body, name)
        if name in _MONEY_FIELDS:
            if value is not None:
                fields["currency"] = value.currency
            target_name = {"amount_off": "amount", "minimum_goods_value": "minimum"}.get(name, name)
            fields[target_name] = value.amount if value is not None else (
                0 if target_name in ("amount", "minimum") else None)
        elif name == "tiers":
            fields["tiers"] = None if value is None else [[t.from_amount.amount, t.amount_off.amount] for t in value]
            if value:
                fields["currency"] = value[0].from_amount.currency
        elif name == "target":
            fields["target"], fields["target_values"] = value.kind, list(value.values)
        elif name in ("starts_at", "ends_at"):
            fields[name] = _stamp(value)
        elif name == "customer_group_ids":
            fields["customer_groups"] = list(value)
        elif name == "first_order_only":
            fields["first_order"] = value
        elif name in ("percent_bp", "buy_quantity", "get_quantity"):
            fields[name] = value or 0
        else:
            fields[name] = value
    if isinstance(body, PromotionCreate):
        fields["currency"] = body.currency
    return fields


class PageQuery(QuerySchema):
    cursor: Cursor | None = Field(default=None, description="`next_cursor` of the previous page.")
    limit: Limit = DEFAULT_LIMIT


class ExportQuery(QuerySchema):
    cursor: Cursor | None = Field(default=None, description="`X-Next-Cursor` of the previous part.")


def _one_code_or_generate(schema: dict[str, Any]) -> None:
    omit_null_defaults(schema)  # typed without None: may be left out, not sent as null
    schema["oneOf"] = [{"required": ["code"]}, {"required": ["generate"]}]


class CodesCreate(RequestSchema):
    """Either one public code of your choosing, or ``generate`` single-use codes (the schema's
    ``oneOf`` says so, so a client's validator refuses ``{}`` as the API does)."""

    model_config = ConfigDict(json_schema_extra=_one_code_or_generate)

    code: str = Field(default=None, min_length=3, max_length=40, pattern=r"^[A-Za-z0-9_ -]+$",  # type: ignore[assignment]
                      description="A public code (many uses), case-insensitive; spaces are dropped.",
                      examples=["SOMMER10"])
    generate: Annotated[WholeNumber, Field(ge=1, le=MAX_CODES)] = Field(  # type: ignore[assignment]
        default=None, description=f"How many random single-use codes to make (up to {MAX_CODES:,}).")

    @model_validator(mode="after")
    def _one_of(self) -> "CodesCreate":
        if (self.code is None) == (self.generate is None):
            raise ValueError("send either code or generate")
        return self


class TierOut(ResponseSchema):
    from_amount: MoneySchema
    amount_off: MoneySchema


class TargetOut(ResponseSchema):
    kind: TargetKind
    values: list[str]


class Funding(ResponseSchema):
    seller_bp: int = Field(description="The share the seller bears, in basis points; the marketplace the rest.")


class Stats(ResponseSchema):
    uses: int = Field(description="Orders that used it (given back when an unpaid order is cancelled).")
    discount_given: MoneySchema = Field(description="Net of what cancellations and refunds gave back.")
    orders: int = Field(description="Paid orders it applied to (counted once each, when paid).")
    revenue: MoneySchema = Field(description="Those orders' totals, as paid.")


class Promotion(ResponseSchema):
    promotion_id: str
    scope: Literal["marketplace", "seller"]
    seller_id: str | None
    name: str
    kind: PromotionKind
    currency: str
    percent_bp: int | None
    amount_off: MoneySchema | None
    buy_quantity: int | None
    get_quantity: int | None
    tiers: list[TierOut] | None
    target: TargetOut
    minimum_goods_value: MoneySchema | None
    customer_group_ids: list[str]
    first_order_only: FirstOrder | None
    countries: list[str]
    starts_at: datetime | None
    ends_at: datetime | None
    loyalty_tier: str | None
    max_uses: int | None
    max_uses_per_buyer: int | None
    budget: MoneySchema | None
    cap: MoneySchema | None
    priority: int
    exclusive: bool
    automatic: bool
    active: bool
    seller_share_bp: int
    funding: Funding
    stats: Stats
    created_at: datetime
    updated_at: datetime


class PromotionPage(PageSchema):
    items: list[Promotion]


class PromoCode(ResponseSchema):
    code: str
    kind: Literal["public", "single_use", "personal"]
    account_id: str | None = Field(description="A personal code's buyer.")
    valid_until: datetime | None
    used_by_order: str | None = Field(description="The order that used a single-use or personal code.")
    created_at: datetime


class PromoCodePage(PageSchema):
    items: list[PromoCode]


class CodesCreated(ResponseSchema):
    count: int
    items: list[PromoCode]


def _money(amount: Any, currency: str) -> MoneySchema | None:
    return None if amount is None else MoneySchema(amount=int(amount), currency=currency)


def promotion(item: Any) -> Promotion:
    currency = item.currency
    seller_bp = 10_000 if item.scope == "seller" else int(item.seller_share_bp)
    return Promotion(
        promotion_id=item.promotion_id, scope=item.scope, seller_id=item.seller_id, name=item.name, kind=item.kind,
        currency=currency, percent_bp=int(item.percent_bp) or None,
        amount_off=_money(int(item.amount) or None, currency), buy_quantity=int(item.buy_quantity) or None,
        get_quantity=int(item.get_quantity) or None,
        tiers=None if item.tiers is None else [TierOut(from_amount=MoneySchema(amount=t, currency=currency),
                                                       amount_off=MoneySchema(amount=o, currency=currency))
                                               for t, o in item.tiers],
        target=TargetOut(kind=item.target, values=list(item.target_values or [])),
        minimum_goods_value=_money(int(item.minimum) or None, currency),
        customer_group_ids=list(item.customer_groups or []), first_order_only=item.first_order,
        countries=list(item.countries or []), starts_at=item.starts_at, ends_at=item.ends_at,
        loyalty_tier=item.loyalty_tier, max_uses=None if item.max_uses is None else int(item.max_uses),
        max_uses_per_buyer=None if item.max_uses_per_buyer is None else int(item.max_uses_per_buyer),
        budget=_money(item.budget, currency), cap=_money(item.cap, currency), priority=int(item.priority),
        exclusive=bool(item.exclusive), automatic=bool(item.automatic), active=bool(item.active),
        seller_share_bp=int(item.seller_share_bp), funding=Funding(seller_bp=seller_bp),
        stats=Stats(uses=int(item.uses), discount_given=MoneySchema(amount=int(item.discount_given),
                                                                    currency=currency),
                    orders=int(item.orders), revenue=MoneySchema(amount=int(item.revenue), currency=currency)),
        created_at=item.created_at, updated_at=item.updated_at)


def promotion_page(page: Any) -> PromotionPage:
    return PromotionPage(items=[promotion(i) for i in page.items], next_cursor=page.next_cursor)


def promo_code(item: Any) -> PromoCode:
    return PromoCode(code=item.code, kind=item.kind, account_id=item.account_id, valid_until=item.valid_until,
                     used_by_order=item.used_by_order, created_at=item.created_at)


def promo_code_page(page: Any) -> PromoCodePage:
    return PromoCodePage(items=[promo_code(i) for i in page.items], next_cursor=page.next_cursor)


def codes_created(items: list[Any]) -> CodesCreated:
    return CodesCreated(count=len(items), items=[promo_code(i) for i in items])
