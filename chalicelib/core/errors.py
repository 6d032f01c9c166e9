"""The one error hierarchy of agora.

Domain code raises these with a code from :class:`Code`; ``chalicelib.core.http`` is the
single place that turns them into HTTP responses of the shape
``{"error": {"code": "...", "message": "...", "details": ...}}``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NotRequired, TypedDict


class Code(StrEnum):
    """Every error code a client may meet, with its HTTP status and what it means.

    Raise sites name a member (``code=Code.INSUFFICIENT_STOCK``), never a string, so a code
    cannot be misspelt or go undocumented: the OpenAPI document's Error schema lists them all
    (``tests/unit/core/test_errors.py`` holds both to it). Codes are stable across releases.
    """

    status: int
    meaning: str

    def __new__(cls, value: str, status: int, meaning: str) -> Code:
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        member.meaning = meaning
        return member

    # 400: the request cannot be read as sent
    BAD_REQUEST = "bad_request", 400, "The request is malformed."
    MALFORMED_JSON = "malformed_json", 400, "The body is not valid JSON."
    INVALID_LIMIT = "invalid_limit", 400, "`limit` is not a whole number from 1 to 100."
    INVALID_CURSOR = "invalid_cursor", 400, "The cursor was not signed by the server for this listing and filters."
    INVALID_SIGNATURE = "invalid_signature", 400, "A webhook without a valid Stripe signature."
    STRIPE_INVALID_REQUEST = "stripe_invalid_request", 400, "Stripe refused the request as sent."
    BAD_GZIP = "bad_gzip", 400, "An uploaded gzip file is cut off or damaged."
    INVALID_CONSENT_TOKEN = "invalid_consent_token", 400, "A consent confirmation link the server did not sign."
    CONSENT_LINK_OUTDATED = "consent_link_outdated", 400, "A consent confirmation link that a later change replaced."
    INVALID_UNSUBSCRIBE_TOKEN = "invalid_unsubscribe_token", 400, "An unsubscribe link the server did not sign."
    UNSUBSCRIBE_LINK_EXPIRED = "unsubscribe_link_expired", 400, "An unsubscribe link too old to use."
    INVALID_OIDC_STATE = "invalid_oidc_state", 400, "A social sign-in's state that is unknown, used or expired."
    OIDC_SIGN_IN_DENIED = "oidc_sign_in_denied", 400, "The identity provider answered the sign-in with an error."
    OIDC_CODE_REJECTED = "oidc_code_rejected", 400, "The identity provider refused the authorization code."

    # 401: who is calling is unknown or not believed
    UNAUTHORIZED = "unauthorized", 401, "The caller is not authenticated."
    NOT_AUTHENTICATED = "not_authenticated", 401, "No `Authorization: Bearer` header where one is needed."
    MEMBERS_ONLY = "members_only", 401, "The marketplace is members-only and the caller is anonymous."
    INVALID_TOKEN = "invalid_token", 401, "The access token is not valid."
    TOKEN_EXPIRED = "token_expired", 401, "The access token has expired; refresh it."
    SESSION_REVOKED = "session_revoked", 401, "The session was signed out."
    INVALID_REFRESH_TOKEN = "invalid_refresh_token", 401, "The refresh token is not valid."
    REFRESH_TOKEN_REUSED = "refresh_token_reused", 401, "A refresh token was used twice; the whole sign-in is revoked."
    INVALID_CREDENTIALS = "invalid_credentials", 401, "Wrong email or password."
    CHALLENGE_REQUIRED = "challenge_required", 401, "After repeated failures a sign-in needs a solved proof of work."
    MFA_REQUIRED = "mfa_required", 401, "An operator's sign-in needs the authenticator code."
    INVALID_MAGIC_LINK = "invalid_magic_link", 401, "A mailed link that is used up, expired or unknown."
    INVALID_API_KEY = "invalid_api_key", 401, "The seller API key is not valid."
    API_KEY_EXPIRED = "api_key_expired", 401, "The seller API key has expired."
    ACCOUNT_CLOSED = "account_closed", 401, "The account has been deleted."
    INVALID_ID_TOKEN = "invalid_id_token", 401, "The provider's ID token failed a check (details name which)."
    INVALID_SIGN_IN_CODE = "invalid_sign_in_code", 401, "A social sign-in's one-time code that is used up or expired."

    # 402
    PAYMENT_DECLINED = "payment_declined", 402, "The payment was declined; try another payment method."

    # 403: known caller, not allowed
    FORBIDDEN = "forbidden", 403, "The caller may not do this."
    BUYER_REQUIRED = "buyer_required", 403, "Needs a buyer account."
    SELLER_REQUIRED = "seller_required", 403, "Needs a seller account (or the seller no longer exists)."
    OPERATOR_REQUIRED = "operator_required", 403, "Needs an operator account."
    USER_REQUIRED = "user_required", 403, "An API key cannot do this; a seller's user must sign in."
    MISSING_SCOPE = "missing_scope", 403, "The API key lacks a scope the route needs."
    SELLER_PENDING = "seller_pending", 403, "The seller awaits approval, which this needs."
    SELLER_SUSPENDED = "seller_suspended", 403, "The seller is suspended."
    SELLER_REJECTED = "seller_rejected", 403, "The seller's application was rejected."
    EMAIL_NOT_VERIFIED = "email_not_verified", 403, "Password sign-in needs a confirmed email address."
    REAUTHENTICATION_REQUIRED = "reauthentication_required", 403, "A sensitive change needs a recent sign-in."
    MFA_ENROLMENT_REQUIRED = "mfa_enrolment_required", 403, "An operator must enrol a second factor first."
    NO_SOCIAL_LOGIN_FOR_OPERATORS = "no_social_login_for_operators", 403, "Operators sign in with password and TOTP."
    OWN_PRODUCT_REVIEW = "own_product_review", 403, "A seller cannot review its own product."
    OWN_REVIEW_VOTE = "own_review_vote", 403, "The author cannot vote for their own review."
    NOT_A_BUYER_OF_IT = "not_a_buyer_of_it", 403, "Only the seller and buyers who received the product may answer."

    # 404: missing, or another party's (the same answer)
    NOT_FOUND = "not_found", 404, "No such resource."
    ACCOUNT_NOT_FOUND = "account_not_found", 404, "No such account."
    ADDRESS_NOT_FOUND = "address_not_found", 404, "No such address."
    API_KEY_NOT_FOUND = "api_key_not_found", 404, "No such API key."
    CATEGORY_NOT_FOUND = "category_not_found", 404, "No such category."
    CONVERSATION_NOT_FOUND = "conversation_not_found", 404, "No such conversation."
    CUSTOMER_NOT_FOUND = "customer_not_found", 404, "No such customer."
    IDENTITY_NOT_FOUND = "identity_not_found", 404, "No identity of this provider is linked to the account."
    OIDC_PROVIDER_NOT_FOUND = "oidc_provider_not_found", 404, "No such sign-in provider is configured."
    DISPUTE_NOT_FOUND = "dispute_not_found", 404, "No such dispute."
    FEE_OVERRIDE_NOT_FOUND = "fee_override_not_found", 404, "The seller or category has no fee override."
    FEE_SCHEDULE_NOT_FOUND = "fee_schedule_not_found", 404, "No such fee schedule version."
    GROUP_NOT_FOUND = "group_not_found", 404, "No such customer group."
    IMPORT_NOT_FOUND = "import_not_found", 404, "No such customer import."
    INVITE_NOT_FOUND = "invite_not_found", 404, "No such seller invite."
    ORDER_NOT_FOUND = "order_not_found", 404, "No such order."
    PAYMENT_METHOD_NOT_FOUND = "payment_method_not_found", 404, "No such payment method."
    PRODUCT_NOT_FOUND = "product_not_found", 404, "No such product."
    PROMOTION_NOT_FOUND = "promotion_not_found", 404, "No such promotion."
    REVIEW_NOT_FOUND = "review_not_found", 404, "No such review (or not yours)."
    QUESTION_NOT_FOUND = "question_not_found", 404, "No such question."
    SELLER_NOT_FOUND = "seller_not_found", 404, "No such seller."
    SHIPPING_PROFILE_NOT_FOUND = "shipping_profile_not_found", 404, "No such shipping profile."
    WISH_NOT_FOUND = "wish_not_found", 404, "The product is not on the wishlist."
    METHOD_NOT_ALLOWED = "method_not_allowed", 405, "The path exists, but not with this method."

    # 409: the state of things does not allow it now
    CONFLICT = "conflict", 409, "The request conflicts with the current state."
    CONCURRENT_UPDATE = "concurrent_update", 409, "Another request changed the same data at once; retry."
    CONCURRENT_CHANGE = "concurrent_change", 409, "The address book changed at the same time; retry."
    EMAIL_TAKEN = "email_taken", 409, "An account with this email already exists."
    SIGN_IN_TO_LINK = "sign_in_to_link", 409, "An account has the unverified email: sign in first, then link."
    IDENTITY_TAKEN = "identity_taken", 409, "The provider identity belongs to another account."
    PROVIDER_ALREADY_LINKED = "provider_already_linked", 409, "Another identity of this provider is linked already."
    LAST_SIGN_IN_METHOD = "last_sign_in_method", 409, "The account's last way to sign in cannot be removed."
    CONCURRENT_CREATION = "concurrent_creation", 409, "Something this creates was created at the same time; retry."
    CHECKOUT_CONTENTION = "checkout_contention", 409, "Too many checkouts touched the same products at once; retry."
    ACCOUNT_ID_CLASH = "account_id_clash", 409, "The account could not be created; retry."
    ACCOUNT_HAS_BUSINESS_ROLE = "account_has_business_role", 409, "A seller or operator account cannot be deleted."
    ADDRESS_BOOK_FULL = "address_book_full", 409, "The address book holds its maximum."
    ALREADY_SELLER = "already_seller", 409, "The account already runs a seller."
    ALREADY_REVIEWED = "already_reviewed", 409, "The buyer has reviewed this product already."
    TOO_MANY_ANSWERS = "too_many_answers", 409, "The question has the most answers allowed."
    CART_EMPTY = "cart_empty", 409, "Checkout of an empty cart."
    CART_FULL = "cart_full", 409, "The cart holds its maximum of different products."
    DISPUTE_OPEN = "dispute_open", 409, "The conversation has an open dispute already."
    DISPUTE_RESOLVED = "dispute_resolved", 409, "The dispute was resolved already."
    NOT_DISPUTABLE = "not_disputable", 409, "Only a conversation about an order can be disputed."
    DUPLICATE_SKU = "duplicate_sku", 409, "The seller already has a product with this SKU."
    DUPLICATE_SKU_IN_REQUEST = "duplicate_sku_in_request", 409, "A bulk upload names the same SKU twice."
    DEFAULT_SHIPPING_PROFILE = "default_shipping_profile", 409, "The default shipping profile cannot be deleted."
    FEE_SCHEDULE_CHANGED = "fee_schedule_changed", 409, "The fee schedule changed meanwhile; read it again."
    GROUP_IN_USE = "group_in_use", 409, "Customers are still in the group."
    GROUP_NAME_TAKEN = "group_name_taken", 409, "The seller already has a customer group of that name."
    INSUFFICIENT_POINTS = "insufficient_points", 409, "The buyer has fewer available loyalty points than that."
    INSUFFICIENT_STOCK = "insufficient_stock", 409, "Not enough in stock for the quantity asked."
    INVALID_STATUS_TRANSITION = "invalid_status_transition", 409, "A seller in this status cannot be moved to that one."
    INVALID_TRANSITION = "invalid_transition", 409, "An order in this status cannot move to that one."
    INVITE_USED = "invite_used", 409, "The seller invite was already used."
    NOT_DELIVERED_YET = "not_delivered_yet", 409, "A review needs the order's part to have been delivered."
    ORDER_NOT_CANCELLABLE = "order_not_cancellable", 409, "Part of the order has shipped or ended."
    POSTING_CONFLICT = "posting_conflict", 409, "Ledger postings recorded before with other amounts, or in part."
    PRODUCTS_UNAVAILABLE = "products_unavailable", 409, "Products in the cart are no longer on sale."
    PROMO_CODE_TAKEN = "promo_code_taken", 409, "A promo code with this text exists already (codes are unique)."
    PROMO_CODE_USED = "promo_code_used", 409, "The single-use promo code was used by another order meanwhile."
    PROMOTION_IS_AUTOMATIC = "promotion_is_automatic", 409, "An automatic promotion applies without codes."
    PROMOTION_LIMIT_REACHED = "promotion_limit_reached", 409, "A promotion's use limit or budget was reached meanwhile."
    TOO_MANY_AUTOMATIC_PROMOTIONS = ("too_many_automatic_promotions", 409,
                                     "10 active automatic promotions already; pause or delete one first.")
    REFUND_EXCEEDS_CAPTURED = "refund_exceeds_captured", 409, "A refund above what was paid for the line."
    RETURN_WINDOW_CLOSED = "return_window_closed", 409, "The return window after delivery has passed."
    REVIEW_EDIT_WINDOW_CLOSED = ("review_edit_window_closed", 409,
                                 "A review can be changed or deleted only within 30 days of writing it.")
    SELLER_CANNOT_SELL = "seller_cannot_sell", 409, "The seller is not approved, or Stripe charges are not enabled."
    SELLER_CHANGED = "seller_changed", 409, "The seller's status changed meanwhile; read it again."
    STOCK_CONFLICT = "stock_conflict", 409, "The stock changed since it was read; read it again."
    WEBHOOK_IN_PROGRESS = "webhook_in_progress", 409, "The Stripe event is being processed; Stripe delivers it again."
    WISHLIST_FULL = "wishlist_full", 409, "The wishlist holds its maximum."

    # 413, 415
    PAYLOAD_TOO_LARGE = "payload_too_large", 413, "The body is larger than the API accepts."
    FILE_TOO_LARGE = "file_too_large", 413, "An uploaded file is larger than allowed."
    TOO_MANY_ROWS = "too_many_rows", 413, "An uploaded file has more rows than allowed."
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", 415, "The body's Content-Type is not accepted."

    # 422: readable, but the fields are wrong (details list each)
    VALIDATION_FAILED = "validation_failed", 422, "Fields of the body or query are wrong."
    ADDRESS_ID_NEEDS_ACCOUNT = "address_id_needs_account", 422, "A guest gave a saved address id."
    CART_TOKEN_REQUIRED = "cart_token_required", 422, "A guest cart call without its X-Cart-Token."
    INVALID_CART_TOKEN = "invalid_cart_token", 422, "The X-Cart-Token is malformed."
    CURRENT_PASSWORD_REQUIRED = "current_password_required", 422, "Changing a set password needs the current one."
    EMAIL_REQUIRED = "email_required", 422, "A guest checkout needs the buyer's email."
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required", 422, "Checkout needs an Idempotency-Key header."
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key", 422, "The Idempotency-Key is malformed."
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused", 422, "The Idempotency-Key was used for another checkout."
    INVALID_EMAIL = "invalid_email", 422, "The email address is not valid."
    PROVIDER_EMAIL_MISSING = "provider_email_missing", 422, "The identity provider gave no email for a new account."
    RETURN_URL_NOT_ALLOWED = "return_url_not_allowed", 422, "A return URL outside the operator's allow-list."
    INVALID_FEE_SCHEDULE = "invalid_fee_schedule", 422, "The fee schedule's parts disagree."
    INVALID_INVITE = "invalid_invite", 422, "The seller invite code is unknown or expired."
    INVITE_REQUIRED = "invite_required", 422, "Sellers join by invitation; no invite code was given."
    INVITE_REVOKED = "invite_revoked", 422, "The seller invite code was revoked."
    INVALID_RETURN = "invalid_return", 422, "Return lines that do not exist or exceed what was bought."
    INVALID_VAT_ID = "invalid_vat_id", 422, "The VAT id is not valid."
    INVALID_WINDOW = "invalid_window", 422, "A time window that ends before it starts."
    WINDOW_TOO_LARGE = "window_too_large", 422, "A time window too long, or with too many entries."
    MIXED_CURRENCIES = "mixed_currencies", 422, "A cart in more than one currency."
    ORDER_BELOW_MINIMUM = "order_below_minimum", 422, "The order total is below the smallest chargeable amount."
    PROMO_CODE_INVALID = "promo_code_invalid", 422, "The promo code is not valid."
    PRODUCT_NOT_IN_ORDER = "product_not_in_order", 422, "The order's part of that seller has no such product."
    REVIEW_CONTAINS_LINK = "review_contains_link", 422, "Links and e-mail addresses are not allowed in reviews."
    INVALID_PROMOTION = "invalid_promotion", 422, "A promotion's fields disagree (details list each)."
    RETURN_WINDOW_TOO_SHORT = "return_window_too_short", 422, "A return window below the legal minimum."
    SEARCH_TOO_SHORT = "search_too_short", 422, "A search without a word of two or more letters."
    SHIPPING_CURRENCY = "shipping_currency", 422, "Shipping rates not in the seller's default currency."
    SHIPPING_PROFILES_FULL = "shipping_profiles_full", 422, "The seller has the most shipping profiles allowed."
    COUNTRY_IN_TWO_ZONES = "country_in_two_zones", 422, "A country named by more than one zone of a shipping profile."
    UNKNOWN_SHIPPING_PROFILE = "unknown_shipping_profile", 422, "A product names a shipping profile the seller lacks."
    SHIPPING_ADDRESS_REQUIRED = "shipping_address_required", 422, "Checkout without a shipping address."
    UNDELIVERABLE = "undeliverable", 422, "A seller does not ship some products to the destination country."
    SHIPPING_OPTION_UNAVAILABLE = "shipping_option_unavailable", 422, "A shipping option a seller does not offer there."
    SHIPPING_REFUND_EXCEEDS_PAID = "shipping_refund_exceeds_paid", 422, "A shipping refund above the shipping paid."
    TAX_EXEMPTION_REASON_REQUIRED = "tax_exemption_reason_required", 422, "A tax exemption needs a reason or a VAT id."
    TOO_MANY_SELLERS = "too_many_sellers", 422, "An order with more sellers than allowed."
    UNKNOWN_GROUP = "unknown_group", 422, "A customer group that does not exist."
    WEAK_PASSWORD = "weak_password", 422, "The password breaks a rule (details list each)."
    EMPTY_FILE = "empty_file", 422, "An uploaded customer file has no customers."
    INVALID_HEADER = "invalid_header", 422, "An uploaded customer file's header row is not as described."
    LINE_TOO_LONG = "line_too_long", 422, "An uploaded customer file has an overlong line."
    MALFORMED_CSV = "malformed_csv", 422, "An uploaded customer file is not valid CSV."
    NOT_COMMA_SEPARATED = "not_comma_separated", 422, "An uploaded customer file separates columns with semicolons."
    NOT_UTF8 = "not_utf8", 422, "An uploaded customer file is not UTF-8."
    UPLOAD_MISSING = "upload_missing", 422, "A background customer import was started before its file was uploaded."
    PAYMENT_METHOD_NOT_ENABLED = "payment_method_not_enabled", 422, "A payment method not offered (for this order)."
    REFERRAL_CODE_UNKNOWN = "referral_code_unknown", 422, "A sign-up with a referral code that names no buyer."
    LOYALTY_DISABLED = "loyalty_disabled", 422, "Points were to be redeemed while the loyalty programme is off."
    POINTS_BELOW_MINIMUM = "points_below_minimum", 422, "Fewer points redeemed than the programme's minimum."
    POINTS_ABOVE_MAXIMUM_SHARE = ("points_above_maximum_share", 422,
                                  "Points worth more than the programme's maximum share of the order's goods.")
    BREAKDOWN_NOT_AVAILABLE = "breakdown_not_available", 422, "An analytics breakdown whose figures are not kept yet."

    # 429: try again later (Retry-After)
    TOO_MANY_REQUESTS = "too_many_requests", 429, "Too many requests; retry after Retry-After seconds."
    TOO_MANY_ATTEMPTS = "too_many_attempts", 429, "Too many attempts from this source; retry after Retry-After seconds."
    TOO_MANY_IMPORTS = "too_many_imports", 429, "Too many customer imports within the hour."

    # 5xx: nothing was done; the same request may be sent again
    INTERNAL_ERROR = "internal_error", 500, "An unexpected failure; quote the request id when reporting it."
    SERVICE_UNAVAILABLE = "service_unavailable", 503, "A dependency failed; retry."
    STORAGE_BUSY = "storage_busy", 503, "Storage stayed busy after retries; retry."
    STRIPE_UNAVAILABLE = "stripe_unavailable", 503, "Stripe is unavailable; retry."
    IDENTITY_PROVIDER_UNAVAILABLE = "identity_provider_unavailable", 503, "The identity provider did not answer; retry."


class AgoraError(Exception):
    """Base of every error a client may see. ``code`` is machine-readable and stable."""

    status = 500
    code = Code.INTERNAL_ERROR

    def __init__(self, message: str, *, code: Code | None = None, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details
        self.headers = headers or {}


class BadRequest(AgoraError):
    status = 400
    code = Code.BAD_REQUEST


class FieldProblem(TypedDict):
    """One wrong field of a 422, as pydantic reports it, so a client reads every 422 alike."""

    field: str  # where: "body.quantity", "query.to", "header.Idempotency-Key", "cart"
    message: str
    type: str  # pydantic's kind of problem ("missing", "value_error"…) or agora's
    line: NotRequired[int]  # the file line of an import
    currencies: NotRequired[list[str]]  # a cart in several currencies
    total: NotRequired[dict[str, Any]]  # an order below the smallest charge, and that charge
    minimum: NotRequired[dict[str, Any]]
    order_id: NotRequired[str]  # the order an Idempotency-Key was used for
    seller_id: NotRequired[str]  # a seller's part that cannot be shipped, and its products
    products: NotRequired[list[str]]


class ValidationFailed(AgoraError):
    """The request was well-formed JSON but its fields are wrong; details list each field."""

    status = 422
    code = Code.VALIDATION_FAILED

    def __init__(self, message: str, *, code: Code | None = None, details: list[FieldProblem] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        if details is not None and not isinstance(details, list):
            raise TypeError("ValidationFailed.details is a list of field problems")
        super().__init__(message, code=code, details=details, headers=headers)


class Unauthorized(AgoraError):
    status = 401
    code = Code.UNAUTHORIZED

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("WWW-Authenticate", f'Bearer error="{self.code}"')


class Forbidden(AgoraError):
    status = 403
    code = Code.FORBIDDEN


class NotFound(AgoraError):
    status = 404
    code = Code.NOT_FOUND


class PaymentRequired(AgoraError):
    """The payment was declined; the client may try another payment method."""

    status = 402
    code = Code.PAYMENT_DECLINED


class Conflict(AgoraError):
    status = 409
    code = Code.CONFLICT


class PayloadTooLarge(AgoraError):
    status = 413
    code = Code.PAYLOAD_TOO_LARGE


class UnsupportedMediaType(AgoraError):
    status = 415
    code = Code.UNSUPPORTED_MEDIA_TYPE


class TooManyRequests(AgoraError):
    status = 429
    code = Code.TOO_MANY_REQUESTS

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)}, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailable(AgoraError):
    """A dependency (Stripe, AWS) failed; the client may retry the same request."""

    status = 503
    code = Code.SERVICE_UNAVAILABLE
