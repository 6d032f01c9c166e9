"""Sellers' and the operator's promotions and codes over HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.db import find_item
from chalicelib.core.keys import promotion_sk, seller_key
from chalicelib.core.money import Money
from chalicelib.promotions import service
from chalicelib.promotions.models import AUTOMATIC_PER_OWNER, Promotion
from tests.support.auth import operator_headers, seller_headers
from tests.support.builders import put_seller
from tests.support.http import call

SELLER_A, SELLER_B = "sel_promo_a", "sel_promo_b"
SELLER_PATH, ADMIN_PATH = "/v1/seller/promotions", "/v1/admin/promotions"
SOMMER = {"name": "Sommer -10 %", "kind": "percentage", "currency": "EUR", "percent_bp": 1_000}


@pytest.fixture(autouse=True)
def approved_sellers(aws: dict[str, str]) -> None:
    put_seller(SELLER_A)
    put_seller(SELLER_B)


Caller = Callable[..., tuple[int, Any, dict[str, str]]]


@pytest.fixture
def seller(api: Any) -> Caller:
    def request(method: str, path: str, body: Any = None, *, as_seller: str = SELLER_A) -> tuple[int, Any, Any]:
        return call(api, method, path, body, headers=seller_headers(as_seller))

    return request


@pytest.fixture
def operator(api: Any) -> Caller:
    def request(method: str, path: str, body: Any = None) -> tuple[int, Any, Any]:
        return call(api, method, path, body, headers=operator_headers())

    return request


def _created(caller: Caller, path: str, body: dict[str, Any]) -> dict[str, Any]:
    status, created, _ = caller("POST", path, body)
    assert status == 201, created
    return created


def test_a_seller_creates_reads_and_lists_its_promotion_with_its_figures(seller: Caller) -> None:
    created = _created(seller, SELLER_PATH, {**SOMMER, "minimum_goods_value": {"amount": 5_000, "currency": "EUR"},
                                             "target": {"kind": "categories", "values": ["fashion"]},
                                             "countries": ["DE", "AT"], "max_uses_per_buyer": 1})

    status, read, _ = seller("GET", f"{SELLER_PATH}/{created['promotion_id']}")
    listed = seller("GET", SELLER_PATH)[1]

    assert status == 200 and read == created
    assert (read["scope"], read["seller_id"], read["funding"], read["stats"]) == (
        "seller", SELLER_A, {"seller_bp": 10_000}, {"uses": 0, "discount_given": {"amount": 0, "currency": "EUR"},
                                                    "orders": 0, "revenue": {"amount": 0, "currency": "EUR"}})
    assert (read["minimum_goods_value"], read["target"], read["countries"]) == (
        {"amount": 5_000, "currency": "EUR"}, {"kind": "categories", "values": ["fashion"]}, ["DE", "AT"])
    assert [p["promotion_id"] for p in listed["items"]] == [created["promotion_id"]]


def test_another_sellers_promotion_is_not_found_and_the_operators_list_holds_only_its_own(
        seller: Caller, operator: Caller) -> None:
    mine = _created(seller, SELLER_PATH, SOMMER)

    theirs = seller("GET", f"{SELLER_PATH}/{mine['promotion_id']}", as_seller=SELLER_B)
    admin_view = operator("GET", f"{ADMIN_PATH}/{mine['promotion_id']}")

    assert (theirs[0], theirs[1]["error"]["code"]) == (404, "promotion_not_found")
    assert admin_view[0] == 404
    assert operator("GET", ADMIN_PATH)[1]["items"] == []


def test_an_operator_promotion_is_marketplace_funded_unless_co_funded(operator: Caller) -> None:
    five = _created(operator, ADMIN_PATH, {"name": "€5 ab €100", "kind": "fixed_amount", "currency": "EUR",
                                           "amount_off": {"amount": 500, "currency": "EUR"},
                                           "minimum_goods_value": {"amount": 10_000, "currency": "EUR"},
                                           "automatic": True, "priority": 20})
    shared = _created(operator, ADMIN_PATH, {**SOMMER, "seller_share_bp": 5_000})

    assert (five["scope"], five["seller_id"], five["funding"]) == ("marketplace", None, {"seller_bp": 0})
    assert shared["funding"] == {"seller_bp": 5_000}
    assert service.automatic_promotions(None).promotion_ids == {five["promotion_id"]}  # type: ignore[union-attr]


@pytest.mark.parametrize(("body", "field"), [
    ({**SOMMER, "percent_bp": None}, "body.percent_bp"),
    ({**SOMMER, "kind": "fixed_amount"}, "body.amount_off"),
    ({**SOMMER, "kind": "buy_x_get_y"}, "body.buy_quantity"),
    ({**SOMMER, "kind": "spend_threshold", "tiers": [{"from_amount": {"amount": 100, "currency": "EUR"},
                                                      "amount_off": {"amount": 500, "currency": "EUR"}}]},
     "body.tiers"),
    ({**SOMMER, "target": {"kind": "brands"}}, "body.target"),
    ({**SOMMER, "target": {"kind": "sellers", "values": [SELLER_B]}}, "body.target"),
    ({**SOMMER, "seller_share_bp": 100}, "body.seller_share_bp"),
    ({**SOMMER, "starts_at": "2026-08-01T00:00:00Z", "ends_at": "2026-07-01T00:00:00Z"}, "body.ends_at"),
])
def test_fields_that_do_not_fit_together_are_refused_each_by_name(seller: Caller, body: dict[str, Any],
                                                                  field: str) -> None:
    status, refused, _ = seller("POST", SELLER_PATH, body)

    assert (status, refused["error"]["code"]) == (422, "invalid_promotion")
    assert [d["field"] for d in refused["error"]["details"]] == [field]


def test_amounts_in_two_currencies_are_refused(seller: Caller) -> None:
    status, refused, _ = seller("POST", SELLER_PATH, {**SOMMER, "cap": {"amount": 100, "currency": "USD"}})

    assert (status, refused["error"]["code"]) == (422, "validation_failed")


def test_a_change_with_an_amount_in_the_promotions_currency_is_applied(seller: Caller) -> None:
    """The amount names its currency, which the change sets once with the rest (it was a 500)."""
    created = _created(seller, SELLER_PATH, {"name": "5 off", "kind": "fixed_amount", "currency": "EUR",
                                             "amount_off": {"amount": 500, "currency": "EUR"}})

    status, changed, _ = seller("PATCH", f"{SELLER_PATH}/{created['promotion_id']}",
                                {"amount_off": {"amount": 700, "currency": "EUR"}})

    assert status == 200, changed
    assert changed["amount_off"] == {"amount": 700, "currency": "EUR"}


def test_a_time_is_a_string_not_a_number_of_seconds(seller: Caller) -> None:
    created = _created(seller, SELLER_PATH, SOMMER)

    status, refused, _ = seller("PATCH", f"{SELLER_PATH}/{created['promotion_id']}", {"starts_at": 0})
    made, body, _ = seller("POST", SELLER_PATH, {**SOMMER, "ends_at": 1_900_000_000})

    assert (status, refused["error"]["details"][0]["field"]) == (422, "body.starts_at")
    assert (made, body["error"]["details"][0]["field"]) == (422, "body.ends_at")


def test_a_change_keeps_the_counters_and_null_clears_a_limit(seller: Caller) -> None:
    created = _created(seller, SELLER_PATH, {**SOMMER, "max_uses": 10})
    promotion = service.get_promotion(SELLER_A, created["promotion_id"])
    service.commit_writes(service.use_writes(promotion, "usr_1", Money("EUR", 300), order_id="ord_1"))

    status, changed, _ = seller("PATCH", f"{SELLER_PATH}/{created['promotion_id']}",
                                {"name": "Sommer -15 %", "percent_bp": 1_500, "max_uses": None})

    assert status == 200, changed
    assert (changed["name"], changed["percent_bp"], changed["max_uses"]) == ("Sommer -15 %", 1_500, None)
    assert changed["stats"] == {"uses": 1, "discount_given": {"amount": 300, "currency": "EUR"}, "orders": 0,
                                "revenue": {"amount": 0, "currency": "EUR"}}


def test_null_is_refused_where_a_value_can_only_be_changed(seller: Caller) -> None:
    created = _created(seller, SELLER_PATH, SOMMER)

    status, refused, _ = seller("PATCH", f"{SELLER_PATH}/{created['promotion_id']}", {"name": None})

    assert (status, refused["error"]["details"][0]["field"]) == (422, "body.name")


def test_pausing_and_deleting_take_an_automatic_promotion_out_of_the_index(seller: Caller) -> None:
    first = _created(seller, SELLER_PATH, {**SOMMER, "automatic": True})
    second = _created(seller, SELLER_PATH, {**SOMMER, "automatic": True, "max_uses_per_buyer": 1})

    seller("PATCH", f"{SELLER_PATH}/{first['promotion_id']}", {"active": False})
    deleted = seller("DELETE", f"{SELLER_PATH}/{second['promotion_id']}")

    index = service.automatic_promotions(SELLER_A)
    assert deleted[0] == 204
    assert index is not None and not index.promotion_ids and not index.per_buyer
    assert seller("GET", f"{SELLER_PATH}/{second['promotion_id']}")[0] == 404
    assert [p["promotion_id"] for p in seller("GET", SELLER_PATH)[1]["items"]] == [first["promotion_id"]]


def test_a_scope_holds_at_most_twenty_five_active_automatic_promotions(seller: Caller) -> None:
    for _ in range(AUTOMATIC_PER_OWNER):
        _created(seller, SELLER_PATH, {**SOMMER, "automatic": True})

    status, refused, _ = seller("POST", SELLER_PATH, {**SOMMER, "automatic": True})
    paused = seller("POST", SELLER_PATH, {**SOMMER, "automatic": True, "active": False})
    other_seller = seller("POST", SELLER_PATH, {**SOMMER, "automatic": True}, as_seller=SELLER_B)

    assert (status, refused["error"]["code"]) == (409, "too_many_automatic_promotions")
    assert (paused[0], other_seller[0]) == (201, 201)


def test_a_public_code_is_unique_across_every_promotion_whatever_its_case_and_spaces(
        seller: Caller, operator: Caller) -> None:
    mine = _created(seller, SELLER_PATH, SOMMER)
    marketplace = _created(operator, ADMIN_PATH, SOMMER)

    added = seller("POST", f"{SELLER_PATH}/{mine['promotion_id']}/codes", {"code": "sommer 10"})
    again = operator("POST", f"{ADMIN_PATH}/{marketplace['promotion_id']}/codes", {"code": "SOMMER10"})

    assert added[0] == 201 and [c["code"] for c in added[1]["items"]] == ["SOMMER10"]
    assert added[1]["items"][0]["kind"] == "public"
    assert (again[0], again[1]["error"]["code"]) == (409, "promo_code_taken")


def test_an_automatic_promotion_takes_no_codes(seller: Caller) -> None:
    automatic = _created(seller, SELLER_PATH, {**SOMMER, "automatic": True})

    status, refused, _ = seller("POST", f"{SELLER_PATH}/{automatic['promotion_id']}/codes", {"generate": 1})

    assert (status, refused["error"]["code"]) == (409, "promotion_is_automatic")


@pytest.mark.parametrize("body", [{}, {"code": "SOMMER10", "generate": 2}, {"generate": 10_001}, {"code": "a!"}])
def test_a_codes_request_is_either_one_code_or_a_number_to_generate(seller: Caller, body: dict[str, Any]) -> None:
    created = _created(seller, SELLER_PATH, SOMMER)

    status, refused, _ = seller("POST", f"{SELLER_PATH}/{created['promotion_id']}/codes", body)

    assert (status, refused["error"]["code"]) == (422, "validation_failed")


def test_generated_codes_are_single_use_listed_in_pages_and_exported_as_csv(seller: Caller) -> None:
    created = _created(seller, SELLER_PATH, SOMMER)
    path = f"{SELLER_PATH}/{created['promotion_id']}/codes"

    status, generated, _ = seller("POST", path, {"generate": 150})
    first = seller("GET", f"{path}?limit=100")[1]
    second = seller("GET", f"{path}?limit=100&cursor={first['next_cursor']}")[1]
    exported = seller("GET", f"{path}/export")

    codes = [c["code"] for c in generated["items"]]
    assert status == 201 and generated["count"] == 150 == len(set(codes))
    assert all(len(code) == service.CODE_LENGTH and set(code) <= set(service.CODE_ALPHABET) for code in codes)
    assert {c["kind"] for c in generated["items"]} == {"single_use"}
    assert sorted(c["code"] for c in first["items"] + second["items"]) == sorted(codes)
    assert second["next_cursor"] is None
    rows = list(csv.reader(io.StringIO(exported[1])))
    assert exported[0] == 200 and exported[2]["Content-Type"].startswith("text/csv")
    assert rows[0] == list(service.EXPORT_COLUMNS) and sorted(r[0] for r in rows[1:]) == sorted(codes)


def test_a_drawn_code_that_exists_already_is_drawn_again(seller: Caller, monkeypatch: pytest.MonkeyPatch) -> None:
    created = _created(seller, SELLER_PATH, SOMMER)
    seller("POST", f"{SELLER_PATH}/{created['promotion_id']}/codes", {"code": "AAAAAAAAAAAA"})
    draws = iter(["AAAAAAAAAAAA", "BBBBBBBBBBBB", "CCCCCCCCCCCC"])
    monkeypatch.setattr(service, "_draw", lambda: next(draws))

    status, generated, _ = seller("POST", f"{SELLER_PATH}/{created['promotion_id']}/codes", {"generate": 2})

    assert status == 201, generated
    assert sorted(c["code"] for c in generated["items"]) == ["BBBBBBBBBBBB", "CCCCCCCCCCCC"]


def test_a_personal_code_names_its_buyer_and_its_end(seller: Caller, clock: Any) -> None:
    created = _created(seller, SELLER_PATH, SOMMER)
    promotion = service.get_promotion(SELLER_A, created["promotion_id"])

    code = service.issue_personal_code(promotion, "usr_anna", clock() + timedelta(days=30))
    found = service.code_of(code, promotion)

    assert (code.kind, code.account_id) == ("personal", "usr_anna")
    assert found.expires_at == clock() + timedelta(days=30) and found.promotion is not None
    listed = seller("GET", f"{SELLER_PATH}/{created['promotion_id']}/codes")[1]["items"]
    assert [(c["code"], c["account_id"]) for c in listed] == [(code.code, "usr_anna")]


def test_codes_of_a_deleted_promotion_name_no_promotion(seller: Caller) -> None:
    created = _created(seller, SELLER_PATH, SOMMER)
    code = service.add_public_code(SELLER_A, created["promotion_id"], "WEG10")
    seller("DELETE", f"{SELLER_PATH}/{created['promotion_id']}")

    deleted = find_item(Promotion, seller_key(SELLER_A), promotion_sk(created["promotion_id"]))

    assert deleted is not None and service.code_of(code, deleted).promotion is None


def test_an_api_key_needs_the_promotions_scopes(api: Any) -> None:
    from tests.support.auth import api_key_headers

    reader = api_key_headers(api, SELLER_A, ["promotions:read"])

    assert call(api, "GET", SELLER_PATH, headers=reader)[0] == 200
    assert call(api, "POST", SELLER_PATH, SOMMER, headers=reader)[1]["error"]["code"] == "missing_scope"


def test_a_seller_changes_an_amount_of_its_promotion(seller: Caller) -> None:
    # given a promotion in euros
    created = _created(seller, SELLER_PATH, SOMMER)

    # when the seller sets a cap in the promotion's currency (the amounts name it: it was written twice, a 500)
    status, changed, _ = seller("PATCH", f"{SELLER_PATH}/{created['promotion_id']}",
                                {"cap": {"amount": 2_500, "currency": "EUR"}})

    # then the cap is set, and reading it back shows it
    assert status == 200, changed
    assert changed["cap"] == {"amount": 2_500, "currency": "EUR"}
    assert seller("GET", f"{SELLER_PATH}/{created['promotion_id']}")[1]["cap"] == {"amount": 2_500, "currency": "EUR"}


def test_codes_are_asked_for_as_one_code_or_a_number_to_generate(seller: Caller) -> None:
    created = _created(seller, SELLER_PATH, SOMMER)
    path = f"{SELLER_PATH}/{created['promotion_id']}/codes"

    for neither_or_both in ({}, {"code": "SOMMER10", "generate": 5}):
        status, body, _ = seller("POST", path, neither_or_both)
        assert (status, body["error"]["code"]) == (422, "validation_failed")

    # and the OpenAPI document says the same, so clients' validators agree with the API
    schema = seller("GET", "/openapi.json")[1]["components"]["schemas"]["CodesCreate"]
    assert schema["oneOf"] == [{"required": ["code"]}, {"required": ["generate"]}]
