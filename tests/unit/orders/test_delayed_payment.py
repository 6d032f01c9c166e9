"""Payment methods the operator enables and payments that confirm late (SEPA direct debit):
the order waits in ``processing`` with its stock reserved and beyond the payment window; the
bank's success pays it (sellers are paid only then), its failure cancels it, restocks and
mails the buyer once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.support.auth import operator_headers
from tests.support.builders import Marketplace, stock_of
from tests.support.http import call
from tests.support.mail import queued_mails

GOOD_IBAN = "DE89370400440532013000"


def _enable(market: Marketplace, *methods: str) -> None:
    status, body, _ = call(market.api, "PUT", "/v1/admin/settings", {
        "seller_access": "open", "buyer_access": "open", "payment_methods": list(methods)},
        headers=operator_headers())
    assert status == 200, body
    assert body["payment_methods"] == [m for m in ("card", "sepa_debit", "paypal", "klarna") if m in methods]


def _sepa_order(market: Marketplace, *, stock: int = 5, quantity: int = 2) -> tuple[dict[str, str], str, str, str]:
    """A buyer's SEPA order of ``quantity`` of a product of sel_a, confirmed at the bank (the
    fake Stripe holds it processing) and Stripe's processing event delivered: buyer, order id,
    product, PaymentIntent id."""
    from chalicelib.payments import stripe_gateway

    _enable(market, "card", "sepa_debit")
    market.seller("sel_a")
    product = market.product("sel_a", stock=stock)
    buyer = market.buyer()
    market.add(buyer, product, quantity)
    status, body, _ = market.checkout(buyer, payment_method_type="sepa_debit")
    assert status == 201, body
    intent_id = body["payment"]["payment_intent_id"]
    assert market.payment_intent(intent_id)["payment_method_types"] == ["sepa_debit"]
    stripe_gateway.client().v1.payment_intents.confirm(intent_id, {"payment_method_data": {
        "type": "sepa_debit", "sepa_debit": {"iban": GOOD_IBAN}}})
    intent = market.payment_intent(intent_id)
    assert intent["status"] == "processing"
    assert market.stripe_event("payment_intent.processing", intent)[0] == 200
    return buyer, body["order"]["order_id"], product, intent_id


def _bank(market: Marketplace, intent_id: str, outcome: str) -> dict[str, Any]:
    """The bank's verdict at the fake Stripe, and Stripe's event about it delivered."""
    response = requests.post(f"{market.stripe_url}/_test/payment_intents/{intent_id}/{outcome}", timeout=5)
    assert response.status_code == 200, response.text
    intent = market.payment_intent(intent_id)
    event = "payment_intent.succeeded" if outcome == "succeed" else "payment_intent.payment_failed"
    assert market.stripe_event(event, intent)[0] == 200
    return intent


def _transfers(order_id: str) -> list[Any]:
    from chalicelib.payments import stripe_gateway

    return list(stripe_gateway.client().v1.transfers.list({"transfer_group": order_id}).data)


def test_a_sepa_order_waits_processing_with_its_stock_reserved_and_pays_nobody(market: Marketplace) -> None:
    from chalicelib.ledger.service import order_postings

    buyer, order_id, product, _ = _sepa_order(market)
    market.events()

    order = market.order_of_buyer(buyer, order_id)
    assert (order["status"], order["payment_status"]) == ("pending_payment", "processing")
    assert stock_of(market.api, "sel_a", product) == 3
    assert order_postings(order_id) == []
    assert _transfers(order_id) == []


def test_the_expiry_sweep_leaves_a_processing_order_alone(market: Marketplace) -> None:
    from chalicelib.orders.payment import release_expired

    buyer, order_id, product, _ = _sepa_order(market)

    assert release_expired(datetime.now(UTC) + timedelta(minutes=31)) == 0
    assert release_expired(datetime.now(UTC) + timedelta(days=3)) == 0

    assert market.order_of_buyer(buyer, order_id)["payment_status"] == "processing"
    assert stock_of(market.api, "sel_a", product) == 3


def test_a_processing_order_cannot_be_cancelled_by_the_buyer(market: Marketplace) -> None:
    buyer, order_id, product, _ = _sepa_order(market)

    status, body, _ = call(market.api, "POST", f"/v1/me/orders/{order_id}/cancel", headers=buyer)

    assert (status, body["error"]["code"]) == (409, "order_not_cancellable")
    assert stock_of(market.api, "sel_a", product) == 3


def test_the_banks_success_pays_the_order_and_only_then_the_seller(market: Marketplace) -> None:
    from chalicelib.ledger.service import order_postings

    buyer, order_id, product, intent_id = _sepa_order(market)
    market.events()
    assert _transfers(order_id) == []

    _bank(market, intent_id, "succeed")
    market.events()

    order = market.order_of_buyer(buyer, order_id)
    assert (order["status"], order["payment_status"]) == ("paid", "paid")
    assert [t.amount for t in _transfers(order_id)] == [order["total"]["amount"]]  # no fee schedule: all of it
    assert "charge" in {p.kind for p in order_postings(order_id)}
    assert stock_of(market.api, "sel_a", product) == 3
    assert queued_mails("payment_failed") == []


def test_the_banks_failure_cancels_restocks_and_mails_the_buyer_once(market: Marketplace) -> None:
    buyer, order_id, product, intent_id = _sepa_order(market)
    intent = _bank(market, intent_id, "fail")
    assert market.stripe_event("payment_intent.payment_failed", intent)[0] == 200  # Stripe sends it again
    market.events()
    market.events()

    order = market.order_of_buyer(buyer, order_id)
    assert (order["status"], order["payment_status"], order["cancel_reason"]) == (
        "cancelled", "cancelled", "payment_failed")
    assert stock_of(market.api, "sel_a", product) == 5
    assert _transfers(order_id) == []
    [mail] = queued_mails("payment_failed")
    assert mail["to"] == order["email"]
    assert mail["context"]["order_id"] == order_id


def test_a_card_decline_sends_no_payment_failed_mail(market: Marketplace) -> None:
    market.seller("sel_a")
    buyer = market.buyer()
    market.add(buyer, market.product("sel_a"), 1)

    assert market.checkout(buyer, payment_method_id="pm_card_chargeDeclined")[0] == 402
    market.events()

    assert queued_mails("payment_failed") == []


@pytest.mark.parametrize("method", ["sepa_debit", "paypal", "klarna"])
def test_a_method_the_operator_has_not_enabled_is_refused_before_anything_is_reserved(
        market: Marketplace, method: str) -> None:
    market.seller("sel_a")
    product = market.product("sel_a", stock=5)
    buyer = market.buyer()
    market.add(buyer, product, 2)

    status, body, _ = market.checkout(buyer, payment_method_type=method)

    assert status == 422
    assert body["error"]["code"] == "payment_method_not_enabled"
    assert body["error"]["details"][0]["field"] == "body.payment_method_type"
    assert stock_of(market.api, "sel_a", product) == 5


def test_paypal_creates_a_paypal_payment_intent_that_pays_at_once(market: Marketplace) -> None:
    from chalicelib.payments import stripe_gateway

    _enable(market, "card", "paypal")
    market.seller("sel_a")
    buyer = market.buyer()
    market.add(buyer, market.product("sel_a"), 1)
    status, body, _ = market.checkout(buyer, payment_method_type="paypal")
    assert status == 201, body
    intent_id = body["payment"]["payment_intent_id"]

    stripe_gateway.client().v1.payment_intents.confirm(intent_id, {"payment_method_data": {"type": "paypal"}})
    intent = market.payment_intent(intent_id)
    assert (intent["payment_method_types"], intent["status"]) == (["paypal"], "succeeded")
    market.stripe_event("payment_intent.succeeded", intent)

    assert market.order_of_buyer(buyer, body["order"]["order_id"])["status"] == "paid"


def test_sepa_is_refused_for_an_order_not_in_euros(market: Marketplace) -> None:
    _enable(market, "card", "sepa_debit")
    market.seller("sel_a")
    buyer = market.buyer()
    market.add(buyer, market.product("sel_a", currency="GBP"), 1)

    status, body, _ = market.checkout(buyer, payment_method_type="sepa_debit")

    assert (status, body["error"]["code"]) == (422, "payment_method_not_enabled")


def test_the_settings_keep_the_payment_methods_when_a_put_omits_them(market: Marketplace) -> None:
    status, body, _ = call(market.api, "GET", "/v1/admin/settings", headers=operator_headers())
    assert (status, body["payment_methods"]) == (200, ["card"])  # before the operator chose: cards only
    _enable(market, "sepa_debit", "card")

    status, body, _ = call(market.api, "PUT", "/v1/admin/settings", {"seller_access": "open",
                                                                    "buyer_access": "open"},
                           headers=operator_headers())

    assert (status, body["payment_methods"]) == (200, ["card", "sepa_debit"])
    status, body, _ = call(market.api, "PUT", "/v1/admin/settings", {
        "seller_access": "open", "buyer_access": "open", "payment_methods": ["bitcoin"]}, headers=operator_headers())
    assert status == 422


def _saved(market: Marketplace, buyer: dict[str, str], **confirm: Any) -> str:
    from chalicelib.payments import stripe_gateway

    status, body, _ = call(market.api, "POST", "/v1/me/payment-methods/setup-intent", headers=buyer)
    assert status == 201, body
    intent = stripe_gateway.client().v1.setup_intents.confirm(body["setup_intent_id"], confirm)
    assert intent.status == "succeeded"
    return str(intent.payment_method)


def test_checkout_pays_with_the_saved_default_of_its_type_when_the_buyer_names_none(market: Marketplace) -> None:
    _enable(market, "card", "sepa_debit")
    market.seller("sel_a")
    buyer = market.buyer()
    _saved(market, buyer, payment_method="pm_card_visa")
    account = _saved(market, buyer, payment_method_data={"type": "sepa_debit", "sepa_debit": {"iban": GOOD_IBAN}})
    assert call(market.api, "PATCH", f"/v1/me/payment-methods/{account}", {"default": True}, headers=buyer)[0] == 200
    market.add(buyer, market.product("sel_a"), 1)

    status, body, _ = market.checkout(buyer)

    assert status == 201, body
    intent = market.payment_intent(body["payment"]["payment_intent_id"])
    assert (intent["payment_method"], intent["payment_method_types"]) == (account, ["sepa_debit"])
    assert body["payment"]["status"] == "processing"


def test_a_saved_sepa_account_is_refused_once_the_operator_disables_sepa(market: Marketplace) -> None:
    _enable(market, "card", "sepa_debit")
    market.seller("sel_a")
    product = market.product("sel_a", stock=3)
    buyer = market.buyer()
    account = _saved(market, buyer, payment_method_data={"type": "sepa_debit", "sepa_debit": {"iban": GOOD_IBAN}})
    market.add(buyer, product, 1)
    _enable(market, "card")

    status, body, _ = market.checkout(buyer, payment_method_id=account)

    assert (status, body["error"]["code"]) == (422, "payment_method_not_enabled")
    assert stock_of(market.api, "sel_a", product) == 3


def test_processing_of_another_payment_intent_leaves_the_order_to_its_own(market: Marketplace) -> None:
    from chalicelib.orders.payment import release_expired

    _enable(market, "card", "sepa_debit")
    market.seller("sel_a")
    product = market.product("sel_a", stock=2)
    buyer = market.buyer()
    market.add(buyer, product, 1)
    body = market.checkout(buyer, payment_method_type="sepa_debit")[1]
    intent = market.payment_intent(body["payment"]["payment_intent_id"])

    status, answer = market.stripe_event("payment_intent.processing", {**intent, "id": "pi_not_the_orders"})

    assert (status, answer["outcome"]) == (200, "refused")
    assert market.order_of_buyer(buyer, body["order"]["order_id"])["payment_status"] == "pending"
    assert release_expired(datetime.now(UTC) + timedelta(minutes=31)) == 1  # the payment window still ends it
    assert stock_of(market.api, "sel_a", product) == 2
