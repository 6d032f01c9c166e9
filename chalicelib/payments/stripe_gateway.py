"""The one module that talks to Stripe.

Every call passes the API key explicitly (no global ``stripe.api_key``) and every call
that creates something passes a deterministic idempotency key derived from agora's
ids: the SDK's automatic keys are random per call, so a Lambda retry or an SQS
redelivery would otherwise create a second account, PaymentIntent or Transfer.
Locally ``AGORA_STRIPE_API_BASE`` points the real SDK at localstripe.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from chalicelib.core.errors import BadRequest, Code, ServiceUnavailable
from chalicelib.core.secrets import get_secret
from chalicelib.core.settings import get_settings
from chalicelib.payments.methods import SAVABLE_PAYMENT_METHOD_TYPES

# The SDK waits up to 80 s per request by default, longer than a Lambda may run (30 s): a
# slow Stripe would kill the function mid-work. Each attempt may take at most connect +
# read seconds; with the retries (0.5-2 s apart) the worst case, 3 x 8 s + 3 s, stays
# below the Lambda's timeout.
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 6
# Connection errors, timeouts, 409 and 5xx are retried by the SDK with the same idempotency
# key, so a retry never creates a second object; a 429 is not (Stripe asks to back off): it
# becomes ServiceUnavailable, and the caller's client, SQS or Stripe tries again later.
MAX_NETWORK_RETRIES = 2


def http_client() -> Any:
    """The SDK's requests-based client with agora's timeouts."""
    import stripe

    return stripe.RequestsClient(timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS))


@lru_cache(maxsize=1)
def client() -> Any:
    import stripe

    settings = get_settings()
    options: dict[str, Any] = {"max_network_retries": MAX_NETWORK_RETRIES, "http_client": http_client()}
    if settings.stripe_api_base:
        base = settings.stripe_api_base
        options["base_addresses"] = {"api": base, "connect": base, "files": base}
    return stripe.StripeClient(get_secret("stripe_secret_key"), **options)


def reset_client() -> None:
    client.cache_clear()


@contextmanager
def _stripe_errors(*, missing_ok: bool = False) -> Iterator[None]:
    """Stripe's errors as agora's: a refused request is a 400, an outage a 503. With
    ``missing_ok`` an object Stripe does not have is no error (the block just ends)."""
    import stripe

    try:
        yield
    except stripe.InvalidRequestError as error:
        if missing_ok and (error.code == "resource_missing" or error.http_status == 404):
            return
        raise BadRequest(f"Stripe refused the request: {error.user_message or error}", code=Code.STRIPE_INVALID_REQUEST,
                         details={"param": getattr(error, "param", None)}) from None
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
        raise ServiceUnavailable("Stripe is unavailable; retry shortly.", code=Code.STRIPE_UNAVAILABLE,
                                 details={"reason": type(error).__name__}) from None


def _call(operation: Any, params: dict[str, Any], *, idempotency_key: str | None = None,
          **request_options: Any) -> Any:
    options = dict(request_options)
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    with _stripe_errors():
        return operation(params=params, options=options) if options else operation(params=params)


def create_express_account(*, seller_id: str, email: str, country: str, business_name: str) -> Any:
    return _call(client().v1.accounts.create, {
        "type": "express", "country": country, "email": email,
        "business_profile": {"name": business_name},
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
        "metadata": {"seller_id": seller_id},
    }, idempotency_key=f"seller:{seller_id}:account")


def retrieve_account(account_id: str) -> Any:
    return _call(lambda params: client().v1.accounts.retrieve(account_id), {})


def create_onboarding_link(*, account_id: str, refresh_url: str, return_url: str) -> Any:
    # Account links are single-use and short-lived; each request may make a new one.
    return _call(client().v1.account_links.create, {
        "account": account_id, "refresh_url": refresh_url, "return_url": return_url,
        "type": "account_onboarding",
    })


def verify_webhook(payload: bytes | str, signature: str | None, secret_name: str) -> Any:
    """The event if ``signature`` proves Stripe sent ``payload``; BadRequest otherwise."""
    import stripe

    if not signature:
        raise BadRequest("Missing Stripe-Signature header.", code=Code.INVALID_SIGNATURE)
    try:
        return stripe.Webhook.construct_event(payload, signature, get_secret(secret_name))
    except (ValueError, stripe.SignatureVerificationError):
        raise BadRequest("The webhook signature does not match.", code=Code.INVALID_SIGNATURE) from None


# --- buyers: customers, SetupIntents, saved payment methods -------------------------------------------------

def create_customer(*, user_id: str, email: str) -> Any:
    """The buyer's Stripe customer; retries (Lambda, concurrent first use) get the same one.
    Only fields that never change go in, so a retry always sends the same parameters."""
    return _call(client().v1.customers.create, {"email": email, "metadata": {"user_id": user_id}},
                 idempotency_key=f"user:{user_id}:customer")


def delete_customer(customer_id: str) -> None:
    """Delete a customer (account erasure); one that is gone already counts as deleted."""
    with _stripe_errors(missing_ok=True):
        client().v1.customers.delete(customer_id)


def create_setup_intent(*, customer_id: str, user_id: str, request_key: str,
                        payment_method_types: tuple[str, ...] = ("card",)) -> Any:
    """A SetupIntent that saves a card or a SEPA mandate on the buyer's customer for later
    (off-session) use. ``request_key`` names the request, so that its retry returns the same SetupIntent."""
    return _call(client().v1.setup_intents.create, {
        "customer": customer_id, "usage": "off_session", "payment_method_types": list(payment_method_types),
        "metadata": {"user_id": user_id},
    }, idempotency_key=f"user:{user_id}:setup_intent:{request_key}")


def list_cards(customer_id: str) -> list[Any]:
    """The cards and SEPA accounts saved on a customer (at most 100 each: more is not a wallet)."""
    found = []
    for kind in SAVABLE_PAYMENT_METHOD_TYPES:
        result = _call(lambda params: client().v1.customers.payment_methods.list(customer_id, params=params),
                       {"type": kind, "limit": 100})
        found += list(result.data)
    return found


def find_customer_payment_method(customer_id: str, payment_method_id: str) -> Any | None:
    """The payment method if it is attached to this customer; None for any other."""
    with _stripe_errors(missing_ok=True):
        return client().v1.customers.payment_methods.retrieve(customer_id, payment_method_id)
    return None


def detach_payment_method(payment_method_id: str) -> None:
    """Detach a card (it can never be used again); one detached already counts as detached."""
    with _stripe_errors(missing_ok=True):
        client().v1.payment_methods.detach(payment_method_id)


# --- orders: PaymentIntents, Transfers, Refunds, transfer reversals -----------------------------------------
# Metadata conventions (the reconciliation reads them back): every object names its order, and
# transfers/reversals their seller, refunds/reversals agora's refund id.

def create_payment_intent(*, order_id: str, user_id: str, amount: int, currency: str, customer_id: str | None,
                          payment_method: str | None, receipt_email: str | None,
                          payment_method_type: str = "card") -> Any:
    """One PaymentIntent on the platform for a whole order, for the one method the buyer chose
    (``card``, ``sepa_debit``, ``paypal``, ``klarna``). With a saved ``payment_method`` it
    is confirmed at once (the buyer may still have to authenticate: ``requires_action``;
    a SEPA debit goes to ``processing``); otherwise the frontend confirms it with the client
    secret. Separate charges and transfers: ``transfer_group`` ties the sellers' transfers to it."""
    params: dict[str, Any] = {
        "amount": amount, "currency": currency.lower(), "payment_method_types": [payment_method_type],
        "transfer_group": order_id, "metadata": {"order_id": order_id, "user_id": user_id},
    }
    if customer_id:
        params["customer"] = customer_id
    if receipt_email:
        params["receipt_email"] = receipt_email
    if payment_method:
        params["payment_method"] = payment_method
        params["confirm"] = True
    return _call(client().v1.payment_intents.create, params, idempotency_key=f"order:{order_id}:payment_intent")


def retrieve_payment_intent(payment_intent_id: str) -> Any:
    return _call(lambda params: client().v1.payment_intents.retrieve(payment_intent_id), {})


def cancel_payment_intent(payment_intent_id: str) -> Any | None:
    """Cancel an unpaid PaymentIntent; None when Stripe refuses because it can no longer be
    cancelled (it succeeded or is processing: the webhook decides then)."""
    import stripe

    try:
        return client().v1.payment_intents.cancel(payment_intent_id, params={"cancellation_reason": "abandoned"})
    except stripe.InvalidRequestError:
        return None
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
        raise ServiceUnavailable("Stripe is unavailable; retry shortly.", code=Code.STRIPE_UNAVAILABLE,
                                 details={"reason": type(error).__name__}) from None


def create_transfer(*, order_id: str, seller_id: str, amount: int, currency: str, destination: str,
                    source_transaction: str | None) -> Any:
    """A seller's share of a paid order, net of the marketplace fee. ``source_transaction`` (the
    order's charge) makes the transfer wait for the charge's funds instead of failing."""
    params: dict[str, Any] = {
        "amount": amount, "currency": currency.lower(), "destination": destination, "transfer_group": order_id,
        "metadata": {"order_id": order_id, "seller_id": seller_id},
    }
    if source_transaction:
        params["source_transaction"] = source_transaction
    return _call(client().v1.transfers.create, params, idempotency_key=f"order:{order_id}:transfer:{seller_id}")


def create_refund(*, order_id: str, refund_id: str, payment_intent_id: str, amount: int) -> Any:
    return _call(client().v1.refunds.create, {
        "payment_intent": payment_intent_id, "amount": amount, "reason": "requested_by_customer",
        "metadata": {"order_id": order_id, "refund_id": refund_id},
    }, idempotency_key=f"order:{order_id}:refund:{refund_id}")


def create_transfer_reversal(*, order_id: str, refund_id: str, seller_id: str, transfer_id: str,
                             amount: int) -> Any:
    """Take back the seller's part of a refund from the seller's transfer."""
    return _call(lambda params, options: client().v1.transfers.reversals.create(
        transfer_id, params=params, options=options), {
        "amount": amount, "metadata": {"order_id": order_id, "refund_id": refund_id, "seller_id": seller_id},
    }, idempotency_key=f"order:{order_id}:reversal:{refund_id}:{seller_id}")


# --- reconciliation: reading Stripe's objects ---------------------------------------------------------------
# Read-only. ``find_*`` answer None for an object Stripe does not have (that is a finding, not an error);
# ``list_*`` walk Stripe's newest-first lists page by page and stop at the first object created before
# ``created_from`` (epoch seconds). Real Stripe could filter with ``created[gte]``; the local fake Stripe
# has no ``created`` filter, so the cut-off is applied here, which works against both.

def _find(operation: Any) -> Any | None:
    with _stripe_errors(missing_ok=True):
        return operation()
    return None


def find_payment_intent(payment_intent_id: str) -> Any | None:
    return _find(lambda: client().v1.payment_intents.retrieve(payment_intent_id))


def find_transfer(transfer_id: str) -> Any | None:
    return _find(lambda: client().v1.transfers.retrieve(transfer_id))


def find_refund(refund_id: str) -> Any | None:
    return _find(lambda: client().v1.refunds.retrieve(refund_id))


def find_transfer_reversal(transfer_id: str, reversal_id: str) -> Any | None:
    return _find(lambda: client().v1.transfers.reversals.retrieve(transfer_id, reversal_id))


def _newest_since(listing: Any, created_from: int) -> Iterator[Any]:
    with _stripe_errors():
        for item in listing.auto_paging_iter():
            if item.created < created_from:
                return
            yield item


def list_payment_intents(*, created_from: int) -> Iterator[Any]:
    return _newest_since(_call(client().v1.payment_intents.list, {"limit": 100}), created_from)


def list_transfers(*, created_from: int, transfer_group: str | None = None) -> Iterator[Any]:
    params: dict[str, Any] = {"limit": 100}
    if transfer_group:
        params["transfer_group"] = transfer_group
    return _newest_since(_call(client().v1.transfers.list, params), created_from)


def list_refunds(*, created_from: int) -> Iterator[Any]:
    return _newest_since(_call(client().v1.refunds.list, {"limit": 100}), created_from)


def list_transfer_reversals(transfer_id: str) -> Iterator[Any]:
    """Every reversal of one transfer (Stripe lists reversals only per transfer)."""
    return _newest_since(_call(lambda params: client().v1.transfers.reversals.list(transfer_id, params=params),
                               {"limit": 100}), 0)


# --- card fingerprints (loyalty's referral check) ----------------------------------------------------------

def _fingerprint(payment_method: Any) -> str | None:
    card = getattr(payment_method, "card", None)
    return getattr(card, "fingerprint", None) if card is not None else None


def paying_card_fingerprint(payment_intent_id: str) -> str | None:
    """Stripe's ``card.fingerprint`` of the card that paid a PaymentIntent (the same card
    number gives the same fingerprint, whoever saved it): the PaymentIntent, then its
    PaymentMethod (2 calls). None when it has no card."""
    intent = find_payment_intent(payment_intent_id)
    payment_method = getattr(intent, "payment_method", None) if intent is not None else None
    if not payment_method:
        return None
    if not isinstance(payment_method, str):
        return _fingerprint(payment_method)
    found = _find(lambda: client().v1.payment_methods.retrieve(payment_method))
    return _fingerprint(found) if found is not None else None


def saved_card_fingerprints(customer_id: str) -> set[str]:
    """The fingerprints of the cards saved on a customer (one list call)."""
    return {fingerprint for card in list_cards(customer_id) if (fingerprint := _fingerprint(card))}
