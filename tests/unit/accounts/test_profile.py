"""The buyer's profile: what can be kept, how it is checked, the birthday index."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.accounts import validation
from tests.support.builders import Buyer
from tests.support.events import outbox
from tests.support.http import call


def _patch(api: Any, buyer: Buyer, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
    return call(api, "PATCH", "/v1/me", body, headers=buyer.headers)


def test_a_new_buyer_sees_their_profile(api: Any, buyer: Buyer) -> None:
    status, body, _ = call(api, "GET", "/v1/me", headers=buyer.headers)

    assert status == 200
    assert body == {
        "user_id": buyer.user_id, "email": "anna.berg@example.com", "email_verified": True, "name": "Anna Berg",
        "phone": None, "birthday": None, "language": None, "vat_id": None,
        "preferences": {"categories": [], "brands": [], "sizes": []}, "has_password": True,
        "created_at": body["created_at"],
    }


def test_profile_fields_are_kept_in_their_normal_form(api: Any, buyer: Buyer) -> None:
    status, body, _ = _patch(api, buyer, {
        "name": "Anna Berg-Schmidt", "phone": "0049 (151) 123-456-78", "birthday": {"day": 29, "month": 2},
        "language": "de", "vat_id": "de 123.456.789",
        "preferences": {"categories": ["Fashion/Shoes", "books"], "brands": ["Salomon", "Salomon", "Vaude"],
                        "sizes": ["42", "M"]},
    })

    assert status == 200, body
    assert body["name"] == "Anna Berg-Schmidt"
    assert body["phone"] == "+4915112345678"
    assert body["birthday"] == {"day": 29, "month": 2, "year": None}
    assert body["language"] == "de"
    assert body["vat_id"] == "DE123456789"
    assert body["preferences"] == {"categories": ["fashion/shoes", "books"], "brands": ["Salomon", "Vaude"],
                                   "sizes": ["42", "M"]}
    assert call(api, "GET", "/v1/me", headers=buyer.headers)[1] == body


def test_only_given_fields_change_and_null_clears(api: Any, buyer: Buyer) -> None:
    _patch(api, buyer, {"phone": "+43 660 1234567", "birthday": {"day": 1, "month": 5, "year": 1990}})

    _, body, _ = _patch(api, buyer, {"phone": None, "language": "en"})

    assert (body["phone"], body["language"], body["name"]) == (None, "en", "Anna Berg")
    assert body["birthday"] == {"day": 1, "month": 5, "year": 1990}


def test_a_new_name_is_announced_to_the_sellers_copies(api: Any, buyer: Buyer) -> None:
    status, body, _ = _patch(api, buyer, {"name": "Anna Schmidt", "phone": "+49 151 12345678"})

    assert (status, body["name"], body["phone"]) == (200, "Anna Schmidt", "+4915112345678")
    assert outbox("account.updated") == [{"user_id": buyer.user_id, "changed": ["name"]}]


@pytest.mark.parametrize("body", [{"phone": "+49 151 12345678", "language": "de"}, {"name": "Anna Berg"}])
def test_changes_sellers_do_not_copy_announce_nothing(api: Any, buyer: Buyer, body: dict[str, Any]) -> None:
    assert _patch(api, buyer, body)[0] == 200
    assert outbox("account.updated") == []


def test_a_closed_account_cannot_change_its_name(api: Any, buyer: Buyer) -> None:
    from chalicelib.accounts.models import User

    User.get(f"USER#{buyer.user_id}", "PROFILE").update(actions=[User.status.set("erased")])

    status, body, _ = _patch(api, buyer, {"name": "Someone Else"})

    assert (status, body["error"]["code"]) == (401, "account_closed")
    assert outbox("account.updated") == []


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"phone": "0151 12345678"}, "body.phone", "Give the phone number with its country code, e.g. +49 151 12345678."),
    ({"phone": "+49 12"}, "body.phone", "Give the phone number with its country code, e.g. +49 151 12345678."),
    ({"birthday": {"day": 29, "month": 2, "year": 2023}}, "body.birthday", "29.02. is not a date in 2023."),
    ({"birthday": {"day": 31, "month": 4}}, "body.birthday", "31.04. is not a date."),
    ({"birthday": {"day": 1, "month": 1, "year": 2099}}, "body.birthday",
     "The birth year must be between 1900 and today."),
    ({"vat_id": "DE12345678"}, "body.vat_id", "This is not the format of VAT ids from DE (e.g. DE123456789)."),
    ({"vat_id": "ATU1234567"}, "body.vat_id", "This is not the format of VAT ids from AT (e.g. ATU12345678)."),
    ({"vat_id": "US123456789"}, "body.vat_id", "A VAT id starts with the EU member state's code, e.g. DE123456789."),
    ({"preferences": {"categories": ["fashion/hats"]}}, "body.preferences.categories",
     "Unknown categories: fashion/hats (GET /v1/categories lists them)."),
])
def test_invalid_values_are_refused_with_the_field_and_reason(api: Any, buyer: Buyer, body: dict, field: str,
                                                              message: str) -> None:
    status, answer, _ = _patch(api, buyer, {"name": "Changed", **body})

    assert status == 422
    assert answer["error"]["details"] == [{"field": field, "message": message, "type": "value_error"}]
    assert call(api, "GET", "/v1/me", headers=buyer.headers)[1]["name"] == "Anna Berg"  # nothing written


def test_a_preference_list_holds_at_most_20_entries_as_the_schema_says(api: Any, buyer: Buyer) -> None:
    status, answer, _ = _patch(api, buyer, {"preferences": {"sizes": ["42"] * 21}})

    assert status == 422
    assert [(d["field"], d["type"]) for d in answer["error"]["details"]] == [("body.preferences.sizes", "too_long")]


@pytest.mark.parametrize("body", [
    {"birthday": {"day": 12}},
    {"language": "fr"},
    {"email": "other@example.com"},
    {"preferences": {"brands": ["x" * 61]}},
])
def test_malformed_fields_are_refused(api: Any, buyer: Buyer, body: dict) -> None:
    assert _patch(api, buyer, body)[0] == 422


@pytest.mark.parametrize(("raw", "normal"), [
    ("DE123456789", "DE123456789"), ("ATU12345678", "ATU12345678"), ("at u 1234 5678", "ATU12345678"),
    ("NL123456789B01", "NL123456789B01"), ("GR123456789", "EL123456789"), ("FRXX123456789", "FRXX123456789"),
    ("SE123456789001", "SE123456789001"), ("IE1234567FA", "IE1234567FA"),
])
def test_eu_vat_ids_are_normalised(raw: str, normal: str) -> None:
    assert validation.normalise_vat_id(raw) == normal


@pytest.mark.parametrize("birthday", [{"day": 29, "month": 2, "year": None}, {"day": 29, "month": 2, "year": 2024}])
def test_a_leap_day_birthday_is_kept(api: Any, buyer: Buyer, birthday: dict[str, Any]) -> None:
    status, body, _ = _patch(api, buyer, {"birthday": birthday})

    assert (status, body["birthday"]) == (200, birthday)
    assert call(api, "GET", "/v1/me", headers=buyer.headers)[1]["birthday"] == birthday


def test_the_birthday_sweep_finds_todays_birthdays_by_query(api: Any, buyer: Buyer, other_buyer: Buyer) -> None:
    from chalicelib.accounts.models import User
    from chalicelib.core.keys import birthday_key

    _patch(api, buyer, {"birthday": {"day": 7, "month": 3}})
    _patch(api, other_buyer, {"birthday": {"day": 8, "month": 3, "year": 1985}})

    born_on_7_march = list(User.by_birthday.query(birthday_key(3, 7)))

    assert [u.user_id for u in born_on_7_march] == [buyer.user_id]


def test_clearing_the_birthday_takes_the_buyer_off_the_birthday_index(api: Any, buyer: Buyer) -> None:
    from chalicelib.accounts.models import User
    from chalicelib.core.keys import birthday_key

    _patch(api, buyer, {"birthday": {"day": 7, "month": 3}})
    _patch(api, buyer, {"birthday": None})

    assert list(User.by_birthday.query(birthday_key(3, 7))) == []


def test_the_profile_needs_a_buyer_token(api: Any) -> None:
    status, body, _ = call(api, "GET", "/v1/me")
    assert (status, body["error"]["code"]) == (401, "not_authenticated")
