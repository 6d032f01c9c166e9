"""Fee schedule and sales-counter items.

Keys and access patterns (RT = DynamoDB round trips):

- ``FeeScheduleItem``, one partition per schedule scope:
  PK=FEES#DEFAULT | FEES#CATEGORY#<slug> | SELLER#<sid> (a seller's override lives in
  the seller's partition), with
  - SK=FEES#VERSION#<n, 10 digits>: every version ever set, immutable (put with
    ``attribute_not_exists``). An order stores ``<scope>@<n>``; the exact version that
    priced it is a GetItem (1 RT), so a later change never alters a charged fee.
  - SK=FEES#CURRENT: a copy of the newest version (``active`` false once an override is
    removed), replaced in the same transaction as the version it copies, on condition
    that it still holds the version the change was based on (concurrent edits: 409).
  - Checkout reads every schedule an order may need in one BatchGetItem (1 RT): the
    default's CURRENT, each seller's, and each prefix of each line's category.
  - GSI1 (CURRENT items of active overrides only): GSI1PK=FEES#CATEGORIES | FEES#SELLERS,
    GSI1SK=<slug> | <seller_id> — the operator lists overrides: Query (1 RT per page).
- ``DailySales``: PK=SELLER#<sid>, SK=SALES#<currency>#<yyyy-mm-dd>, ``amount`` ADDed
  by the order path (``service.record_sale``, usable inside its transaction). A seller's
  trailing-30-day sales: Query ``SK BETWEEN SALES#<cur>#<day-29> AND SALES#<cur>#<day>``
  (1 RT); several sellers at once: BatchGetItem of their 30 day keys (1 RT per 3
  sellers). Counters expire by TTL 40 days after their day.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.db import GSI1, TableModel

SALES_TTL_DAYS = 40


class FeeScheduleItem(TableModel):
    scope = UnicodeAttribute()  # default | category:<slug> | seller:<sid>
    version = NumberAttribute()
    active = BooleanAttribute(default=True)
    terms = JSONAttribute(null=True)  # FeeSchedule.terms_json(); None for a removal
    effective_from = UnicodeAttribute()
    changed_by = UnicodeAttribute(null=True)

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    overrides = GSI1()


class DailySales(TableModel):
    seller_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    day = UnicodeAttribute()
    amount = NumberAttribute(default=0)
    expires_at = NumberAttribute()
