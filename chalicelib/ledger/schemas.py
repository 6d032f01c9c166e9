"""Statement, balance and revenue schemas.

Windows are half-open, ``[from, to)``: ``from`` inclusive, ``to`` exclusive, each an ISO
date (midnight UTC) or date-time (UTC when it has no offset) — June is
``from=2025-06-01&to=2025-07-01``.
"""

from datetime import UTC, datetime
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from chalicelib.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Cursor, Limit
from chalicelib.core.schemas import MoneySchema, PageSchema, QuerySchema, ResponseSchema


class Window(QuerySchema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_by_name=True)

    from_: datetime = Field(alias="from", description="Start, inclusive: ISO date or date-time (UTC by default).")
    to: datetime = Field(description="End, exclusive: ISO date or date-time (UTC by default).")

    @field_validator("from_", "to")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StatementQuery(Window):
    format: Literal["json", "csv"] = Field(default="json", description="csv: the whole window as text/csv.")
    cursor: Cursor | None = Field(default=None, description="next_cursor of the previous page (json only).")
    limit: Limit = Field(default=DEFAULT_LIMIT, description=f"Entries per page (json only), 1-{MAX_LIMIT}, default "
                                                          f"{DEFAULT_LIMIT}; anything else is 400 `invalid_limit`.")


class _WindowOut(ResponseSchema):
    model_config = ConfigDict(extra="ignore", validate_by_name=True, serialize_by_alias=True)

    from_: datetime = Field(alias="from")
    to: datetime


class StatementEntryOut(ResponseSchema):
    occurred_at: str
    posting_id: str
    kind: str = Field(description="seller_payable (a sale of goods), shipping (the shipping charged with it), fee, "
                                  "transfer, refund, shipping_refund (shipping paid back), fee_refund, "
                                  "transfer_reversal, subscription_fee, loyalty_issue (bonus points you fund, charged "
                                  "when earned), loyalty_reversal (such points taken back by a refund, credited), "
                                  "marketplace_discount (the marketplace-funded part of a promotion's discount, paid "
                                  "to you as if undiscounted), marketplace_discount_refund (its part of a refund, "
                                  "given back), marketplace_shipping (shipping a marketplace-funded free-shipping "
                                  "promotion took off, paid to you as if charged) or marketplace_shipping_refund "
                                  "(its part of a refund of the shipping, given back).")
    account: str = Field(description="seller_payable (earnings) or transfers_out (paid to your Stripe account).")
    order_id: str | None
    amount: MoneySchema = Field(description="From your side: positive raises what the marketplace owes you.")
    refs: dict[str, str] = Field(description="Stripe ids (transfer, refund, ...) for reconciliation.")


class Statement(_WindowOut, PageSchema):
    items: list[StatementEntryOut]
    seller_id: str


class BalanceOut(ResponseSchema):
    currency: str
    earned: MoneySchema = Field(description="Sales minus fees, refunds and subscription fees, plus fee refunds.")
    transferred: MoneySchema = Field(description="Transfers to your Stripe account minus reversals.")
    owed: MoneySchema = Field(description="earned - transferred; negative when you owe the marketplace.")


class Balances(ResponseSchema):
    seller_id: str
    balances: list[BalanceOut]


class RevenueOut(ResponseSchema):
    currency: str
    fees: MoneySchema
    fee_refunds: MoneySchema
    net_fees: MoneySchema
    subscription_fees: MoneySchema
    marketplace_discounts: MoneySchema = Field(
        description="What marketplace-funded promotion discounts cost the marketplace (sellers are credited as if "
                    "undiscounted), net of the parts refunds gave back. Loyalty points redeemed at checkout are "
                    "discounts of this kind, paid for by the points' liability (loyalty_redemption): their cost is "
                    "booked when the points are earned (loyalty_expense).")
    total: MoneySchema = Field(description="net_fees + subscription_fees - marketplace_discounts.")


class LoyaltyBooksOut(ResponseSchema):
    currency: str
    points_issued: MoneySchema = Field(description="Value of loyalty points earned, or redeemed ones a refund gave "
                                                   "back (loyalty_liability credited).")
    points_released: MoneySchema = Field(description="Value of points reversed, expired or redeemed.")
    loyalty_expense: MoneySchema = Field(description="What the points the marketplace funds cost it, net.")
    loyalty_breakage: MoneySchema = Field(description="Value of points that expired unspent (income).")


class RevenueReport(_WindowOut):
    currencies: list[RevenueOut]
    loyalty: list[LoyaltyBooksOut] = Field(default_factory=list, description=(
        "The loyalty programme's accounts per currency (none when no point moved in the window)."))
