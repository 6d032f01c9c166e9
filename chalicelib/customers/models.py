"""Sellers' customers: one record per (seller, buyer), customer groups and customer imports.

Keys and access patterns (``<sid>`` a seller id, ``<uid>`` a buyer's user id):

- ``Customer``: PK=SELLER#<sid>, SK=CUSTOMER#<uid>
  - one customer of a seller (GetItem) — the tenant is in the key, so another seller's
    customer is simply not there (404)
  - all customers of a seller, for the export (Query PK, SK begins_with CUSTOMER#)
  - many customers of a seller for a group page or an import chunk (BatchGetItem)
  - GSI1: GSI1PK=SELLER#<sid>#CUSTOMERS, GSI1SK=<last_order_at>#<uid> — the list, newest
    order first (Query, ScanIndexForward=false); customers who never ordered have
    GSI1SK=0#<created_at>#<uid> and so come last, newest link first
  - GSI2: GSI2PK=SELLER#<sid>#CUSTOMERS, GSI2SK=<email> — search by email prefix
    (Query, begins_with)
  - GSI3: GSI3PK=SELLER#<sid>#CUSTOMERS, GSI3SK=<folded name>#<uid> — search by name
    prefix (Query, begins_with; names are case- and accent-folded: "müller" finds "Müller")
  Every write is a versioned save (optimistic lock) so that order totals, group changes
  and profile refreshes never overwrite each other.
- ``GroupMember``: PK=SELLER#<sid>, SK=GROUPMEMBER#<gid>#<uid> — a pointer that exists
  while a customer is in a group, written in the customer's transaction
  - GSI1: GSI1PK=SELLER#<sid>#GROUP#<gid>, GSI1SK=<the customer's GSI1SK> — a group's
    customers, newest order first (Query, then BatchGetItem of the customers)
- ``CustomerOf``: PK=USER#<uid>#SELLERS, SK=SELLER#<sid> — which sellers a buyer is a
  customer of (Query PK), so that a profile change reaches every copy of the name/email.
  Put (idempotently) before the customer record, so none exists without it.
- ``CustomerOrder``: PK=SELLER#<sid>, SK=CUSTORDER#<uid>#<order_id> — one per order a
  buyer placed with the seller, written by ``service.record_order`` together with the
  customer's totals; its conditional put is what makes recording an order idempotent
  - a customer's orders, newest first (Query PK, SK begins_with CUSTORDER#<uid>#,
    ScanIndexForward=false; order ids are ULIDs, so they sort by time)
- ``CustomerGroup``: PK=SELLER#<sid>, SK=CUSTGROUP#<gid> — GetItem; a seller's groups
  (Query PK, SK begins_with CUSTGROUP#)
- ``GroupName``: PK=SELLER#<sid>, SK=GROUPNAME#<folded name> — makes group names unique
  per seller (conditional put in the group's transaction)
- ``ImportJob``: PK=SELLER#<sid>, SK=IMPORT#<import_id> — an import's progress (GetItem);
  expires by TTL after 30 days
- ``ImportChunk``: PK=IMPORT#<import_id>, SK=CHUNK#<n> — up to CHUNK_ROWS valid rows of a
  large import waiting for its SQS message (GetItem by the worker). Marked done with a
  conditional write in the same transaction that adds its counts to the job, so a
  redelivered chunk counts once; its rows (which may hold passwords) are removed then,
  and what is left expires by TTL after two days.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)

from chalicelib.core.db import GSI1, GSI2, GSI3, TableModel

NEVER_ORDERED = "0"  # sorts before every ISO timestamp, so never-ordered customers list last
ERROR_SAMPLE = 100  # refused rows an import keeps with their reasons (the count is always exact)


def seller_key(seller_id: str) -> str:
    return f"SELLER#{seller_id}"


def customers_key(seller_id: str) -> str:
    return f"SELLER#{seller_id}#CUSTOMERS"


def customer_sk(user_id: str) -> str:
    return f"CUSTOMER#{user_id}"


def group_sk(group_id: str) -> str:
    return f"CUSTGROUP#{group_id}"


def group_members_key(seller_id: str, group_id: str) -> str:
    return f"SELLER#{seller_id}#GROUP#{group_id}"


def member_sk(group_id: str, user_id: str) -> str:
    return f"GROUPMEMBER#{group_id}#{user_id}"


def customer_orders_prefix(user_id: str) -> str:
    return f"CUSTORDER#{user_id}#"


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a name for prefix search ("Mül" -> "mul")."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class Customer(TableModel):
    seller_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    name = UnicodeAttribute(default="")  # copied from the account; refreshed on account.updated
    email = UnicodeAttribute()
    group_id = UnicodeAttribute(null=True)
    tax_exempt = BooleanAttribute(default=False)
    tax_exempt_reason = UnicodeAttribute(null=True)
    vat_id = UnicodeAttribute(null=True)
    order_count = NumberAttribute(default=0)
    total_spent = MapAttribute(default=dict)  # currency -> integer minor units
    first_order_at = UnicodeAttribute(null=True)
    last_order_at = UnicodeAttribute(null=True)
    source = UnicodeAttribute()  # order | import: how the buyer became this seller's customer
    created_at = UnicodeAttribute()
    import_id = UnicodeAttribute(null=True)  # the import that linked this customer
    import_created_account = BooleanAttribute(null=True)  # that import also created the account
    version = VersionAttribute()

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    by_last_order = GSI1()
    by_email = GSI2()
    by_name = GSI3()

    def activity_key(self) -> str:
        if self.last_order_at:
            return f"{self.last_order_at}#{self.user_id}"
        return f"{NEVER_ORDERED}#{self.created_at}#{self.user_id}"

    def index(self) -> Customer:
        """Set the index keys from the fields; call before every save."""
        partition = customers_key(self.seller_id)
        self.GSI1PK, self.GSI1SK = partition, self.activity_key()
        self.GSI2PK, self.GSI2SK = partition, self.email
        self.GSI3PK, self.GSI3SK = partition, f"{fold(self.name)}#{self.user_id}"
        return self

    def spent(self) -> dict[str, int]:
        raw: Any = self.total_spent
        values = raw.as_dict() if isinstance(raw, MapAttribute) else dict(raw or {})
        return {currency: int(amount) for currency, amount in values.items()}


class GroupMember(TableModel):
    user_id = UnicodeAttribute()
    group_id = UnicodeAttribute()

    GSI1PK = UnicodeAttribute()
    GSI1SK = UnicodeAttribute()
    by_group = GSI1()


class CustomerOf(TableModel):
    user_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()


class CustomerOrder(TableModel):
    seller_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    ordered_at = UnicodeAttribute()


class CustomerGroup(TableModel):
    seller_id = UnicodeAttribute()
    group_id = UnicodeAttribute()
    name = UnicodeAttribute()
    discount_basis_points = NumberAttribute(default=0)  # 1 bp = 0.01 %
    member_count = NumberAttribute(default=0)
    created_at = UnicodeAttribute()


class GroupName(TableModel):
    group_id = UnicodeAttribute()


class RowError(MapAttribute):
    line = NumberAttribute()
    code = UnicodeAttribute()
    message = UnicodeAttribute()


class ImportJob(TableModel):
    seller_id = UnicodeAttribute()
    import_id = UnicodeAttribute()
    total = NumberAttribute()  # data rows in the file
    processed = NumberAttribute(default=0)  # rows handled so far (refused rows count at upload)
    accounts_created = NumberAttribute(default=0)
    linked = NumberAttribute(default=0)
    already_customers = NumberAttribute(default=0)
    error_count = NumberAttribute(default=0)
    errors = ListAttribute(of=RowError, default=list)  # the first ERROR_SAMPLE errors
    chunk_count = NumberAttribute(default=0)
    chunks_done = NumberAttribute(default=0)
    mode = UnicodeAttribute()  # sync | async
    created_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()

    @property
    def status(self) -> str:
        return "done" if self.mode == "sync" or self.chunks_done >= self.chunk_count else "processing"

    def error_sample(self) -> list[RowError]:
        """Chunks finish in any order, so the sample is sorted here."""
        return sorted(self.errors or [], key=lambda error: int(error.line))[:ERROR_SAMPLE]


class ImportChunk(TableModel):
    seller_id = UnicodeAttribute()
    import_id = UnicodeAttribute()
    number = NumberAttribute()
    rows = JSONAttribute(null=True)  # [[line, name, email, password or null], ...]; removed when done
    done = BooleanAttribute(default=False)
    expires_at = NumberAttribute()
