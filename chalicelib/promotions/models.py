"""Promotions, their codes, the automatic promotions' index and the per-buyer use counters.

Keys and access patterns (``<owner>`` is ``PROMOTIONS#marketplace`` for the operator's
promotions and ``SELLER#<sid>`` for a seller's; every service function builds it from the
caller's principal, so a seller only ever reads and writes under its own ``SELLER#<sid>``):

- ``Promotion``: PK=<owner>, SK=PROMOTION#<promotion_id>
  - one promotion (GetItem): another seller's id is simply not under the caller's key (404)
  - an owner's promotions, newest first (Query PK, SK begins_with PROMOTION#; ids are ULIDs)
  - at checkout: read by key in the checkout's BatchGetItem, named by the code or
    by the automatic index. Carries the limit counters ``uses`` and ``discount_given``, which
    the checkout's transaction updates under conditions (:func:`service.use_writes`).
  A deleted promotion stays as an item with ``deleted_at`` (hidden, 404): a cancellation
  after the deletion must still find the counters to give its use back.
- ``AutomaticPromotions``: PK=<owner>, SK=AUTOMATIC — the ids of the owner's active automatic
  promotions (a string set, at most :data:`AUTOMATIC_PER_OWNER`), changed with ADD/DELETE in
  the transaction that changes the promotion, so checkout finds them with one GetItem per
  seller and one for the marketplace, without a Query. ``per_buyer`` holds those of them with
  a per-buyer limit, whose ``PromoUse`` the checkout must read too.
- ``PromoCode``: PK=PROMO_CODE#<CODE>, SK=PROMO_CODE — one item per code (upper case, no
  spaces), so a code is globally unique (conditional put) and found with one GetItem. It
  names its promotion (owner and id). ``single_use`` codes record ``used_by_order`` once
  (a condition in the checkout's transaction); ``personal`` codes name one ``account_id``
  and end at ``valid_until`` (not ``expires_at``: that is the table's TTL attribute, and an
  expired code must still answer ``code_expired``, not vanish).
  - GSI1: GSI1PK=<owner>#PROMOTION#<promotion_id>#CODES, GSI1SK=<created_at>#<CODE> — a
    promotion's codes in the order made (Query), for the list and the CSV export
- ``PromoUse``: PK=PROMO_USE#<promotion_id>#<buyer key>, SK=PROMO_USE — how often one buyer
  used a promotion (the account id; a guest's normalised email), for per-buyer limits
- ``PromoRedemption``: PK=PROMO_ORDER#<order_id>, SK=PROMO_ORDER — what one order's checkout
  took (each promotion's owner, id and discount, the buyer key, the code), put in the
  checkout's transaction; read by key (GetItem) when the order is cancelled unpaid (its uses
  go back), refunded (the discount given goes back in proportion) or paid (the promotions'
  orders and revenue are counted, once: ``paid_at``)
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)

from chalicelib.core.db import GSI1, TableModel

AUTOMATIC_PER_OWNER = 10  # active automatic promotions per seller and for the marketplace (README)


class Promotion(TableModel):
    promotion_id = UnicodeAttribute()
    scope = UnicodeAttribute()  # marketplace | seller
    seller_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    currency = UnicodeAttribute()  # of every amount below
    percent_bp = NumberAttribute(default=0)
    amount = NumberAttribute(default=0)
    buy_quantity = NumberAttribute(default=0)
    get_quantity = NumberAttribute(default=0)
    tiers = JSONAttribute(null=True)  # [[threshold, off], ...] in minor units
    target = UnicodeAttribute(default="order")
    target_values: ListAttribute[str] = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    minimum = NumberAttribute(default=0)
    customer_groups: ListAttribute[str] = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    first_order = UnicodeAttribute(null=True)  # marketplace | seller
    countries: ListAttribute[str] = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    starts_at = UnicodeAttribute(null=True)
    ends_at = UnicodeAttribute(null=True)
    loyalty_tier = UnicodeAttribute(null=True)
    max_uses = NumberAttribute(null=True)
    max_uses_per_buyer = NumberAttribute(null=True)
    budget = NumberAttribute(null=True)
    cap = NumberAttribute(null=True)
    priority = NumberAttribute(default=100)
    exclusive = BooleanAttribute(default=False)
    automatic = BooleanAttribute(default=False)
    active = BooleanAttribute(default=True)
    seller_share_bp = NumberAttribute(default=0)  # an operator promotion's share borne by the sellers
    uses = NumberAttribute(default=0)
    discount_given = NumberAttribute(default=0)
    orders = NumberAttribute(default=0)  # paid orders it applied to (order.paid)
    revenue = NumberAttribute(default=0)  # those orders' totals, minor units of ``currency``
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    deleted_at = UnicodeAttribute(null=True)


class AutomaticPromotions(TableModel):
    promotion_ids = UnicodeSetAttribute(null=True)
    per_buyer = UnicodeSetAttribute(null=True)


class PromoCode(TableModel):
    code = UnicodeAttribute()
    kind = UnicodeAttribute()  # public | single_use | personal
    scope = UnicodeAttribute()
    seller_id = UnicodeAttribute(null=True)
    promotion_id = UnicodeAttribute()
    account_id = UnicodeAttribute(null=True)
    valid_until = UnicodeAttribute(null=True)
    used_by_order = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    GSI1PK = UnicodeAttribute()
    GSI1SK = UnicodeAttribute()
    by_promotion = GSI1()


class PromoRedemption(TableModel):
    order_id = UnicodeAttribute()
    buyer_key = UnicodeAttribute(null=True)
    code_pk = UnicodeAttribute(null=True)  # a single-use or personal code's key (marked used by the order)
    # [[owner key, promotion id, discount, 1 when a per-buyer use was counted else 0], ...]
    uses = JSONAttribute()
    released_at = UnicodeAttribute(null=True)  # the uses were given back (unpaid order cancelled)
    use_returned_at = UnicodeAttribute(null=True)  # the uses were given back (whole order cancelled, refunded)
    paid_at = UnicodeAttribute(null=True)  # counted in the promotions' orders and revenue


class PromoUse(TableModel):
    promotion_id = UnicodeAttribute()
    buyer_key = UnicodeAttribute()
    uses = NumberAttribute(default=0)
