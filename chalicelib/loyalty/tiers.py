"""Tiers: by points earned, or by spend, over the rolling 12 months (never by balance, which
spending lowers). Upgrades happen as soon as a member qualifies; downgrades only at the
member's yearly re-qualification (a year after joining, then yearly), and only after one
grace year: the first time a member falls short they keep the tier for another year.
Every change is a ``loyalty.tier_changed`` event.

The 12 months are 12 small counter items (``LoyaltyMonth``): one Query, whatever the history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.expressions.update import Action

from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, Stale, query_shards, retrying
from chalicelib.core.keys import (
    LOYALTY_MEMBER_SK,
    loyalty_month_sk,
    loyalty_requalify_key,
    loyalty_requalify_keys,
    loyalty_tier_key,
    user_key,
)
from chalicelib.events.service import new_event
from chalicelib.loyalty.events import TierChanged
from chalicelib.loyalty.models import LoyaltyMember, LoyaltyMonth
from chalicelib.loyalty.programme import Programme, Tier, get_programme
from chalicelib.loyalty.store import add_months, read_member, tier_label


def tier_key(user_id: str) -> tuple[str, str]:
    """The member item's key, for a checkout that reads the buyer's tier in its BatchGetItem
    (promotions' ``tier`` condition); its ``tier`` attribute is the tier's name or absent."""
    return user_key(user_id), LOYALTY_MEMBER_SK


def tier_of(user_id: str) -> str | None:
    """The buyer's tier now (GetItem, 1 RT); None for a non-member or below the first tier."""
    member = read_member(user_id)
    return member.tier if member else None


def rolling_months(now: datetime) -> list[str]:
    """This month and the 11 before it (``yyyy-mm``), oldest first."""
    months = []
    year, month = now.year, now.month
    for _ in range(12):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def rolling_measure(user_id: str, programme: Programme, now: datetime | None = None) -> int:
    """Points earned (or goods spent, minor units) over the rolling 12 months: one Query."""
    months = rolling_months(now or clock.now())
    items = LoyaltyMonth.query(user_key(user_id), LoyaltyMonth.SK.between(loyalty_month_sk(months[0]),
                                                                           loyalty_month_sk(months[-1])),
                               consistent_read=True)
    field = "spend" if programme.tier_basis == "spend" else "earned"
    return sum(int(getattr(item, field) or 0) for item in items)


def _move(member: LoyaltyMember, to: Tier | None, *, direction: str | None, grace: bool,
          requalify_on: str | None = None) -> None:
    """Write the member's tier (and re-qualification), conditioned on its version, with the
    event when the tier changes. Raises Stale when the member changed meanwhile."""
    at = clock.stamp()
    new_tier = to.name if to else None
    actions: list[Action] = [LoyaltyMember.grace.set(grace), LoyaltyMember.version.add(1)]
    if new_tier != member.tier:
        actions += [LoyaltyMember.tier.set(new_tier) if new_tier else LoyaltyMember.tier.remove(),
                    LoyaltyMember.GSI3PK.set(loyalty_tier_key(tier_label(new_tier), member.user_id))]
    if requalify_on is not None:
        actions += [LoyaltyMember.requalify_on.set(requalify_on),
                    LoyaltyMember.GSI2PK.set(loyalty_requalify_key(requalify_on, member.user_id))]
    transaction = LabelledTransaction()
    transaction.update("member", LoyaltyMember(PK=member.PK, SK=member.SK), actions,
                       LoyaltyMember.version == int(member.version or 0))
    if new_tier != member.tier and direction:
        transaction.put("event", new_event(TierChanged(user_id=member.user_id, from_tier=member.tier,
                                                       to_tier=new_tier, direction=direction, at=at)))
    if transaction.commit():
        raise Stale("member")


def upgrade(user_id: str, programme: Programme | None = None) -> str | None:
    """Move the member up at once if the rolling 12 months now reach a higher tier; the new
    tier, or None when it stays. GetItem + Query (+ TransactWriteItems on a change)."""
    programme = programme or get_programme()

    def attempt() -> str | None:
        member = read_member(user_id)
        if member is None or not programme.tiers:
            return None
        qualified = programme.qualified_tier(rolling_measure(user_id, programme))
        if qualified is None or programme.rank(qualified.name) <= programme.rank(member.tier):
            return None
        _move(member, qualified, direction="up", grace=False)
        return qualified.name

    return retrying(attempt, what="loyalty member")


def requalify(member: LoyaltyMember, programme: Programme, now: datetime) -> str | None:
    """A member's yearly re-qualification: keep (or raise) the tier they qualify for; else keep
    it once more as grace; else move down to what they qualify for. Next re-qualification a
    year later. Returns the tier after it."""
    qualified = programme.qualified_tier(rolling_measure(member.user_id, programme, now))
    next_on = add_months(datetime.fromisoformat(member.requalify_on), 12).date().isoformat()
    current_rank, qualified_rank = programme.rank(member.tier), programme.rank(qualified.name if qualified else None)
    if qualified_rank >= current_rank:
        _move(member, qualified, direction="up" if qualified_rank > current_rank else None, grace=False,
              requalify_on=next_on)
        return qualified.name if qualified else None
    if not member.grace:
        _move(member, programme.tier(member.tier), direction=None, grace=True, requalify_on=next_on)
        return member.tier
    _move(member, qualified, direction="down", grace=False, requalify_on=next_on)
    return qualified.name if qualified else None


def requalify_due(now: datetime | None = None) -> int:
    """Scheduled daily: re-qualify the members whose date is today or yesterday (a missed
    run), one Query per shard of each day, in parallel; per member a GetItem, a Query and a
    conditional write. Returns how many were re-qualified."""
    now = now or clock.now()
    programme = get_programme()
    today = now.date()
    days = [(today - timedelta(days=1)).isoformat(), today.isoformat()]
    partitions = [key for day in days for key in loyalty_requalify_keys(day)]
    due = query_shards(lambda partition: LoyaltyMember.by_requalification.query(partition), partitions,
                       order_by=lambda member: member.user_id)
    done = 0
    for found in due:
        def attempt(user_id: str = found.user_id) -> bool:
            member = read_member(user_id)
            if member is None or member.requalify_on > today.isoformat():
                return False  # re-qualified meanwhile
            requalify(member, programme, now)
            return True

        done += retrying(attempt, what="loyalty member")
    return done
