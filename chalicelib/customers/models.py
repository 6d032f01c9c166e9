"""Sellers' customers: one record per (seller, person), customer groups and customer imports.

Two kinds of customer record share one key space (``<sid>`` a seller id, ``<uid>`` a
buyer's user id, ``<cid>`` a customer id, which is one of the two below):

- a **linked customer**, ``CUSTOMER#<uid>``: the buyer's agora account is this seller's
  customer, because they paid an order with the seller or confirmed the seller's
  invitation. Name and email follow the account (``CustomerOf`` below). Checkout reads
  it by the buyer's user id (``service.customer_record_keys``, read by checkout's
  customer-group contributor).
- an **imported contact**, ``CUSTOMER#ctc_<26 base32 chars>``: what the seller imported
  (name, email), the seller's own data, not linked to any account (``user_id`` null):
  nothing of an account (name, language, consents) is copied into it, and it exists
  whether or not the email has an account. Its id is deterministic,
  ``ctc_`` + base32(SHA-256(``<sid>:<normalised email>``)) cut to 26 characters (130 bits),
  so that one BatchGetItem per 100 rows tells an import which contacts exist, and an
  order or an invitation finds the contact of an email with one GetItem. The id reveals
  the email only to someone who already knows it and the seller id.
  When the contact is linked (the buyer's first paid order with the seller, or their
  confirmation of the invitation mail) it is merged into ``CUSTOMER#<uid>`` and deleted:
  a linked contact's customer id becomes the buyer's user id.

Keys and access patterns:

- ``Customer``: PK=SELLER#<sid>, SK=CUSTOMER#<cid>
  - one customer of a seller (GetItem) — the tenant is in the key, so another seller's
    customer is simply not there (404)
  - all customers of a seller, for the export (Query PK, SK begins_with CUSTOMER#)
  - many customers of a seller for a group page or an import batch (BatchGetItem)
  - GSI1: GSI1PK=SELLER#<sid>#CUSTOMERS, GSI1SK=<last_order_at>#<cid> — the list, newest
    order first (Query, ScanIndexForward=false); customers who never ordered have
    GSI1SK=0#<created_at>#<cid> and so come last, newest first
  - GSI2: GSI2PK=SELLER#<sid>#CUSTOMERS, GSI2SK=<email> — search by email prefix
    (Query, begins_with)
  - GSI3: GSI3PK=SELLER#<sid>#CUSTOMERS, GSI3SK=<folded name>#<cid> — search by name
    prefix (Query, begins_with; names are case- and accent-folded: "müller" finds "Müller")
  Every write is a versioned save (optimistic lock) so that order totals, group changes,
  merges and profile refreshes never overwrite each other.
- ``GroupMember``: PK=SELLER#<sid>, SK=GROUPMEMBER#<gid>#<cid> — a pointer that exists
  while a customer is in a group, written in the customer's transaction (moved to the
  buyer's id when a contact is merged)
  - GSI1: GSI1PK=SELLER#<sid>#GROUP#<gid>, GSI1SK=<the customer's GSI1SK> — a group's
    customers, newest order first (Query, then BatchGetItem of the customers)
- ``CustomerOf``: PK=USER#<uid>#SELLERS, SK=SELLER#<sid> — which sellers a buyer is a
  linked customer of (Query PK), so that a profile change reaches every copy of the
  name/email. Put (idempotently) before the linked record, so none exists without it.
  Imported contacts have none: they do not follow any account.
- ``CustomerOrder``: PK=SELLER#<sid>, SK=CUSTORDER#<uid>#<order_id> — one per order a
  buyer placed with the seller, written by ``service.record_order`` together with the
  customer's totals; its conditional put is what makes recording an order idempotent
  - a customer's orders, newest first (Query PK, SK begins_with CUSTORDER#<cid>#,
    ScanIndexForward=false; order ids are ULIDs, so they sort by time; a contact has none)
- ``CustomerGroup``: PK=SELLER#<sid>, SK=CUSTGROUP#<gid> — GetItem; a seller's groups
  (Query PK, SK begins_with CUSTGROUP#)
- ``GroupName``: PK=SELLER#<sid>, SK=GROUPNAME#<folded name> — makes group names unique
  per seller (conditional put in the group's transaction)
- ``ImportJob``: PK=SELLER#<sid>, SK=IMPORT#<import_id> — an import's progress (GetItem);
  the tenant of an upload is in its key, so another seller's import id is a 404. Expires
  by TTL after 30 days.
- ``ImportChunk``: PK=IMPORT#<import_id>, SK=CHUNK#<n> — up to CHUNK_ROWS checked rows
  ``[line, name, email]`` of a queued import waiting for its SQS message (GetItem by the
  worker). Written with a condition that it is new (a resumed file reader never rewrites
  a chunk), marked done with a conditional write in the same transaction that adds its
  counts to the job, so a redelivered chunk counts once; its rows are removed then, and
  what is left expires by TTL after two days. Chunks never hold passwords (until
  2026-12 they could: ``customers.migrations`` purges those).
"""

from __future__ import annotations

import base64
import hashlib
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
from chalicelib.core.keys import CUSTOMER_PREFIX, customer_activity_key, customer_name_key, customers_key

ERROR_SAMPLE = 100  # refused rows an import keeps with their reasons (the count is always exact)


CONTACT_PREFIX = "ctc_"


def contact_id(seller_id: str, email: str) -> str:
    """The id of the seller's imported contact for a normalised ``email`` (see above)."""
    digest = hashlib.sha256(f"{seller_id}:{email}".encode()).digest()
    return CONTACT_PREFIX + base64.b32encode(digest).decode().lower()[:26]


def is_contact_id(customer_id: str) -> bool:
    return customer_id.startswith(CONTACT_PREFIX)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a name for prefix search ("Mül" -> "mul")."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class Customer(TableModel):
    seller_id = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)  # the linked account; None for an imported contact
    # Name and email: a linked customer's follow the account (refreshed on account.updated);
    # a contact's are what the seller imported, kept when it is merged until the account changes.
    name = UnicodeAttribute(default="")
    email = UnicodeAttribute()
    group_id = UnicodeAttribute(null=True)
    tax_exempt = BooleanAttribute(default=False)
    tax_exempt_reason = UnicodeAttribute(null=True)
    vat_id = UnicodeAttribute(null=True)
    order_count = NumberAttribute(default=0)
    total_spent: MapAttribute[str, int] = MapAttribute(default=dict)  # currency -> integer minor units
    first_order_at = UnicodeAttribute(null=True)
    last_order_at = UnicodeAttribute(null=True)
    source = UnicodeAttribute()  # order | import: how the person became this seller's customer
    created_at = UnicodeAttribute()
    import_id = UnicodeAttribute(null=True)  # the import that created the contact (kept when merged)
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

    @property
    def customer_id(self) -> str:
        """What the API calls the customer: the key's id (a user id, or a contact's ``ctc_`` id)."""
        return self.SK[len(CUSTOMER_PREFIX):]

    @property
    def linked(self) -> bool:
        return self.user_id is not None

    def activity_key(self) -> str:
        return customer_activity_key(self.customer_id, last_order_at=self.last_order_at, created_at=self.created_at)

    def index(self) -> Customer:
        """Set the index keys from the fields; call before every save."""
        partition = customers_key(self.seller_id)
        self.GSI1PK, self.GSI1SK = partition, self.activity_key()
        self.GSI2PK, self.GSI2SK = partition, self.email
        self.GSI3PK, self.GSI3SK = partition, customer_name_key(fold(self.name), self.customer_id)
        return self

    def spent(self) -> dict[str, int]:
        raw: Any = self.total_spent
        values = raw.as_dict() if isinstance(raw, MapAttribute) else dict(raw or {})
        return {currency: int(amount) for currency, amount in values.items()}


class GroupMember(TableModel):
    group_id = UnicodeAttribute()

    GSI1PK = UnicodeAttribute()
    GSI1SK = UnicodeAttribute()
    by_group = GSI1()

    @property
    def customer_id(self) -> str:
        return self.SK.rsplit("#", 1)[1]


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


class RowError(MapAttribute[str, Any]):
    line = NumberAttribute()
    code = UnicodeAttribute()
    message = UnicodeAttribute()


# The phases of a queued import's file (None: a job from before phases, read to its end).
AWAITING_UPLOAD, QUEUED, CHECKING, CHECKED, FAILED = "awaiting_upload", "queued", "checking", "checked", "failed"


class ImportJob(TableModel):
    seller_id = UnicodeAttribute()
    import_id = UnicodeAttribute()
    total = NumberAttribute(default=0)  # data rows in the file (read so far, while it is being read)
    processed = NumberAttribute(default=0)  # rows handled so far (refused rows count when read)
    imported = NumberAttribute(default=0)  # rows that became the seller's contacts
    already_customers = NumberAttribute(default=0)
    accounts_created = NumberAttribute(null=True)  # jobs from before contacts (gone by TTL by 2027-01)
    linked = NumberAttribute(null=True)  # idem
    error_count = NumberAttribute(default=0)
    errors = ListAttribute(of=RowError, default=list)  # the first ERROR_SAMPLE errors
    password_column = UnicodeAttribute(null=True)  # the file's password column as titled, ignored
    password_rows = NumberAttribute(default=0)  # rows with a value in it
    chunk_count = NumberAttribute(default=0)
    chunks_done = NumberAttribute(default=0)
    mode = UnicodeAttribute()  # sync | async
    phase = UnicodeAttribute(null=True)  # async: awaiting_upload, queued, checking, checked, failed
    upload_key = UnicodeAttribute(null=True)  # the S3 object of an uploaded file
    checked_line = NumberAttribute(default=0)  # the file reader's last committed line (resume point)
    failure_code = UnicodeAttribute(null=True)  # why the file could not be read to its end
    failure_message = UnicodeAttribute(null=True)
    failure_line = NumberAttribute(null=True)
    created_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()

    @property
    def file_read(self) -> bool:
        return self.mode == "sync" or self.phase in (None, CHECKED, FAILED)

    @property
    def status(self) -> str:
        if self.phase == AWAITING_UPLOAD:
            return AWAITING_UPLOAD
        if not self.file_read or int(self.chunks_done) < int(self.chunk_count):
            return "processing"
        return "failed" if self.phase == FAILED else "done"

    def imported_count(self) -> int:
        """Rows imported; a job from before contacts counted them as created plus linked."""
        return int(self.imported) + int(self.accounts_created or 0) + int(self.linked or 0)

    def error_sample(self) -> list[RowError]:
        """Chunks finish in any order, so the sample is sorted here."""
        return sorted(self.errors or [], key=lambda error: int(error.line))[:ERROR_SAMPLE]


class ImportChunk(TableModel):
    seller_id = UnicodeAttribute()
    import_id = UnicodeAttribute()
    number = NumberAttribute()
    rows = JSONAttribute(null=True)  # [[line, name, email], ...]; removed when done
    done = BooleanAttribute(default=False)
    expires_at = NumberAttribute()
