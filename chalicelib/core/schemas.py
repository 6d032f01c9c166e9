"""Base classes for request and response schemas."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class RequestSchema(BaseModel):
    """Incoming JSON: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QuerySchema(BaseModel):
    """Query-string parameters; values arrive as strings and are coerced."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseSchema(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ErrorBody(ResponseSchema):
    code: str = Field(description="Machine-readable error code, stable across releases.")
    message: str = Field(description="Human-readable explanation.")
    details: object | None = Field(default=None, description="Field-level problems or context.")


class ErrorResponse(ResponseSchema):
    error: ErrorBody


class MoneySchema(ResponseSchema):
    amount: int = Field(description="Integer amount in minor units (cents).")
    currency: str = Field(description="ISO 4217 currency code.", min_length=3, max_length=3)


class PageSchema(ResponseSchema, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as ?cursor= to get the next page; null at the end.")
