"""Base classes for request and response schemas.

Every base defers building (``defer_build=True``): a model's validator and serializer are built at
its first use, and ``/openapi.json`` builds them all, so a cold start does not grow with the
number of routes (``tests/unit/test_cold_start.py`` keeps it so). Schema and event modules
leave out ``from __future__ import annotations``: a class's annotations are then evaluated
once by Python, not parsed from strings by pydantic, a quarter of what creating a model costs.
A forward reference is quoted."""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError


def _whole(value: Any) -> Any:
    """JSON Schema counts 12.0 as an integer; a string, a fraction or a boolean stays refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# An integer as JSON Schema means it: 3 and 3.0, never "3", 3.5 or true. (The before-validator
# leaves bounds in the JSON schema under pydantic's names; chalicelib.core.openapi renames them.)
WholeNumber = Annotated[int, BeforeValidator(_whole)]



def _date_time_text(value: Any) -> Any:
    """JSON Schema's date-time is a string: pydantic would also take 0 as 1970-01-01."""
    if not isinstance(value, str):
        raise PydanticCustomError("datetime_type", "Input should be an ISO 8601 date-time string with a time zone")
    return value


# A moment a client sends: an ISO 8601 date-time with its offset (``2026-12-24T00:00:00Z``), never a number.
DateTimeIn = Annotated[AwareDatetime, BeforeValidator(_date_time_text)]


def _date_text(value: Any) -> Any:
    """JSON Schema's date is YYYY-MM-DD: pydantic would also take "0" as 1970-01-01."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise PydanticCustomError("date_type", "Input should be an ISO 8601 date (YYYY-MM-DD)")
    return value


# A day a client sends: ``2026-12-24``, never a number.
DateIn = Annotated[date, BeforeValidator(_date_text)]

PERCENT_PATTERN = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$"


def _percent(value: Any) -> Any:
    """A JSON number read exactly (0.1 stays 0.1), or the decimal string responses carry."""
    if isinstance(value, str):
        if not re.match(PERCENT_PATTERN, value):
            raise ValueError("must be a number from 0 to 100 with at most two decimals")
        return Decimal(value)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a number")
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


# A percentage with at most two decimals (12.5 = 12.5 %), as a number or as the decimal
# string a response shows ("12.50").
Percent = Annotated[Decimal, BeforeValidator(_percent), Field(ge=0, le=100, max_digits=5, decimal_places=2),
                    WithJsonSchema({"anyOf": [
                        {"type": "number", "minimum": 0, "maximum": 100, "multipleOf": 0.01},
                        {"type": "string", "pattern": PERCENT_PATTERN}]})]

# An https:// URL with a host, written in ASCII as RFC 3986 has it (anything else
# percent-encoded): one rule for the schema and the server, whose regex engines disagree on
# what else counts as white space.
HTTPS_URL_PATTERN = r"^https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][!-~]*)?$"


def https_url(url: str) -> str:
    """The server's side of :data:`HTTPS_URL_PATTERN` (an ``AfterValidator``): the scheme and
    a host as Python parses them, and no white space by Python's measure."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in url):
        raise ValueError("must be an https:// URL")
    return url


# An e-mail address as sign-up accepts it. The schema states the pattern; the server's own
# check (normalised, answering 422 `invalid_email`) refuses what it does not match.
EMAIL_PATTERN = (r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@"
                 r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$")
EmailAddress = Annotated[str, Field(max_length=320, json_schema_extra={
    "maxLength": 254, "pattern": EMAIL_PATTERN})]

class RequestSchema(BaseModel):
    """Incoming JSON: unknown fields are an error, not silently dropped. Strings are checked as
    sent (lengths and patterns as the schema states them); where a value is normalised (an
    e-mail address, a phone number, a postal code) its domain check does that."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


def omit_null_defaults(schema: dict[str, Any]) -> None:
    """A patch's omitted fields keep their value; there is no default to document."""
    for field in schema.get("properties", {}).values():
        if "default" in field and field["default"] is None:
            del field["default"]


class PatchSchema(RequestSchema):
    """A partial update: only the fields sent change. A field typed without None but
    defaulting to None may be omitted, but not sent as null."""

    model_config = ConfigDict(**RequestSchema.model_config, json_schema_extra=omit_null_defaults)


class QuerySchema(BaseModel):
    """Query-string parameters; values arrive as strings and are coerced."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class ResponseSchema(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class ErrorBody(ResponseSchema):
    code: str = Field(description="Machine-readable error code, stable across releases; `x-error-codes` gives each "
                                  "one's HTTP status and meaning.")
    message: str = Field(description="Human-readable explanation.")
    details: object | None = Field(default=None, description=(
        "A 422's: a list of `{field, message, type}`, one per wrong field (some add context beside, such as an "
        "import's `line`). Other errors: an object with context, or null."))


class ErrorResponse(ResponseSchema):
    error: ErrorBody


class MoneySchema(ResponseSchema):
    amount: int = Field(description="Integer amount in minor units (cents).")
    currency: str = Field(description="ISO 4217 currency code.", min_length=3, max_length=3)


class PageSchema(ResponseSchema):
    """A listing's page declares its items (``items: list[OrderOut]``). Not a pydantic generic:
    ``PageSchema[OrderOut]`` would build the generic's schema at import, on every cold start."""

    items: list[Any]
    next_cursor: str | None = Field(description="Pass as ?cursor= to get the next page; null at the end.")
