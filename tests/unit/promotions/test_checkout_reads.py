"""What checkout will read for promotions: two BatchGetItems (the indexes and the code, then what
they name), turned into the engine's terms — here with the README's worked example."""

from __future__ import annotations

from typing import Any

from chalicelib.core.money import Money
from chalicelib.orders.extensions import read_items
from chalicelib.promotions import service
from chalicelib.promotions.engine import Buyer, Line, Reason, apply_promotions

SELLER_A, SELLER_B = "sel_reads_a", "sel_reads_b"
SOMMER = {"name": "Sommer", "kind": "percentage", "currency": "EUR", "percent_bp": 1_000, "priority": 10}
FIVE = {"name": "€5 ab €100", "kind": "fixed_amount", "currency": "EUR", "amount": 500, "minimum": 10_000,
        "priority": 20, "automatic": True}


def _lines() -> list[Line]:
    def line(number: int, seller: str, unit: int, quantity: int, current: int) -> Line:
        return Line(line=number, product_id=f"prd_{number}", seller_id=seller, category="fashion/shoes", brand=None,
                    quantity=quantity, unit_price=Money("EUR", unit), price=Money("EUR", current))

    return [line(1, SELLER_A, 8_000, 1, 7_600), line(2, SELLER_A, 1_000, 2, 1_900), line(3, SELLER_B, 5_000, 1, 5_000)]


def _read(code: str | None, buyer: str | None = "usr_anna") -> tuple[Any, ...]:
    first = read_items(service.checkout_keys([SELLER_B, SELLER_A, SELLER_A], code), consistent_read=True)
    indexes = [item for item in first.values() if isinstance(item, service.AutomaticPromotions)]
    code_item = next((item for item in first.values() if isinstance(item, service.PromoCode)), None)
    follow_up = service.follow_up_keys(indexes, code_item, buyer)
    second = read_items(follow_up, consistent_read=True) if follow_up else {}
    return service.found_promotions({**first, **second}, code)


def test_the_worked_example_read_as_checkout_will_read_it(clock: Any) -> None:
    sommer = service.create_promotion(SELLER_A, SOMMER)
    service.add_public_code(SELLER_A, sommer.promotion_id, "SOMMER10")
    five = service.create_promotion(None, FIVE)

    automatic, found, uses = _read(" sommer10 ")
    outcome = apply_promotions(_lines(), Buyer(account_id="usr_anna", now=clock()), automatic, code="sommer10",
                               found=found)

    assert [rule.promotion_id for rule in automatic] == [five.promotion_id]
    assert outcome.code_refusal is None and uses == {}
    assert [(a.line, a.amount.amount, a.funding.seller_bp) for a in outcome.adjustments] == [
        (1, 760, 10_000), (2, 190, 10_000), (1, 252, 0), (2, 63, 0), (3, 185, 0)]


def test_the_first_read_is_one_index_per_seller_and_the_marketplace_plus_the_code() -> None:
    keys = service.checkout_keys([SELLER_B, SELLER_A, SELLER_A], "sommer 10")

    assert [(key.pk, key.sk) for key in keys] == [
        ("PROMOTIONS#marketplace", "AUTOMATIC"), (f"SELLER#{SELLER_A}", "AUTOMATIC"),
        (f"SELLER#{SELLER_B}", "AUTOMATIC"), ("PROMO_CODE#SOMMER10", "PROMO_CODE")]


def test_a_paused_or_deleted_promotion_applies_no_more_and_its_code_is_unknown(clock: Any) -> None:
    sommer = service.create_promotion(SELLER_A, SOMMER)
    service.add_public_code(SELLER_A, sommer.promotion_id, "SOMMER10")
    paused = service.create_promotion(SELLER_B, {**FIVE, "minimum": 0})
    service.update_promotion(SELLER_B, paused.promotion_id, {"active": False})
    service.delete_promotion(SELLER_A, sommer.promotion_id)

    automatic, found, _ = _read("SOMMER10")
    outcome = apply_promotions(_lines(), Buyer(account_id="usr_anna", now=clock()), automatic, code="SOMMER10",
                               found=found)

    assert automatic == [] and outcome.applied == ()
    assert outcome.code_refusal is not None and outcome.code_refusal.reason == Reason.CODE_UNKNOWN


def test_per_buyer_uses_are_read_for_the_limited_promotions(clock: Any) -> None:
    limited = service.create_promotion(SELLER_B, {**FIVE, "minimum": 0, "max_uses_per_buyer": 1})
    service.commit_writes(service.use_writes(limited, "usr_anna", Money("EUR", 500), order_id="ord_1"))

    automatic, _, uses = _read(None)
    outcome = apply_promotions(_lines(), Buyer(account_id="usr_anna", now=clock(), uses=uses), automatic)
    guest = _read(None, buyer="gast@example.com")

    assert uses == {limited.promotion_id: 1} and outcome.applied == ()
    assert guest[2] == {}
