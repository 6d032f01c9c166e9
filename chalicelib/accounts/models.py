"""Account items: people who sign in (buyers, seller users, operators), their sessions and
everything a buyer keeps in their account.

Keys and access patterns:
- ``User``: PK=USER#<user_id>, SK=PROFILE — get a user by id (GetItem); profile changes are
  one UpdateItem returning the new item.
  - GSI1 (birthdays, sparse): GSI1PK=BIRTHDAY#<MM-DD>, GSI1SK=USER#<user_id>, present only
    while the buyer has given a birthday. The birthday-mail sweep Queries GSI1 for today's
    ``BIRTHDAY#MM-DD`` (and, on 28 February of a non-leap year, also ``BIRTHDAY#02-29``);
    it reads whole users (ALL projection), so it never scans.
  - ``default_shipping_address_id``/``default_billing_address_id`` point at the default
    addresses: one attribute per kind is what makes "at most one default" hold under
    concurrent writes. A pointer to a deleted address means "no default".
  - ``address_count``/``wishlist_count`` bound the address book and the wishlist; they are
    changed in the same transaction as the items they count, with a condition on the limit.
- ``EmailClaim``: PK=EMAIL#<normalised email>, SK=EMAIL — one per email, written in the
  same transaction as its user with ``attribute_not_exists``, which is what makes emails
  unique; sign-in by email is GetItem(claim) then GetItem(user). Erasing an account deletes
  its claim, so the email can register again.
- ``RefreshToken``: PK=REFRESH#<hash of the token>, SK=REFRESH — GetItem on refresh; the
  token itself is never stored. Expires by TTL.
- ``SessionFamily``: PK=USER#<user_id>, SK=SESSION#<family_id> — one per sign-in; every
  rotated refresh token belongs to it, and presenting a used token revokes the whole family
  (refresh-token reuse detection). Living in the user's partition lets the data export count
  them and account erasure end them all with one Query. Expires by TTL.
- ``MagicLink``: PK=MAGIC#<hash of the token>, SK=MAGIC — a mailed one-time link (sign-in,
  sign-up confirmation, seller application, customer invitation: ``purpose``); the token is
  never stored, and is minted by the mail worker when it sends the mail. Redeeming it is one
  conditional UpdateItem (unused, unexpired, of the purposes the route redeems) that
  returns the email and what the link completes (``ref``). Expires by TTL.
- ``SignUp``: PK=SIGNUP#<signup_id>, SK=SIGNUP — a registration waiting for its address to be
  confirmed: the name, the argon2 hash of the chosen password (never the password) and the
  newsletter wish. GetItem when its link is redeemed, deleted then; expires by TTL after a day.
  No account exists until the link is used, so an unconfirmed sign-up blocks nobody.
- ``Address``: PK=USER#<user_id>, SK=ADDRESS#<address_id> — Query the address book
  (begins_with ADDRESS#), GetItem/UpdateItem/DeleteItem one address. Keyed by the signed-in
  buyer, so another buyer's address id simply does not exist for them.
- ``Consent``: PK=USER#<user_id>, SK=CONSENT#<topic> — the current state of one consent
  (pending confirmation, granted, withdrawn); GetItem, or Query begins_with CONSENT#.
- ``ConsentLogEntry``: PK=USER#<user_id>, SK=CONSENTLOG#<entry id> (ULID: oldest first) —
  the proof of every consent change (what, when, how, source IP, text version), written in
  the same transaction as the change; Query begins_with CONSENTLOG#, newest first with
  ScanIndexForward=false. Kept when an account is erased.
- ``WishlistItem``: PK=USER#<user_id>, SK=WISH#<product_id> — Query the wishlist; the
  products are then read with one BatchGetItem on the catalog's product keys
  (SELLER#<seller_id>/PRODUCT#<product_id>, hence the seller id kept on the item).
  - GSI2: GSI2PK=WISHLISTED#<product_id>, GSI2SK=USER#<user_id> — who wishes for a product:
    the price-drop and back-in-stock mails Query it when the catalog announces
    ``catalog.product_price_dropped`` / ``catalog.product_back_in_stock``.

- ``LinkedIdentity``: PK=USER#<user_id>, SK=IDENTITY#<provider> — a social-login identity
  linked to the account (one per provider); Query begins_with IDENTITY# lists them. Written
  and deleted in the same transaction as its ``IdentityClaim`` and the user's
  ``identity_count``, whose condition keeps the last way to sign in.
- ``IdentityClaim``: PK=IDENTITY#<SHA-256 of issuer and subject>, SK=IDENTITY — which account
  a provider identity belongs to; GetItem at each social sign-in. Put with
  ``attribute_not_exists``, which is what makes an identity belong to one account.
- ``OidcState``: PK=OIDC_STATE#<hash of the state>, SK=OIDC_STATE — a social sign-in in
  progress (PKCE verifier, nonce, provider, return URL, the account being linked); GetItem
  then a conditional DeleteItem at the callback, so it is used once. Expires by TTL.
- ``OidcHandoff``: PK=OIDC_HANDOFF#<hash of the code>, SK=OIDC_HANDOFF — the one-time code a
  finished social sign-in hands the frontend in its return URL; redeemed like the state.
- ``FirstPaidOrder``: PK=FIRST_ORDER#<buyer key>, SK=FIRST_ORDER — the buyer's first paid order
  with the marketplace, one item per buyer key (the account id, and the normalised email that
  guest checkouts and per-buyer promotion limits count by); written once on ``order.paid``
  (``chalicelib.orders.first_orders``), read by key in the checkout's BatchGetItem so a
  "first order with the marketplace" promotion is judged across every seller.
- ``ReferralCode``: PK=REFERRAL_CODE#<code>, SK=REFERRAL_CODE — which buyer a referral code
  names (GetItem at sign-up); PK=USER#<user_id>, SK=REFERRAL_CODE — the buyer's own code
  (GetItem). Both are put in one transaction with ``attribute_not_exists`` the first time the
  code is asked for, so a code names one buyer and a buyer has one code.

The data export reads the whole USER#<user_id> partition with one paginated Query.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)

from chalicelib.core.db import GSI1, GSI2, TableModel


class User(TableModel):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    password_hash = UnicodeAttribute(null=True)  # None: a passwordless account (magic link only)
    roles = UnicodeSetAttribute(default=lambda: {"buyer"})
    seller_id = UnicodeAttribute(null=True)  # set when this person works for a seller
    # active | invited (made by a seller's import, not yet claimed by its owner) | erased
    status = UnicodeAttribute(default="active")
    created_at = UnicodeAttribute()
    # The person proved they read mail at the address. Password sign-in needs it.
    email_verified = BooleanAttribute(default=False)
    # TOTP second factor (operators; see accounts/mfa.py). The base32 secret is stored as is,
    # protected by the table's encryption at rest: the server needs it in the clear to compute
    # codes. ``totp_last_step`` is the last 30-second step a code was accepted for.
    totp_secret = UnicodeAttribute(null=True)
    totp_last_step = NumberAttribute(null=True)

    phone = UnicodeAttribute(null=True)  # E.164, e.g. +4915112345678
    birthday = UnicodeAttribute(null=True)  # MM-DD
    birth_year = NumberAttribute(null=True)
    language = UnicodeAttribute(null=True)  # de | en
    vat_id = UnicodeAttribute(null=True)  # normalised, e.g. DE123456789
    # Marketing preferences: category slugs, brands, sizes (bounded lists).
    preferred_categories = ListAttribute(of=UnicodeAttribute, null=True)
    preferred_brands = ListAttribute(of=UnicodeAttribute, null=True)
    preferred_sizes = ListAttribute(of=UnicodeAttribute, null=True)
    default_shipping_address_id = UnicodeAttribute(null=True)
    default_billing_address_id = UnicodeAttribute(null=True)
    address_count = NumberAttribute(null=True)
    wishlist_count = NumberAttribute(null=True)
    identity_count = NumberAttribute(null=True)  # linked social-login identities
    stripe_customer_id = UnicodeAttribute(null=True)
    default_payment_method_id = UnicodeAttribute(null=True)  # the saved method checkout uses when none is named
    erased_at = UnicodeAttribute(null=True)
    # Keyed hash of the email an erased account had: lets the consent log still prove
    # consent for that address without keeping the address itself.
    erased_email_hash = UnicodeAttribute(null=True)

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    by_birthday = GSI1()

    @property
    def is_active(self) -> bool:
        return self.status == "active"


class EmailClaim(TableModel):
    user_id = UnicodeAttribute()


class RefreshToken(TableModel):
    user_id = UnicodeAttribute()
    family_id = UnicodeAttribute()
    used = BooleanAttribute(default=False)
    expires_at = NumberAttribute()


class SessionFamily(TableModel):
    user_id = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)
    created_at = UnicodeAttribute(null=True)
    auth_time = NumberAttribute(null=True)  # epoch seconds of the sign-in (created_at for older families)
    expires_at = NumberAttribute()


class MagicLink(TableModel):
    email = UnicodeAttribute()
    purpose = UnicodeAttribute(null=True)  # sign_in (also when absent) | sign_up | seller_application | ...
    ref = UnicodeAttribute(null=True)  # what the link completes (a sign-up id, an application id, ...)
    used = BooleanAttribute(default=False)
    requested_at = UnicodeAttribute()
    expires_at = NumberAttribute()


class SignUp(TableModel):
    signup_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    newsletter = BooleanAttribute(default=False)
    source_ip = UnicodeAttribute(null=True)
    requested_at = UnicodeAttribute()
    expires_at = NumberAttribute()
    referred_by = UnicodeAttribute(null=True)  # the user id a referral code named


class LinkedIdentity(TableModel):
    user_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    issuer = UnicodeAttribute()
    subject = UnicodeAttribute()
    email = UnicodeAttribute(null=True)  # as the provider gave it when linked
    email_verified = BooleanAttribute(default=False)
    linked_at = UnicodeAttribute()


class IdentityClaim(TableModel):
    user_id = UnicodeAttribute()
    provider = UnicodeAttribute()


class OidcState(TableModel):
    provider = UnicodeAttribute()
    code_verifier = UnicodeAttribute()
    nonce = UnicodeAttribute()
    role = UnicodeAttribute(default="buyer")  # buyer | seller: what the sign-in may reach
    return_to = UnicodeAttribute(null=True)
    link_user_id = UnicodeAttribute(null=True)  # set when a signed-in buyer links the provider
    expires_at = NumberAttribute()
    referred_by = UnicodeAttribute(null=True)  # the user id a referral code named, for a new account


class OidcHandoff(TableModel):
    user_id = UnicodeAttribute()
    expires_at = NumberAttribute()


class Address(TableModel):
    address_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    company = UnicodeAttribute(null=True)
    line1 = UnicodeAttribute()
    line2 = UnicodeAttribute(null=True)
    postal_code = UnicodeAttribute()
    city = UnicodeAttribute()
    region = UnicodeAttribute(null=True)
    country = UnicodeAttribute()  # ISO 3166-1 alpha-2
    phone = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class Consent(TableModel):
    user_id = UnicodeAttribute()
    topic = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | granted | withdrawn
    text_version = UnicodeAttribute()
    request_id = UnicodeAttribute(null=True)  # the confirmation link that may grant a pending consent
    updated_at = UnicodeAttribute()


class ConsentLogEntry(TableModel):
    entry_id = UnicodeAttribute()
    topic = UnicodeAttribute()
    action = UnicodeAttribute()  # requested | granted | withdrawn
    method = UnicodeAttribute()  # registration | account_settings | email_confirmation | unsubscribe_link | ...
    source_ip = UnicodeAttribute(null=True)
    text_version = UnicodeAttribute()
    at = UnicodeAttribute()


class WishlistItem(TableModel):
    user_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    added_at = UnicodeAttribute()
    price_when_added = NumberAttribute(null=True)  # minor units, for "now cheaper" notices
    currency_when_added = UnicodeAttribute(null=True)

    GSI2PK = UnicodeAttribute()
    GSI2SK = UnicodeAttribute()
    by_product = GSI2()


# Attributes that hold personal data or credentials on a user item; erasure removes them all.
PERSONAL_USER_ATTRIBUTES = ("password_hash", "totp_secret", "totp_last_step", "phone", "birthday", "birth_year",
                            "language", "vat_id", "preferred_categories", "preferred_brands", "preferred_sizes",
                            "default_shipping_address_id", "default_billing_address_id", "address_count",
                            "wishlist_count", "stripe_customer_id", "GSI1PK", "GSI1SK")


class FirstPaidOrder(TableModel):
    buyer_key = UnicodeAttribute()
    order_id = UnicodeAttribute()  # the first paid order (kept when later orders are paid)
    paid_at = UnicodeAttribute()


class ReferralCode(TableModel):
    """A buyer's referral code: under REFERRAL_CODE#<code> (who it names, for sign-up) and
    under the buyer (their own code); both put once, together."""

    code = UnicodeAttribute()
    user_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
