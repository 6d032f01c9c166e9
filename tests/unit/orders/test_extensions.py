"""Checkout's extension points: registration, and a test contributor (a stand-in for a
promotion with a budget) proving each hook through the real checkout, cancellation,
expiry and refund paths."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pynamodb.attributes import NumberAttribute

from chalicelib.core.db import ItemWrite, TableModel
from chalicelib.core.errors import Conflict
from chalicelib.core.money import Money
from chalicelib.orders.extensions import (
    CheckoutContext,
    Contributor,
    Funding,
    Key,
    LinePrice,
    PriceAdjustment,
    Registry,
    TransactionItem,
    reversed_adjustments,
)
from chalicelib.orders.models import Order, Refund, SubOrder
from chalicelib.orders.pricing import PricedOrder
from tests.support.builders import Marketplace, stock_of
from tests.support.http import call

BUDGET_PK, BUDGET_SK = "TESTPROMO#p1", "BUDGET"


class Budget(TableModel):
    """What a promotion would keep: its uses against a cap, and what was given back."""

    used = NumberAttribute(default=0)
    cap = NumberAttribute(default=100)
    released = NumberAttribute(default=0)
    reversed = NumberAttribute(default=0)


class TenPercentOff(Contributor):
    """10 % off every line, on the price the contributors before it left, while the budget lasts."""

    name = "test_promo"

    def __init__(self) -> None:
        self.budgets_seen: list[Budget | None] = []
        self.reversals: list[list[PriceAdjustment]] = []

    def keys(self, context: CheckoutContext) -> Sequence[Key]:
        return [Key(Budget, BUDGET_PK, BUDGET_SK)]

    def adjust(self, context: CheckoutContext, lines: Sequence[LinePrice]) -> Sequence[PriceAdjustment]:
        budget = context.found.get(Key(Budget, BUDGET_PK, BUDGET_SK))
        self.budgets_seen.append(budget)
        if budget is None:
            return []
        return [PriceAdjustment(line=line.line, amount=line.price.percent_of(1_000), source=self.name, label="p1")
                for line in lines]

    def transaction_items(self, context: CheckoutContext, order: Order,
                          priced: PricedOrder) -> Sequence[TransactionItem]:
        return [TransactionItem(ItemWrite(Budget(BUDGET_PK, BUDGET_SK), (Budget.used.add(1),),
                                          Budget.used < Budget.cap),
                                Conflict("This promotion is used up.", code="promotion_exhausted"))]

    def release(self, order: Order, sub_orders: Sequence[SubOrder]) -> Sequence[ItemWrite]:
        return [ItemWrite(Budget(BUDGET_PK, BUDGET_SK), (Budget.released.add(1),))]

    def reverse(self, order: Order, refund: Refund, reversed: Sequence[PriceAdjustment]) -> Sequence[ItemWrite]:
        self.reversals.append(list(reversed))
        amount = sum(adjustment.amount.amount for adjustment in reversed)
        return [ItemWrite(Budget(BUDGET_PK, BUDGET_SK), (Budget.reversed.add(amount),))] if amount else []


@pytest.fixture
def promo() -> Iterator[TenPercentOff]:
    from chalicelib.orders.contributors import contributors, register_contributor

    Budget(BUDGET_PK, BUDGET_SK, used=0, cap=100).save()
    contributor = TenPercentOff()
    register_contributor(contributor)
    yield contributor
    contributors.unregister(contributor.name)


def budget() -> Budget:
    return Budget.get(BUDGET_PK, BUDGET_SK, consistent_read=True)


def sub_order(seller_id: str, order_id: str) -> SubOrder:
    from chalicelib.orders.lifecycle import get_sub_order

    return get_sub_order(seller_id, order_id)


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The DynamoDB API calls made while the test runs, by operation (as the checkout bench counts)."""
    from botocore.client import BaseClient

    seen: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            seen[operation_name] += 1
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return seen


# --- registration -------------------------------------------------------------------------

def test_the_customer_group_terms_are_the_first_contributor_by_default() -> None:
    from chalicelib.orders.contributors import contributors

    assert contributors.names()[0] == "customer_group"


def test_contributors_run_in_the_order_registered_and_names_are_unique() -> None:
    first, second = TenPercentOff(), TenPercentOff()
    second.name = "second"
    registry = Registry([first])
    registry.register(second)

    assert registry.names() == ["test_promo", "second"]
    with pytest.raises(ValueError, match="registered already"):
        registry.register(TenPercentOff())


def test_a_co_funded_contributor_is_accepted_now_the_ledger_books_the_marketplaces_part() -> None:
    co_funded = TenPercentOff()
    co_funded.funding = Funding(seller_bp=5_000)

    assert Registry([co_funded]).names() == ["test_promo"]


def test_a_contributor_needs_a_name_and_the_hooks() -> None:
    nameless = TenPercentOff()
    nameless.name = ""

    with pytest.raises(ValueError, match="needs a name"):
        Registry().register(nameless)
    with pytest.raises(TypeError):
        Registry().register(object())  # type: ignore[arg-type]


# --- the hooks through checkout -------------------------------------------------------------

def test_a_contributors_keys_are_read_in_the_same_batch_get_as_the_group_terms(
        market: Marketplace, dynamodb_calls: Counter[str]) -> None:
    from chalicelib.orders.contributors import contributors, register_contributor

    market.seller("sel_a")
    product = market.product("sel_a", price=2_000)
    without, with_promo = market.buyer(), market.buyer()
    market.add(without, product)
    market.add(with_promo, product)
    dynamodb_calls.clear()
    assert market.checkout(without)[0] == 201
    calls_without = Counter(dynamodb_calls)

    Budget(BUDGET_PK, BUDGET_SK, used=0, cap=100).save()
    promo = register_contributor(TenPercentOff())
    try:
        dynamodb_calls.clear()
        status, body, _ = market.checkout(with_promo)
    finally:
        contributors.unregister(promo.name)

    assert status == 201, body
    assert promo.budgets_seen[-1] is not None  # read, in no call of its own:
    assert dynamodb_calls == calls_without
    assert body["order"]["total"]["amount"] == 1_800


def test_adjustments_apply_in_order_each_on_the_price_left_and_record_who_funds_them(
        market: Marketplace, promo: TenPercentOff) -> None:
    from chalicelib.accounts.service import find_user_by_email
    from chalicelib.customers import service as customers

    market.seller("sel_a")
    product = market.product("sel_a", price=2_000)
    buyer = market.buyer("member@example.com")
    user_id = find_user_by_email("member@example.com").user_id
    group = customers.create_group("sel_a", name="Stammkunden", discount_basis_points=1_000)
    customers.record_order("sel_a", user_id, "ord_earlier", Money("EUR", 100), datetime(2026, 1, 5, tzinfo=UTC))
    customers.update_customer("sel_a", user_id, {"group_id": group.group_id})
    market.add(buyer, product, 1)

    status, body, _ = market.checkout(buyer)

    assert status == 201, body
    # 20.00 - 10 % group = 18.00, then 10 % of 18.00 = 1.80 off: 16.20
    assert body["order"]["discount"]["amount"] == 380
    assert body["order"]["total"]["amount"] == 1_620
    assert sub_order("sel_a", body["order"]["order_id"]).adjustments == [
        {"line": 1, "amount": 200, "source": "customer_group", "label": group.group_id,
         "funding": {"seller_bp": 10_000}},
        {"line": 1, "amount": 180, "source": "test_promo", "label": "p1", "funding": {"seller_bp": 10_000}}]
    assert budget().used == 1


def test_a_failed_transaction_item_answers_its_refusal_and_writes_nothing(market: Marketplace,
                                                                         promo: TenPercentOff) -> None:
    market.seller("sel_a")
    product = market.product("sel_a", stock=5)
    buyer = market.buyer()
    market.add(buyer, product, 2)
    Budget(BUDGET_PK, BUDGET_SK, used=100, cap=100).save()

    status, body, _ = market.checkout(buyer)

    assert (status, body["error"]["code"]) == (409, "promotion_exhausted")
    assert stock_of(market.api, "sel_a", product) == 5
    assert budget().used == 100
    assert call(market.api, "GET", "/v1/cart", headers=buyer)[1]["lines"][0]["quantity"] == 2
    assert call(market.api, "GET", "/v1/me/orders", headers=buyer)[1]["items"] == []


def test_a_cancelled_unpaid_order_releases_once(market: Marketplace, promo: TenPercentOff) -> None:
    market.seller("sel_a")
    product = market.product("sel_a")
    buyer = market.buyer()
    market.add(buyer, product)
    order_id = market.checkout(buyer)[1]["order"]["order_id"]

    assert call(market.api, "POST", f"/v1/me/orders/{order_id}/cancel", {}, headers=buyer)[0] == 200
    assert call(market.api, "POST", f"/v1/me/orders/{order_id}/cancel", {}, headers=buyer)[0] != 500

    assert budget().released == 1


def test_an_expired_unpaid_order_releases_once(market: Marketplace, promo: TenPercentOff) -> None:
    from chalicelib.orders.payment import release_expired

    market.seller("sel_a")
    product = market.product("sel_a")
    buyer = market.buyer()
    market.add(buyer, product)
    market.checkout(buyer)

    assert release_expired(datetime.now(UTC) + timedelta(minutes=31)) == 1
    assert release_expired(datetime.now(UTC) + timedelta(minutes=32)) == 0

    assert budget().released == 1


def test_a_refund_reverses_the_adjustments_part_of_what_it_refunds(
        market: Marketplace, promo: TenPercentOff, paid_order: Callable[..., dict[str, Any]]) -> None:
    placed = paid_order(("sel_a",), price=2_500, quantity=3)  # 75.00 - 10 % = 67.50
    order_id = placed["order"]["order_id"]
    assert placed["order"]["total"]["amount"] == 6_750
    market.deliver_order("sel_a", order_id)

    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/returns",
                           {"seller_id": "sel_a", "lines": [{"line": 1, "quantity": 1}], "reason": "too small"},
                           headers=placed["buyer"])
    assert status == 200, body
    assert market.act("sel_a", order_id, "returns/approve", {"restock": True})[0] == 200
    market.events()
    market.events()  # a repeated delivery reverses nothing twice

    assert market.order_of_seller("sel_a", order_id)["refunded"]["amount"] == 2_250
    assert [[(r.line, r.amount.amount, r.source) for r in reversal] for reversal in promo.reversals] == \
        [[(1, 250, "test_promo")]]  # a third of the 7.50 off
    assert budget().reversed == 250


def test_refunding_a_line_in_steps_reverses_exactly_its_adjustment() -> None:
    sub = SubOrder("SELLER#sel_a", "ORDER#ord_1", adjustments=[
        {"line": 1, "amount": 100, "source": "test_promo", "label": "p1", "funding": {"seller_bp": 10_000}}])

    def refunded(before: int, amount: int) -> int:
        refund = Refund("USER#u", "REFUND#r", currency="EUR", lines=[
            {"line": 1, "amount": amount, "line_total": 1_900, "fee": 0, "refunded_before": before}])
        return sum(a.amount.amount for a in reversed_adjustments(sub, refund).get("test_promo", []))

    steps = [refunded(0, 633), refunded(633, 633), refunded(1_266, 634)]

    assert steps == [33, 34, 33]
    assert sum(steps) == 100
