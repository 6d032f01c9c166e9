"""Request and response schemas of sellers, their API keys and the operator's seller admin."""

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator

from chalicelib.accounts.schemas import Tokens
from chalicelib.core.auth import API_KEY_PREFIX, API_KEY_SCOPES
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.money import CURRENCY_EXPONENTS, normalise_currency
from chalicelib.core.pagination import DEFAULT_LIMIT, Cursor, Limit
from chalicelib.core.schemas import (
    EMAIL_PATTERN,
    HTTPS_URL_PATTERN,
    EmailAddress,
    PageSchema,
    PatchSchema,
    QuerySchema,
    RequestSchema,
    ResponseSchema,
    WholeNumber,
    https_url,
)
from chalicelib.payments.methods import enabled_payment_methods

# Countries where Stripe Connect Express accounts can be opened.
STRIPE_COUNTRIES = frozenset({
    "AT", "AU", "BE", "BG", "CA", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU",
    "IE", "IT", "JP", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "NZ", "PL", "PT", "RO", "SE", "SG", "SI", "SK",
    "US",
})
EU_COUNTRIES = frozenset({"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
                          "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"})
# EU VAT ids start with the member state's code (Greece uses EL); elsewhere any country-coded id.
_VAT_PREFIX = {"GR": "EL"}
_VAT_ID = re.compile(r"^[A-Z]{2}[0-9A-Z]{2,14}$")
MAX_POLICY = 10_000
MAX_DESCRIPTION = 5_000
MAX_URL = 2_048


def _either_case(codes: Any) -> list[str]:
    """An application's codes may come in upper or lower case (not mixed), as the schema lists them."""
    return sorted(codes) + sorted(code.lower() for code in codes)


def _country(code: str) -> str:
    upper = code.upper()
    if upper not in STRIPE_COUNTRIES or code not in (upper, code.lower()):
        raise ValueError(f"sellers from {code!r} cannot be paid through Stripe Connect here; use an ISO 3166 "
                         "alpha-2 code of a supported country")
    return upper


def _currency(code: str) -> str:
    if code not in (code.upper(), code.lower()):
        raise ValueError(f"unsupported currency {code!r}")
    try:
        return normalise_currency(code)
    except ValueError:
        raise ValueError(f"unsupported currency {code!r}") from None


def _email(value: str) -> str:
    from chalicelib.accounts.emails import normalise_email

    try:
        return normalise_email(value)
    except ValidationFailed as error:
        raise ValueError(error.details[0]["message"]) from None


Email = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN), AfterValidator(_email)]
HttpsUrl = Annotated[str, StringConstraints(max_length=MAX_URL, pattern=HTTPS_URL_PATTERN), AfterValidator(https_url)]
if TYPE_CHECKING:  # mypy cannot read a Literal built from a tuple at run time
    Scope = str
else:
    Scope = Literal[tuple(sorted(API_KEY_SCOPES))]


class SellerApplication(RequestSchema):
    business_name: str = Field(min_length=1, max_length=200, examples=["Nordwind Outdoor GmbH"])
    email: EmailAddress = Field(description="The owner's sign-in and the seller's contact address.")
    password: str = Field(max_length=256, description="At least 10 characters.")
    name: str | None = Field(default=None, min_length=1, max_length=200,
                             description="The owner's name; the business name when omitted.")
    country: Annotated[str, AfterValidator(_country),
                       Field(json_schema_extra={"enum": _either_case(STRIPE_COUNTRIES)})] = Field(
        description="ISO 3166 alpha-2 code of the seller's country (where its Stripe account is).", examples=["DE"])
    default_currency: Annotated[str, AfterValidator(_currency),
                                Field(json_schema_extra={"enum": _either_case(CURRENCY_EXPONENTS)})] = Field(
                                    examples=["EUR"])
    vat_id: str | None = Field(default=None, max_length=32, examples=["DE123456789"])
    invite_code: str | None = Field(default=None, min_length=1, max_length=100,
                                    description="Needed while the marketplace admits sellers by invitation only.")

    @field_validator("vat_id")
    @classmethod
    def _vat_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        """EU sellers: their member state's VAT id format; others: any country-prefixed id."""
        if value is None:
            return None
        country = info.data.get("country")
        if country in EU_COUNTRIES:
            from chalicelib.accounts.validation import normalise_vat_id

            vat_id = normalise_vat_id(value)
            expected = _VAT_PREFIX.get(country, country)
            if not vat_id.startswith(expected):
                raise ValueError(f"A VAT id from {country} starts with {expected}.")
            return vat_id
        compact = re.sub(r"[\s.\-/]", "", value).upper()
        if not _VAT_ID.match(compact):
            raise ValueError("A VAT id is a two-letter country prefix and 2-14 letters or digits.")
        return compact


class SellerProfilePatch(PatchSchema):
    """Send only what changes; ``null`` clears an optional field (not the display name or the
    return window, which can only change)."""

    display_name: str = Field(default=None, min_length=1, max_length=100)  # type: ignore[assignment]
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    logo_url: HttpsUrl | None = None
    return_policy: str | None = Field(default=None, max_length=MAX_POLICY)
    shipping_policy: str | None = Field(default=None, max_length=MAX_POLICY)
    support_email: Email | None = None
    return_window_days: WholeNumber = Field(default=None, ge=0, le=365,  # type: ignore[assignment]
                                           description="At least 14 for sellers in the EU (right of withdrawal).")

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class Payments(ResponseSchema):
    stripe_account_id: str | None = Field(description="null until the Stripe account exists; "
                                                      "POST /v1/seller/onboarding-link creates it.")
    charges_enabled: bool
    payouts_enabled: bool
    requirements_due: list[str] = Field(description="What Stripe still needs from the seller.")


class SellerAccount(ResponseSchema):
    """A seller as the seller itself and operators see it."""

    seller_id: str
    status: Literal["pending", "approved", "suspended", "rejected"]
    status_reason: str | None = Field(description="Why an operator suspended the seller or rejected its application.")
    can_sell: bool = Field(description="Approved and able to take payments: products can be published.")
    business_name: str
    display_name: str
    contact_email: str
    country: str
    default_currency: str
    vat_id: str | None
    description: str | None
    logo_url: str | None
    return_policy: str | None
    shipping_policy: str | None
    support_email: str | None
    return_window_days: int
    payments: Payments
    created_at: str
    approved_at: str | None

    @classmethod
    def of(cls, seller: Any) -> "SellerAccount":
        return cls(
            seller_id=seller.seller_id, status=seller.status, status_reason=seller.status_reason,
            can_sell=seller.can_sell, business_name=seller.business_name, display_name=seller.display_name,
            contact_email=seller.contact_email, country=seller.country, default_currency=seller.default_currency,
            vat_id=seller.vat_id, description=seller.description, logo_url=seller.logo_url,
            return_policy=seller.return_policy, shipping_policy=seller.shipping_policy,
            support_email=seller.support_email, return_window_days=int(seller.return_window_days),
            payments=Payments(stripe_account_id=seller.stripe_account_id, charges_enabled=bool(seller.charges_enabled),
                              payouts_enabled=bool(seller.payouts_enabled),
                              requirements_due=list(seller.requirements_due or [])),
            created_at=seller.created_at, approved_at=seller.approved_at,
        )


class SellerSignUp(ResponseSchema):
    seller: SellerAccount
    tokens: Tokens


class Rating(ResponseSchema):
    """The published reviews of all the seller's products."""

    count: int
    average: float | None = Field(description="Mean of 1-5 stars, two decimals; null without reviews.")
    distribution: dict[str, int] = Field(description='How many reviews gave each star, "1" to "5".')


class SellerRating(Rating):
    """Buyers' reviews of the seller itself, one per order: `average` and `distribution` are the overall
    rating."""

    delivery: float | None = Field(description="Mean of 1-5 stars for delivery; null without reviews.")
    communication: float | None = Field(description="Mean of 1-5 stars for communication; null without reviews.")

    @classmethod
    def of(cls, seller: Any) -> "SellerRating":
        count = int(seller.feedback_count or 0)

        def mean(total: Any) -> float | None:
            return round(int(total or 0) / count, 2) if count else None

        return cls(count=count, average=mean(seller.feedback_sum),
                   distribution={str(star): int(getattr(seller, f"feedback_{star}") or 0) for star in range(1, 6)},
                   delivery=mean(seller.feedback_delivery_sum), communication=mean(seller.feedback_communication_sum))


class Storefront(ResponseSchema):
    """What buyers see of a seller."""

    seller_id: str
    display_name: str
    description: str | None
    logo_url: str | None
    country: str
    support_email: str | None
    return_policy: str | None
    shipping_policy: str | None
    return_window_days: int
    rating: Rating = Field(description="Reviews of the seller's products.")
    seller_rating: SellerRating
    product_count: int = Field(description="Products buyers can find in the catalog now.")
    member_since: str

    @classmethod
    def of(cls, seller: Any, product_count: int) -> "Storefront":
        count = int(seller.rating_count or 0)
        return cls(
            seller_id=seller.seller_id, display_name=seller.display_name, description=seller.description,
            logo_url=seller.logo_url, country=seller.country, support_email=seller.support_email,
            return_policy=seller.return_policy, shipping_policy=seller.shipping_policy,
            return_window_days=int(seller.return_window_days),
            rating=Rating(count=count, average=round(int(seller.rating_sum) / count, 2) if count else None,
                          distribution={str(star): int(getattr(seller, f"rating_{star}", 0) or 0)
                                        for star in range(1, 6)}),
            seller_rating=SellerRating.of(seller),
            product_count=product_count, member_since=seller.created_at,
        )


class OnboardingLink(ResponseSchema):
    url: str = Field(description="Send the seller's browser here; single use.")
    expires_at: str = Field(description="ISO 8601; ask for a new link after this.")


class ApiKeyRequest(RequestSchema):
    name: str = Field(min_length=1, max_length=100, examples=["ERP sync"])
    scopes: list[Scope] = Field(min_length=1, max_length=len(API_KEY_SCOPES),
                                examples=[["products:read", "products:write"]])
    expires_in_days: int | None = Field(default=None, ge=1, le=730,
                                        description="The key stops working after this many days; "
                                                    "absent: it works until revoked.")


class ApiKeyOut(ResponseSchema):
    key_id: str
    prefix: str = Field(description="How the key starts, to recognise it; the secret is never shown again.")
    name: str
    scopes: list[str]
    created_at: str
    last_used_at: str | None = Field(description="Updated at most once a minute.")
    expires_at: str | None = Field(default=None, description="When the key stops working (ISO 8601); "
                                                             "null: until revoked.")

    @classmethod
    def of(cls, key: Any) -> "ApiKeyOut":
        expires_at = (datetime.fromtimestamp(int(key.expires_at), UTC).isoformat(timespec="seconds")
                      if key.expires_at is not None else None)
        return cls(key_id=key.key_id, prefix=f"{API_KEY_PREFIX}{key.key_id}_", name=key.name,
                   scopes=sorted(key.scopes), created_at=key.created_at, last_used_at=key.last_used_at,
                   expires_at=expires_at)


class NewApiKey(ApiKeyOut):
    secret: str = Field(description="The whole key, shown only now: send it as Authorization: Bearer <secret>.")


class ApiKeyPage(PageSchema):
    items: list[ApiKeyOut]


class PageQuery(QuerySchema):
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class SellerListQuery(PageQuery):
    status: Literal["pending", "approved", "suspended", "rejected"] = "pending"


class SellerPage(PageSchema):
    items: list[SellerAccount]


class StatusReason(RequestSchema):
    """Why an operator suspends a seller or rejects an application."""

    reason: str = Field(min_length=1, max_length=1000, description="Shown to the seller.")


class MarketplaceSettingsBody(RequestSchema):
    seller_access: Literal["open", "invite_only"] = Field(
        description="open: sellers are approved once Stripe enables charges; invite_only: an operator's invite "
                    "code is needed to apply and an operator approves.")
    buyer_access: Literal["open", "members_only"]
    payment_methods: list[Literal["card", "sepa_debit", "paypal", "klarna"]] | None = Field(
        default=None, min_length=1, max_length=4,
        description="The payment methods checkout offers buyers (Stripe's types). Omitted: unchanged; before "
                    "the operator chose any, cards only. A checkout with another method is a 422 "
                    "`payment_method_not_enabled`.")


class MarketplaceSettingsOut(ResponseSchema):
    seller_access: str
    buyer_access: str
    payment_methods: list[str] = Field(description="The payment methods checkout offers.")
    updated_at: str | None
    updated_by: str | None

    @classmethod
    def of(cls, settings: Any) -> "MarketplaceSettingsOut":
        return cls(seller_access=settings.seller_access, buyer_access=settings.buyer_access,
                   payment_methods=list(enabled_payment_methods(settings.payment_methods)),
                   updated_at=settings.updated_at, updated_by=settings.updated_by)


class InviteRequest(RequestSchema):
    note: str | None = Field(default=None, max_length=500, description="For operators: whom it is for.")
    expires_in_days: int = Field(default=14, ge=1, le=90)


def _epoch_iso(epoch: Any) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).isoformat()


class Invite(ResponseSchema):
    invite_id: str
    code: str = Field(description="Give this to the seller; it works once and is shown only now.")
    expires_at: str

    @classmethod
    def of(cls, invite: Any, code: str) -> "Invite":
        return cls(invite_id=invite.invite_id, code=code, expires_at=_epoch_iso(invite.expires_at))


class InviteOut(ResponseSchema):
    """An invite as operators list it; the code itself is never shown again."""

    invite_id: str
    state: Literal["open", "used", "revoked", "expired"]
    note: str | None
    created_at: str
    created_by: str | None
    expires_at: str
    seller_id: str | None = Field(description="The seller who applied with it (state used).")
    revoked_at: str | None

    @classmethod
    def of(cls, found: Any) -> "InviteOut":
        invite, spent = found.invite, found.spent
        return cls(invite_id=invite.invite_id, state=found.state, note=invite.note, created_at=invite.created_at,
                   created_by=invite.created_by, expires_at=_epoch_iso(invite.expires_at),
                   seller_id=spent.seller_id if spent is not None else None,
                   revoked_at=spent.revoked_at if spent is not None else None)


class InvitePage(PageSchema):
    items: list[InviteOut]
