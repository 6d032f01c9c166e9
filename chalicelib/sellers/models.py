"""Seller items.

Keys and access patterns:
- ``Seller``: PK=SELLER#<seller_id>, SK=PROFILE
  - get a seller (GetItem); many sellers at once for a page of products (BatchGetItem)
  - GSI1: GSI1PK=SELLERS#<status>, GSI1SK=<created_at>#<seller_id> — operator lists sellers
    by status, oldest application first (Query)
  - GSI2: GSI2PK=STRIPE_ACCOUNT#<account_id>, GSI2SK=SELLER — the Connect webhook finds
    the seller of an ``account.updated`` event (Query, one item)
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, UnicodeAttribute

from chalicelib.core.db import GSI1, GSI2, TableModel

STATUSES = ("pending", "approved", "suspended", "rejected")


def seller_key(seller_id: str) -> str:
    return f"SELLER#{seller_id}"


class Seller(TableModel):
    seller_id = UnicodeAttribute()
    status = UnicodeAttribute(default="pending")
    business_name = UnicodeAttribute()
    display_name = UnicodeAttribute()
    contact_email = UnicodeAttribute()
    country = UnicodeAttribute()
    default_currency = UnicodeAttribute()
    vat_id = UnicodeAttribute(null=True)
    stripe_account_id = UnicodeAttribute(null=True)
    charges_enabled = BooleanAttribute(default=False)
    payouts_enabled = BooleanAttribute(default=False)
    requirements_due = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UnicodeAttribute()

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    by_status = GSI1()
    by_stripe_account = GSI2()

    @property
    def can_sell(self) -> bool:
        """Approved by the operator and able to take charges through Stripe."""
        return self.status == "approved" and bool(self.charges_enabled)
