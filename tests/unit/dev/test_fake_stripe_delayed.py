"""The local fake Stripe's delayed and wallet payment methods, driven through the real SDK as Stripe's test
mode drives them: a SEPA debit stays processing until the test endpoint gives the bank's verdict (or Stripe's
failing test IBAN decides it), PayPal succeeds at once, a method the PaymentIntent does not allow is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import stripe

from dev.fake_stripe import start_in_thread

API_KEY = "sk_test_delayed"
GOOD_IBAN = "DE89370400440532013000"
FAILING_IBAN = "DE62370400440532013001"


@pytest.fixture(autouse=True)
def aws() -> None:
    """Replaces the unit suite's per-test moto stack: these tests only talk HTTP to 127.0.0.1."""


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    url, stop = start_in_thread("127.0.0.1", 0)
    yield url
    stop()


@pytest.fixture(scope="module")
def client(server_url: str) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": server_url})


def _intent(client: stripe.StripeClient, kind: str) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create({"amount": 4_200, "currency": "eur", "payment_method_types": [kind],
                                             "metadata": {"order_id": "ord_1"}})


def _sepa(client: stripe.StripeClient, iban: str) -> stripe.PaymentIntent:
    return client.v1.payment_intents.confirm(_intent(client, "sepa_debit").id, {"payment_method_data": {
        "type": "sepa_debit", "sepa_debit": {"iban": iban},
        "billing_details": {"name": "Anna Käufer", "email": "anna@example.com"}}})


def _event_types(client: stripe.StripeClient, intent_id: str) -> list[str]:
    events = client.v1.events.list({"limit": 100}).data
    return sorted(e.type for e in events if e.type.startswith("payment_intent.") and e.data.object.id == intent_id)


def test_a_sepa_debit_stays_processing_until_the_bank_decides(client: stripe.StripeClient, server_url: str) -> None:
    intent = _sepa(client, GOOD_IBAN)
    assert intent.status == "processing"
    assert intent.amount_received == 0
    assert client.v1.payment_intents.retrieve(intent.id).status == "processing"
    assert _event_types(client, intent.id) == ["payment_intent.created", "payment_intent.processing"]

    settled = requests.post(f"{server_url}/_test/payment_intents/{intent.id}/succeed", timeout=5)

    assert settled.status_code == 200
    after = client.v1.payment_intents.retrieve(intent.id)
    assert (after.status, after.amount_received) == ("succeeded", 4_200)
    assert "payment_intent.succeeded" in _event_types(client, intent.id)


def test_a_failed_sepa_debit_asks_for_a_new_method_and_can_be_cancelled(client: stripe.StripeClient,
                                                                        server_url: str) -> None:
    intent = _sepa(client, GOOD_IBAN)

    failed = requests.post(f"{server_url}/_test/payment_intents/{intent.id}/fail", timeout=5)

    assert failed.status_code == 200
    after = client.v1.payment_intents.retrieve(intent.id)
    assert (after.status, after.amount_received) == ("requires_payment_method", 0)
    assert "payment_intent.payment_failed" in _event_types(client, intent.id)
    assert client.v1.payment_intents.cancel(intent.id).status == "canceled"


@pytest.mark.parametrize(("iban", "status"), [(GOOD_IBAN, "succeeded"), (FAILING_IBAN, "requires_payment_method")])
def test_settle_follows_stripes_test_ibans(client: stripe.StripeClient, server_url: str, iban: str,
                                           status: str) -> None:
    intent = _sepa(client, iban)
    assert intent.status == "processing"

    requests.post(f"{server_url}/_test/payment_intents/{intent.id}/settle", timeout=5)

    assert client.v1.payment_intents.retrieve(intent.id).status == status


def test_a_processing_debit_cannot_be_cancelled_and_only_it_can_be_settled(client: stripe.StripeClient,
                                                                           server_url: str) -> None:
    intent = _sepa(client, GOOD_IBAN)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.cancel(intent.id)
    requests.post(f"{server_url}/_test/payment_intents/{intent.id}/succeed", timeout=5)

    again = requests.post(f"{server_url}/_test/payment_intents/{intent.id}/fail", timeout=5)

    assert again.status_code == 400
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_paypal_is_approved_at_once(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.confirm(_intent(client, "paypal").id,
                                               {"payment_method_data": {"type": "paypal"}})

    assert (intent.status, intent.amount_received) == ("succeeded", 4_200)
    assert client.v1.payment_methods.retrieve(intent.payment_method).type == "paypal"


def test_a_method_the_payment_intent_does_not_allow_is_refused(client: stripe.StripeClient) -> None:
    intent = _intent(client, "card")

    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.confirm(intent.id, {"payment_method_data": {"type": "paypal"}})

    assert refused.value.param == "payment_method"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_a_sepa_account_can_be_saved_and_debited_later(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create({"email": "anna@example.com"})
    setup = client.v1.setup_intents.create({"customer": customer.id, "payment_method_types": ["card", "sepa_debit"]})
    setup = client.v1.setup_intents.confirm(setup.id, {"payment_method_data": {
        "type": "sepa_debit", "sepa_debit": {"iban": GOOD_IBAN}}})
    [saved] = client.v1.customers.payment_methods.list(customer.id, {"type": "sepa_debit"}).data

    intent = client.v1.payment_intents.create({
        "amount": 4_200, "currency": "eur", "customer": customer.id, "payment_method": saved.id,
        "payment_method_types": ["sepa_debit"], "confirm": True})

    assert (setup.status, saved.sepa_debit.last4) == ("succeeded", "3000")
    assert intent.status == "processing"
