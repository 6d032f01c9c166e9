"""Tiers by points earned over the rolling 12 months: up at once, down only at the yearly
re-qualification and after one grace year; multipliers and campaigns in the earning rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.loyalty import earning, programme, sweeps, tiers
from chalicelib.loyalty.programme import Campaign, Programme, Tier
from tests.support.clock import FrozenClock
from tests.support.events import outbox

START = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
USER = "usr_tiers"
SILVER, GOLD = Tier("Silver", 100, 15_000, ("free shipping",)), Tier("Gold", 300, 20_000, ("early access",))


@pytest.fixture
def gold_member(aws: Any, clock: FrozenClock) -> FrozenClock:
    programme.save_programme(Programme(enabled=True, event_points={"birthday": 100}, tiers=(SILVER, GOLD),
                                       expiry_policy="never"), by="usr_operator")
    clock.set(START)
    earning.award_event_points(USER, "birthday", "a")
    assert tiers.tier_of(USER) == "Silver"  # at once
    earning.award_event_points(USER, "birthday", "b")
    earning.award_event_points(USER, "birthday", "c")
    assert tiers.tier_of(USER) == "Gold"
    return clock


def test_a_member_moves_up_as_soon_as_the_points_qualify(gold_member: FrozenClock) -> None:
    changes = [(e["from_tier"], e["to_tier"], e["direction"]) for e in outbox("loyalty.tier_changed")]
    assert changes == [(None, "Silver", "up"), ("Silver", "Gold", "up")]
    assert tiers.tier_key(USER) == (f"USER#{USER}", "LOYALTY#MEMBER")


def test_a_member_keeps_the_tier_until_requalification_then_one_grace_year_then_moves_down(
        gold_member: FrozenClock) -> None:
    # months without points: nothing changes before the re-qualification day
    assert sweeps.daily(START + timedelta(days=300))["requalified"] == 0
    assert tiers.tier_of(USER) == "Gold"

    # first re-qualification a year after joining: short of every tier, kept once as grace
    assert tiers.requalify_due(datetime(2027, 1, 10, 3, 0, tzinfo=UTC)) == 1
    assert tiers.tier_of(USER) == "Gold"

    # a year later, still short: down to what the last 12 months reach (100 points: Silver)
    gold_member.set(datetime(2027, 6, 1, tzinfo=UTC))
    earning.award_event_points(USER, "birthday", "d")
    assert tiers.tier_of(USER) == "Gold"  # earning never moves a member down
    assert tiers.requalify_due(datetime(2028, 1, 10, 3, 0, tzinfo=UTC)) == 1

    assert tiers.tier_of(USER) == "Silver"
    downs = [(e["from_tier"], e["to_tier"]) for e in outbox("loyalty.tier_changed") if e["direction"] == "down"]
    assert downs == [("Gold", "Silver")]


def test_a_member_who_qualifies_again_keeps_the_tier_and_the_grace_year(gold_member: FrozenClock) -> None:
    gold_member.set(datetime(2026, 11, 1, tzinfo=UTC))
    for ref in ("d", "e", "f"):
        earning.award_event_points(USER, "birthday", ref)

    assert tiers.requalify_due(datetime(2027, 1, 10, 3, 0, tzinfo=UTC)) == 1

    member = tiers.read_member(USER)
    assert member is not None
    assert (member.tier, member.grace, member.requalify_on) == ("Gold", False, "2028-01-10")


def test_points_follow_the_tier_multiplier_and_the_campaigns() -> None:
    rules = Programme(enabled=True, points_per_unit=2, tiers=(SILVER,))
    lines = [{"product_id": "prd_1", "category": "outdoor/tents", "total": 11_900, "tax": 1_900},  # 100.00 net
             {"product_id": "prd_2", "category": "fashion/shoes", "total": 5_950, "tax": 950}]  # 50.00 net
    double_outdoor = Campaign("lcp_1", "Outdoor x2", 20_000, "categories", ("outdoor",), "", "")
    seller_bonus = Campaign("lcp_2", "Shoes +50 %", 15_000, "products", ("prd_2",), "", "", seller_id="sel_a")

    assert earning.points_for(rules, lines, "sel_a", tier_bp=10_000, campaigns=[]) == (300, 0)
    assert earning.points_for(rules, lines, "sel_a", tier_bp=15_000, campaigns=[]) == (450, 0)
    assert earning.points_for(rules, lines, "sel_a", tier_bp=15_000, campaigns=[double_outdoor, seller_bonus]) == (
        600 + 150, 50)
    # another seller's bonus campaign never covers this seller's lines
    assert earning.points_for(rules, lines, "sel_b", tier_bp=10_000, campaigns=[seller_bonus]) == (300, 0)
