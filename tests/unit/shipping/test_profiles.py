"""Sellers keep shipping profiles: create (the first is the default), read, change, delete."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.auth import api_key_headers, seller_headers
from tests.support.builders import put_seller
from tests.support.http import call, ok

PATH = "/v1/seller/shipping-profiles"


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


GERMANY = {"countries": ["DE"], "standard": eur(490), "per_extra_item": eur(100),
           "express": {"rate": eur(990), "delivery_days_min": 1, "delivery_days_max": 1},
           "free_shipping_threshold": eur(5_000), "delivery_days_min": 2, "delivery_days_max": 3}
EU = {"countries": ["AT", "FR", "NL"], "standard": eur(990)}


def profile(**overrides: Any) -> dict[str, Any]:
    return {"name": "Parcel", "zones": [GERMANY, EU], "handling_days": 1, **overrides}


@pytest.fixture
def headers() -> dict[str, str]:
    put_seller("sel_a")
    return seller_headers("sel_a")


def test_the_first_profile_is_the_default_and_comes_back_as_sent(api: Any, headers: dict[str, str]) -> None:
    created = ok(call(api, "POST", PATH, profile(), headers=headers), 201)

    assert (created["profile_id"], created["is_default"], created["currency"]) == ("default", True, "EUR")
    assert created["zones"][0] == GERMANY
    assert created["zones"][1] == {**EU, "per_extra_item": None, "express": None, "free_shipping_threshold": None,
                                   "delivery_days_min": None, "delivery_days_max": None}
    assert ok(call(api, "GET", f"{PATH}/default", headers=headers)) == created


def test_later_profiles_get_their_own_ids_and_the_list_shows_the_default_first(api: Any,
                                                                               headers: dict[str, str]) -> None:
    ok(call(api, "POST", PATH, profile(), headers=headers), 201)
    bulky = ok(call(api, "POST", PATH, profile(name="Bulky goods", zones=[EU]), headers=headers), 201)

    assert bulky["profile_id"].startswith("shp_") and bulky["is_default"] is False
    listed = ok(call(api, "GET", PATH, headers=headers))["items"]
    assert [(p["profile_id"], p["name"]) for p in listed] == [("default", "Parcel"),
                                                              (bulky["profile_id"], "Bulky goods")]


def test_a_seller_without_profiles_lists_none(api: Any, headers: dict[str, str]) -> None:
    assert ok(call(api, "GET", PATH, headers=headers)) == {"items": []}
    status, body, _ = call(api, "GET", f"{PATH}/default", headers=headers)
    assert (status, body["error"]["code"]) == (404, "shipping_profile_not_found")


def test_a_patch_changes_only_what_it_sends_and_zones_as_a_whole(api: Any, headers: dict[str, str]) -> None:
    ok(call(api, "POST", PATH, profile(), headers=headers), 201)

    changed = ok(call(api, "PATCH", f"{PATH}/default", {"zones": [EU], "handling_days": 2}, headers=headers))

    assert (changed["name"], changed["handling_days"], changed["version"]) == ("Parcel", 2, 2)
    assert [z["countries"] for z in changed["zones"]] == [["AT", "FR", "NL"]]
    assert ok(call(api, "GET", f"{PATH}/default", headers=headers)) == changed


def test_an_unchanged_patch_writes_nothing(api: Any, headers: dict[str, str]) -> None:
    ok(call(api, "POST", PATH, profile(), headers=headers), 201)

    same = ok(call(api, "PATCH", f"{PATH}/default", {"name": "Parcel"}, headers=headers))

    assert same["version"] == 1


def test_a_profile_is_deleted_but_the_default_is_not(api: Any, headers: dict[str, str]) -> None:
    ok(call(api, "POST", PATH, profile(), headers=headers), 201)
    other = ok(call(api, "POST", PATH, profile(name="Letters"), headers=headers), 201)["profile_id"]

    assert call(api, "DELETE", f"{PATH}/{other}", headers=headers)[0] == 204
    status, body, _ = call(api, "DELETE", f"{PATH}/default", headers=headers)

    assert (status, body["error"]["code"]) == (409, "default_shipping_profile")
    assert [p["profile_id"] for p in ok(call(api, "GET", PATH, headers=headers))["items"]] == ["default"]
    status, body, _ = call(api, "DELETE", f"{PATH}/{other}", headers=headers)
    assert (status, body["error"]["code"]) == (404, "shipping_profile_not_found")


@pytest.mark.parametrize("path", [f"{PATH}/shp_01M8B0000000000000000000ZZ", f"{PATH}/nonsense", f"{PATH}/DEFAULT"])
def test_an_unknown_id_is_not_found(api: Any, headers: dict[str, str], path: str) -> None:
    for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
        status, answer, _ = call(api, method, path, body, headers=headers)
        assert (status, answer["error"]["code"]) == (404, "shipping_profile_not_found"), method


def test_another_sellers_profiles_are_out_of_reach(api: Any, headers: dict[str, str]) -> None:
    ok(call(api, "POST", PATH, profile(), headers=headers), 201)
    theirs = ok(call(api, "POST", PATH, profile(name="Theirs"), headers=headers), 201)["profile_id"]
    put_seller("sel_b")
    other = seller_headers("sel_b")

    assert ok(call(api, "GET", PATH, headers=other)) == {"items": []}
    for method, path, body in (("GET", f"{PATH}/default", None), ("GET", f"{PATH}/{theirs}", None),
                               ("PATCH", f"{PATH}/default", {"name": "Taken over"}),
                               ("PATCH", f"{PATH}/{theirs}", {"name": "Taken over"}),
                               ("DELETE", f"{PATH}/{theirs}", None), ("DELETE", f"{PATH}/default", None)):
        status, answer, _ = call(api, method, path, body, headers=other)
        assert (status, answer["error"]["code"]) == (404, "shipping_profile_not_found"), (method, path)
    # B's first profile is B's own default; A's is untouched
    ok(call(api, "POST", PATH, profile(name="B's"), headers=other), 201)
    assert ok(call(api, "GET", f"{PATH}/default", headers=headers))["name"] == "Parcel"
    assert ok(call(api, "GET", f"{PATH}/{theirs}", headers=headers))["name"] == "Theirs"


def test_a_country_in_two_zones_is_refused(api: Any, headers: dict[str, str]) -> None:
    status, body, _ = call(api, "POST", PATH, profile(zones=[GERMANY, {**EU, "countries": ["AT", "DE"]}]),
                           headers=headers)

    assert (status, body["error"]["code"]) == (422, "country_in_two_zones")
    assert body["error"]["details"] == [{"field": "body.zones.1.countries", "message": "DE is already in zone 0",
                                         "type": "country_in_two_zones"}]


def test_rates_in_another_currency_than_the_sellers_are_refused(api: Any, headers: dict[str, str]) -> None:
    zone = {**EU, "express": {"rate": {"amount": 990, "currency": "USD"}, "delivery_days_min": 1,
                              "delivery_days_max": 2}}

    status, body, _ = call(api, "POST", PATH, profile(zones=[zone]), headers=headers)

    assert (status, body["error"]["code"]) == (422, "shipping_currency")
    assert [d["field"] for d in body["error"]["details"]] == ["body.zones.0.express.rate"]


@pytest.mark.parametrize(("change", "field"), [
    ({"zones": []}, "body.zones"),
    ({"name": ""}, "body.name"),
    ({"handling_days": -1}, "body.handling_days"),
    ({"zones": [{**EU, "countries": ["de"]}]}, "body.zones.0.countries.0"),
    ({"zones": [{**EU, "countries": ["XX"]}]}, "body.zones.0.countries.0"),
    ({"zones": [{**EU, "countries": []}]}, "body.zones.0.countries"),
    ({"zones": [{**EU, "countries": ["AT", "AT"]}]}, "body.zones.0"),
    ({"zones": [{**EU, "standard": {"amount": -1, "currency": "EUR"}}]}, "body.zones.0.standard.amount"),
    ({"zones": [{**EU, "standard": {"amount": 4.9, "currency": "EUR"}}]}, "body.zones.0.standard.amount"),
    ({"zones": [{**EU, "free_shipping_threshold": eur(0)}]}, "body.zones.0.free_shipping_threshold.amount"),
    ({"zones": [{**EU, "delivery_days_min": 3}]}, "body.zones.0"),
    ({"zones": [{**EU, "express": {"rate": eur(990), "delivery_days_min": 3, "delivery_days_max": 1}}]},
     "body.zones.0.express"),
])
def test_invalid_fields_are_refused_by_name(api: Any, headers: dict[str, str], change: dict[str, Any],
                                            field: str) -> None:
    status, body, _ = call(api, "POST", PATH, profile(**change), headers=headers)

    assert status == 422, body
    assert field in [d["field"] for d in body["error"]["details"]]


def test_an_empty_patch_is_refused(api: Any, headers: dict[str, str]) -> None:
    ok(call(api, "POST", PATH, profile(), headers=headers), 201)

    status, body, _ = call(api, "PATCH", f"{PATH}/default", {}, headers=headers)

    assert (status, body["error"]["code"]) == (422, "validation_failed")


def test_a_seller_keeps_at_most_20_profiles(api: Any, headers: dict[str, str]) -> None:
    for n in range(20):
        ok(call(api, "POST", PATH, profile(name=f"Profile {n}", zones=[EU]), headers=headers), 201)

    status, body, _ = call(api, "POST", PATH, profile(name="One too many"), headers=headers)

    assert (status, body["error"]["code"]) == (422, "shipping_profiles_full")


def test_a_pending_seller_prepares_profiles_and_a_key_needs_the_products_scope(api: Any) -> None:
    put_seller("sel_p", status="pending")
    pending = seller_headers("sel_p")

    assert call(api, "POST", PATH, profile(), headers=pending)[0] == 201
    put_seller("sel_a")
    reader = api_key_headers(api, "sel_a", scopes=("products:read",))
    assert call(api, "GET", PATH, headers=reader)[0] == 200
    status, body, _ = call(api, "POST", PATH, profile(), headers=reader)
    assert (status, body["error"]["code"]) == (403, "missing_scope")


def test_listing_reads_one_query_and_never_scans(api: Any, headers: dict[str, str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.client import BaseClient

    ok(call(api, "POST", PATH, profile(), headers=headers), 201)
    seen: list[str] = []
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            seen.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    ok(call(api, "GET", PATH, headers=headers))

    assert [op for op in seen if op in ("Query", "Scan")] == ["Query"]


def test_a_stored_profile_quotes_as_it_reads(api: Any, headers: dict[str, str]) -> None:
    from chalicelib.core.money import Money
    from chalicelib.shipping import engine, service

    ok(call(api, "POST", PATH, profile(), headers=headers), 201)
    profiles = {p.profile_id: service.engine_profile(p) for p in service.list_profiles("sel_a")}

    shipped = engine.quote(profiles, [engine.Line("prd_1", None, 2, Money("EUR", 3_000))], "DE")

    assert [(o.kind, o.price.amount, o.handling_days) for o in shipped.options] == [("standard", 590, 1),
                                                                                    ("express", 1_090, 1)]
    assert shipped.free_shipping[0].left == Money("EUR", 2_000)
    assert engine.quote(profiles, [engine.Line("prd_1", None, 1, Money("EUR", 100))], "US").undeliverable == ("prd_1",)


def test_a_carts_profiles_are_read_by_key_in_one_batch(api: Any, headers: dict[str, str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.client import BaseClient

    from chalicelib.shipping import service

    ok(call(api, "POST", PATH, profile(), headers=headers), 201)
    bulky = ok(call(api, "POST", PATH, profile(name="Bulky", zones=[EU]), headers=headers), 201)["profile_id"]
    ok(call(api, "POST", PATH, profile(name="Unused", zones=[EU]), headers=headers), 201)
    seen: list[str] = []
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        seen.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    found = service.profiles_for({"sel_a": [None, bulky, "shp_01M8B0000000000000000000ZZ", "not an id"],
                                  "sel_b": [None]})

    assert seen == ["BatchGetItem"]
    assert sorted(found["sel_a"]) == sorted(["default", bulky])  # the unused one is not read
    assert found["sel_a"][bulky].zones[0].countries == frozenset({"AT", "FR", "NL"})
    assert found["sel_b"] == {}  # no profile: ships everywhere for free
