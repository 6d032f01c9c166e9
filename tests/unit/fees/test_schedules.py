"""Operator fee schedules over HTTP: versions, validation, overrides and precedence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core.errors import Conflict
from chalicelib.core.money import Money
from chalicelib.fees import service
from chalicelib.fees.engine import line_fee
from tests.support.auth import operator_headers
from tests.support.builders import approved_seller_headers
from tests.support.http import call

DEFAULT = {"percent_bp": 1000, "currencies": {"EUR": {"fixed": 25, "minimum": 50, "maximum": 5000,
                                                      "tiers": [{"above": 1_000_000, "percent_bp": 800}],
                                                      "subscription_fee": 2900}}}


def _seller(seller_id: str) -> None:
    from chalicelib.core.keys import seller_key
    from chalicelib.sellers.models import Seller

    Seller(PK=seller_key(seller_id), SK="PROFILE", seller_id=seller_id, business_name="Shop GmbH",
           display_name="Shop", contact_email="shop@example.com", country="DE", default_currency="EUR",
           created_at=datetime.now(UTC).isoformat()).save()


def _put(api: Any, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    status, response, _ = call(api, "PUT", path, body, headers=operator_headers())
    return status, response


def test_without_a_schedule_the_default_charges_nothing(api: Any) -> None:
    status, body, _ = call(api, "GET", "/v1/admin/fees", headers=operator_headers())
    assert status == 200
    assert body == {"default": {"scope": "default", "version": 0, "ref": "default@0", "effective_from": None,
                                "percent_bp": 0, "currencies": {}, "fee_on_shipping": False},
                    "categories": []}


def test_each_change_is_a_new_version_and_old_versions_stay(api: Any) -> None:
    # given a default set twice
    status, first = _put(api, "/v1/admin/fees", DEFAULT)
    assert status == 200, first
    status, second = _put(api, "/v1/admin/fees", {**DEFAULT, "percent_bp": 1200})
    # then the newest applies and the first is still readable as it was
    assert (first["ref"], second["ref"]) == ("default@1", "default@2")
    assert second["currencies"]["EUR"] == {"fixed": 25, "minimum": 50, "maximum": 5000,
                                           "tiers": [{"above": 1_000_000, "percent_bp": 800}],
                                           "subscription_fee": 2900}
    assert service.default_schedule().percent_bp == 1200
    assert service.schedule_version("default@1").percent_bp == 1000
    _, overview, _ = call(api, "GET", "/v1/admin/fees", headers=operator_headers())
    assert overview["default"]["version"] == 2


def test_a_change_based_on_a_stale_version_is_a_conflict(monkeypatch: pytest.MonkeyPatch) -> None:
    service.set_schedule("default", {"percent_bp": 100})
    stale = service._current_item("default")
    service.set_schedule("default", {"percent_bp": 200})
    monkeypatch.setattr(service, "_current_item", lambda scope: stale)
    with pytest.raises(Conflict) as raised:
        service.set_schedule("default", {"percent_bp": 300})
    assert raised.value.code == "fee_schedule_changed"


@pytest.mark.parametrize(("change", "field"), [
    ({"percent_bp": 10_001}, "body.percent_bp"),
    ({"percent_bp": 12.5}, "body.percent_bp"),
    ({"percent_bp": "100"}, "body.percent_bp"),
    ({"currencies": {"EUR": {"fixed": 1.5}}}, "body.currencies.EUR.fixed"),
    ({"currencies": {"EUR": {"fixed": -1}}}, "body.currencies.EUR.fixed"),
    ({"currencies": {"EUR": {"unknown": 1}}}, "body.currencies.EUR.unknown"),
])
def test_malformed_schedules_are_422_per_field(api: Any, change: dict[str, Any], field: str) -> None:
    status, body = _put(api, "/v1/admin/fees", {**DEFAULT, **change})
    assert (status, body["error"]["code"]) == (422, "validation_failed")
    assert [d["field"] for d in body["error"]["details"]] == [field]


@pytest.mark.parametrize(("currencies", "field"), [
    ({"XYZ": {}}, "body.currencies.XYZ"),
    ({"EUR": {"minimum": 600, "maximum": 500}}, "body.currencies.EUR.minimum"),
    ({"EUR": {"tiers": [{"above": 10, "percent_bp": 900}, {"above": 10, "percent_bp": 800}]}},
     "body.currencies.EUR.tiers.1.above"),
    ({"EUR": {"tiers": [{"above": 10, "percent_bp": 1100}]}}, "body.currencies.EUR.tiers.0.percent_bp"),
])
def test_inconsistent_schedules_are_422_and_change_nothing(api: Any, currencies: dict[str, Any], field: str) -> None:
    status, body = _put(api, "/v1/admin/fees", {"percent_bp": 1000, "currencies": currencies})
    assert (status, body["error"]["code"]) == (422, "invalid_fee_schedule")
    assert [d["field"] for d in body["error"]["details"]] == [field]
    assert service.default_schedule().version == 0


def test_only_operators_set_fees(api: Any) -> None:
    status, body, _ = call(api, "PUT", "/v1/admin/fees", DEFAULT, headers=approved_seller_headers("sel_a"))
    assert (status, body["error"]["code"]) == (403, "operator_required")


def test_category_overrides_use_double_hyphens_for_slashes(api: Any) -> None:
    status, body = _put(api, "/v1/admin/fees/categories/fashion--shoes", {"percent_bp": 1200})
    assert (status, body["scope"], body["ref"]) == (200, "category:fashion/shoes", "category:fashion/shoes@1")
    _put(api, "/v1/admin/fees/categories/fashion", {"percent_bp": 1500})
    _, overview, _ = call(api, "GET", "/v1/admin/fees", headers=operator_headers())
    assert [c["scope"] for c in overview["categories"]] == ["category:fashion", "category:fashion/shoes"]
    # removing one leaves the other, and removing it again is a 404
    status, _, _ = call(api, "DELETE", "/v1/admin/fees/categories/fashion--shoes", headers=operator_headers())
    assert status == 204
    _, overview, _ = call(api, "GET", "/v1/admin/fees", headers=operator_headers())
    assert [c["scope"] for c in overview["categories"]] == ["category:fashion"]
    status, body, _ = call(api, "DELETE", "/v1/admin/fees/categories/fashion--shoes", headers=operator_headers())
    assert (status, body["error"]["code"]) == (404, "fee_override_not_found")


@pytest.mark.parametrize("slug", ["Fashion", "fashion---shoes", "fashion--", "-fashion"])
def test_a_malformed_category_slug_is_a_404(api: Any, slug: str) -> None:
    status, body = _put(api, f"/v1/admin/fees/categories/{slug}", {"percent_bp": 1200})
    assert (status, body["error"]["code"]) == (404, "category_not_found")


def test_a_category_override_cannot_charge_a_subscription(api: Any) -> None:
    status, body = _put(api, "/v1/admin/fees/categories/books", DEFAULT)
    assert (status, body["error"]["details"][0]["field"]) == (422, "body.currencies.EUR.subscription_fee")


def test_seller_override_needs_an_existing_seller(api: Any) -> None:
    status, body = _put(api, "/v1/admin/fees/sellers/sel_nobody", {"percent_bp": 300})
    assert (status, body["error"]["code"]) == (404, "seller_not_found")


def test_seller_override_lifecycle_and_the_sellers_own_view(api: Any) -> None:
    # given a default, a category override and a seller with an override of its own
    _seller("sel_vip")
    _put(api, "/v1/admin/fees", DEFAULT)
    _put(api, "/v1/admin/fees/categories/books", {"percent_bp": 500})
    status, body = _put(api, "/v1/admin/fees/sellers/sel_vip", {"percent_bp": 300})
    assert (status, body["ref"]) == (200, "seller:sel_vip@1")
    # then the seller sees only its override; another seller sees the default and categories
    _, mine, _ = call(api, "GET", "/v1/seller/fees", headers=approved_seller_headers("sel_vip"))
    assert (mine["applies"], mine["schedule"]["ref"], mine["category_overrides"]) == ("seller_override",
                                                                                      "seller:sel_vip@1", [])
    _, other, _ = call(api, "GET", "/v1/seller/fees", headers=approved_seller_headers("sel_other"))
    assert (other["applies"], other["schedule"]["ref"]) == ("marketplace_default", "default@1")
    assert [c["ref"] for c in other["category_overrides"]] == ["category:books@1"]
    # when the override is removed, the default applies again and the removal is a version
    status, _, _ = call(api, "DELETE", "/v1/admin/fees/sellers/sel_vip", headers=operator_headers())
    assert status == 204
    status, body, _ = call(api, "GET", "/v1/admin/fees/sellers/sel_vip", headers=operator_headers())
    assert (status, body["error"]["code"]) == (404, "fee_override_not_found")
    assert service.schedule_version("seller:sel_vip@1").percent_bp == 300
    _put(api, "/v1/admin/fees/sellers/sel_vip", {"percent_bp": 250})
    assert service.current_schedule("seller:sel_vip").ref == "seller:sel_vip@3"


def test_checkout_policies_apply_the_precedence_from_stored_schedules(api: Any) -> None:
    # given a default, two nested category overrides and one seller override
    _seller("sel_vip")
    _put(api, "/v1/admin/fees", {"percent_bp": 1000})
    _put(api, "/v1/admin/fees/categories/fashion", {"percent_bp": 1500})
    _put(api, "/v1/admin/fees/categories/fashion--shoes", {"percent_bp": 1200})
    _put(api, "/v1/admin/fees/sellers/sel_vip", {"percent_bp": 300})
    # when a checkout loads the policies of its sellers for its categories (one BatchGetItem)
    policies = service.fee_policies(["sel_vip", "sel_std"], ["fashion/shoes", "fashion/kids", "books/fiction"])

    def fee(seller: str, category: str) -> tuple[int, str]:
        breakdown = line_fee(policies[seller], line_total=Money("EUR", 10_000), category=category,
                             trailing_30_day_sales=Money("EUR", 0))
        return breakdown.fee.amount, breakdown.schedule_ref

    # then seller override > longest category prefix > default
    assert fee("sel_vip", "fashion/shoes") == (300, "seller:sel_vip@1")
    assert fee("sel_std", "fashion/shoes") == (1200, "category:fashion/shoes@1")
    assert fee("sel_std", "fashion/kids") == (1500, "category:fashion@1")
    assert fee("sel_std", "books/fiction") == (1000, "default@1")


def test_unknown_schedule_versions_are_not_found() -> None:
    from chalicelib.core.errors import NotFound

    for ref in ("default@7", "nonsense", "shop:x@1", "default@x"):
        with pytest.raises(NotFound):
            service.schedule_version(ref)
    assert service.schedule_version("default@0").percent_bp == 0


def test_the_fee_on_shipping_is_a_setting_of_the_default_and_seller_schedules_only(api: Any) -> None:
    from chalicelib.core.money import Money
    from chalicelib.fees.engine import FeePolicy, FeeSchedule, shipping_fee

    status, body, _ = call(api, "PUT", "/v1/admin/fees", {"percent_bp": 1_000, "fee_on_shipping": True},
                           headers=operator_headers())
    refused = call(api, "PUT", "/v1/admin/fees/categories/books", {"percent_bp": 500, "fee_on_shipping": True},
                   headers=operator_headers())

    assert status == 200 and body["fee_on_shipping"] is True
    assert call(api, "GET", "/v1/admin/fees", headers=operator_headers())[1]["default"]["fee_on_shipping"] is True
    assert refused[0] == 422 and refused[1]["error"]["details"][0]["field"] == "body.fee_on_shipping"
    on = FeePolicy(default=FeeSchedule(percent_bp=1_000, fee_on_shipping=True))
    tiered = FeePolicy(default=FeeSchedule.from_json({"percent_bp": 1_000, "fee_on_shipping": True, "currencies": {
        "EUR": {"fixed": 30, "tiers": [{"above": 100, "percent_bp": 500}]}}}))
    assert shipping_fee(on, shipping=Money("EUR", 495), trailing_30_day_sales=Money("EUR", 0)) == Money("EUR", 50)
    assert shipping_fee(FeePolicy(), shipping=Money("EUR", 495),
                        trailing_30_day_sales=Money("EUR", 0)) == Money("EUR", 0)
    # the volume tier's percentage, without the per-line fixed amount
    assert shipping_fee(tiered, shipping=Money("EUR", 1_000),
                        trailing_30_day_sales=Money("EUR", 101)) == Money("EUR", 50)
