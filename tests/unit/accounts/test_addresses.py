"""The address book: checked fields, one default of each kind, a bounded size, isolation."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.accounts import addresses
from tests.support.builders import Buyer
from tests.support.http import call

HOME = {"name": "Anna Berg", "line1": "Torstraße 1", "postal_code": "10119", "city": "Berlin", "country": "DE"}
OFFICE = {"name": "Anna Berg", "company": "Berg GmbH", "line1": "Mariahilfer Str. 2", "postal_code": "1070",
          "city": "Wien", "country": "AT"}


def _add(api: Any, buyer: Buyer, **fields: Any) -> dict[str, Any]:
    status, body, _ = call(api, "POST", "/v1/me/addresses", {**HOME, **fields}, headers=buyer.headers)
    assert status == 201, body
    return body


def _book(api: Any, buyer: Buyer) -> list[dict[str, Any]]:
    status, body, _ = call(api, "GET", "/v1/me/addresses", headers=buyer.headers)
    assert status == 200, body
    return body["items"]


def _defaults(api: Any, buyer: Buyer) -> dict[str, list[str]]:
    book = _book(api, buyer)
    return {"shipping": [a["address_id"] for a in book if a["is_default_shipping"]],
            "billing": [a["address_id"] for a in book if a["is_default_billing"]]}


def test_an_added_address_is_listed_in_its_normal_form(api: Any, buyer: Buyer) -> None:
    added = _add(api, buyer, country="ch", postal_code=" 8001 ", city="Zürich", phone="+41 44 123 45 67")

    assert added["address_id"].startswith("adr_")
    assert (added["country"], added["postal_code"], added["phone"]) == ("CH", "8001", "+41441234567")
    assert (added["is_default_shipping"], added["is_default_billing"]) == (False, False)
    assert _book(api, buyer) == [added]


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"country": "DE", "postal_code": "1011"}, "body.postal_code", "A postal code in DE has 5 digits, e.g. 10115."),
    ({"country": "AT", "postal_code": "10700"}, "body.postal_code", "A postal code in AT has 4 digits, e.g. 1010."),
    ({"country": "CH", "postal_code": "CH-8001"}, "body.postal_code", "A postal code in CH has 4 digits, e.g. 8001."),
    ({"country": "XX"}, "body.country", "Use the two-letter ISO country code, e.g. DE, AT or CH."),
    ({"phone": "030 1234567"}, "body.phone", "Give the phone number with its country code, e.g. +49 151 12345678."),
])
def test_invalid_fields_are_refused_with_the_reason(api: Any, buyer: Buyer, fields: dict, field: str,
                                                    message: str) -> None:
    status, body, _ = call(api, "POST", "/v1/me/addresses", {**HOME, **fields}, headers=buyer.headers)

    assert status == 422
    assert body["error"]["details"] == [{"field": field, "message": message, "type": "value_error"}]
    assert _book(api, buyer) == []


@pytest.mark.parametrize("missing", ["name", "line1", "postal_code", "city", "country"])
def test_required_fields_are_required(api: Any, buyer: Buyer, missing: str) -> None:
    body = {k: v for k, v in HOME.items() if k != missing}
    assert call(api, "POST", "/v1/me/addresses", body, headers=buyer.headers)[0] == 422


def test_a_new_default_replaces_the_old_one_of_its_kind_only(api: Any, buyer: Buyer) -> None:
    home = _add(api, buyer, is_default_shipping=True, is_default_billing=True)

    office = _add(api, buyer, **OFFICE, is_default_shipping=True)

    assert _defaults(api, buyer) == {"shipping": [office["address_id"]], "billing": [home["address_id"]]}


def test_patch_changes_fields_and_moves_defaults(api: Any, buyer: Buyer) -> None:
    home = _add(api, buyer, is_default_billing=True)
    office = _add(api, buyer, **OFFICE)

    status, body, _ = call(api, "PATCH", f"/v1/me/addresses/{office['address_id']}",
                           {"line2": "Top 4", "is_default_billing": True}, headers=buyer.headers)

    assert status == 200, body
    assert (body["line2"], body["is_default_billing"], body["company"]) == ("Top 4", True, "Berg GmbH")
    assert _defaults(api, buyer) == {"shipping": [], "billing": [office["address_id"]]}
    assert [a["is_default_billing"] for a in _book(api, buyer) if a["address_id"] == home["address_id"]] == [False]


def test_patch_can_unset_a_default_and_clear_optional_fields(api: Any, buyer: Buyer) -> None:
    office = _add(api, buyer, **OFFICE, is_default_shipping=True)

    _, body, _ = call(api, "PATCH", f"/v1/me/addresses/{office['address_id']}",
                      {"company": None, "is_default_shipping": False}, headers=buyer.headers)

    assert (body["company"], body["is_default_shipping"]) == (None, False)


def test_patch_checks_the_postal_code_against_the_new_country(api: Any, buyer: Buyer) -> None:
    home = _add(api, buyer)

    status, body, _ = call(api, "PATCH", f"/v1/me/addresses/{home['address_id']}", {"country": "AT"},
                           headers=buyer.headers)

    assert status == 422
    assert body["error"]["details"][0]["field"] == "body.postal_code"


def test_patch_cannot_clear_a_required_field(api: Any, buyer: Buyer) -> None:
    home = _add(api, buyer)
    status, body, _ = call(api, "PATCH", f"/v1/me/addresses/{home['address_id']}", {"city": None},
                           headers=buyer.headers)
    assert (status, body["error"]["details"][0]["field"]) == (422, "body.city")


def test_a_deleted_default_leaves_no_default(api: Any, buyer: Buyer) -> None:
    home = _add(api, buyer, is_default_shipping=True)

    assert call(api, "DELETE", f"/v1/me/addresses/{home['address_id']}", headers=buyer.headers)[0] == 204

    assert _book(api, buyer) == []
    again = _add(api, buyer)
    assert again["is_default_shipping"] is False


def test_the_address_book_is_bounded(api: Any, buyer: Buyer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(addresses, "MAX_ADDRESSES", 2)
    first = _add(api, buyer)
    _add(api, buyer)

    status, body, _ = call(api, "POST", "/v1/me/addresses", HOME, headers=buyer.headers)
    assert (status, body["error"]["code"]) == (409, "address_book_full")

    call(api, "DELETE", f"/v1/me/addresses/{first['address_id']}", headers=buyer.headers)
    _add(api, buyer)  # deleting made room


@pytest.mark.parametrize(("method", "body"), [("PATCH", {"city": "Hamburg"}), ("DELETE", None)])
def test_another_buyers_address_does_not_exist(api: Any, buyer: Buyer, other_buyer: Buyer, method: str,
                                               body: dict | None) -> None:
    theirs = _add(api, other_buyer)

    status, answer, _ = call(api, method, f"/v1/me/addresses/{theirs['address_id']}", body, headers=buyer.headers)
    missing = call(api, method, "/v1/me/addresses/adr_01JD0000000000000000000000", body, headers=buyer.headers)

    assert (status, answer) == missing[:2]
    assert (status, answer["error"]["code"]) == (404, "address_not_found")
    assert _book(api, other_buyer) == [theirs]
    assert _book(api, buyer) == []


def test_checkout_gets_the_default_addresses_and_vat_id(api: Any, buyer: Buyer) -> None:
    from chalicelib.accounts.profile import checkout_profile

    home = _add(api, buyer, is_default_shipping=True)
    office = _add(api, buyer, **OFFICE, is_default_billing=True)
    call(api, "PATCH", "/v1/me", {"vat_id": "ATU12345678"}, headers=buyer.headers)

    offered = checkout_profile(buyer.user_id)

    assert (offered.email, offered.vat_id) == ("anna.berg@example.com", "ATU12345678")
    assert offered.shipping_address.address_id == home["address_id"]
    assert offered.billing_address.address_id == office["address_id"]
