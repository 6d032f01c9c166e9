"""The local fake Stripe, driven only through the real stripe SDK over HTTP, as agora's production code drives
Stripe. Browser steps (following an onboarding link) and localstripe's webhook configuration use requests."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import stripe

from dev.fake_stripe import start_in_thread

API_KEY = "sk_test_123"
WEBHOOK_ID = "unit-tests"
WEBHOOK_SECRET = "whsec_unit_tests_fake_stripe"
RETURN_URL = "https://seller.agora.example/onboarding/done"
REFRESH_URL = "https://seller.agora.example/onboarding/again"


class Receiver:
    """A webhook endpoint on 127.0.0.1 that keeps every delivery (raw body and Stripe-Signature)."""

    def __init__(self) -> None:
        self.deliveries: queue.Queue[tuple[bytes, str]] = queue.Queue()
        self.seen: list[tuple[bytes, str]] = []
        deliveries = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                deliveries.put((body, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def drain(self, seconds: float) -> None:
        """Keep whatever else arrives within ``seconds``."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                self.seen.append(self.deliveries.get(timeout=remaining))
            except queue.Empty:
                return

    def wait_for(self, matches: Callable[[dict[str, Any]], bool], timeout: float = 10) -> tuple[bytes, str]:
        """The first delivery whose JSON matches, from those already seen or still arriving."""
        deadline = time.monotonic() + timeout
        while True:
            for body, signature in self.seen:
                if matches(json.loads(body)):
                    return body, signature
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no matching webhook was delivered")
            try:
                self.seen.append(self.deliveries.get(timeout=remaining))
            except queue.Empty:
                continue


@pytest.fixture(autouse=True)
def aws() -> None:
    """Replaces the unit suite's per-test moto stack: these tests only talk HTTP to 127.0.0.1 (they pass under
    ``mock_aws()`` too, whose request mock lets plain-http calls through)."""


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    url, stop = start_in_thread("127.0.0.1", 0)
    yield url
    stop()


@pytest.fixture(scope="module")
def client(server_url: str) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": server_url})


@pytest.fixture(scope="module")
def receiver(server_url: str) -> Iterator[Receiver]:
    receiver = Receiver()
    _configure_webhook(server_url, WEBHOOK_ID, receiver)
    yield receiver
    requests.delete(f"{server_url}/_config/webhooks/{WEBHOOK_ID}", timeout=5)
    receiver.server.shutdown()


def _configure_webhook(server_url: str, webhook_id: str, receiver: Receiver, **options: str) -> None:
    response = requests.post(f"{server_url}/_config/webhooks/{webhook_id}",
                             data={"url": receiver.url, "secret": WEBHOOK_SECRET, **options}, timeout=5)
    assert response.status_code == 200


def _express_account(client: stripe.StripeClient) -> stripe.Account:
    return client.v1.accounts.create({
        "type": "express", "country": "DE", "email": "seller@example.com", "business_type": "individual",
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
        "metadata": {"seller_id": "sel_1"},
    })


def _onboarding_link(client: stripe.StripeClient, account_id: str) -> stripe.AccountLink:
    return client.v1.account_links.create({"account": account_id, "refresh_url": REFRESH_URL,
                                           "return_url": RETURN_URL, "type": "account_onboarding"})


def _onboarded_account(client: stripe.StripeClient) -> stripe.Account:
    account = _express_account(client)
    response = requests.get(_onboarding_link(client, account.id).url, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    return client.v1.accounts.retrieve(account.id)


def _customer_with_card(client: stripe.StripeClient) -> tuple[str, str]:
    customer = client.v1.customers.create({"email": "buyer@example.com"})
    setup = client.v1.setup_intents.create({"customer": customer.id, "payment_method_types": ["card"]})
    setup = client.v1.setup_intents.confirm(setup.id, {"payment_method": "pm_card_visa"})
    return customer.id, setup.payment_method


def _paid_intent(client: stripe.StripeClient, amount: int = 5000, **extra: Any) -> stripe.PaymentIntent:
    customer_id, payment_method_id = _customer_with_card(client)
    intent = client.v1.payment_intents.create({
        "amount": amount, "currency": "eur", "customer": customer_id, "payment_method": payment_method_id,
        "payment_method_types": ["card"], **extra,
    })
    return client.v1.payment_intents.confirm(intent.id)


# --- accounts and onboarding ----------------------------------------------------------------------------------

def test_new_express_account_cannot_take_charges_until_onboarded(client: stripe.StripeClient) -> None:
    # when
    account = _express_account(client)

    # then
    assert account.id.startswith("acct_")
    assert account.type == "express"
    assert account.country == "DE"
    assert account.default_currency == "eur"
    assert account.email == "seller@example.com"
    assert account.metadata.to_dict() == {"seller_id": "sel_1"}
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (False, False, False)
    assert account.capabilities.to_dict() == {"card_payments": "inactive", "transfers": "inactive"}
    assert "external_account" in account.requirements.currently_due
    assert account.requirements.disabled_reason == "requirements.past_due"


def test_following_an_account_link_onboards_and_returns_to_the_platform(client: stripe.StripeClient,
                                                                       server_url: str) -> None:
    # given
    account = _express_account(client)

    # when
    link = _onboarding_link(client, account.id)
    response = requests.get(link.url, allow_redirects=False, timeout=5)

    # then
    assert link.object == "account_link"
    assert link.url.startswith(f"{server_url}/_connect/onboard/{account.id}?")
    assert link.expires_at == link.created + 300
    assert response.status_code == 302
    assert response.headers["Location"] == RETURN_URL
    onboarded = client.v1.accounts.retrieve(account.id)
    assert (onboarded.charges_enabled, onboarded.payouts_enabled, onboarded.details_submitted) == (True, True, True)
    assert onboarded.capabilities.to_dict() == {"card_payments": "active", "transfers": "active"}
    assert onboarded.requirements.currently_due == []
    assert onboarded.requirements.disabled_reason is None


def test_a_used_account_link_sends_the_seller_to_refresh_url(client: stripe.StripeClient) -> None:
    # given
    account = _express_account(client)
    link = _onboarding_link(client, account.id)
    requests.get(link.url, allow_redirects=False, timeout=5)

    # when
    again = requests.get(link.url, allow_redirects=False, timeout=5)

    # then
    assert again.status_code == 302
    assert again.headers["Location"] == REFRESH_URL


def test_onboarding_sends_a_signed_connect_account_updated_event(client: stripe.StripeClient,
                                                                 receiver: Receiver) -> None:
    # given
    account = _express_account(client)

    # when
    requests.get(_onboarding_link(client, account.id).url, allow_redirects=False, timeout=5)

    # then
    payload, signature = receiver.wait_for(
        lambda e: e["type"] == "account.updated" and e["data"]["object"]["id"] == account.id)
    event = stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)
    assert event.type == "account.updated"
    assert event.account == account.id
    assert event.data.object.charges_enabled is True
    assert event.data.previous_attributes.charges_enabled is False
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_someone_else")


def test_connect_and_platform_endpoints_each_get_their_own_events(client: stripe.StripeClient,
                                                                   server_url: str) -> None:
    # given
    connect, platform = Receiver(), Receiver()
    _configure_webhook(server_url, "connect-only", connect, connect="true")
    _configure_webhook(server_url, "platform-only", platform, connect="false")
    try:
        # when
        account = _onboarded_account(client)
        intent = _paid_intent(client, amount=777)

        # then
        connect.wait_for(lambda e: e["type"] == "account.updated" and e.get("account") == account.id)
        platform.wait_for(lambda e: e["type"] == "payment_intent.succeeded" and e["data"]["object"]["id"] == intent.id)
        connect.drain(0.5)
        platform.drain(0.5)
        assert all(json.loads(body).get("account") is not None for body, _ in connect.seen)
        assert all(json.loads(body).get("account") is None for body, _ in platform.seen)
    finally:
        for webhook_id, endpoint in (("connect-only", connect), ("platform-only", platform)):
            requests.delete(f"{server_url}/_config/webhooks/{webhook_id}", timeout=5)
            endpoint.server.shutdown()


def test_partial_onboarding_leaves_the_account_unable_to_receive_transfers(client: stripe.StripeClient,
                                                                           server_url: str) -> None:
    # given
    account = _express_account(client)

    # when
    response = requests.post(f"{server_url}/_connect/accounts/{account.id}/onboard",
                             json={"charges_enabled": False}, timeout=5)

    # then
    assert response.status_code == 200
    partial = client.v1.accounts.retrieve(account.id)
    assert (partial.details_submitted, partial.charges_enabled, partial.payouts_enabled) == (True, False, True)
    assert partial.requirements.currently_due == ["individual.verification.document"]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.transfers.create({"amount": 1000, "currency": "eur", "destination": account.id})
    assert raised.value.http_status == 400
    assert raised.value.param == "destination"
    assert raised.value.code == "insufficient_capabilities_for_transfer"


def test_account_update_list_and_delete(client: stripe.StripeClient) -> None:
    # given
    first = _express_account(client)
    second = _express_account(client)

    # when
    updated = client.v1.accounts.update(first.id, {"email": "new@example.com", "metadata": {"seller_id": "",
                                                                                            "tier": "gold"}})
    listed = client.v1.accounts.list({"limit": 1})
    after_second = client.v1.accounts.list({"limit": 1, "starting_after": second.id})
    deleted = client.v1.accounts.delete(second.id)

    # then
    assert updated.email == "new@example.com"
    assert updated.metadata.to_dict() == {"tier": "gold"}
    assert [a.id for a in listed.data] == [second.id]
    assert listed.has_more is True
    assert [a.id for a in after_second.data] == [first.id]
    assert (deleted.id, deleted.deleted) == (second.id, True)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.accounts.retrieve(second.id)
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"


def test_login_links_need_completed_onboarding(client: stripe.StripeClient, server_url: str) -> None:
    # given
    fresh = _express_account(client)
    onboarded = _onboarded_account(client)

    # when
    link = client.v1.accounts.login_links.create(onboarded.id)

    # then
    assert link.object == "login_link"
    assert link.url == f"{server_url}/_connect/express/{onboarded.id}"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.login_links.create(fresh.id)


def test_an_unknown_stripe_account_header_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.PermissionError):
        client.v1.balance.retrieve(options={"stripe_account": "acct_doesnotexist"})


# --- transfers ----------------------------------------------------------------------------------------------

def test_transfer_then_partial_reversal(client: stripe.StripeClient) -> None:
    # given
    account = _onboarded_account(client)

    # when
    transfer = client.v1.transfers.create({"amount": 1500, "currency": "eur", "destination": account.id,
                                           "transfer_group": "order_1", "description": "order 1",
                                           "metadata": {"order_id": "order_1"}})
    reversal = client.v1.transfers.reversals.create(transfer.id, {"amount": 400, "metadata": {"refund": "r1"}})

    # then
    assert transfer.id.startswith("tr_")
    assert (transfer.amount, transfer.currency, transfer.destination) == (1500, "eur", account.id)
    assert (transfer.amount_reversed, transfer.reversed, transfer.transfer_group) == (0, False, "order_1")
    assert reversal.object == "transfer_reversal"
    assert (reversal.amount, reversal.currency, reversal.transfer) == (400, "eur", transfer.id)
    after = client.v1.transfers.retrieve(transfer.id)
    assert (after.amount_reversed, after.reversed) == (400, False)
    assert [r.id for r in after.reversals.data] == [reversal.id]
    assert [r.id for r in client.v1.transfers.reversals.list(transfer.id).data] == [reversal.id]
    assert [t.id for t in client.v1.transfers.list({"destination": account.id}).data] == [transfer.id]
    assert [t.id for t in client.v1.transfers.list({"transfer_group": "order_1"}).data] == [transfer.id]


def test_a_reversal_above_the_remaining_amount_is_refused(client: stripe.StripeClient) -> None:
    # given
    account = _onboarded_account(client)
    transfer = client.v1.transfers.create({"amount": 1000, "currency": "eur", "destination": account.id})
    client.v1.transfers.reversals.create(transfer.id, {"amount": 600})

    # when
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.transfers.reversals.create(transfer.id, {"amount": 401})

    # then
    assert raised.value.http_status == 400
    assert raised.value.param == "amount"
    assert client.v1.transfers.retrieve(transfer.id).amount_reversed == 600


def test_a_reversal_without_amount_reverses_the_rest(client: stripe.StripeClient) -> None:
    # given
    account = _onboarded_account(client)
    transfer = client.v1.transfers.create({"amount": 1000, "currency": "eur", "destination": account.id})
    client.v1.transfers.reversals.create(transfer.id, {"amount": 250})

    # when
    rest = client.v1.transfers.reversals.create(transfer.id)

    # then
    assert rest.amount == 750
    after = client.v1.transfers.retrieve(transfer.id)
    assert (after.amount_reversed, after.reversed) == (1000, True)


def test_a_retried_transfer_with_the_same_idempotency_key_is_made_once(client: stripe.StripeClient) -> None:
    # given
    account = _onboarded_account(client)
    params = {"amount": 700, "currency": "eur", "destination": account.id, "transfer_group": "order_7"}

    # when
    first = client.v1.transfers.create(params, {"idempotency_key": f"transfer-order_7-{account.id}"})
    retry = client.v1.transfers.create(params, {"idempotency_key": f"transfer-order_7-{account.id}"})

    # then
    assert retry.id == first.id
    assert retry.last_response.headers["Idempotent-Replayed"] == "true"
    assert [t.id for t in client.v1.transfers.list({"destination": account.id}).data] == [first.id]


def test_an_idempotency_key_reused_with_other_parameters_is_refused(client: stripe.StripeClient) -> None:
    # given
    account = _onboarded_account(client)
    key = f"transfer-order_8-{account.id}"
    client.v1.transfers.create({"amount": 800, "currency": "eur", "destination": account.id}, {"idempotency_key": key})

    # when
    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.transfers.create({"amount": 801, "currency": "eur", "destination": account.id},
                                   {"idempotency_key": key})

    # then
    assert raised.value.http_status == 400
    assert [t.amount for t in client.v1.transfers.list({"destination": account.id}).data] == [800]


def test_a_transfer_to_an_unknown_account_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.transfers.create({"amount": 100, "currency": "eur", "destination": "acct_doesnotexist"})
    assert (raised.value.http_status, raised.value.param) == (400, "destination")


def test_transfers_from_a_charge_cannot_exceed_it(client: stripe.StripeClient) -> None:
    # given
    account = _onboarded_account(client)
    intent = _paid_intent(client, amount=3000, transfer_group="order_9")
    client.v1.transfers.create({"amount": 2500, "currency": "eur", "destination": account.id,
                                "source_transaction": intent.latest_charge, "transfer_group": "order_9"})

    # when
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.transfers.create({"amount": 501, "currency": "eur", "destination": account.id,
                                    "source_transaction": intent.latest_charge})

    # then
    assert raised.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.transfers.create({"amount": 1, "currency": "eur", "destination": account.id,
                                    "source_transaction": "ch_doesnotexist"})
    assert unknown.value.param == "source_transaction"


def test_a_connected_account_balance_is_its_transfers_less_reversals(client: stripe.StripeClient) -> None:
    # given
    account = _onboarded_account(client)
    transfer = client.v1.transfers.create({"amount": 1200, "currency": "eur", "destination": account.id})
    client.v1.transfers.reversals.create(transfer.id, {"amount": 200})

    # when
    balance = client.v1.balance.retrieve(options={"stripe_account": account.id})

    # then
    assert [(b.amount, b.currency) for b in balance.available] == [(1000, "eur")]


# --- payments -----------------------------------------------------------------------------------------------

def test_a_confirmed_setup_intent_saves_the_card_on_the_customer(client: stripe.StripeClient) -> None:
    # when
    customer_id, payment_method_id = _customer_with_card(client)

    # then
    saved = client.v1.customers.payment_methods.list(customer_id)
    assert [pm.id for pm in saved.data] == [payment_method_id]
    assert saved.data[0].card.last4 == "4242"
    assert [pm.id for pm in client.v1.payment_methods.list({"customer": customer_id, "type": "card"}).data] == [
        payment_method_id]


def test_a_saved_card_pays_a_payment_intent(client: stripe.StripeClient) -> None:
    # given
    customer_id, payment_method_id = _customer_with_card(client)

    # when
    intent = client.v1.payment_intents.create({
        "amount": 4200, "currency": "eur", "customer": customer_id, "payment_method": payment_method_id,
        "transfer_group": "order_42", "metadata": {"order_id": "order_42"},
        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
    }, {"idempotency_key": "payment-order_42"})
    confirmed = client.v1.payment_intents.confirm(intent.id)

    # then
    assert intent.status == "requires_confirmation"
    assert confirmed.status == "succeeded"
    assert confirmed.amount_received == 4200
    assert confirmed.transfer_group == "order_42"
    assert confirmed.metadata.to_dict() == {"order_id": "order_42"}
    assert isinstance(confirmed.latest_charge, str) and confirmed.latest_charge.startswith("ch_")
    charge = client.v1.charges.retrieve(confirmed.latest_charge)
    assert (charge.amount, charge.status, charge.paid) == (4200, "succeeded", True)
    assert (charge.payment_intent, charge.transfer_group) == (intent.id, "order_42")
    expanded = client.v1.payment_intents.retrieve(intent.id, {"expand": ["latest_charge"]})
    assert expanded.latest_charge.id == confirmed.latest_charge


def test_a_retried_payment_intent_with_the_same_idempotency_key_is_created_once(client: stripe.StripeClient) -> None:
    # given
    customer_id, payment_method_id = _customer_with_card(client)
    params = {"amount": 990, "currency": "eur", "customer": customer_id, "payment_method": payment_method_id,
              "payment_method_types": ["card"], "confirm": True}

    # when
    first = client.v1.payment_intents.create(params, {"idempotency_key": f"checkout-{customer_id}"})
    retry = client.v1.payment_intents.create(params, {"idempotency_key": f"checkout-{customer_id}"})

    # then
    assert (retry.id, retry.status, retry.latest_charge) == (first.id, "succeeded", first.latest_charge)


def test_server_side_confirmation_with_redirect_methods_needs_a_return_url(client: stripe.StripeClient) -> None:
    # given
    customer_id, payment_method_id = _customer_with_card(client)
    intent = client.v1.payment_intents.create({"amount": 1000, "currency": "eur", "customer": customer_id,
                                               "payment_method": payment_method_id})

    # when
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.confirm(intent.id)
    confirmed = client.v1.payment_intents.confirm(intent.id, {"return_url": "https://agora.example/return"})

    # then
    assert raised.value.param == "return_url"
    assert intent.automatic_payment_methods.to_dict() == {"allow_redirects": "always", "enabled": True}
    assert confirmed.status == "succeeded"


def test_a_declined_card_raises_a_card_error(client: stripe.StripeClient) -> None:
    # given
    customer = client.v1.customers.create({"email": "declined@example.com"})

    # when
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create({"amount": 1000, "currency": "eur", "customer": customer.id,
                                          "payment_method": "pm_card_chargeCustomerFail",
                                          "payment_method_types": ["card"], "confirm": True})

    # then
    assert raised.value.http_status == 402
    assert raised.value.code == "card_declined"


def test_refunds_cannot_exceed_the_charge(client: stripe.StripeClient) -> None:
    # given
    intent = _paid_intent(client, amount=5000)

    # when
    refund = client.v1.refunds.create({"payment_intent": intent.id, "amount": 1500,
                                       "reason": "requested_by_customer"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 3501})

    # then
    assert (refund.status, refund.amount, refund.charge) == ("succeeded", 1500, intent.latest_charge)
    assert (refund.payment_intent, refund.reason) == (intent.id, "requested_by_customer")
    assert (raised.value.param, raised.value.code) == ("amount", "amount_too_large")
    rest = client.v1.refunds.create({"charge": intent.latest_charge})
    assert rest.amount == 3500
    assert client.v1.charges.retrieve(intent.latest_charge).refunded is True


def test_payment_intent_succeeded_is_a_signed_platform_event(client: stripe.StripeClient,
                                                              receiver: Receiver) -> None:
    # when
    intent = _paid_intent(client, amount=1234)

    # then
    payload, signature = receiver.wait_for(
        lambda e: e["type"] == "payment_intent.succeeded" and e["data"]["object"]["id"] == intent.id)
    event = stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)
    assert event.data.object.latest_charge == intent.latest_charge
    assert "account" not in event


def test_a_detached_card_leaves_the_customer(client: stripe.StripeClient) -> None:
    # given
    customer_id, payment_method_id = _customer_with_card(client)

    # when
    detached = client.v1.payment_methods.detach(payment_method_id)

    # then
    assert detached.customer is None
    assert client.v1.customers.payment_methods.list(customer_id).data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.detach(payment_method_id)


def test_an_unimplemented_endpoint_answers_like_stripe(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.application_fees.list()
    assert raised.value.http_status == 404
