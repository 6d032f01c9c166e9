"""The writes that keep a promotion's limits inside the checkout's transaction, raced in parallel:
no number of simultaneous uses exceeds a single-use code, a budget or a per-buyer limit."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from chalicelib.core.db import TransactionContention, retrying
from chalicelib.core.errors import AgoraError
from chalicelib.core.keys import PROMO_USE_SK, promo_use_key
from chalicelib.core.money import Money
from chalicelib.promotions import service
from chalicelib.promotions.models import PromoCode, Promotion, PromoUse

SELLER = "sel_limits"


def _promotion(**fields: Any) -> Promotion:
    return service.create_promotion(SELLER, {"name": "Sommer", "kind": "percentage", "percent_bp": 1_000,
                                             "currency": "EUR", **fields})


def _race(count: int, use: Callable[[int], None]) -> list[Any]:
    """``use(n)`` for n in 0..count-1 at once; what each did (None) or the refusal it met."""

    def one(number: int) -> Any:
        try:
            retrying(lambda: use(number), what="promotion", attempts=10)
        except AgoraError as refusal:
            return refusal.code
        except TransactionContention:  # pragma: no cover - retried above
            return "contention"
        return None

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def _reread(promotion: Promotion) -> Promotion:
    return Promotion.get(promotion.PK, promotion.SK, consistent_read=True)


def test_a_single_use_code_raced_by_ten_orders_is_used_exactly_once() -> None:
    promotion = _promotion()
    code = service.generate_codes(SELLER, promotion.promotion_id, 1)[0]

    results = _race(10, lambda n: service.commit_writes(service.use_writes(
        promotion, f"usr_{n}", Money("EUR", 100), order_id=f"ord_{n}", code=code)))

    assert results.count(None) == 1
    assert set(results) - {None} == {"promo_code_used"}
    stored = PromoCode.get(code.PK, code.SK)
    assert stored.used_by_order == f"ord_{results.index(None)}"
    assert int(_reread(promotion).uses) == 1


def test_a_budget_of_one_hundred_euros_raced_by_twenty_uses_is_never_exceeded() -> None:
    promotion = _promotion(budget=10_000)

    results = _race(20, lambda n: service.commit_writes(service.use_writes(
        promotion, f"usr_{n}", Money("EUR", 700), order_id=f"ord_{n}")))

    stored = _reread(promotion)
    assert results.count(None) == 14  # 14 times €7 = €98; a 15th would make €105
    assert int(stored.discount_given) == 9_800 and int(stored.uses) == 14
    assert set(results) - {None} == {"promotion_limit_reached"}


def test_a_per_buyer_limit_of_one_holds_for_one_buyers_parallel_uses() -> None:
    promotion = _promotion(max_uses_per_buyer=1)
    guest = service.buyer_key(None, " Gast@Example.com ")

    results = _race(6, lambda n: service.commit_writes(service.use_writes(
        promotion, guest if n % 2 else "usr_anna", Money("EUR", 100), order_id=f"ord_{n}")))

    assert results.count(None) == 2  # once for the account, once for the guest's email
    assert guest == "gast@example.com"
    assert int(PromoUse.get(promo_use_key(promotion.promotion_id, "usr_anna"), PROMO_USE_SK).uses) == 1


def test_a_total_use_limit_holds_under_parallel_uses() -> None:
    promotion = _promotion(max_uses=3)

    results = _race(8, lambda n: service.commit_writes(service.use_writes(
        promotion, f"usr_{n}", Money("EUR", 100), order_id=f"ord_{n}")))

    assert results.count(None) == 3
    assert int(_reread(promotion).uses) == 3


def test_a_release_gives_the_use_the_budget_and_the_code_back(clock: Any) -> None:
    promotion = _promotion(budget=1_000, max_uses_per_buyer=1)
    code = service.issue_personal_code(promotion, "usr_anna", clock() + timedelta(days=30))
    service.commit_writes(service.use_writes(promotion, "usr_anna", Money("EUR", 1_000), order_id="ord_1", code=code))

    for write in service.release_writes(promotion, "usr_anna", Money("EUR", 1_000), code=code):
        write.apply()
    service.commit_writes(service.use_writes(promotion, "usr_anna", Money("EUR", 1_000), order_id="ord_2", code=code))

    stored = _reread(promotion)
    assert (int(stored.uses), int(stored.discount_given)) == (1, 1_000)
    assert PromoCode.get(code.PK, code.SK).used_by_order == "ord_2"


def test_a_guest_with_an_impossible_email_is_a_422_not_a_500() -> None:
    try:
        service.buyer_key(None, "not an email")
    except AgoraError as refusal:
        assert (refusal.status, refusal.code) == (422, "invalid_email")
    else:  # pragma: no cover
        raise AssertionError("accepted")
