"""Applying as a seller: the seller, its owner account and its Stripe Connect account."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.core.auth import authenticate
from chalicelib.core.peppers import hash_secret
from tests.support.auth import operator_headers
from tests.support.builders import APPLICATION, apply, register, set_mode
from tests.support.events import outbox
from tests.support.http import call
from tests.support.mail import forget_pacing, mailed_token
from tests.support.stripe import stripe_client


def test_an_application_creates_a_pending_seller_with_a_stripe_account_and_signs_the_owner_in(
        api: Any, fake_stripe: str) -> None:
    # when
    body = apply(api)

    # then
    seller = body["seller"]
    assert seller["seller_id"].startswith("sel_")
    assert (seller["status"], seller["can_sell"]) == ("pending", False)
    assert (seller["business_name"], seller["display_name"]) == ("Nordwind Outdoor GmbH", "Nordwind Outdoor GmbH")
    assert (seller["contact_email"], seller["country"], seller["default_currency"], seller["vat_id"]) == (
        "shop@nordwind.example", "DE", "EUR", "DE123456789")
    assert seller["return_window_days"] == 14
    assert seller["payments"]["charges_enabled"] is False
    account = stripe_client(fake_stripe).v1.accounts.retrieve(seller["payments"]["stripe_account_id"])
    assert (account.type, account.country, account.email) == ("express", "DE", "shop@nordwind.example")
    assert account.metadata.to_dict() == {"seller_id": seller["seller_id"]}
    principal = authenticate(f"Bearer {body['tokens']['access_token']}")
    assert principal.seller_id == seller["seller_id"]
    assert principal.roles == frozenset({"buyer", "seller"})
    assert body["tokens"]["account"]["email"] == "shop@nordwind.example"


def test_an_application_records_its_events(api: Any) -> None:
    seller = apply(api)["seller"]

    [applied] = outbox("seller.applied")
    assert applied["seller_id"] == seller["seller_id"]
    assert applied["contact_email"] == "shop@nordwind.example"
    [account] = outbox("account.created")
    assert account["seller_id"] == seller["seller_id"]
    assert account["roles"] == ["buyer", "seller"]


def test_the_owner_signs_in_with_the_password_as_the_seller(api: Any) -> None:
    seller = apply(api)["seller"]

    status, body, _ = call(api, "POST", "/v1/auth/login", {"email": "shop@nordwind.example",
                                                           "password": APPLICATION["password"]})

    assert status == 200
    assert body["account"]["seller_id"] == seller["seller_id"]


def test_an_application_creates_nothing_until_its_mailed_link_is_used(api: Any) -> None:
    status, body, _ = call(api, "POST", "/v1/sellers", APPLICATION)

    assert status == 202 and "Check your mail" in body["message"]
    assert outbox("seller.applied") == [] and outbox("account.created") == []
    _, page, _ = call(api, "GET", "/v1/admin/sellers?status=pending", headers=operator_headers())
    assert page["items"] == []
    login = call(api, "POST", "/v1/auth/login", {"email": APPLICATION["email"], "password": APPLICATION["password"]})
    assert login[0] == 401


def test_an_application_link_works_once(api: Any) -> None:
    call(api, "POST", "/v1/sellers", APPLICATION)
    token = mailed_token(APPLICATION["email"])
    assert call(api, "POST", "/v1/sellers/confirm", {"token": token})[0] == 201

    status, body, _ = call(api, "POST", "/v1/sellers/confirm", {"token": token})

    assert (status, body["error"]["code"]) == (401, "invalid_magic_link")
    _, page, _ = call(api, "GET", "/v1/admin/sellers?status=pending", headers=operator_headers())
    assert len(page["items"]) == 1


def test_applying_again_answers_as_for_any_address_and_confirming_creates_no_second_seller(api: Any) -> None:
    apply(api)
    forget_pacing()
    fresh = call(api, "POST", "/v1/sellers", {**APPLICATION, "business_name": "Other", "email": "new@other.example"})

    again = call(api, "POST", "/v1/sellers", {**APPLICATION, "business_name": "Other",
                                              "email": "SHOP@nordwind.example"})

    assert again[:2] == fresh[:2]
    status, body, _ = call(api, "POST", "/v1/sellers/confirm", {"token": mailed_token("shop@nordwind.example")})
    assert (status, body["error"]["code"]) == (409, "already_seller")
    _, page, _ = call(api, "GET", "/v1/admin/sellers?status=pending", headers=operator_headers())
    assert len(page["items"]) == 1


def test_a_buyer_who_applies_runs_the_seller_with_their_own_account_and_password(api: Any) -> None:
    buyer = register(api, email="shop@nordwind.example", name="Nina Nord", password="buyer-own-Secret-77")

    signed_up = apply(api)

    assert signed_up["tokens"]["account"]["user_id"] == buyer.user_id
    assert signed_up["tokens"]["account"]["roles"] == ["buyer", "seller"]
    own_password = call(api, "POST", "/v1/auth/login", {"email": "shop@nordwind.example",
                                                        "password": "buyer-own-Secret-77"})
    applications_password = call(api, "POST", "/v1/auth/login", {"email": "shop@nordwind.example",
                                                                  "password": APPLICATION["password"]})
    assert (own_password[0], own_password[1]["account"]["seller_id"]) == (200, signed_up["seller"]["seller_id"])
    assert applications_password[0] == 401


def test_a_buyer_whose_account_starts_another_seller_meanwhile_is_told_it_already_runs_one(
        api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.accounts.models import User
    from chalicelib.sellers import service
    from tests.support.builders import register

    # given a buyer's application, and the account becoming another seller's owner between
    # the confirmation's read of the account and its write
    register(api, email="shop@nordwind.example", name="Nina Nord", password="buyer-own-Secret-77")
    call(api, "POST", "/v1/sellers", APPLICATION)
    confirmed = service.confirm_mailbox

    def made_a_seller_meanwhile(user: Any) -> Any:
        read = confirmed(user)
        User(read.PK, read.SK).update(actions=[User.seller_id.set("sel_other")])
        return read

    monkeypatch.setattr(service, "confirm_mailbox", made_a_seller_meanwhile)

    # when
    status, body, _ = call(api, "POST", "/v1/sellers/confirm", {"token": mailed_token(APPLICATION["email"])})

    # then the owner's condition decides, and says so (not invite_used), and no seller was created
    assert (status, body["error"]["code"]) == (409, "already_seller")
    assert outbox("seller.applied") == []


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"country": "XX"}, "body.country", "cannot be paid through Stripe Connect"),
    ({"country": "Germany"}, "body.country", "cannot be paid through Stripe Connect"),
    ({"default_currency": "XYZ"}, "body.default_currency", "unsupported currency 'XYZ'"),
    ({"vat_id": "123"}, "body.vat_id", "starts with the EU member state's code"),
    ({"vat_id": "DE12345"}, "body.vat_id", "not the format of VAT ids from DE"),
    ({"vat_id": "FR12345678901"}, "body.vat_id", "A VAT id from DE starts with DE."),
    ({"country": "CH", "vat_id": "C"}, "body.vat_id", "two-letter country prefix"),
    ({"business_name": ""}, "body.business_name", "at least 1 character"),
    ({"seller_id": "sel_chosen_by_me"}, "body.seller_id", "Extra inputs are not permitted"),
])
def test_invalid_applications_are_refused_naming_the_field(api: Any, change: dict[str, Any], field: str,
                                                           message: str) -> None:
    status, body, _ = call(api, "POST", "/v1/sellers", {**APPLICATION, **change})

    assert (status, body["error"]["code"]) == (422, "validation_failed")
    [detail] = body["error"]["details"]
    assert detail["field"] == field
    assert message in detail["message"]


@pytest.mark.parametrize(("change", "code"), [
    ({"email": "shop@"}, "invalid_email"),
    ({"password": "short"}, "weak_password"),
])
def test_bad_credentials_are_refused_like_at_registration(api: Any, change: dict[str, Any], code: str) -> None:
    status, body, _ = call(api, "POST", "/v1/sellers", {**APPLICATION, **change})

    assert (status, body["error"]["code"]) == (422, code)


@pytest.mark.parametrize(("country", "vat_id", "stored"), [
    ("GR", "el094259216", "EL094259216"),
    ("AT", "ATU 1234 5678", "ATU12345678"),
    ("CH", "CHE-123.456.789 MWST", "CHE123456789MWST"),
])
def test_vat_ids_are_stored_in_their_normal_form(api: Any, country: str, vat_id: str, stored: str) -> None:
    seller = apply(api, country=country, vat_id=vat_id)["seller"]

    assert seller["vat_id"] == stored


def test_without_stripe_the_application_is_kept_and_the_onboarding_link_creates_the_account_later(
        api: Any, monkeypatch: pytest.MonkeyPatch, fake_stripe: str) -> None:
    from chalicelib.core.settings import reset_settings
    from chalicelib.payments.stripe_gateway import reset_client

    # given Stripe cannot be reached while the seller applies
    monkeypatch.setenv("AGORA_STRIPE_API_BASE", "http://127.0.0.1:9")
    reset_settings()
    reset_client()
    body = apply(api)
    assert body["seller"]["payments"]["stripe_account_id"] is None

    # when Stripe is back and the seller asks for the onboarding link
    monkeypatch.setenv("AGORA_STRIPE_API_BASE", fake_stripe)
    reset_settings()
    reset_client()
    status, link, _ = call(api, "POST", "/v1/seller/onboarding-link",
                           headers={"Authorization": f"Bearer {body['tokens']['access_token']}"})

    # then
    assert status == 200, link
    _, seller, _ = call(api, "GET", "/v1/seller",
                        headers={"Authorization": f"Bearer {body['tokens']['access_token']}"})
    account_id = seller["payments"]["stripe_account_id"]
    assert account_id.startswith("acct_")
    assert link["url"].startswith(f"{fake_stripe}/_connect/onboard/{account_id}?")


# --- invite-only marketplace -----------------------------------------------------------------

def _invite(api: Any) -> str:
    status, body, _ = call(api, "POST", "/v1/admin/seller-invites", {"note": "for Nordwind"},
                           headers=operator_headers())
    assert status == 201, body
    return body["code"]


def test_invite_only_needs_a_code(api: Any) -> None:
    set_mode(api, "invite_only")

    status, body, _ = call(api, "POST", "/v1/sellers", APPLICATION)

    assert (status, body["error"]["code"]) == (422, "invite_required")
    assert body["error"]["details"][0]["field"] == "body.invite_code"


def test_an_invite_code_admits_one_seller(api: Any) -> None:
    # given
    set_mode(api, "invite_only")
    code = _invite(api)

    # when
    first = apply(api, invite_code=code)
    status, body, _ = call(api, "POST", "/v1/sellers", {**APPLICATION, "email": "other@example.com",
                                                        "invite_code": code})

    # then
    assert first["seller"]["status"] == "pending"
    assert (status, body["error"]["code"]) == (409, "invite_used")


def test_two_applications_racing_for_one_code_tell_the_loser_the_code_is_used(
        api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both pass the code check; the redemption's condition decides, and says so (not email_taken)."""
    from chalicelib.sellers import marketplace

    # given an invite code that another application redeems between our check and our write
    set_mode(api, "invite_only")
    code = _invite(api)
    call(api, "POST", "/v1/sellers", {**APPLICATION, "invite_code": code})
    checked = marketplace.redemption_of

    def redeemed_meanwhile(key: str, *, seller_id: str) -> Any:
        item = checked(key, seller_id=seller_id)
        marketplace.SellerInvite(item.PK, item.SK, created_at=item.created_at, seller_id="sel_winner",
                                 expires_at=item.expires_at).save()
        return item

    monkeypatch.setattr(marketplace, "redemption_of", redeemed_meanwhile)

    # when
    status, body, _ = call(api, "POST", "/v1/sellers/confirm", {"token": mailed_token(APPLICATION["email"])})

    # then the applicant learns the code is spent, and nothing of the application was kept
    assert (status, body["error"]["code"]) == (409, "invite_used")
    assert outbox("seller.applied") == [] and outbox("account.created") == []


def test_a_failed_application_does_not_spend_the_code(api: Any) -> None:
    set_mode(api, "invite_only")
    code = _invite(api)

    status, _, _ = call(api, "POST", "/v1/sellers", {**APPLICATION, "password": "short", "invite_code": code})
    assert status == 422

    assert apply(api, invite_code=code)["seller"]["status"] == "pending"


def test_unknown_and_expired_codes_are_refused(api: Any) -> None:
    from chalicelib.core.keys import INVITE_SK, invite_key
    from chalicelib.sellers.models import SellerInvite

    set_mode(api, "invite_only")
    SellerInvite(invite_key(hash_secret("agora_inv_expired")), INVITE_SK, created_at="2026-01-01T00:00:00+00:00",
                 expires_at=int(time.time()) - 1).save()

    for code in ("agora_inv_made_up", "agora_inv_expired"):
        status, body, _ = call(api, "POST", "/v1/sellers", {**APPLICATION, "invite_code": code})
        assert (status, body["error"]["code"]) == (422, "invalid_invite")


def test_an_open_marketplace_ignores_invite_codes(api: Any) -> None:
    assert apply(api, invite_code="anything")["seller"]["status"] == "pending"
