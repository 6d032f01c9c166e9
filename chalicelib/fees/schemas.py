"""Fee schedule requests and responses.

Amounts are strict integers in minor units; percentages are strict integer basis points
(1 bp = 0.01 %, 10000 = 100 %). Rules across fields (supported currency, minimum not
above maximum, tiers) are checked by :mod:`chalicelib.fees.engine`, the one place that
defines a valid schedule. Category slugs in paths: :mod:`chalicelib.fees.routes`.
"""

from typing import Annotated, Any

from pydantic import Field, StrictBool

from chalicelib.core.money import CURRENCY_EXPONENTS
from chalicelib.core.schemas import RequestSchema, ResponseSchema, WholeNumber

BasisPoints = Annotated[WholeNumber, Field(ge=0, le=10_000, description="Basis points: 250 = 2.5 %.")]
MinorUnits = Annotated[WholeNumber, Field(ge=0, description="Integer amount in minor units (cents).")]


class TierIn(RequestSchema):
    above: MinorUnits = Field(description="Applies once the seller's trailing-30-day sales in this currency "
                                          "are strictly above this amount.")
    percent_bp: BasisPoints


class CurrencyTermsIn(RequestSchema):
    fixed: MinorUnits = Field(default=0, description="Added to every order line.")
    minimum: MinorUnits | None = Field(default=None, description="Least fee per line (still never above the line).")
    maximum: MinorUnits | None = Field(default=None, description="Most fee per line.")
    tiers: list[TierIn] = Field(default_factory=list, max_length=20,
                                description="Volume tiers: strictly increasing thresholds, never a higher percentage.")
    subscription_fee: MinorUnits | None = Field(default=None, description="Monthly seller subscription "
                                                "(default and seller schedules only).")


class FeeScheduleIn(RequestSchema):
    percent_bp: BasisPoints
    currencies: dict[str, CurrencyTermsIn] = Field(default_factory=dict, max_length=20, json_schema_extra={
                                                       "propertyNames": {"enum": list(CURRENCY_EXPONENTS)}},
                                                   description="Amounts per ISO 4217 currency code.")
    fee_on_shipping: StrictBool = Field(default=False, description="Charge the percentage (not the fixed amount or "
                                        "limits) on the seller's shipping too. Default and seller schedules only.")


class TierOut(ResponseSchema):
    above: int
    percent_bp: int


class CurrencyTermsOut(ResponseSchema):
    fixed: int
    minimum: int | None
    maximum: int | None
    tiers: list[TierOut]
    subscription_fee: int | None


class FeeScheduleOut(ResponseSchema):
    scope: str = Field(description="default, category:<slug> or seller:<seller_id>.")
    version: int = Field(description="0 for the built-in no-fee default.")
    ref: str = Field(description="What an order stores: <scope>@<version>.")
    effective_from: str | None
    percent_bp: int
    currencies: dict[str, CurrencyTermsOut]
    fee_on_shipping: bool = Field(description="Whether the seller's shipping is charged the percentage too.")


class FeeOverview(ResponseSchema):
    default: FeeScheduleOut
    categories: list[FeeScheduleOut] = Field(description="Active category overrides (the longest slug prefix wins).")


class SellerFees(ResponseSchema):
    applies: str = Field(description="seller_override, or marketplace_default (with category overrides).")
    schedule: FeeScheduleOut
    category_overrides: list[FeeScheduleOut] = Field(
        description="Category overrides that replace the default for their categories; empty under a seller override.")


def schedule_out(schedule: Any) -> FeeScheduleOut:
    return FeeScheduleOut(scope=schedule.scope, version=schedule.version, ref=schedule.ref,
                          effective_from=schedule.effective_from, **schedule.terms_json())
