"""Saved cards and SEPA accounts through Stripe SetupIntents, against the fake Stripe; the default."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.builders import Buyer, save_card
from tests.support.http import call
from tests.support.stripe import stripe_client

pytestmark = pytest.mark.usefixtures("fake_stripe")


def _cards(api: Any, buyer: Buyer) -> list[dict[str, Any]]:
    status, body, _ = call(api, "GET", "/v1/me/payment-methods", headers=buyer.headers)
    assert status == 200, body
    return body["items"]


def test_a_buyer_without_cards_has_none_and_no_stripe_customer(api: Any, buyer: Buyer) -> None:
    from chalicelib.accounts.service import get_user

    assert _cards(api, buyer) == []
    assert get_user(buyer.user_id).stripe_customer_id is None


def test_a_setup_intent_belongs_to_the_buyers_customer_created_once(api: Any, buyer: Buyer, stripe_url: str) -> None:
    from chalicelib.accounts.service import get_user

    first = call(api, "POST", "/v1/me/payment-methods/setup-intent", headers=buyer.headers)
    second = call(api, "POST", "/v1/me/payment-methods/setup-intent", headers=buyer.headers)

    assert first[0] == second[0] == 201
    assert first[1]["setup_intent_id"] != second[1]["setup_intent_id"]
    assert first[1]["client_secret"].startswith(first[1]["setup_intent_id"])
    customer_id = get_user(buyer.user_id).stripe_customer_id
    stripe = stripe_client(stripe_url)
    for answer in (first, second):
        assert stripe.v1.setup_intents.retrieve(answer[1]["setup_intent_id"]).customer == customer_id
    assert stripe.v1.customers.retrieve(customer_id).metadata["user_id"] == buyer.user_id


def test_a_retried_request_with_the_same_idempotency_key_gets_the_same_setup_intent(api: Any, buyer: Buyer) -> None:
    headers = {**buyer.headers, "Idempotency-Key": "setup-card-attempt-1"}
    first = call(api, "POST", "/v1/me/payment-methods/setup-intent", headers=headers)
    retried = call(api, "POST", "/v1/me/payment-methods/setup-intent", headers=headers)
    assert first[1] == retried[1]


def test_a_confirmed_card_is_listed_without_anything_sensitive(api: Any, buyer: Buyer, stripe_url: str) -> None:
    payment_method_id = save_card(api, buyer, stripe_url)

    [card] = _cards(api, buyer)

    assert card == {"payment_method_id": payment_method_id, "type": "card", "brand": "visa", "last4": "4242",
                    "exp_month": card["exp_month"], "exp_year": card["exp_year"], "default": False}
    assert 1 <= card["exp_month"] <= 12 and card["exp_year"] >= 2025


def test_a_removed_card_is_detached_at_stripe(api: Any, buyer: Buyer, stripe_url: str) -> None:
    payment_method_id = save_card(api, buyer, stripe_url)

    status, _, _ = call(api, "DELETE", f"/v1/me/payment-methods/{payment_method_id}", headers=buyer.headers)

    assert status == 204
    assert _cards(api, buyer) == []
    assert stripe_client(stripe_url).v1.payment_methods.retrieve(payment_method_id).customer is None


@pytest.mark.parametrize("whose", ["another buyer's", "unknown", "malformed"])
def test_only_the_buyers_own_cards_can_be_removed(api: Any, buyer: Buyer, other_buyer: Buyer, stripe_url: str,
                                                  whose: str) -> None:
    save_card(api, buyer, stripe_url)
    theirs = save_card(api, other_buyer, stripe_url)
    payment_method_id = {"another buyer's": theirs, "unknown": "pm_1NotThere", "malformed": "card_1"}[whose]

    status, body, _ = call(api, "DELETE", f"/v1/me/payment-methods/{payment_method_id}", headers=buyer.headers)
    missing = call(api, "DELETE", "/v1/me/payment-methods/pm_1NeverCreated", headers=buyer.headers)

    assert (status, body) == missing[:2]
    assert (status, body["error"]["code"]) == (404, "payment_method_not_found")
    assert [c["payment_method_id"] for c in _cards(api, other_buyer)] == [theirs]


def _save_sepa(api: Any, buyer: Buyer, stripe_url: str, iban: str = "DE89370400440532013000") -> str:
    status, body, _ = call(api, "POST", "/v1/me/payment-methods/setup-intent", headers=buyer.headers)
    assert status == 201, body
    intent = stripe_client(stripe_url).v1.setup_intents.confirm(body["setup_intent_id"], params={
        "payment_method_data": {"type": "sepa_debit", "sepa_debit": {"iban": iban}}})
    assert intent.status == "succeeded"
    return intent.payment_method


def test_a_sepa_account_is_saved_and_listed_with_its_last_digits(api: Any, buyer: Buyer, stripe_url: str) -> None:
    card = save_card(api, buyer, stripe_url)
    account = _save_sepa(api, buyer, stripe_url)

    listed = {m["payment_method_id"]: m for m in _cards(api, buyer)}

    assert listed[account] == {"payment_method_id": account, "type": "sepa_debit", "brand": None, "last4": "3000",
                               "exp_month": None, "exp_year": None, "default": False}
    assert listed[card]["type"] == "card"


def test_one_saved_method_is_the_default_at_a_time(api: Any, buyer: Buyer, stripe_url: str) -> None:
    card = save_card(api, buyer, stripe_url)
    account = _save_sepa(api, buyer, stripe_url)

    first = call(api, "PATCH", f"/v1/me/payment-methods/{card}", {"default": True}, headers=buyer.headers)
    second = call(api, "PATCH", f"/v1/me/payment-methods/{account}", {"default": True}, headers=buyer.headers)

    assert (first[0], first[1]["default"]) == (200, True)
    assert (second[0], second[1]["type"], second[1]["default"]) == (200, "sepa_debit", True)
    assert {m["payment_method_id"]: m["default"] for m in _cards(api, buyer)} == {card: False, account: True}
    status, body, _ = call(api, "PATCH", f"/v1/me/payment-methods/{account}", {"default": False},
                           headers=buyer.headers)
    assert (status, body["default"]) == (200, False)
    assert not any(m["default"] for m in _cards(api, buyer))


def test_removing_the_default_leaves_no_default(api: Any, buyer: Buyer, stripe_url: str) -> None:
    from chalicelib.accounts.service import get_user

    card = save_card(api, buyer, stripe_url)
    call(api, "PATCH", f"/v1/me/payment-methods/{card}", {"default": True}, headers=buyer.headers)

    assert call(api, "DELETE", f"/v1/me/payment-methods/{card}", headers=buyer.headers)[0] == 204

    assert get_user(buyer.user_id).default_payment_method_id is None


@pytest.mark.parametrize("whose", ["another buyer's", "unknown"])
def test_only_the_buyers_own_method_can_become_the_default(api: Any, buyer: Buyer, other_buyer: Buyer,
                                                          stripe_url: str, whose: str) -> None:
    from chalicelib.accounts.service import get_user

    save_card(api, buyer, stripe_url)
    theirs = save_card(api, other_buyer, stripe_url)
    payment_method_id = {"another buyer's": theirs, "unknown": "pm_1NotThere"}[whose]

    status, body, _ = call(api, "PATCH", f"/v1/me/payment-methods/{payment_method_id}", {"default": True},
                           headers=buyer.headers)

    assert (status, body["error"]["code"]) == (404, "payment_method_not_found")
    assert get_user(buyer.user_id).default_payment_method_id is None
    assert not any(m["default"] for m in _cards(api, other_buyer))
