
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from chalicelib.accounts.validation import _POSTAL_CODES, _VAT_FORMATS, COUNTRIES
from chalicelib.core.categories import CATEGORIES
from chalicelib.core.pagination import DEFAULT_LIMIT, Cursor, Limit
from chalicelib.core.schemas import EmailAddress, MoneySchema, QuerySchema, RequestSchema, ResponseSchema

if TYPE_CHECKING:  # for annotations only: the schemas load without the table models
    from chalicelib.accounts.models import User
    from chalicelib.accounts.sessions import Session

COUNTRY_CODES = sorted(COUNTRIES) + sorted(code.lower() for code in COUNTRIES)  # read in either case
COUNTRY_CODES_WITH_RULES = sorted(_POSTAL_CODES) + sorted(code.lower() for code in _POSTAL_CODES)
# What the server's checks accept (accounts.validation), for the schema: E.164 with a "+" or
# "00" and the usual separators; an EU VAT id in its member state's format, written compactly.
PHONE_PATTERN = r"^(\+|00)[\s\-./()]*[1-9]([\s\-./()]*[0-9]){6,14}[\s\-./()]*$"
VAT_ID_PATTERN = "^(" + "|".join([*_VAT_FORMATS.values(), r"GR\d{9}"]) + ")$"


class Registration(RequestSchema):
    email: EmailAddress = Field(examples=["anna@example.com"])
    password: str = Field(max_length=256, description="At least 10 characters.")
    name: str = Field(min_length=1, max_length=200)
    newsletter: StrictBool = Field(default=False,
                                   description="Ask for the newsletter (confirmed by mail: double opt-in).")
    referral_code: str | None = Field(default=None, min_length=1, max_length=32, examples=["K7QW2M9X"],
                                      description="A buyer's referral code (from their `?ref=` link; case, spaces "
                                                  "and hyphens do not matter). One that names no buyer is 422 "
                                                  "`referral_code_unknown` and nothing is started.")


class Credentials(RequestSchema):
    email: str = Field(max_length=320)
    password: str = Field(max_length=256)
    challenge: str | None = Field(default=None, max_length=400,
                                  description="After several wrong passwords for an address, sign-in answers 401 "
                                              "`challenge_required` (or `invalid_credentials`) with a challenge in "
                                              "`error.details`: send it back here with its solution.")
    solution: str | None = Field(default=None, max_length=32,
                                 description="A decimal number n such that SHA-256 of `<challenge>:<n>` starts with "
                                             "`difficulty` zero bits.")
    otp: str | None = Field(default=None, max_length=16,
                            description="Operators: the current code of their authenticator app (TOTP).")


class PasswordChange(RequestSchema):
    new_password: str = Field(max_length=256)
    current_password: str | None = Field(default=None, max_length=256,
                                         description="Required when the account has a password. An account without "
                                                     "one needs a sign-in within the last 10 minutes instead.")


class RefreshRequest(RequestSchema):
    refresh_token: str = Field(min_length=1, max_length=200)


class AccountSummary(ResponseSchema):
    user_id: str
    email: str
    name: str
    roles: list[str]
    seller_id: str | None = None


class Tokens(ResponseSchema):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Single use: each refresh returns a new one.")
    refresh_expires_in: int
    account: AccountSummary


def account_summary(user: "User") -> AccountSummary:
    return AccountSummary(user_id=user.user_id, email=user.email, name=user.name, roles=sorted(user.roles),
                          seller_id=user.seller_id)


def tokens(session: "Session") -> Tokens:
    return Tokens(access_token=session.access_token, expires_in=session.expires_in,
                  refresh_token=session.refresh_token, refresh_expires_in=session.refresh_expires_in,
                  account=account_summary(session.user))


# --- sign-in by link --------------------------------------------------------------------------------------------

class MagicLinkRequest(RequestSchema):
    email: EmailAddress = Field(examples=["anna@example.com"])


class MagicLinkRedemption(RequestSchema):
    token: str = Field(min_length=1, max_length=200, description="The token from the link in the mail.")


class Accepted(ResponseSchema):
    message: str


# Messages, not Accepted instances: an instance at import would build the model at cold start.
MAGIC_LINK_SENT = ("If this address can receive mail, a sign-in link is on its way. "
                   "It works once and for 15 minutes.")
SIGN_UP_MAILED = ("Check your mail: we have sent a link to this address to finish signing up. "
                  "Until it is used, no account is created.")


# --- profile --------------------------------------------------------------------------------------------------

Language = Literal["de", "en"]
Preference = Annotated[str, Field(min_length=1, max_length=60)]
CategoryPreference = Annotated[str, Field(min_length=1, max_length=60,
                                          json_schema_extra={"enum": sorted(CATEGORIES)})]
PREFERENCES = 20  # accounts.profile.PREFERENCE_LIMIT: the schema says what the server keeps


class Birthday(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    day: int = Field(ge=1, le=31)
    month: int = Field(ge=1, le=12)
    year: int | None = Field(default=None, ge=1900, le=2100, description="Optional.")


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    categories: list[CategoryPreference] = Field(default_factory=list, max_length=PREFERENCES,
                                                 description="Category slugs (GET /v1/categories).")
    brands: list[Preference] = Field(default_factory=list, max_length=PREFERENCES)
    sizes: list[Preference] = Field(default_factory=list, max_length=PREFERENCES)


class PreferencesChange(RequestSchema):
    categories: list[CategoryPreference] | None = Field(default=None, max_length=PREFERENCES)
    brands: list[Preference] | None = Field(default=None, max_length=PREFERENCES)
    sizes: list[Preference] | None = Field(default=None, max_length=PREFERENCES)


class ProfileChange(RequestSchema):
    """Only the fields given change; ``null`` clears an optional field."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, min_length=1, max_length=40,
                              description="With country code, e.g. +49 151 12345678; null removes it.",
                              json_schema_extra={"pattern": PHONE_PATTERN})
    birthday: Birthday | None = None
    language: Language | None = None
    vat_id: str | None = Field(default=None, min_length=1, max_length=30,
                               description="EU VAT id (USt-IdNr.), e.g. DE123456789; null removes it.",
                               json_schema_extra={"pattern": VAT_ID_PATTERN})
    preferences: PreferencesChange | None = None


class Profile(ResponseSchema):
    user_id: str
    email: str
    email_verified: bool
    name: str
    phone: str | None
    birthday: Birthday | None
    language: Language | None
    vat_id: str | None = Field(description="Normalised; checkout offers it for a business invoice.")
    preferences: Preferences
    has_password: bool = Field(description="False for passwordless accounts (sign-in by link).")
    created_at: str


def profile(user: Any) -> Profile:
    birthday = None
    if user.birthday:
        month, day = (int(part) for part in user.birthday.split("-"))
        birthday = Birthday(day=day, month=month, year=int(user.birth_year) if user.birth_year else None)
    return Profile(user_id=user.user_id, email=user.email, email_verified=bool(user.email_verified), name=user.name,
                   phone=user.phone, birthday=birthday, language=user.language, vat_id=user.vat_id,
                   preferences=Preferences(categories=user.preferred_categories or [],
                                           brands=user.preferred_brands or [], sizes=user.preferred_sizes or []),
                   has_password=user.password_hash is not None, created_at=user.created_at)


# --- addresses ------------------------------------------------------------------------------------------------

def _postal_codes_by_country(schema: dict[str, Any]) -> None:
    """The postal code formats the server checks (accounts.validation), per country, for the schema."""
    from chalicelib.accounts.validation import _GENERIC_POSTAL_CODE, _POSTAL_CODES

    def raw(pattern: str) -> str:  # the server reads the code in upper case, spaces collapsed
        return "^" + pattern.replace("[A-Z", "[A-Za-z").replace(" ?", "[ ]?") + "$"

    rules = [{"if": {"properties": {"country": {"enum": [c, c.lower()]}}, "required": ["country"]},
              "then": {"properties": {"postal_code": {"pattern": raw(rule.pattern)}}}}
             for c, (rule, _) in sorted(_POSTAL_CODES.items())]
    rules.append({"if": {"properties": {"country": {"not": {"enum": COUNTRY_CODES_WITH_RULES}}}},
                  "then": {"properties": {"postal_code": {"pattern": raw(_GENERIC_POSTAL_CODE.pattern)}}}})
    schema["allOf"] = rules


class AddressFields(RequestSchema):
    model_config = ConfigDict(**RequestSchema.model_config, json_schema_extra=_postal_codes_by_country)

    name: str = Field(min_length=1, max_length=200, description="Recipient.")
    company: str | None = Field(default=None, max_length=200)
    line1: str = Field(min_length=1, max_length=200, description="Street and number.")
    line2: str | None = Field(default=None, max_length=200)
    postal_code: str = Field(min_length=1, max_length=20, description="Checked for DE (5 digits), AT and CH (4).")
    city: str = Field(min_length=1, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2, e.g. DE.",
                         json_schema_extra={"enum": list(COUNTRY_CODES)})
    phone: str | None = Field(default=None, min_length=1, max_length=40, json_schema_extra={"pattern": PHONE_PATTERN})
    is_default_shipping: StrictBool = False
    is_default_billing: StrictBool = False


class AddressChange(RequestSchema):
    """Only the fields given change; ``null`` clears an optional field."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    company: str | None = Field(default=None, max_length=200)
    line1: str | None = Field(default=None, min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, min_length=1, max_length=20)
    city: str | None = Field(default=None, min_length=1, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    country: Annotated[str, Field(json_schema_extra={"enum": COUNTRY_CODES})] | None = Field(
        default=None, min_length=2, max_length=2)
    phone: str | None = Field(default=None, min_length=1, max_length=40, json_schema_extra={"pattern": PHONE_PATTERN})
    is_default_shipping: StrictBool | None = None
    is_default_billing: StrictBool | None = None


DEFAULT_FLAGS = ("is_default_shipping", "is_default_billing")


class AddressOut(ResponseSchema):
    address_id: str
    name: str
    company: str | None
    line1: str
    line2: str | None
    postal_code: str
    city: str
    region: str | None
    country: str
    phone: str | None
    is_default_shipping: bool
    is_default_billing: bool
    created_at: str
    updated_at: str


class AddressList(ResponseSchema):
    items: list[AddressOut]


def address_fields(body: BaseModel) -> dict[str, Any]:
    """The given address fields of a request, without the default flags."""
    return {k: v for k, v in body.model_dump(exclude_unset=True).items() if k not in DEFAULT_FLAGS}


def address(view: Any) -> AddressOut:
    a = view.address
    return AddressOut(address_id=a.address_id, name=a.name, company=a.company, line1=a.line1, line2=a.line2,
                      postal_code=a.postal_code, city=a.city, region=a.region, country=a.country, phone=a.phone,
                      is_default_shipping=view.default_shipping, is_default_billing=view.default_billing,
                      created_at=a.created_at, updated_at=a.updated_at)


# --- payment methods ------------------------------------------------------------------------------------------

class SetupIntentOut(ResponseSchema):
    setup_intent_id: str
    client_secret: str = Field(description="For Stripe.js confirmCardSetup or confirmSepaDebitSetup; never stored "
                                           "by agora.")


class PaymentMethodOut(ResponseSchema):
    payment_method_id: str
    type: Literal["card", "sepa_debit"] = Field(description="A card or a SEPA account (direct debit).")
    brand: str | None = Field(description="Cards only.")
    last4: str = Field(description="Of the card number or the IBAN.")
    exp_month: int | None = Field(description="Cards only.")
    exp_year: int | None = Field(description="Cards only.")
    default: bool = Field(description="The method checkout uses when the buyer names none.")


class PaymentMethodChange(RequestSchema):
    default: StrictBool = Field(description="true: this becomes the default (the previous one no longer is); "
                                            "false: no default any more, if this was it.")


class PaymentMethodList(ResponseSchema):
    items: list[PaymentMethodOut]


def payment_methods(cards: list[Any]) -> PaymentMethodList:
    return PaymentMethodList(items=[PaymentMethodOut(**vars(card)) for card in cards])


# --- consents -------------------------------------------------------------------------------------------------

class ConsentsChange(RequestSchema):
    newsletter: StrictBool = Field(
        description="true mails a confirmation link (double opt-in); false withdraws at once.")


class ConsentsQuery(QuerySchema):
    cursor: Cursor | None = Field(default=None, description="From next_cursor, for older log entries.")
    limit: Limit = DEFAULT_LIMIT


class ConsentToken(RequestSchema):
    token: str = Field(min_length=1, max_length=1000)


class UnsubscribeQuery(QuerySchema):
    token: str | None = Field(default=None, max_length=1000,
                              description="RFC 8058 one-click: the token in the List-Unsubscribe URL.")


class ConsentOut(ResponseSchema):
    topic: str
    status: Literal["none", "pending", "granted", "withdrawn"]
    text_version: str = Field(description="Version of the consent text agreed to.")
    updated_at: str | None


class ConsentLogOut(ResponseSchema):
    topic: str
    action: Literal["requested", "granted", "withdrawn"]
    method: str = Field(description="How: registration, account_settings, email_confirmation, unsubscribe_link, "
                                    "account_erasure.")
    source_ip: str | None
    text_version: str
    at: str


class ConsentsOut(ResponseSchema):
    consents: list[ConsentOut]
    log: list[ConsentLogOut] = Field(description="Newest first.")
    next_cursor: str | None


def consent(state: Any) -> ConsentOut:
    return ConsentOut(topic=state.topic, status=state.status, text_version=state.text_version,
                      updated_at=state.updated_at)


def consent_log(entry: Any) -> ConsentLogOut:
    return ConsentLogOut(topic=entry.topic, action=entry.action, method=entry.method, source_ip=entry.source_ip,
                         text_version=entry.text_version, at=entry.at)


def consents(view: Any) -> ConsentsOut:
    return ConsentsOut(consents=[consent(s) for s in view.consents], log=[consent_log(e) for e in view.log.items],
                       next_cursor=view.log.next_cursor)


# --- wishlist -------------------------------------------------------------------------------------------------

class WishOut(ResponseSchema):
    product_id: str
    seller_id: str
    added_at: str
    available: bool = Field(description="False when the product is no longer offered.")
    title: str | None
    price: MoneySchema | None = Field(description="Today's price.")
    in_stock: bool
    stock: int
    image: str | None


class Wishlist(ResponseSchema):
    items: list[WishOut]


def wish(entry: Any) -> WishOut:
    item, product = entry.item, entry.product
    available = product is not None and product.is_listed
    return WishOut(product_id=item.product_id, seller_id=item.seller_id, added_at=item.added_at, available=available,
                   title=product.title if available else None,
                   price=MoneySchema(amount=int(product.price), currency=product.currency) if available else None,
                   in_stock=available and int(product.stock) > 0, stock=int(product.stock) if available else 0,
                   image=product.images[0] if available and product.images else None)


# --- data export ----------------------------------------------------------------------------------------------

class SessionsSummary(ResponseSchema):
    count: int = Field(description="Sign-ins whose sessions are kept (until they expire).")
    active: int = Field(description="Of those, not signed out or revoked.")


class IdentityOut(ResponseSchema):
    provider: str
    email: str | None = Field(description="The email the provider gave when the identity was linked.")
    email_verified: bool
    linked_at: str


class AccountExport(ResponseSchema):
    exported_at: str
    profile: Profile
    addresses: list[AddressOut]
    consents: list[ConsentOut]
    consent_log: list[ConsentLogOut] = Field(description="Oldest first.")
    wishlist: list[WishOut]
    sessions: SessionsSummary
    payment_methods: list[PaymentMethodOut] = Field(description="Read from Stripe; agora keeps only the customer id.")
    stripe_customer_id: str | None
    orders: list[dict[str, Any]] = Field(description="Every order, as GET /v1/me/orders/{order_id} shows it.")
    identities: list[IdentityOut] = Field(description="Linked social-login identities.")
    loyalty: list[dict[str, Any]] = Field(default_factory=list, description=(
        "The loyalty points history, newest first, as GET /v1/me/loyalty/transactions shows it."))
    reviews: list[dict[str, Any]] = Field(description="Every review written, as GET /v1/me/reviews shows it.")
    questions: list[dict[str, Any]] = Field(default_factory=list, description=(
        "Questions asked on products (`kind: asked`, any status, with their answers) and answers given "
        "(`kind: answered`, with the question's text), newest first."))
    conversations: list[dict[str, Any]] = Field(default_factory=list, description=(
        "Conversations with sellers, as GET /v1/me/conversations/{conversation_id} shows them, with every "
        "message, newest first."))


def account_export(data: Any, exported_at: str) -> AccountExport:
    user = data.user
    shipping, billing = user.default_shipping_address_id, user.default_billing_address_id
    return AccountExport(
        exported_at=exported_at, profile=profile(user),
        addresses=[address(SimpleNamespace(address=a, default_shipping=a.address_id == shipping,
                                           default_billing=a.address_id == billing)) for a in data.addresses],
        consents=[consent(c) for c in data.consents],
        consent_log=[consent_log(e) for e in data.consent_log], wishlist=[wish(w) for w in data.wishes],
        sessions=SessionsSummary(count=len(data.sessions), active=sum(1 for s in data.sessions if not s.revoked)),
        payment_methods=payment_methods(data.cards).items, stripe_customer_id=user.stripe_customer_id,
        orders=data.orders, identities=identities(data.identities).items, loyalty=data.loyalty,
        reviews=data.reviews, questions=data.questions, conversations=data.conversations,
    )


# --- social sign-in (OpenID Connect) ----------------------------------------------------------------------------

class OidcStartQuery(QuerySchema):
    return_to: str | None = Field(default=None, min_length=1, max_length=2000,
                                  description="Where the browser goes after signing in, with a one-time `code` to "
                                              "exchange at `POST /v1/auth/oidc/exchange`; it must start with an "
                                              "entry of the operator's allow-list. Without it the callback answers "
                                              "the tokens as JSON.")
    role: Literal["buyer", "seller"] = Field(default="buyer",
                                             description="`seller` signs in only to an account that runs a seller.")
    referral_code: str | None = Field(default=None, min_length=1, max_length=32,
                                      description="A buyer's referral code: an account this sign-in creates is their "
                                                  "referral. One that names no buyer is 422 `referral_code_unknown`.")


class OidcCallbackQuery(QuerySchema):
    """What the provider sends back; providers add parameters of their own (Google's `scope`,
    `authuser`; RFC 9207's `iss`), which are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)

    code: str | None = Field(default=None, max_length=4096, description="The authorization code.")
    state: str | None = Field(default=None, max_length=200, description="The state the sign-in started with.")
    error: str | None = Field(default=None, max_length=200, description="The provider's refusal, if any.")
    error_description: str | None = Field(default=None, max_length=2000)


class IdentityLinkStart(RequestSchema):
    return_to: str | None = Field(default=None, min_length=1, max_length=2000,
                                  description="As for `GET /v1/auth/oidc/{provider}/start`.")


class AuthorizationUrl(ResponseSchema):
    authorization_url: str = Field(description="Send the browser here; the provider returns it to the callback.")


class SignInCode(RequestSchema):
    code: str = Field(min_length=1, max_length=200, description="The `code` the callback put in the return URL.")


class IdentityList(ResponseSchema):
    items: list[IdentityOut]


def identities(found: list[Any]) -> IdentityList:
    return IdentityList(items=[IdentityOut(provider=i.provider, email=i.email, email_verified=bool(i.email_verified),
                                           linked_at=i.linked_at) for i in found])
