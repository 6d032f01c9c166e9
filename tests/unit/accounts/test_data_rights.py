"""Data rights: the export holds everything about the buyer; erasure leaves no personal data."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.accounts import consents
from tests.support.auth import seller_headers
from tests.support.builders import ANNA, Buyer, register, save_card, seller_with_product
from tests.support.events import outbox
from tests.support.http import call
from tests.support.mail import forget_pacing, link_token, queued_mails
from tests.support.stripe import stripe_client

HOME = {"name": "Anna Berg", "line1": "Torstraße 1", "postal_code": "10119", "city": "Berlin", "country": "DE",
        "is_default_shipping": True}


@pytest.fixture
def rich_buyer(api: Any, aws: dict[str, str], buyer: Buyer, fake_stripe: str) -> Buyer:
    """A buyer who has used every part of the account."""
    call(api, "PATCH", "/v1/me", {"phone": "+491511234567", "birthday": {"day": 7, "month": 3, "year": 1990},
                                  "vat_id": "DE123456789", "preferences": {"brands": ["Vaude"]}},
         headers=buyer.headers)
    call(api, "POST", "/v1/me/addresses", HOME, headers=buyer.headers)
    call(api, "PUT", "/v1/me/consents", {"newsletter": True}, headers=buyer.headers)
    [mail] = queued_mails("newsletter_confirm")
    call(api, "POST", "/v1/consents/confirm", {"token": link_token(mail["context"]["link"])})
    socks = seller_with_product(api, "sel_wool", title="Wool socks")
    call(api, "PUT", f"/v1/me/wishlist/{socks['product_id']}", headers=buyer.headers)
    save_card(api, buyer, fake_stripe)
    call(api, "POST", "/v1/auth/login", {"email": ANNA["email"], "password": ANNA["password"]})  # a second session
    return buyer


def test_the_export_holds_everything_stored_about_the_buyer(api: Any, rich_buyer: Buyer) -> None:
    status, export, _ = call(api, "GET", "/v1/me/export", headers=rich_buyer.headers)

    assert status == 200, export
    assert export["profile"]["phone"] == "+491511234567"
    assert export["profile"]["birthday"] == {"day": 7, "month": 3, "year": 1990}
    assert [(a["city"], a["is_default_shipping"]) for a in export["addresses"]] == [("Berlin", True)]
    assert [(c["topic"], c["status"]) for c in export["consents"]] == [("newsletter", "granted")]
    assert [e["action"] for e in export["consent_log"]] == ["requested", "granted"]
    assert [w["title"] for w in export["wishlist"]] == ["Wool socks"]
    assert export["sessions"] == {"count": 2, "active": 2}
    assert [(c["brand"], c["last4"]) for c in export["payment_methods"]] == [("visa", "4242")]
    assert export["stripe_customer_id"].startswith("cus_")
    assert export["orders"] == []



def test_every_section_of_the_export_is_supplied_by_the_package_that_keeps_it(api: Any) -> None:
    from chalicelib.accounts import personal_data
    from chalicelib.accounts.schemas import AccountExport

    assert personal_data.registered_sections() == set(personal_data.SECTIONS)
    assert set(personal_data.SECTIONS) <= AccountExport.model_fields.keys()


def test_an_export_missing_a_section_is_refused_rather_than_incomplete(api: Any, buyer: Buyer,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.accounts import personal_data

    monkeypatch.setattr(personal_data, "_readers", {})

    status, body, _ = call(api, "GET", "/v1/me/export", headers=buyer.headers)

    assert (status, body["error"]["code"]) == (500, "internal_error")
    assert "orders" not in body

def _erase(api: Any, buyer: Buyer) -> None:
    status, body, _ = call(api, "DELETE", "/v1/me", headers=buyer.headers)
    assert status == 204, body


def test_erasure_removes_personal_data_and_keeps_an_anonymous_tombstone(api: Any, aws: dict[str, str],
                                                                        rich_buyer: Buyer) -> None:
    import boto3

    _erase(api, rich_buyer)

    items = boto3.client("dynamodb").query(  # everything left in the buyer's partition
        TableName=aws["TableName"], KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"USER#{rich_buyer.user_id}"}})["Items"]
    kinds = sorted({item["SK"]["S"].split("#")[0] for item in items})
    assert kinds == ["CONSENT", "CONSENTLOG", "PROFILE"]
    [profile] = [i for i in items if i["SK"]["S"] == "PROFILE"]
    assert profile["status"] == {"S": "erased"}
    assert profile["email"] == {"S": f"erased+{rich_buyer.user_id}@invalid"}
    for gone in ("phone", "birthday", "birth_year", "vat_id", "password_hash", "preferred_brands",
                 "stripe_customer_id", "GSI1PK", "default_shipping_address_id"):
        assert gone not in profile
    assert "anna" not in str(items).lower().replace(rich_buyer.user_id.lower(), "")


def test_erasure_withdraws_consent_and_keeps_the_log_for_proof(api: Any, rich_buyer: Buyer) -> None:
    from chalicelib.accounts.models import Consent

    _erase(api, rich_buyer)

    [consent] = consents.current_consents(rich_buyer.user_id).values()
    assert isinstance(consent, Consent) and consent.status == "withdrawn"
    assert [(e.action, e.method) for e in consents.all_log_entries(rich_buyer.user_id)] == [
        ("requested", "account_settings"), ("granted", "email_confirmation"), ("withdrawn", "account_erasure")]


def test_erasure_ends_every_session_and_closes_the_account(api: Any, rich_buyer: Buyer) -> None:
    _erase(api, rich_buyer)

    refreshed = call(api, "POST", "/v1/auth/refresh", {"refresh_token": rich_buyer.tokens["refresh_token"]})
    me = call(api, "GET", "/v1/me", headers=rich_buyer.headers)  # the access token has not expired yet
    login = call(api, "POST", "/v1/auth/login", {"email": ANNA["email"], "password": ANNA["password"]})

    assert (refreshed[0], refreshed[1]["error"]["code"]) == (401, "invalid_refresh_token")
    assert (me[0], me[1]["error"]["code"]) == (401, "account_closed")
    assert (login[0], login[1]["error"]["code"]) == (401, "invalid_credentials")


def test_erasure_detaches_cards_and_deletes_the_stripe_customer(api: Any, rich_buyer: Buyer,
                                                                fake_stripe: str) -> None:
    from chalicelib.accounts.service import get_user

    customer_id = call(api, "GET", "/v1/me/export", headers=rich_buyer.headers)[1]["stripe_customer_id"]
    [card] = call(api, "GET", "/v1/me/payment-methods", headers=rich_buyer.headers)[1]["items"]

    _erase(api, rich_buyer)

    stripe = stripe_client(fake_stripe)
    assert stripe.v1.payment_methods.retrieve(card["payment_method_id"]).customer is None
    assert _customer_gone(stripe, customer_id)
    assert get_user(rich_buyer.user_id).stripe_customer_id is None


def _customer_gone(stripe: Any, customer_id: str) -> bool:
    """Stripe answers a deleted customer with ``deleted: true``; localstripe forgets it."""
    import stripe as sdk

    try:
        return stripe.v1.customers.retrieve(customer_id).get("deleted") is True
    except sdk.InvalidRequestError as error:
        return error.code == "resource_missing" or error.http_status == 404


def test_the_email_can_register_again_as_a_new_account(api: Any, rich_buyer: Buyer) -> None:
    _erase(api, rich_buyer)
    forget_pacing()

    again = register(api)

    assert again.user_id != rich_buyer.user_id
    assert call(api, "GET", "/v1/me/addresses", headers=again.headers)[1]["items"] == []


def test_erasure_announces_itself_to_other_domains_and_leaves_the_birthday_index(api: Any,
                                                                                 rich_buyer: Buyer) -> None:
    from chalicelib.accounts.models import User
    from chalicelib.core.keys import birthday_key

    _erase(api, rich_buyer)

    assert [e["user_id"] for e in outbox("account.erased")] == [rich_buyer.user_id]
    assert list(User.by_birthday.query(birthday_key(3, 7))) == []


def test_erasing_twice_is_not_an_error(api: Any, buyer: Buyer) -> None:
    from chalicelib.accounts.service import get_user

    _erase(api, buyer)
    first_erased_at = get_user(buyer.user_id).erased_at

    _erase(api, buyer)

    erased = get_user(buyer.user_id)
    assert (erased.status, erased.email, erased.name) == ("erased", f"erased+{buyer.user_id}@invalid", "")
    assert erased.erased_at == first_erased_at  # the tombstone is kept as it was, not made again
    assert call(api, "GET", "/v1/me", headers=buyer.headers)[1]["error"]["code"] == "account_closed"


def test_a_seller_account_cannot_be_erased_here(api: Any) -> None:
    from chalicelib.accounts.service import create_user, new_user

    owner = create_user(new_user("owner@shop.example", roles=("buyer", "seller"), seller_id="sel_1"))
    owners = seller_headers("sel_1", user_id=owner.user_id, roles=("buyer", "seller"))

    status, body, _ = call(api, "DELETE", "/v1/me", headers=owners)

    assert (status, body["error"]["code"]) == (409, "account_has_business_role")
