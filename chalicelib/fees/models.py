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
- ``MonthlySales``: PK=SELLER#<sid>, SK=SALES#<currency>#<yyyy-mm>, one item per seller,
  currency and calendar month; each day's sales are a number attribute of their own
  (``d01``..``d31``) that the order path ADDs to (``service.record_sale``, usable inside its
  transaction; ADD creates a missing attribute and item, so no read comes first). A
  seller's trailing-30-day sales are in the items of the window's months: 2 keys (3 on
  1 March of a common year, whose window starts on 31 January): one BatchGetItem for
  several sellers, read by the checkout with its other keys (1 RT). An item
  expires by TTL 31 days after its month ends, when no window reaches it any more.
  The daily items written before (SK=SALES#<currency>#<yyyy-mm-dd>) are not read: a
  seller's trailing sales count from the first monthly item on, so for up to 30 days after
  the change a volume tier sees less than the seller sold (reading those items too would
  be 30 keys a seller again). They expire by TTL 40 days after their day.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.db import GSI1, TableModel

SALES_TTL_DAYS_AFTER_MONTH = 31


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


class MonthlySales(TableModel):
    seller_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    month = UnicodeAttribute()  # yyyy-mm
    expires_at = NumberAttribute()
    # The sales of each day of the month in minor units, absent for a day without any.
    # Top-level numbers rather than a map: ``ADD dNN :amount`` needs no map to exist first.
    d01 = NumberAttribute(null=True)
    d02 = NumberAttribute(null=True)
    d03 = NumberAttribute(null=True)
    d04 = NumberAttribute(null=True)
    d05 = NumberAttribute(null=True)
    d06 = NumberAttribute(null=True)
    d07 = NumberAttribute(null=True)
    d08 = NumberAttribute(null=True)
    d09 = NumberAttribute(null=True)
    d10 = NumberAttribute(null=True)
    d11 = NumberAttribute(null=True)
    d12 = NumberAttribute(null=True)
    d13 = NumberAttribute(null=True)
    d14 = NumberAttribute(null=True)
    d15 = NumberAttribute(null=True)
    d16 = NumberAttribute(null=True)
    d17 = NumberAttribute(null=True)
    d18 = NumberAttribute(null=True)
    d19 = NumberAttribute(null=True)
    d20 = NumberAttribute(null=True)
    d21 = NumberAttribute(null=True)
    d22 = NumberAttribute(null=True)
    d23 = NumberAttribute(null=True)
    d24 = NumberAttribute(null=True)
    d25 = NumberAttribute(null=True)
    d26 = NumberAttribute(null=True)
    d27 = NumberAttribute(null=True)
    d28 = NumberAttribute(null=True)
    d29 = NumberAttribute(null=True)
    d30 = NumberAttribute(null=True)
    d31 = NumberAttribute(null=True)

    @staticmethod
    def day_attribute(day: int) -> NumberAttribute:
        """The attribute that holds the sales of ``day`` (1..31) of the month."""
        attribute: NumberAttribute = getattr(MonthlySales, f"d{day:02d}")
        return attribute

    def sales_on(self, day: int) -> int:
        return int(getattr(self, f"d{day:02d}") or 0)
