"""Request and response schemas of shipping profiles.

A zone's rates are money objects like every price of the API, VAT included like product
prices, all in the seller's default currency (checked by the service, 422
`shipping_currency`). A country may be in one zone of a profile only (422
`country_in_two_zones`, also the service's: a patch replaces the zones as a whole).
"""

from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from chalicelib.accounts.validation import COUNTRIES
from chalicelib.core.keys import DEFAULT_SHIPPING_PROFILE
from chalicelib.core.money import CURRENCY_EXPONENTS
from chalicelib.core.schemas import (
    MoneySchema,
    PatchSchema,
    RequestSchema,
    ResponseSchema,
    WholeNumber,
    omit_null_defaults,
)

MAX_RATE = 99_999_999  # minor units: a million in the currency is no delivery price
MAX_ZONES = 50
MAX_COUNTRIES = len(COUNTRIES)
MAX_DAYS = 90
MAX_HANDLING_DAYS = 30


def _country(code: str) -> str:
    if code not in COUNTRIES:
        raise ValueError("use the upper-case ISO 3166-1 alpha-2 code, e.g. DE, AT or CH")
    return code


def _currency(code: str) -> str:
    if code not in CURRENCY_EXPONENTS:
        raise ValueError(f"unsupported currency {code!r}; one of {', '.join(CURRENCY_EXPONENTS)}")
    return code


Country = Annotated[str, AfterValidator(_country), Field(json_schema_extra={"enum": sorted(COUNTRIES)})]
Currency = Annotated[str, AfterValidator(_currency), Field(description="The seller's default currency.",
                                                         json_schema_extra={"enum": list(CURRENCY_EXPONENTS)})]
Days = Annotated[WholeNumber, Field(ge=0, le=MAX_DAYS)]


class RateIn(RequestSchema):
    amount: Annotated[WholeNumber, Field(ge=0, le=MAX_RATE, description="Integer minor units, VAT included.")]
    currency: Currency


class ThresholdIn(RequestSchema):
    amount: Annotated[WholeNumber, Field(gt=0, le=MAX_RATE * 100, description="Integer minor units.")]
    currency: Currency


def _ordered(low: int | None, high: int | None) -> None:
    if (low is None) != (high is None):
        raise ValueError("send delivery_days_min and delivery_days_max together")
    if low is not None and high is not None and low > high:
        raise ValueError("delivery_days_min must not exceed delivery_days_max")


class ExpressIn(RequestSchema):
    rate: RateIn = Field(description="Replaces the standard rate for the first item; further items cost "
                                     "`per_extra_item` as with standard. Never free.")
    delivery_days_min: Days = Field(description="The delivery promise, in days after handling (1 = next day).")
    delivery_days_max: Days

    @model_validator(mode="after")
    def _days(self) -> "ExpressIn":
        _ordered(self.delivery_days_min, self.delivery_days_max)
        return self


class ZoneIn(RequestSchema):
    countries: list[Country] = Field(min_length=1, max_length=MAX_COUNTRIES, json_schema_extra={"uniqueItems": True},
                                     description="ISO 3166-1 alpha-2 codes, upper case; each in one zone only.")
    standard: RateIn = Field(description="Per seller part: the first item of the profile's products.")
    per_extra_item: RateIn | None = Field(default=None, description="Each further item; none: 0.")
    express: ExpressIn | None = None
    free_shipping_threshold: ThresholdIn | None = Field(
        default=None, description="Standard shipping is free from this goods value (after discounts, VAT "
                                  "included) of the profile's products in the part.")
    delivery_days_min: Days | None = Field(default=None, description="Standard delivery, in days after handling.")
    delivery_days_max: Days | None = None

    @model_validator(mode="after")
    def _days(self) -> "ZoneIn":
        _ordered(self.delivery_days_min, self.delivery_days_max)
        if len(set(self.countries)) != len(self.countries):
            raise ValueError("a country is named twice")
        return self


Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Zones = Annotated[list[ZoneIn], Field(min_length=1, max_length=MAX_ZONES)]
HandlingDays = Annotated[WholeNumber, Field(ge=0, le=MAX_HANDLING_DAYS,
                                            description="Working days before the parcel leaves.")]


class ProfileCreate(RequestSchema):
    """The seller's first profile becomes its default (id `default`)."""

    name: Name
    zones: Zones
    handling_days: HandlingDays = 1


def _patch_schema(schema: dict[str, Any]) -> None:
    omit_null_defaults(schema)
    schema["minProperties"] = 1


class ProfilePatch(PatchSchema):
    """Changes the fields sent; `zones` replaces every zone."""

    model_config = ConfigDict(**RequestSchema.model_config, json_schema_extra=_patch_schema)

    name: Name = None  # type: ignore[assignment]
    zones: Zones = None  # type: ignore[assignment]
    handling_days: HandlingDays = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _not_empty(self) -> "ProfilePatch":
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        return self


class ExpressOut(ResponseSchema):
    rate: MoneySchema
    delivery_days_min: int
    delivery_days_max: int


class ZoneOut(ResponseSchema):
    countries: list[str]
    standard: MoneySchema
    per_extra_item: MoneySchema | None
    express: ExpressOut | None
    free_shipping_threshold: MoneySchema | None
    delivery_days_min: int | None
    delivery_days_max: int | None


class ProfileOut(ResponseSchema):
    profile_id: str = Field(description="`default` for the seller's default profile.")
    name: str
    is_default: bool
    currency: str
    handling_days: int
    zones: list[ZoneOut]
    version: int
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, profile: Any) -> "ProfileOut":
        return cls(profile_id=profile.profile_id, name=profile.name,
                   is_default=profile.profile_id == DEFAULT_SHIPPING_PROFILE,
                   currency=profile.currency, handling_days=int(profile.handling_days),
                   zones=[ZoneOut.model_validate(zone) for zone in profile.zones], version=int(profile.version),
                   created_at=profile.created_at, updated_at=profile.updated_at)


class ProfileList(ResponseSchema):
    """All of the seller's profiles (at most 20), the default first."""

    items: list[ProfileOut]
