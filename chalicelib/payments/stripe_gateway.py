"""The one module that talks to Stripe.

Every call passes the API key explicitly (no global ``stripe.api_key``) and every call
that creates something passes a deterministic idempotency key derived from agora's
ids: the SDK's automatic keys are random per call, so a Lambda retry or an SQS
redelivery would otherwise create a second account, PaymentIntent or Transfer.
Locally ``AGORA_STRIPE_API_BASE`` points the real SDK at localstripe.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.core.errors import BadRequest, ServiceUnavailable
from chalicelib.core.settings import get_settings


@lru_cache(maxsize=1)
def client() -> Any:
    import stripe

    settings = get_settings()
    options: dict[str, Any] = {"max_network_retries": 2}
    if settings.stripe_api_base:
        base = settings.stripe_api_base
        options["base_addresses"] = {"api": base, "connect": base, "files": base}
    return stripe.StripeClient(settings.secret("stripe_secret_key"), **options)


def reset_client() -> None:
    client.cache_clear()


def _call(operation: Any, params: dict[str, Any], *, idempotency_key: str | None = None,
          **request_options: Any) -> Any:
    import stripe

    options = dict(request_options)
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    try:
        return operation(params=params, options=options) if options else operation(params=params)
    except stripe.InvalidRequestError as error:
        raise BadRequest(f"Stripe refused the request: {error.user_message or error}", code="stripe_invalid_request",
                         details={"param": getattr(error, "param", None)}) from None
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
        raise ServiceUnavailable("Stripe is unavailable; retry shortly.", code="stripe_unavailable",
                                 details={"reason": type(error).__name__}) from None


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
        raise BadRequest("Missing Stripe-Signature header.", code="invalid_signature")
    try:
        return stripe.Webhook.construct_event(payload, signature, get_settings().secret(secret_name))
    except (ValueError, stripe.SignatureVerificationError):
        raise BadRequest("The webhook signature does not match.", code="invalid_signature") from None
