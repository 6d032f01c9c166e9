"""The seller's own profile and the public storefront."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.auth import bearer, buyer_headers, operator_headers
from tests.support.builders import api_key, apply, own, signed_up_headers
from tests.support.http import call
from tests.support.stripe import account_updated, deliver

PROFILE = {"display_name": "Nordwind", "description": "Outdoor gear from Hamburg.",
           "logo_url": "https://cdn.nordwind.example/logo.png", "return_policy": "30 days, free returns.",
           "shipping_policy": "Ships in 2 days.", "support_email": "Help@Nordwind.example", "return_window_days": 30}


def _approved(api: Any, **application: Any) -> dict[str, Any]:
    body = apply(api, **application)
    seller = body["seller"]
    deliver(api, account_updated(seller["payments"]["stripe_account_id"], seller_id=seller["seller_id"],
                                 created=int(time.time())))
    return body


def test_a_seller_changes_its_profile(api: Any) -> None:
    headers = signed_up_headers(apply(api))

    status, body, _ = call(api, "PATCH", "/v1/seller", PROFILE, headers=headers)

    assert status == 200, body
    expected = {**PROFILE, "support_email": "help@nordwind.example"}
    assert {name: body[name] for name in PROFILE} == expected
    assert {name: own(api, headers)[name] for name in PROFILE} == expected


def test_null_clears_an_optional_field_and_omitted_fields_stay(api: Any) -> None:
    headers = signed_up_headers(apply(api))
    call(api, "PATCH", "/v1/seller", PROFILE, headers=headers)

    status, body, _ = call(api, "PATCH", "/v1/seller", {"logo_url": None}, headers=headers)

    assert status == 200
    assert body["logo_url"] is None
    assert (body["description"], body["display_name"]) == (PROFILE["description"], "Nordwind")


@pytest.mark.parametrize(("change", "field"), [
    ({"display_name": None}, "body.display_name"),
    ({"return_window_days": None}, "body.return_window_days"),
    ({"return_window_days": "30"}, "body.return_window_days"),
    ({"display_name": ""}, "body.display_name"),
    ({"logo_url": "http://cdn.nordwind.example/logo.png"}, "body.logo_url"),
    ({"support_email": "help@"}, "body.support_email"),
    ({"return_window_days": 400}, "body.return_window_days"),
    ({"description": "x" * 5001}, "body.description"),
    ({"status": "approved"}, "body.status"),
    ({"charges_enabled": True}, "body.charges_enabled"),
])
def test_invalid_profile_changes_are_refused_naming_the_field(api: Any, change: dict[str, Any], field: str) -> None:
    headers = signed_up_headers(apply(api))

    status, body, _ = call(api, "PATCH", "/v1/seller", change, headers=headers)

    assert (status, body["error"]["code"]) == (422, "validation_failed")
    assert [d["field"] for d in body["error"]["details"]] == [field]


def test_eu_sellers_keep_a_return_window_of_at_least_14_days(api: Any) -> None:
    eu = signed_up_headers(apply(api))
    us = signed_up_headers(apply(api, email="shop@trailhead.example", country="US", default_currency="USD",
                              vat_id=None))

    status, body, _ = call(api, "PATCH", "/v1/seller", {"return_window_days": 7}, headers=eu)
    assert (status, body["error"]["code"]) == (422, "return_window_too_short")
    status, body, _ = call(api, "PATCH", "/v1/seller", {"return_window_days": 0}, headers=us)
    assert (status, body["return_window_days"]) == (200, 0)


def test_an_api_key_reads_but_cannot_change_the_profile(api: Any) -> None:
    signed_up = apply(api)
    key = bearer(api_key(api, signed_up)["secret"])

    assert own(api, key)["seller_id"] == signed_up["seller"]["seller_id"]
    status, body, _ = call(api, "PATCH", "/v1/seller", {"display_name": "Hacked"}, headers=key)
    assert (status, body["error"]["code"]) == (403, "user_required")


def test_buyers_cannot_use_seller_routes(api: Any) -> None:
    status, body, _ = call(api, "GET", "/v1/seller", headers=buyer_headers("usr_buyer"))

    assert (status, body["error"]["code"]) == (403, "seller_required")


# --- storefront ------------------------------------------------------------------------------

def test_an_approved_seller_has_a_public_storefront(api: Any) -> None:
    signed_up = _approved(api)
    seller_id = signed_up["seller"]["seller_id"]
    call(api, "PATCH", "/v1/seller", PROFILE, headers=signed_up_headers(signed_up))

    status, body, _ = call(api, "GET", f"/v1/sellers/{seller_id}")

    assert status == 200
    assert body == {
        "seller_id": seller_id, "display_name": "Nordwind", "description": PROFILE["description"],
        "logo_url": PROFILE["logo_url"], "country": "DE", "support_email": "help@nordwind.example",
        "return_policy": PROFILE["return_policy"], "shipping_policy": PROFILE["shipping_policy"],
        "return_window_days": 30, "rating": {"count": 0, "average": None, "distribution": dict.fromkeys("12345", 0)},
        "seller_rating": {"count": 0, "average": None, "distribution": dict.fromkeys("12345", 0),
                          "delivery": None, "communication": None},
        "product_count": 0,
        "member_since": signed_up["seller"]["created_at"],
    }
    assert "contact_email" not in body and "vat_id" not in body


def test_the_rating_is_the_mean_of_the_stars(api: Any) -> None:
    from chalicelib.sellers.models import Seller
    from chalicelib.sellers.service import get_seller

    seller_id = _approved(api)["seller"]["seller_id"]
    get_seller(seller_id).update(actions=[Seller.rating_count.set(3), Seller.rating_sum.set(13)])

    _, body, _ = call(api, "GET", f"/v1/sellers/{seller_id}")

    assert (body["rating"]["count"], body["rating"]["average"]) == (3, 4.33)


def test_pending_suspended_and_unknown_sellers_have_no_storefront(api: Any) -> None:
    pending = apply(api)["seller"]["seller_id"]
    suspended = _approved(api, email="shop@other.example")["seller"]["seller_id"]
    call(api, "POST", f"/v1/admin/sellers/{suspended}/suspend", {"reason": "Fake goods"}, headers=operator_headers())

    answers = [call(api, "GET", f"/v1/sellers/{seller_id}")[:2]
               for seller_id in (pending, suspended, "sel_01JD000000000000000000000Z", "nonsense")]

    not_found = {"error": {"code": "seller_not_found", "message": "No such seller.", "details": None}}
    assert answers == [(404, not_found)] * 4
