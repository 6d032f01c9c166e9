"""Seller items: sellers, their API keys, operators' invite codes and the marketplace settings.

Keys and access patterns:
- ``Seller``: PK=SELLER#<seller_id>, SK=PROFILE
  - get a seller (GetItem); many sellers at once for a page of products (BatchGetItem)
  - change profile, Stripe state or status (UpdateItem / TransactWrite with the outbox event,
    conditioned on what was read)
  - GSI1: GSI1PK=SELLERS#<status>, GSI1SK=<created_at>#<seller_id> — operator lists sellers
    by status, oldest application first (Query)
  - GSI2: GSI2PK=STRIPE_ACCOUNT#<account_id>, GSI2SK=SELLER — the Connect webhook finds
    the seller of an ``account.updated`` event that lacks our ``metadata.seller_id`` (Query)
  - GSI3: GSI3PK=SELLERS#NOT_SELLING, GSI3SK=<seller_id>, present only while a seller that
    was approved once cannot sell (suspended, or Stripe charges disabled): the sellers whose
    listed products browse skips, which category counts subtract (Query). Kept in the same
    write as the status or Stripe state it follows from.
- ``ApiKey``: PK=APIKEY#<key_id>, SK=APIKEY — the key id is in the credential, so
  authenticating is one GetItem (then one of the seller, for suspension); only a hash of
  the secret is stored.
  - GSI3: GSI3PK=SELLER#<seller_id>#APIKEYS, GSI3SK=<key_id> — a seller lists its own keys,
    oldest first (Query). Revoking deletes the item, conditioned on the caller's seller id.
- ``SellerInvite``: PK=SELLER_INVITE#<hash of the code>, two items:
  - SK=INVITE, written by an operator; expires by TTL (and is checked against ``expires_at``
    because TTL deletion lags);
    - GSI1: GSI1PK=SELLER_INVITES, GSI1SK=<created_at>#<invite_id> — operators list invites,
      newest first (Query; one partition, as invites are issued by hand)
    - GSI2: GSI2PK=SELLER_INVITE_ID#<invite_id>, GSI2SK=INVITE — revoking finds an invite by
      the id operators see (Query)
  - SK=REDEEMED, the code's one use: saved with ``attribute_not_exists`` either in the
    application's transaction (``seller_id`` set) or by an operator revoking the code
    (``revoked_at`` set). Whichever comes first spends the code, so a revoked code cannot be
    redeemed and a redeemed one cannot be revoked. Applying reads both with one Query on the
    PK; the operators' listing reads a page's REDEEMED items with one BatchGetItem.
- ``MarketplaceSettings``: PK=MARKETPLACE, SK=SETTINGS — GetItem; absent means the defaults.
- ``SellerApplication``: PK=SELLER_APPLICATION#<application_id>, SK=APPLICATION — an
  application waiting for its address to be confirmed (the owner's name, the business
  details, the argon2 hash of the chosen password, the invite's key). GetItem when its mailed
  link is used, deleted then; expires by TTL after a day. No seller, account or Stripe account
  exists before the address is confirmed.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)

from chalicelib.core.db import GSI1, GSI2, GSI3, TableModel
from chalicelib.core.keys import seller_status_index_key

STATUSES = ("pending", "approved", "suspended", "rejected")


class Seller(TableModel):
    seller_id = UnicodeAttribute()
    status = UnicodeAttribute(default="pending")
    status_reason = UnicodeAttribute(null=True)  # why an operator suspended or rejected the seller
    owner_user_id = UnicodeAttribute(null=True)
    business_name = UnicodeAttribute()
    display_name = UnicodeAttribute()
    contact_email = UnicodeAttribute()
    country = UnicodeAttribute()
    default_currency = UnicodeAttribute()
    vat_id = UnicodeAttribute(null=True)
    # storefront profile, edited by the seller
    description = UnicodeAttribute(null=True)
    logo_url = UnicodeAttribute(null=True)
    return_policy = UnicodeAttribute(null=True)
    shipping_policy = UnicodeAttribute(null=True)
    support_email = UnicodeAttribute(null=True)
    return_window_days = NumberAttribute(default=14)
    # Stripe Connect state, from account.updated; stripe_synced_at is the ``created`` of the
    # last event applied, so an older event arriving late changes nothing
    stripe_account_id = UnicodeAttribute(null=True)
    charges_enabled = BooleanAttribute(default=False)
    payouts_enabled = BooleanAttribute(default=False)
    requirements_due = ListAttribute(of=UnicodeAttribute, default=list)
    stripe_synced_at = NumberAttribute(null=True)
    # storefront figures, maintained by the domains that own reviews and products
    rating_count = NumberAttribute(default=0)
    rating_sum = NumberAttribute(default=0)  # sum of 1-5 star ratings
    rating_1 = NumberAttribute(default=0)  # how many of them gave 1 star (see chalicelib.catalog.ratings)
    rating_2 = NumberAttribute(default=0)
    rating_3 = NumberAttribute(default=0)
    rating_4 = NumberAttribute(default=0)
    rating_5 = NumberAttribute(default=0)
    # seller reviews per sub-order: overall (count, sum, 1-5 distribution), delivery and communication sums
    feedback_count = NumberAttribute(default=0)
    feedback_sum = NumberAttribute(default=0)
    feedback_1 = NumberAttribute(default=0)
    feedback_2 = NumberAttribute(default=0)
    feedback_3 = NumberAttribute(default=0)
    feedback_4 = NumberAttribute(default=0)
    feedback_5 = NumberAttribute(default=0)
    feedback_delivery_sum = NumberAttribute(default=0)
    feedback_communication_sum = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    approved_at = UnicodeAttribute(null=True)

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    by_status = GSI1()
    by_stripe_account = GSI2()
    by_standing = GSI3()

    @property
    def can_sell(self) -> bool:
        """Approved by the operator and able to take charges through Stripe."""
        return self.status == "approved" and bool(self.charges_enabled)


class ApiKey(TableModel):
    key_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    name = UnicodeAttribute()
    scopes = UnicodeSetAttribute()
    secret_hash = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute(null=True)  # the seller's user who made it
    last_used_at = UnicodeAttribute(null=True)  # ISO 8601 UTC, seconds: compares as text
    # Optional end of life (epoch seconds): refused from then on, and deleted by the table's TTL.
    expires_at = NumberAttribute(null=True)

    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    by_seller = GSI3()


class SellerInvite(TableModel):
    invite_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute(null=True)  # the operator (on the INVITE item)
    note = UnicodeAttribute(null=True)
    seller_id = UnicodeAttribute(null=True)  # who redeemed it (on the REDEEMED item)
    revoked_at = UnicodeAttribute(null=True)  # when an operator revoked it (on the REDEEMED item)
    revoked_by = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    by_created = GSI1()
    by_id = GSI2()


SELLER_ACCESS = ("open", "invite_only")
BUYER_ACCESS = ("open", "members_only")


class MarketplaceSettings(TableModel):
    """Operator settings. ``seller_access``: open (a seller is approved once Stripe enables
    charges) or invite_only (an invite code is needed and an operator approves).
    ``buyer_access``: open or members_only (anonymous callers of buyer-facing routes get a
    401 ``members_only``; see ``chalicelib.sellers.marketplace.check_buyer_access``).
    ``payment_methods``: what checkout and saved methods offer (card, sepa_debit, paypal, klarna)."""

    seller_access = UnicodeAttribute(default="open")
    buyer_access = UnicodeAttribute(default="open")
    # The payment methods checkout offers (chalicelib.payments.methods); absent: cards only.
    # PynamoDB types a list by its attribute class; the values it reads are str
    payment_methods: ListAttribute[str] = ListAttribute(of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    updated_at = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)


class SellerApplication(TableModel):
    application_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    business_name = UnicodeAttribute()
    country = UnicodeAttribute()
    default_currency = UnicodeAttribute()
    vat_id = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute()
    invite_key = UnicodeAttribute(null=True)  # the SellerInvite PK the application redeems
    source_ip = UnicodeAttribute(null=True)
    requested_at = UnicodeAttribute()
    expires_at = NumberAttribute()


def every_seller_id() -> list[str]:
    """Every seller, whatever its status, in id order (the order operator backfills checkpoint
    by): one Query per status of the sellers' status index, never a Scan."""
    return sorted({seller.seller_id for status in STATUSES
                   for seller in Seller.by_status.query(seller_status_index_key(status))})
