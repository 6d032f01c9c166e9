"""Request and response shapes of the retention analytics reports (seller and operator)."""

from datetime import date
from typing import Literal

from pydantic import ConfigDict, Field

from chalicelib.catalog.schemas import Currency
from chalicelib.core.schemas import DateIn, MoneySchema, QuerySchema, ResponseSchema

Period = Literal["day", "week", "month", "quarter", "year"]
Breakdown = Literal["country", "customer_group", "lifecycle_phase", "tier"]
_QUERY = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_by_name=True, defer_build=True)
_OUT = ConfigDict(extra="ignore", defer_build=True, serialize_by_alias=True, validate_by_name=True)
_CURRENCY = ("The scope's figures in this currency (orders in other currencies are other figures). "
             "Default: a seller's default currency; the marketplace's view needs it.")


class RetentionQuery(QuerySchema):
    model_config = _QUERY

    period: Period = Field(default="month", description="Calendar periods; weeks are ISO weeks (Monday first).")
    from_: DateIn | None = Field(default=None, alias="from", description=(
        "First day (UTC), inclusive; the report starts with the period holding it. Default: 11 periods "
        "before the current one."))
    to: DateIn | None = Field(default=None, description=(
        "Last day (UTC), exclusive; the report ends with the period holding the day before. Default: tomorrow. "
        "At most 366 periods."))
    currency: Currency | None = Field(default=None, description=_CURRENCY)
    breakdown: Breakdown | None = Field(default=None, description=(
        "Not available yet: every value answers 422 `breakdown_not_available`."))


class MarketplaceRetentionQuery(RetentionQuery):
    currency: Currency = Field(description="The marketplace's figures in this currency (one view per currency).")


class CohortQuery(QuerySchema):
    model_config = _QUERY

    from_: DateIn | None = Field(default=None, alias="from", description=(
        "Cohorts whose first order falls in the month of this day or later. Default: 11 months ago."))
    to: DateIn | None = Field(default=None, description=(
        "Cohorts whose first order falls before this day (exclusive). Default: tomorrow. At most 60 months."))
    currency: Currency | None = Field(default=None, description=_CURRENCY)
    format: Literal["json", "csv"] = Field(default="json", description=(
        "csv: one row per cohort and month since: `cohort,customers,months_since,buyers,share_buying,revenue,"
        "revenue_per_customer` (amounts in minor units)."))


class MarketplaceCohortQuery(CohortQuery):
    currency: Currency = Field(description="The marketplace's figures in this currency (one view per currency).")


class GapBucket(ResponseSchema):
    min: int = Field(description="Days, at least.")
    max: int | None = Field(description="Days, at most; null: above 365.")


class RetentionPeriod(ResponseSchema):
    period: str = Field(description="2026-12-07, 2026-W49, 2026-12, 2026-Q4 or 2026.")
    start: date
    end: date = Field(description="The day after the period (exclusive).")
    customers_at_start: int = Field(description="S: customers active at the end of the day before the period.")
    customers_at_end: int = Field(description="E: customers active at the end of the period's last day.")
    new_customers: int = Field(description="N: customers whose first counted order is in the period.")
    retention_rate: str | None = Field(description="CRR = (E - N) / S x 100, percent with 2 decimals; null when S = 0 "
                                                   "(see retention_rate_missing).")
    churn_rate: str | None = Field(description="100 - CRR; null when CRR is.")
    retention_rate_missing: str | None = Field(description="Why CRR is null: `no_active_customers_at_start` (S = 0).")
    customers: int = Field(description="Customers with a counted order up to the period's end.")
    repeat_customers: int = Field(description="Of those, customers with two or more counted orders.")
    repeat_purchase_rate: str | None = Field(description="repeat_customers / customers x 100; null without customers.")
    buyers: int = Field(description="Distinct customers with a counted order in the period.")
    orders: int = Field(description="Counted orders in the period.")
    purchase_frequency: str | None = Field(description="orders / buyers; null without buyers.")
    revenue: MoneySchema = Field(description="Net of refunds.")
    average_order_value: MoneySchema | None = Field(description="revenue / orders, half-up; null without orders.")
    revenue_new: MoneySchema = Field(description="Net revenue of customers' first orders.")
    revenue_returning: MoneySchema = Field(description="Net revenue of customers' second and later orders.")
    median_days_between_orders: GapBucket | None = Field(description=(
        "The bucket of the median gap between a customer's consecutive orders, of the orders in the period "
        "(the gap ends with the order); null without repeat orders."))


class RetentionReport(ResponseSchema):
    model_config = _OUT

    scope: Literal["seller", "marketplace"]
    currency: str
    period: Period
    from_: date = Field(alias="from", description="The first period's first day.")
    to: date = Field(description="The day after the last period.")
    active_days: int = Field(description="The look-back window: active means a counted order within this many days.")
    periods: list[RetentionPeriod]


class CohortMonth(ResponseSchema):
    months_since: int = Field(description="0: the cohort's first month.")
    buyers: int = Field(description="Customers of the cohort with a counted order in that month.")
    share_buying: str | None = Field(description="buyers / the cohort's customers x 100, percent with 2 decimals.")
    revenue: MoneySchema
    revenue_per_customer: MoneySchema | None = Field(description="revenue / the cohort's customers, half-up.")


class Cohort(ResponseSchema):
    cohort: str = Field(description="The month of the customers' first counted order (yyyy-mm).")
    customers: int
    months: list[CohortMonth] = Field(description="Months with buyers or revenue, in order.")


class CohortReport(ResponseSchema):
    model_config = _OUT

    scope: Literal["seller", "marketplace"]
    currency: str
    from_: str = Field(alias="from", description="The first cohort month.")
    to: str = Field(description="The last cohort month.")
    cohorts: list[Cohort]
