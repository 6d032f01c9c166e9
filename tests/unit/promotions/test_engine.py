"""The promotions engine: which promotions apply, in which order, and what each takes off which line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.money import Money
from chalicelib.orders.pricing import MARKETPLACE_FUNDED, SELLER_FUNDED, Funding
from chalicelib.promotions.engine import (
    Buyer,
    Code,
    CodeKind,
    FirstOrder,
    Kind,
    Line,
    Reason,
    Rule,
    Scope,
    TargetKind,
    Tier,
    allocate,
    apply_promotions,
)

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
ANNA = Buyer(account_id="usr_anna", now=NOW, country="DE")


def eur(amount: int) -> Money:
    return Money("EUR", amount)


def line(number: int, price: int, *, seller: str = "sel_a", quantity: int = 1, category: str = "fashion/shoes",
         brand: str | None = "Birk", product: str | None = None, current: int | None = None) -> Line:
    return Line(line=number, product_id=product or f"prd_{number}", seller_id=seller, category=category, brand=brand,
                quantity=quantity, unit_price=eur(price), price=eur(price * quantity if current is None else current))


def rule(promotion_id: str = "prm_1", *, kind: Kind = Kind.PERCENTAGE, seller: str | None = None,
         **fields: Any) -> Rule:
    scope = Scope.SELLER if seller else Scope.MARKETPLACE
    funding = SELLER_FUNDED if seller else fields.pop("funding", MARKETPLACE_FUNDED)
    return Rule(promotion_id=promotion_id, scope=scope, seller_id=seller, kind=kind, currency="EUR",
                funding=funding, **fields)


def off(outcome: Any) -> dict[int, int]:
    """Line -> what the promotions took off it."""
    found: dict[int, int] = {}
    for adjustment in outcome.adjustments:
        found[adjustment.line] = found.get(adjustment.line, 0) + adjustment.amount.amount
    return found


def code(promotion: Rule | None, *, kind: CodeKind = CodeKind.PUBLIC, **fields: Any) -> Code:
    return Code(code="SOMMER10", kind=kind, promotion=promotion, **fields)


# -- the README's worked example ------------------------------------------------------------------

def test_the_worked_example_a_seller_funded_code_then_a_marketplace_funded_automatic_five_euros() -> None:
    """Seller A gives its group 5 % (already in ``current``); A's code SOMMER10 takes 10 % of A's
    lines (priority 10); the operator's automatic €5 from €100 (priority 20) is spread over all
    lines by their price after the code."""
    lines = [line(1, 8_000, current=7_600), line(2, 1_000, quantity=2, current=1_900),
             line(3, 5_000, seller="sel_b")]
    sommer = rule("prm_sommer", seller="sel_a", percent_bp=1_000, priority=10)
    five = rule("prm_five", kind=Kind.FIXED_AMOUNT, amount=500, minimum=10_000, priority=20)

    outcome = apply_promotions(lines, ANNA, [five], code="SOMMER10", found=code(sommer))

    assert outcome.code_refusal is None
    assert [(a.line, a.amount.amount, a.label, a.funding) for a in outcome.adjustments] == [
        (1, 760, "prm_sommer", SELLER_FUNDED), (2, 190, "prm_sommer", SELLER_FUNDED),
        (1, 252, "prm_five", MARKETPLACE_FUNDED), (2, 63, "prm_five", MARKETPLACE_FUNDED),
        (3, 185, "prm_five", MARKETPLACE_FUNDED)]
    assert [(a.promotion_id, a.discount.amount) for a in outcome.applied] == [("prm_sommer", 950), ("prm_five", 500)]


def test_the_same_two_promotions_the_other_way_round_give_a_different_split() -> None:
    """Order matters: with the €5 first, the 10 % is taken from the prices after it."""
    lines = [line(1, 8_000, current=7_600), line(2, 1_000, quantity=2, current=1_900),
             line(3, 5_000, seller="sel_b")]
    sommer = rule("prm_sommer", seller="sel_a", percent_bp=1_000, priority=20)
    five = rule("prm_five", kind=Kind.FIXED_AMOUNT, amount=500, minimum=10_000, priority=10)

    outcome = apply_promotions(lines, ANNA, [five], code="SOMMER10", found=code(sommer))

    # €5 over 76.00 / 19.00 / 50.00 = 2.62 / 0.66 / 1.72; then 10 % of 73.38 and 18.34
    assert off(outcome) == {1: 262 + 734, 2: 66 + 183, 3: 172}


# -- kinds ----------------------------------------------------------------------------------------

def test_buy_one_get_one_on_four_items_gives_the_two_cheapest_free() -> None:
    lines = [line(1, 1_000, quantity=2), line(2, 400), line(3, 600)]
    bogo = rule(kind=Kind.BUY_X_GET_Y, buy=1, get=1, seller="sel_a")

    outcome = apply_promotions(lines, ANNA, [bogo])

    assert off(outcome) == {2: 400, 3: 600}


def test_buy_two_get_one_repeats_per_multiple_and_says_how_many_units_are_missing() -> None:
    b2g1 = rule(kind=Kind.BUY_X_GET_Y, buy=2, get=1)

    seven = apply_promotions([line(1, 900, quantity=7)], ANNA, [], code="X", found=code(b2g1))
    two = apply_promotions([line(1, 900, quantity=2)], ANNA, [], code="X", found=code(b2g1))

    assert off(seven) == {1: 1_800}
    assert two.code_refusal is not None
    assert (two.code_refusal.reason, two.code_refusal.missing_quantity) == (Reason.MINIMUM_NOT_REACHED, 1)


def test_a_spend_threshold_gives_the_highest_tier_reached() -> None:
    tiers = (Tier(5_000, 500), Tier(10_000, 1_500))
    threshold = rule(kind=Kind.SPEND_THRESHOLD, tiers=tiers)

    low = apply_promotions([line(1, 6_000)], ANNA, [threshold])
    high = apply_promotions([line(1, 6_000), line(2, 6_000)], ANNA, [threshold])
    none = apply_promotions([line(1, 4_000)], ANNA, [], code="X", found=code(threshold))

    assert (off(low), off(high)) == ({1: 500}, {1: 750, 2: 750})
    assert none.code_refusal is not None
    assert (none.code_refusal.reason, none.code_refusal.missing) == (Reason.MINIMUM_NOT_REACHED, eur(1_000))


def test_free_shipping_takes_nothing_off_and_names_the_seller_parts() -> None:
    ships_free = rule(kind=Kind.FREE_SHIPPING, target=TargetKind.SELLERS, target_values=frozenset({"sel_b"}))

    outcome = apply_promotions([line(1, 2_000), line(2, 3_000, seller="sel_b")], ANNA, [ships_free])

    assert (off(outcome), outcome.free_shipping) == ({}, {"sel_b": "prm_1"})


def test_a_fixed_amount_never_takes_more_than_the_eligible_lines_cost() -> None:
    outcome = apply_promotions([line(1, 700), line(2, 300)], ANNA, [rule(kind=Kind.FIXED_AMOUNT, amount=5_000)])

    assert off(outcome) == {1: 700, 2: 300}


def test_the_cap_limits_a_percentage_and_is_spread_over_the_lines() -> None:
    outcome = apply_promotions([line(1, 30_000), line(2, 10_000)], ANNA, [rule(percent_bp=5_000, cap=2_000)])

    assert off(outcome) == {1: 1_500, 2: 500}


def test_what_is_left_of_the_budget_limits_the_discount() -> None:
    outcome = apply_promotions([line(1, 10_000)], ANNA, [rule(percent_bp=2_000, budget=10_000, discount_given=9_900)])

    assert off(outcome) == {1: 100}


def test_a_co_funded_operator_promotion_carries_the_sellers_share() -> None:
    outcome = apply_promotions([line(1, 10_000)], ANNA, [rule(percent_bp=1_000, funding=Funding(3_000))])

    assert [a.funding.seller_bp for a in outcome.adjustments] == [3_000]


# -- targets --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("target", "values", "lines_off"), [
    (TargetKind.CATEGORIES, {"fashion"}, {1, 2}),
    (TargetKind.CATEGORIES, {"fashion/shoes"}, {1}),
    (TargetKind.CATEGORIES, {"fashion/sho"}, set()),
    (TargetKind.BRANDS, {"birk"}, {1}),
    (TargetKind.PRODUCTS, {"prd_3"}, {3}),
    (TargetKind.SELLERS, {"sel_b"}, {3}),
    (TargetKind.ORDER, set(), {1, 2, 3}),
])
def test_a_target_picks_its_lines(target: TargetKind, values: set[str], lines_off: set[int]) -> None:
    lines = [line(1, 1_000), line(2, 1_000, category="fashion/bags", brand="Other"),
             line(3, 1_000, seller="sel_b", category="home/kitchen", brand=None)]

    outcome = apply_promotions(lines, ANNA, [rule(percent_bp=1_000, target=target, target_values=frozenset(values))])

    assert set(off(outcome)) == lines_off


def test_a_seller_promotion_never_reaches_another_sellers_lines_whatever_it_targets() -> None:
    lines = [line(1, 1_000), line(2, 1_000, seller="sel_b", product="prd_b")]
    mine = rule(seller="sel_a", percent_bp=1_000, target=TargetKind.PRODUCTS, target_values=frozenset({"prd_b"}))

    outcome = apply_promotions(lines, ANNA, [], code="X", found=code(mine))

    assert off(outcome) == {}
    assert outcome.code_refusal is not None and outcome.code_refusal.reason == Reason.NOT_FOR_THESE_PRODUCTS


# -- the code's reasons ---------------------------------------------------------------------------

LATER = NOW + timedelta(days=1)
EARLIER = NOW - timedelta(days=1)


@pytest.mark.parametrize(("found", "buyer", "reason"), [
    (None, ANNA, Reason.CODE_UNKNOWN),
    (code(None), ANNA, Reason.CODE_UNKNOWN),
    (code(rule(percent_bp=1), kind=CodeKind.PERSONAL, account_id="usr_ben"), ANNA, Reason.NOT_YOUR_CODE),
    (code(rule(percent_bp=1), kind=CodeKind.PERSONAL, account_id="usr_anna"),
     Buyer(account_id=None, now=NOW), Reason.NOT_YOUR_CODE),
    (code(rule(percent_bp=1), expires_at=EARLIER), ANNA, Reason.CODE_EXPIRED),
    (code(rule(percent_bp=1, ends_at=NOW)), ANNA, Reason.CODE_EXPIRED),
    (code(rule(percent_bp=1, starts_at=LATER)), ANNA, Reason.NOT_STARTED),
    (code(rule(percent_bp=1), kind=CodeKind.SINGLE_USE, used=True), ANNA, Reason.USAGE_LIMIT_REACHED),
    (code(rule(percent_bp=1, max_uses=3, uses=3)), ANNA, Reason.USAGE_LIMIT_REACHED),
    (code(rule(percent_bp=1, budget=100, discount_given=100)), ANNA, Reason.USAGE_LIMIT_REACHED),
    (code(rule(percent_bp=1, max_uses_per_buyer=1)), Buyer(account_id="usr_anna", now=NOW, uses={"prm_1": 1}),
     Reason.USAGE_LIMIT_REACHED),
    (code(rule(percent_bp=1, first_order=FirstOrder.MARKETPLACE)), ANNA, Reason.FIRST_ORDER_ONLY),
    (code(rule(percent_bp=1, seller="sel_a", first_order=FirstOrder.SELLER)),
     Buyer(account_id="usr_anna", now=NOW, first_order_with=frozenset({"sel_b"})), Reason.FIRST_ORDER_ONLY),
    (code(rule(percent_bp=1, countries=frozenset({"AT"}))), ANNA, Reason.NOT_IN_YOUR_COUNTRY),
    (code(rule(percent_bp=1, seller="sel_a", customer_groups=frozenset({"cgr_vip"}))),
     Buyer(account_id="usr_anna", now=NOW, groups={"sel_b": frozenset({"cgr_vip"})}), Reason.NOT_ELIGIBLE),
    (code(rule(percent_bp=1, loyalty_tier="gold")), ANNA, Reason.NOT_ELIGIBLE),
    (code(rule(percent_bp=1, target=TargetKind.BRANDS, target_values=frozenset({"Nope"}))), ANNA,
     Reason.NOT_FOR_THESE_PRODUCTS),
])
def test_a_code_that_does_not_apply_says_why(found: Code | None, buyer: Buyer, reason: Reason) -> None:
    outcome = apply_promotions([line(1, 2_000)], buyer, [], code="SOMMER10", found=found)

    assert outcome.code_refusal is not None and outcome.code_refusal.reason == reason
    assert outcome.applied == ()


def test_a_minimum_not_reached_says_how_much_is_missing() -> None:
    outcome = apply_promotions([line(1, 2_000)], ANNA, [], code="X", found=code(rule(percent_bp=1, minimum=5_000)))

    assert outcome.code_refusal is not None
    assert outcome.code_refusal.to_json() == {"reason": "minimum_not_reached",
                                              "missing": {"amount": 3_000, "currency": "EUR"}}


@pytest.mark.parametrize(("found", "buyer"), [
    (code(rule(percent_bp=1_000, first_order=FirstOrder.MARKETPLACE)),
     Buyer(account_id="usr_anna", now=NOW, first_order=True)),
    (code(rule(percent_bp=1_000, seller="sel_a", first_order=FirstOrder.SELLER)),
     Buyer(account_id="usr_anna", now=NOW, first_order_with=frozenset({"sel_a"}))),
    (code(rule(percent_bp=1_000), kind=CodeKind.PERSONAL, account_id="usr_anna", expires_at=LATER), ANNA),
    (code(rule(percent_bp=1_000, seller="sel_a", customer_groups=frozenset({"cgr_vip"}))),
     Buyer(account_id="usr_anna", now=NOW, groups={"sel_a": frozenset({"cgr_vip"})})),
    (code(rule(percent_bp=1_000, loyalty_tier="gold")), Buyer(account_id="usr_anna", now=NOW, tier="gold")),
    (code(rule(percent_bp=1_000, starts_at=EARLIER, ends_at=LATER, countries=frozenset({"DE"}))), ANNA),
])
def test_a_code_whose_conditions_hold_applies(found: Code, buyer: Buyer) -> None:
    outcome = apply_promotions([line(1, 2_000)], buyer, [], code="SOMMER10", found=found)

    assert (outcome.code_refusal, off(outcome)) == (None, {1: 200})


# -- stacking -------------------------------------------------------------------------------------

def test_an_exclusive_promotion_that_applies_stops_the_ones_after_it_and_refuses_the_code() -> None:
    first = rule("prm_1", percent_bp=1_000, priority=1)
    exclusive = rule("prm_2", percent_bp=2_000, priority=2, exclusive=True)
    after = rule("prm_3", percent_bp=5_000, priority=3)

    outcome = apply_promotions([line(1, 10_000)], ANNA, [after, exclusive, first], code="X", found=code(after))

    assert [a.promotion_id for a in outcome.applied] == ["prm_1", "prm_2"]
    assert off(outcome) == {1: 1_000 + 1_800}
    assert outcome.code_refusal is not None and outcome.code_refusal.reason == Reason.NOT_COMBINABLE


def test_an_exclusive_promotion_that_does_not_apply_stops_nothing() -> None:
    exclusive = rule("prm_1", percent_bp=2_000, priority=1, exclusive=True, minimum=50_000)
    after = rule("prm_2", percent_bp=1_000, priority=2)

    outcome = apply_promotions([line(1, 10_000)], ANNA, [exclusive, after])

    assert [a.promotion_id for a in outcome.applied] == ["prm_2"]


def test_equal_priorities_run_the_older_promotion_first() -> None:
    older = rule("prm_01A", kind=Kind.FIXED_AMOUNT, amount=1_000)
    newer = rule("prm_01B", percent_bp=5_000)

    outcome = apply_promotions([line(1, 10_000)], ANNA, [newer, older])

    assert [(a.promotion_id, a.discount.amount) for a in outcome.applied] == [("prm_01A", 1_000), ("prm_01B", 4_500)]


def test_a_minimum_is_measured_after_the_promotions_before_it() -> None:
    first = rule("prm_1", kind=Kind.FIXED_AMOUNT, amount=1_000, priority=1)
    needs_hundred = rule("prm_2", percent_bp=1_000, minimum=10_000, priority=2)

    outcome = apply_promotions([line(1, 10_500)], ANNA, [first], code="X", found=code(needs_hundred))

    assert outcome.code_refusal is not None
    assert (outcome.code_refusal.reason, outcome.code_refusal.missing) == (Reason.MINIMUM_NOT_REACHED, eur(500))


# -- properties -----------------------------------------------------------------------------------

@st.composite
def orders(draw: Any) -> list[Line]:
    count = draw(st.integers(min_value=1, max_value=6))
    lines = []
    for number in range(1, count + 1):
        quantity = draw(st.integers(min_value=1, max_value=5))
        unit = draw(st.integers(min_value=0, max_value=50_000))
        current = draw(st.integers(min_value=0, max_value=unit * quantity))
        lines.append(line(number, unit, quantity=quantity, current=current,
                          seller=draw(st.sampled_from(["sel_a", "sel_b"])),
                          category=draw(st.sampled_from(["fashion/shoes", "fashion/bags", "home"]))))
    return lines


@st.composite
def rules(draw: Any, promotion_id: str) -> Rule:
    kind = draw(st.sampled_from([Kind.PERCENTAGE, Kind.FIXED_AMOUNT, Kind.BUY_X_GET_Y, Kind.SPEND_THRESHOLD]))
    fields: dict[str, Any] = {
        "priority": draw(st.integers(min_value=0, max_value=5)),
        "cap": draw(st.none() | st.integers(min_value=0, max_value=20_000)),
        "target": draw(st.sampled_from([TargetKind.ORDER, TargetKind.CATEGORIES])),
        "target_values": frozenset({"fashion"}),
    }
    if kind == Kind.PERCENTAGE:
        fields["percent_bp"] = draw(st.integers(min_value=0, max_value=10_000))
    elif kind == Kind.FIXED_AMOUNT:
        fields["amount"] = draw(st.integers(min_value=0, max_value=200_000))
    elif kind == Kind.BUY_X_GET_Y:
        fields["buy"], fields["get"] = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    else:
        fields["tiers"] = (Tier(draw(st.integers(0, 50_000)), draw(st.integers(0, 100_000))),)
    seller = draw(st.none() | st.just("sel_a"))
    return rule(promotion_id, kind=kind, seller=seller, **fields)


@settings(max_examples=300, deadline=None)
@given(orders(), st.lists(st.integers(0, 4), min_size=1, max_size=4, unique=True).flatmap(
    lambda ids: st.tuples(*(rules(f"prm_{i}") for i in ids))))
def test_every_promotion_takes_from_its_lines_exactly_its_discount_within_every_line_and_its_cap(
        lines: list[Line], promotions: tuple[Rule, ...]) -> None:
    outcome = apply_promotions(lines, ANNA, list(promotions))

    prices = {item.line: item.price.amount for item in lines}
    by_id = {promotion.promotion_id: promotion for promotion in promotions}
    ranks = [(by_id[a.promotion_id].priority, a.promotion_id) for a in outcome.applied]
    assert ranks == sorted(ranks)  # in priority order
    for applied in outcome.applied:
        assert sum(a.amount.amount for a in applied.adjustments) == applied.discount.amount
        cap = by_id[applied.promotion_id].cap
        assert cap is None or applied.discount.amount <= cap
        for adjustment in applied.adjustments:
            assert 0 < adjustment.amount.amount <= prices[adjustment.line]  # on the price left before it
            prices[adjustment.line] -= adjustment.amount.amount
    assert all(price >= 0 for price in prices.values())


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=10))
def test_an_allocation_adds_up_to_the_amount_and_no_part_exceeds_its_weight(amount: int, weights: list[int]) -> None:
    amount = min(amount, sum(weights))

    parts = allocate(amount, weights)

    assert sum(parts) == amount
    assert all(0 <= part <= weight for part, weight in zip(parts, weights, strict=True))


def test_an_allocation_breaks_ties_by_line_order() -> None:
    assert allocate(1, [1, 1, 1]) == [1, 0, 0]
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]


def test_at_most_eight_automatic_promotions_apply_to_an_order_and_the_code_still_does() -> None:
    from chalicelib.promotions.engine import AUTOMATIC_PER_ORDER

    automatic = [rule(f"prm_{n:02d}", percent_bp=100) for n in range(12)]
    the_code = rule("prm_zz", kind=Kind.FIXED_AMOUNT, amount=100, priority=500)

    outcome = apply_promotions([line(1, 10_000)], ANNA, automatic, code="ZZ", found=code(the_code))

    assert AUTOMATIC_PER_ORDER == 8
    assert [applied.promotion_id for applied in outcome.applied] == [f"prm_{n:02d}" for n in range(8)] + ["prm_zz"]
    assert outcome.code_refusal is None
