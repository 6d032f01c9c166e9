"""Customer groups: a seller's named discounts, and customers assigned to them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.accounts.service import ensure_account
from chalicelib.core.money import Money
from chalicelib.customers import service
from tests.support.customers import SELLER_A, SELLER_B, customers_by_email

GROUPS = "/v1/seller/customer-groups"


def _group(seller: Any, name: str = "Wholesale", discount: Any = 12.5, as_seller: str = SELLER_A) -> dict[str, Any]:
    status, body, _ = seller("POST", GROUPS, {"name": name, "discount_percent": discount}, as_seller=as_seller)
    assert status == 201, body
    return body


@pytest.fixture
def anna(upload: Any, seller: Any) -> str:
    """Anna's customer id: an imported contact of seller A."""
    upload("Name,E-Mail\nAnna Berg,anna@example.com\nBen Kurz,ben@example.com\n")
    return customers_by_email(seller)["anna@example.com"]["customer_id"]


def _account(email: str) -> str:
    return ensure_account(email)[0].user_id


@pytest.mark.parametrize(("discount", "basis_points", "shown"), [
    (12.5, 1250, "12.50"), ("7.25", 725, "7.25"), (0, 0, "0.00"), (100, 10000, "100.00"), (0.01, 1, "0.01"),
])
def test_a_group_discount_is_kept_exactly_in_basis_points(seller: Any, discount: Any, basis_points: int,
                                                          shown: str) -> None:
    body = _group(seller, discount=discount)

    assert (body["discount_basis_points"], body["discount_percent"], body["member_count"]) == (
        basis_points, shown, 0)


@pytest.mark.parametrize("discount", [-1, 100.01, 12.345, "lots"])
def test_an_impossible_discount_is_refused(seller: Any, discount: Any) -> None:
    status, body, _ = seller("POST", GROUPS, {"name": "VIP", "discount_percent": discount})

    assert (status, body["error"]["code"], body["error"]["details"][0]["field"]) == (
        422, "validation_failed", "body.discount_percent")


def test_group_names_are_unique_per_seller_whatever_their_case(seller: Any) -> None:
    _group(seller, "Wholesale")

    status, body, _ = seller("POST", GROUPS, {"name": "WHOLESALE"})
    other_seller = _group(seller, "Wholesale", as_seller=SELLER_B)

    assert (status, body["error"]["code"]) == (409, "group_name_taken")
    assert other_seller["name"] == "Wholesale"


def test_groups_are_listed_changed_and_renamed(seller: Any) -> None:
    vip = _group(seller, "VIP", 5)
    _group(seller, "Wholesale", 10)

    status, changed, _ = seller("PATCH", f"{GROUPS}/{vip['group_id']}", {"name": "Gold", "discount_percent": 7.5})
    _, listed, _ = seller("GET", GROUPS)
    taken, problem, _ = seller("PATCH", f"{GROUPS}/{vip['group_id']}", {"name": "wholesale"})

    assert (status, changed["name"], changed["discount_basis_points"]) == (200, "Gold", 750)
    assert sorted(g["name"] for g in listed["items"]) == ["Gold", "Wholesale"]
    assert (taken, problem["error"]["code"]) == (409, "group_name_taken")
    assert _group(seller, "VIP")["name"] == "VIP"  # the old name is free again


def test_a_customer_in_a_group_gets_its_discount_at_checkout(seller: Any) -> None:
    anna = _account("anna@example.com")
    service.record_order(SELLER_A, anna, "ord_1", Money("EUR", 100), datetime(2026, 6, 1, tzinfo=UTC))
    wholesale = _group(seller, discount=12.5)

    status, body, _ = seller("PATCH", f"/v1/seller/customers/{anna}", {"group_id": wholesale["group_id"]})

    assert (status, body["group_id"]) == (200, wholesale["group_id"])
    assert service.pricing_terms(SELLER_A, anna) == (1250, False)
    assert service.pricing_terms(SELLER_B, anna) == (0, False)  # another seller's terms are its own
    seller("PATCH", f"{GROUPS}/{wholesale['group_id']}", {"discount_percent": 20})
    assert service.pricing_terms(SELLER_A, anna) == (2000, False)


def test_a_contacts_group_applies_to_the_account_only_once_it_is_linked(seller: Any, anna: str) -> None:
    wholesale = _group(seller, discount=12.5)
    seller("PATCH", f"/v1/seller/customers/{anna}", {"group_id": wholesale["group_id"]})
    account = _account("anna@example.com")

    before = service.pricing_terms(SELLER_A, account)
    service.record_order(SELLER_A, account, "ord_1", Money("EUR", 100), datetime(2026, 6, 1, tzinfo=UTC))

    assert (before, service.pricing_terms(SELLER_A, account)) == ((0, False), (1250, False))


def test_the_list_filters_by_group_newest_order_first(seller: Any, upload: Any) -> None:
    upload("Name,E-Mail\nAnna,anna@example.com\nBen,ben@example.com\nCarla,carla@example.com\nDora,dora@example.com\n")
    ids = {e: c["customer_id"] for e, c in customers_by_email(seller).items()}
    vip = _group(seller, "VIP")
    for email in ("anna@example.com", "carla@example.com", "dora@example.com"):
        seller("PATCH", f"/v1/seller/customers/{ids[email]}", {"group_id": vip["group_id"]})
    # their first orders link Anna and Carla: the group follows them to their accounts' records
    service.record_order(SELLER_A, _account("anna@example.com"), "ord_1", Money("EUR", 100),
                         datetime(2026, 7, 1, tzinfo=UTC))
    service.record_order(SELLER_A, _account("carla@example.com"), "ord_2", Money("EUR", 100),
                         datetime(2026, 6, 1, tzinfo=UTC))

    _, in_group, _ = seller("GET", f"/v1/seller/customers?group={vip['group_id']}")
    _, searched, _ = seller("GET", f"/v1/seller/customers?group={vip['group_id']}&q=c")
    _, groups, _ = seller("GET", GROUPS)

    assert [(c["email"], c["linked"]) for c in in_group["items"]] == [
        ("anna@example.com", True), ("carla@example.com", True), ("dora@example.com", False)]
    assert [c["email"] for c in searched["items"]] == ["carla@example.com"]
    assert groups["items"][0]["member_count"] == 3


def test_moving_a_customer_between_groups_keeps_the_counts(seller: Any, anna: str) -> None:
    vip, gold = _group(seller, "VIP"), _group(seller, "Gold")

    seller("PATCH", f"/v1/seller/customers/{anna}", {"group_id": vip["group_id"]})
    seller("PATCH", f"/v1/seller/customers/{anna}", {"group_id": gold["group_id"]})

    _, listed, _ = seller("GET", GROUPS)
    assert {g["name"]: g["member_count"] for g in listed["items"]} == {"VIP": 0, "Gold": 1}
    _, vip_members, _ = seller("GET", f"/v1/seller/customers?group={vip['group_id']}")
    assert vip_members["items"] == []


def test_a_group_in_use_is_not_deleted(seller: Any, anna: str) -> None:
    vip = _group(seller, "VIP")
    seller("PATCH", f"/v1/seller/customers/{anna}", {"group_id": vip["group_id"]})

    status, body, _ = seller("DELETE", f"{GROUPS}/{vip['group_id']}")
    assert (status, body["error"]["code"], body["error"]["details"]) == (409, "group_in_use", {"member_count": 1})

    seller("PATCH", f"/v1/seller/customers/{anna}", {"group_id": None})
    deleted, _, _ = seller("DELETE", f"{GROUPS}/{vip['group_id']}")
    assert deleted == 204
    _, customer, _ = seller("GET", f"/v1/seller/customers/{anna}")
    assert customer["group_id"] is None


def test_another_sellers_group_is_not_found_and_cannot_be_used(seller: Any, anna: str) -> None:
    theirs = _group(seller, "Theirs", as_seller=SELLER_B)

    for method, body in (("PATCH", {"name": "Mine"}), ("DELETE", None)):
        status, answer, _ = seller(method, f"{GROUPS}/{theirs['group_id']}", body)
        missing = seller(method, f"{GROUPS}/{theirs['group_id'][:-6]}ZZZZZZ", body)
        assert (status, answer) == missing[:2]
        assert (status, answer["error"]["code"]) == (404, "group_not_found")
    status, answer, _ = seller("PATCH", f"/v1/seller/customers/{anna}", {"group_id": theirs["group_id"]})
    assert (status, answer["error"]["code"]) == (422, "unknown_group")
    _, listed, _ = seller("GET", GROUPS)
    assert listed["items"] == []
