"""Loyalty items: the operator's programme and campaigns, and each buyer's points.

Keys and access patterns (RT = DynamoDB round trips; spellings in :mod:`chalicelib.core.keys`):

- ``LoyaltyProgramme``: PK=LOYALTY, SK=PROGRAMME — the one programme: GetItem (1 RT).
- ``LoyaltyCampaign``: PK=LOYALTY, SK=CAMPAIGN#<id> (the operator's), or PK=SELLER#<sid>,
  SK=LOYALTY_CAMPAIGN#<id> (a seller-funded bonus on the seller's own products, in the
  seller's partition: tenant isolation is the key). Earning reads the marketplace's and each
  paid seller's campaigns: one Query each.
- ``LoyaltyMember``: PK=USER#<uid>, SK=LOYALTY#MEMBER — tier, joining day, next
  re-qualification day, grace. ``tier_of`` and the checkout's BatchGetItem read it by key.
  - GSI2: LOYALTY_REQUALIFY#<day>#<n> / <uid> — whose re-qualification falls on a day, for
    the daily sweep (a Query per shard).
  - GSI3: LOYALTY_TIER#<tier>#<n> / <uid> — members of a tier, counted by the report
    (Select COUNT per shard). The member item changes only with the tier, so these index
    writes are rare; the balance, which every movement changes, is an item of its own.
- ``LoyaltyBalance``: PK=USER#<uid>, SK=LOYALTY#BALANCE — available, pending and lifetime
  earned points: ADDed in each movement's transaction, ``available >= 0`` a condition.
  - GSI1 (under the inactivity expiry policy): LOYALTY_INACTIVE#<day>#<n> / <uid> — the day
    the buyer's points expire unless they earn, spend or are adjusted before; moved by each
    such movement, read by the daily sweep (and 30 days ahead by the reminder).
- ``LoyaltyLot``: PK=USER#<uid>, SK=LOYALTY#LOT#<lot_id> — one earning: points, what is left,
  pending or available, its value booked in the ledger and what of it was released. Lot ids
  are deterministic (``earn:<order>:<seller>``…), so a redelivered event finds its lot.
  A buyer's lots: Query (consumption oldest first, the points expiring soon).
  - GSI1 (while available with points left and an expiry): LOYALTY_EXPIRY#<day>#<n> /
    <expires_at>#<uid>#<lot_id> — the expiry sweep (that day) and the reminder sweep (30
    days ahead) Query every shard of one day, never Scan.
- ``LoyaltyMovement``: PK=USER#<uid>, SK=LOYALTY#TX#<at>#<movement_id> — the history, one
  item per movement, put with ``attribute_not_exists`` in the movement's transaction: a
  duplicate delivery of the same movement changes nothing. ``at`` comes from what caused
  the movement (the event's time), so a redelivery names the same item. History newest
  first: Query backwards (1 RT a page).
- ``LoyaltyMonth``: PK=USER#<uid>, SK=LOYALTY#MONTH#<yyyy-mm> — points earned and goods
  spent that month; the rolling 12 months of the tier are one Query of 12 small items.
- ``LoyaltyAdjustment``: PK=LOYALTY, SK=ADJUSTMENT#<at>#<id> — the operator's manual
  adjustments (who, when, why), newest first: Query.
- ``LoyaltyDay``: PK=LOYALTY_DAY#<day>#<n>, SK=STATS — points issued, reversed, expired,
  adjusted, redeemed and members joined that day (ADD in the movements' transactions);
  the report reads every shard of each day of its window (BatchGetItem).
- ``LoyaltyTotals``: PK=LOYALTY_TOTALS#<n>, SK=TOTALS — outstanding points and their booked
  value, and members, marketplace-wide (ADD): the report's liability in 8 GetItems.
- ``LoyaltyActive``: PK=LOYALTY_ACTIVE#<yyyy-mm>#<n>, SK=<uid> — who earned, spent or was
  adjusted that month (a put, idempotent): the report's active members (Select COUNT).
- ``LoyaltyRedemption``: PK=USER#<uid>, SK=LOYALTY#REDEEM#<order_id> — the points an order
  redeemed at checkout and their value, put in the checkout's transaction with the balance's
  decrement; ``state`` held (unpaid), spent (its lots consumed once paid) or released (the
  unpaid order cancelled or expired), and the points a refund gave back. GetItem by the order.

Referrals (:mod:`chalicelib.loyalty.referrals`; the codes themselves are accounts'
``ReferralCode``):

- ``LoyaltyReferredBy``: PK=USER#<referred uid>, SK=LOYALTY#REFERRED_BY — who referred the
  buyer and whether that was rewarded yet (pending | rewarded | refused, with the reason):
  GetItem when one of the buyer's parts completes; its status moves under a condition, so
  the referral is decided once.
- ``LoyaltyReferral``: PK=USER#<referrer uid>, SK=LOYALTY#REFERRAL#<referred uid> — the
  referrer's copy of the same referral.
- ``LoyaltyReferrals``: PK=USER#<referrer uid>, SK=LOYALTY#REFERRALS — referred and rewarded,
  ADDed (GetItem for the buyer's overview); SK=LOYALTY#REFERRALS#<yyyy-mm> — rewarded that
  month, ADDed on condition it stays within the programme's monthly cap.
- ``LoyaltyCard``: PK=USER#<uid>, SK=LOYALTY#CARD#<fingerprint> — a card a buyer with a
  referral code paid with (Stripe's ``card.fingerprint``): the fraud check's GetItem.

Members against non-members (the report's ``member_comparison``):

- ``LoyaltyPurchases``: PK=USER#<uid>, SK=LOYALTY#PURCHASES — the buyer's paid orders and the
  first one's time: whether an order is a repeat purchase (GetItem, written on condition of
  its version).
- ``LoyaltyOrder``: PK=USER#<uid>, SK=LOYALTY#ORDER#<order_id> — the order as counted (its
  group, month and amount, the refunds counted against it): put with ``attribute_not_exists``,
  so an order counts once; a refund finds its group and month here.
- ``LoyaltyOrderMonth``: PK=LOYALTY_ORDERS#<yyyy-mm>#<n>, SK=MEMBER | NON_MEMBER — orders,
  repeat orders, revenue and refunds per month and group (ADD): the report reads 16 items a
  month with BatchGetItem.

The marketplace-wide items are sharded by the buyer (``LOYALTY_SHARDS``): every paid order
writes to them, and one key would take all of those writes.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute

from chalicelib.core.attributes import CompactJSONAttribute
from chalicelib.core.db import GSI1, GSI2, GSI3, TableModel


class LoyaltyProgramme(TableModel):
    enabled = BooleanAttribute(default=False)
    currency = UnicodeAttribute(default="EUR")
    # everything else of the programme as the operator set it (see ``programme.Programme``)
    settings = CompactJSONAttribute(default=dict)
    version = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)


class LoyaltyCampaign(TableModel):
    campaign_id = UnicodeAttribute()
    seller_id = UnicodeAttribute(null=True)  # a seller-funded bonus; None: the operator's
    name = UnicodeAttribute()
    multiplier_bp = NumberAttribute()  # 20000: double points
    target = UnicodeAttribute()  # all | categories | sellers | products
    target_values = CompactJSONAttribute(default=list)
    starts_at = UnicodeAttribute()
    ends_at = UnicodeAttribute()
    created_at = UnicodeAttribute()


class LoyaltyMember(TableModel):
    user_id = UnicodeAttribute()
    tier = UnicodeAttribute(null=True)  # None: below the first tier
    joined_at = UnicodeAttribute()
    requalify_on = UnicodeAttribute()  # yyyy-mm-dd
    grace = BooleanAttribute(default=False)  # kept the tier once without qualifying
    version = NumberAttribute(default=0)

    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    by_requalification = GSI2()
    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    by_tier = GSI3()


class LoyaltyBalance(TableModel):
    user_id = UnicodeAttribute(null=True)
    available = NumberAttribute(default=0)
    pending = NumberAttribute(default=0)
    earned = NumberAttribute(default=0)  # lifetime, net of reversals
    # points redeemed at checkout, out of ``available`` already, whose lots are consumed once the
    # order is paid: available + reserved = what the available lots hold
    reserved = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)
    inactive_on = UnicodeAttribute(null=True)  # yyyy-mm-dd, under the inactivity policy
    reminded_for = UnicodeAttribute(null=True)  # the inactive_on a reminder went out for

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    by_inactivity = GSI1()


class LoyaltyLot(TableModel):
    lot_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    reason = UnicodeAttribute()  # order | sign_up | newsletter_confirmed | ... | adjustment
    state = UnicodeAttribute()  # pending | available | reversed (nothing left of a pending lot)
    points = NumberAttribute()
    remaining = NumberAttribute()
    currency = UnicodeAttribute()
    value = NumberAttribute()  # booked in the ledger at earning, minor units
    released = NumberAttribute(default=0)  # of ``value``, released as points left
    funded_by = UnicodeAttribute(null=True)  # a seller id for a seller-funded bonus lot
    order_id = UnicodeAttribute(null=True)
    seller_id = UnicodeAttribute(null=True)
    goods = NumberAttribute(default=0)  # net goods the points were earned on, minor units
    refunded = NumberAttribute(default=0)  # of the sub-order's gross total, refunded so far
    gross = NumberAttribute(default=0)  # the sub-order's gross goods total (refunds are gross)
    reversed = NumberAttribute(default=0)  # points taken back
    forgiven = NumberAttribute(default=0)  # points a reversal could not take (spent before)
    earned_month = UnicodeAttribute()  # yyyy-mm: the month counter a reversal lowers
    created_at = UnicodeAttribute()
    available_at = UnicodeAttribute(null=True)
    expires_at = UnicodeAttribute(null=True)
    reminded_at = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    by_expiry = GSI1()


class LoyaltyMovement(TableModel):
    movement_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # earned | available | reversed | expired | adjusted | redeemed
    reason = UnicodeAttribute()
    points = NumberAttribute()  # signed: what the buyer's total (available + pending) changed by
    available_change = NumberAttribute(default=0)
    pending_change = NumberAttribute(default=0)
    forgiven = NumberAttribute(default=0)
    order_id = UnicodeAttribute(null=True)
    seller_id = UnicodeAttribute(null=True)
    lots = CompactJSONAttribute(default=list)  # [[lot_id, points], …]
    note = UnicodeAttribute(null=True)
    at = UnicodeAttribute()


class LoyaltyMonth(TableModel):
    month = UnicodeAttribute(null=True)
    earned = NumberAttribute(default=0)
    spend = NumberAttribute(default=0)  # net goods paid, minor units of the programme's currency


class LoyaltyAdjustment(TableModel):
    adjustment_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    points = NumberAttribute()
    reason = UnicodeAttribute()
    by = UnicodeAttribute()  # the operator's user id
    at = UnicodeAttribute()


class LoyaltyDay(TableModel):
    issued = NumberAttribute(default=0)
    reversed = NumberAttribute(default=0)
    expired = NumberAttribute(default=0)
    redeemed = NumberAttribute(default=0)
    adjusted_in = NumberAttribute(default=0)
    adjusted_out = NumberAttribute(default=0)
    joined = NumberAttribute(default=0)


class LoyaltyTotals(TableModel):
    outstanding = NumberAttribute(default=0)  # points, pending and available
    value = NumberAttribute(default=0)  # their booked value not yet released, minor units
    members = NumberAttribute(default=0)


class LoyaltyActive(TableModel):
    user_id = UnicodeAttribute(null=True)


class LoyaltyReferredBy(TableModel):
    user_id = UnicodeAttribute()  # the referred buyer
    referrer_id = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | rewarded | refused
    reason = UnicodeAttribute(null=True)  # why refused: same_email | same_address | same_card | monthly_cap
    order_id = UnicodeAttribute(null=True)  # the order whose completion decided it
    joined_at = UnicodeAttribute()
    decided_at = UnicodeAttribute(null=True)


class LoyaltyReferral(TableModel):
    referrer_id = UnicodeAttribute()
    referred_id = UnicodeAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    joined_at = UnicodeAttribute()
    decided_at = UnicodeAttribute(null=True)


class LoyaltyReferrals(TableModel):
    referred = NumberAttribute(default=0)
    rewarded = NumberAttribute(default=0)


class LoyaltyCard(TableModel):
    fingerprint = UnicodeAttribute()
    order_id = UnicodeAttribute()  # the first order paid with it that was recorded
    seen_at = UnicodeAttribute()


class LoyaltyPurchases(TableModel):
    orders = NumberAttribute(default=0)
    first_paid_at = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)


class LoyaltyOrder(TableModel):
    order_id = UnicodeAttribute()
    group = UnicodeAttribute()  # MEMBER | NON_MEMBER, as when it was paid
    month = UnicodeAttribute()  # yyyy-mm of the payment: the counter refunds lower
    amount = NumberAttribute()
    refund_ids = UnicodeSetAttribute(null=True)


class LoyaltyOrderMonth(TableModel):
    orders = NumberAttribute(default=0)
    repeat_orders = NumberAttribute(default=0)  # by a buyer who had paid an order before
    revenue = NumberAttribute(default=0)  # what the orders charged (goods, shipping, VAT), minor units
    refunded = NumberAttribute(default=0)  # refunded since, of those orders


class LoyaltyRedemption(TableModel):
    user_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    points = NumberAttribute()
    currency = UnicodeAttribute()
    value = NumberAttribute()  # the discount, minor units (rounded down from the points)
    state = UnicodeAttribute()  # held | spent | released
    created_at = UnicodeAttribute()  # the checkout's: lots spendable then are consumed
    settled_at = UnicodeAttribute(null=True)  # spent or released
    consumed = NumberAttribute(default=0)  # of ``points``, taken from lots so far
    returned_points = NumberAttribute(default=0)  # given back by refunds
