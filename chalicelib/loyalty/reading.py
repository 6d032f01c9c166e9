"""What a buyer reads of their points: the overview and the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from chalicelib.core import clock
from chalicelib.core.db import newest_first
from chalicelib.core.keys import LOYALTY_MOVEMENT_PREFIX, user_key
from chalicelib.core.money import Money
from chalicelib.core.pagination import Page
from chalicelib.loyalty.models import LoyaltyMovement
from chalicelib.loyalty.programme import Programme, Tier, get_programme
from chalicelib.loyalty.referrals import ReferralView
from chalicelib.loyalty.referrals import view as referral_view
from chalicelib.loyalty.store import lots_of, read_balance, read_member, spendable
from chalicelib.loyalty.tiers import rolling_measure

EXPIRING_WITHIN_DAYS = 30


@dataclass(frozen=True)
class Overview:
    programme: Programme
    available: int
    pending: int
    earned: int
    tier: Tier | None
    next_tier: Tier | None
    measure: int  # points earned (or spend) over the rolling 12 months
    requalify_on: str | None
    expiring_points: int
    expiring_at: str | None  # the first of them
    referral: ReferralView

    @property
    def available_value(self) -> Money:
        return self.programme.value_of(self.available)

    @property
    def pending_value(self) -> Money:
        return self.programme.value_of(self.pending)


def overview(user_id: str) -> Overview:
    """Balance, tier and progress, points expiring within 30 days, the referral code. GetItem
    (programme, balance, member), Query (the 12 month counters), Query (the lots, when points
    are available), GetItem (code; the first time a transaction makes it) and GetItem
    (referral counts): 7 RT."""
    programme = get_programme()
    balance = read_balance(user_id)
    member = read_member(user_id)
    now = clock.stamp()
    horizon = clock.stamp(clock.now() + timedelta(days=EXPIRING_WITHIN_DAYS))
    expiring = [lot for lot in spendable(lots_of(user_id), now) if lot.expires_at and lot.expires_at <= horizon] \
        if balance is not None and int(balance.available or 0) > 0 else []
    tier_name = member.tier if member else None
    expiring_points = sum(int(lot.remaining) for lot in expiring)
    expiring_at = min((str(lot.expires_at) for lot in expiring), default=None)
    if programme.expiry_policy == "inactivity" and balance is not None and balance.inactive_on \
            and balance.inactive_on <= horizon[:10] and int(balance.available or 0) > 0:
        expiring_points, expiring_at = int(balance.available), f"{balance.inactive_on}T00:00:00.000000+00:00"
    return Overview(
        programme=programme,
        available=int(balance.available or 0) if balance else 0,
        pending=int(balance.pending or 0) if balance else 0,
        earned=int(balance.earned or 0) if balance else 0,
        tier=programme.tier(tier_name), next_tier=programme.next_tier(tier_name),
        measure=rolling_measure(user_id, programme) if member is not None else 0,
        requalify_on=member.requalify_on if member else None,
        expiring_points=expiring_points, expiring_at=expiring_at, referral=referral_view(user_id),
    )


def whole_history(user_id: str) -> Page[LoyaltyMovement]:
    """Every movement of the buyer, newest first (the data export): Query (1 RT a MB)."""
    items = LoyaltyMovement.query(user_key(user_id), LoyaltyMovement.SK.startswith(LOYALTY_MOVEMENT_PREFIX),
                                  scan_index_forward=False, consistent_read=True)
    return Page(list(items), None)


def history(user_id: str, *, cursor: str | None, limit: int) -> Page[LoyaltyMovement]:
    """The buyer's movements, newest first: Query (1 RT a page)."""
    return newest_first(LoyaltyMovement, user_key(user_id), LOYALTY_MOVEMENT_PREFIX, by=None,
                        scope=f"{user_key(user_id)}/loyalty", cursor=cursor, limit=limit)
