"""Fixes to localstripe's payment resources where the SDK or agora needs Stripe's current behaviour.

localstripe 1.15 models an older API: a PaymentIntent embeds its whole charge in ``latest_charge``, refuses
``transfer_group``, confirming a SetupIntent does not attach its card to the customer, refunds may exceed the
charge, and several parameters of today's API are refused. The route handlers here replace localstripe's for
the affected endpoints and reuse its resource classes; ``install()`` patches the classes themselves.

Delayed and wallet methods, as Stripe's test mode drives them: a SEPA debit stays ``processing`` (with
``payment_intent.processing``) until ``POST /_test/payment_intents/{id}/{succeed|fail|settle}`` gives the
bank's verdict (``settle``: by Stripe's test IBANs, ``DE62370400440532013001`` fails, any other succeeds);
PayPal and Klarna (``payment_method_data[type]``) are approved at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import (
    BalanceTransaction,
    Charge,
    Customer,
    PaymentIntent,
    PaymentMethod,
    Refund,
    SetupIntent,
    StripeObject,
    store,
)
from localstripe.server import get_api_key

from dev.fake_stripe import webhooks
from dev.fake_stripe.connect import all_of
from dev.fake_stripe.errors import invalid_param, missing_param, no_such, stripe_error
from dev.fake_stripe.params import (
    json_response,
    merge_metadata,
    page,
    read_params,
    reject_unknown,
    to_bool,
    to_dict,
    to_int,
    to_str,
)

# Stripe's test PaymentMethod ids (https://docs.stripe.com/testing) beyond the three localstripe knows.
EXTRA_TEST_PAYMENT_METHODS = {
    "pm_card_mastercard": "5555555555554444",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_authenticationRequired": "4000002500003155",
    "pm_card_threeDSecure2Required": "4000000000003220",
}

REDIRECT_ERROR = (
    "This {intent} is configured to accept payment methods enabled in your Dashboard, some of which may "
    "require a full page redirect to succeed. If you do not want to accept redirect-based payment methods, set "
    "`automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` "
    "when creating Setup Intents and Payment Intents. If you do want to accept redirect-based payment methods, "
    "set the `return_url` parameter when confirming a {intent}."
)
DESTINATION_CHARGE_PARAMS = ("application_fee_amount", "on_behalf_of", "transfer_data")
# Stripe's minimum charge amounts in minor units (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "chf": 50, "cad": 50, "aud": 50, "dkk": 250, "nok": 300,
                  "sek": 300, "pln": 200, "czk": 1500, "jpy": 50}


# --- shared checks --------------------------------------------------------------------------------------------

def _automatic_payment_methods(params: dict[str, Any]) -> dict[str, Any] | None:
    """Stripe enables automatic payment methods by default (API 2023-08-16+) unless types are listed."""
    given = to_dict(params.pop("automatic_payment_methods", None), "automatic_payment_methods")
    if given is not None and params.get("payment_method_types") is not None:
        raise stripe_error(400, "You may only specify one of these parameters: automatic_payment_methods, "
                                "payment_method_types.", param="automatic_payment_methods")
    if given is None:
        return None if params.get("payment_method_types") is not None else {"allow_redirects": "always",
                                                                              "enabled": True}
    enabled = to_bool(given.get("enabled"), "automatic_payment_methods[enabled]")
    if enabled is None:
        raise missing_param("automatic_payment_methods[enabled]")
    redirects = to_str(given.get("allow_redirects"), "automatic_payment_methods[allow_redirects]",
                       choices=("always", "never")) or "always"
    return {"allow_redirects": redirects, "enabled": enabled}


def _check_return_url(request: web.Request, intent: PaymentIntent | SetupIntent, return_url: str | None,
                      use_stripe_sdk: bool | None) -> None:
    """A server-side confirmation that might need a redirect must say where to come back to."""
    automatic = intent.automatic_payment_methods
    server_side = get_api_key(request) is not None and not use_stripe_sdk
    if server_side and automatic and automatic["enabled"] and automatic["allow_redirects"] != "never" \
            and not return_url:
        kind = "PaymentIntent" if isinstance(intent, PaymentIntent) else "SetupIntent"
        raise stripe_error(400, REDIRECT_ERROR.format(intent=kind), param="return_url")


def _payment_method(payment_method_id: Any, *, param: str, customer: str | None) -> PaymentMethod:
    """The PaymentMethod to pay with; test ids like ``pm_card_visa`` become a fresh stored PaymentMethod."""
    if not isinstance(payment_method_id, str) or not payment_method_id:
        raise invalid_param(param, f"Invalid string: {payment_method_id!r}")
    try:
        payment_method = PaymentMethod._api_retrieve(payment_method_id)
    except UserError as error:
        raise no_such("PaymentMethod", payment_method_id, param=param, status=400) from error
    owner = getattr(payment_method, "customer", None)
    if owner is not None and owner != customer:
        if customer is None:
            raise stripe_error(400, f"The PaymentMethod {payment_method.id} belongs to the Customer {owner}. Please "
                                    "include the Customer in the `customer` parameter.", param=param)
        raise stripe_error(400, f"The PaymentMethod {payment_method.id} does not belong to the Customer {customer}.",
                           param=param)
    return payment_method


def _card_error(error: UserError, intent: dict[str, Any] | None = None,
                intent_field: str = "payment_intent") -> UserError:
    """localstripe's declines are 402s typed invalid_request_error; Stripe types them card_error."""
    if error.code == 402:
        error.body["error"]["type"] = "card_error"
        error.body["error"].setdefault("decline_code", "generic_decline")
        if intent is not None:
            error.body["error"][intent_field] = intent
    return error


# --- PaymentIntents -------------------------------------------------------------------------------------------

PI_CREATE_EXTRAS = {"transfer_group", "description", "receipt_email", "setup_future_usage", "statement_descriptor",
                    "statement_descriptor_suffix", "confirmation_method", "return_url", "off_session", "confirm",
                    "error_on_requires_action", "use_stripe_sdk", "expand", "mandate_data"}
PI_CONFIRM_PARAMS = {"payment_method", "payment_method_data", "return_url", "off_session", "mandate_data",
                     "payment_method_options", "setup_future_usage", "receipt_email", "use_stripe_sdk",
                     "error_on_requires_action", "capture_method", "client_secret", "expand"}
# Wallets and pay-later: the buyer approves at the provider (a redirect on Stripe); here they succeed at once.
APPROVED_AT_ONCE = ("paypal", "klarna")
# Stripe's SEPA test IBAN whose debit fails after processing (https://docs.stripe.com/testing#sepa-direct-debit).
FAILING_IBAN = "DE62370400440532013001"
UNCONFIRMABLE = {"succeeded": "it has already succeeded after being previously confirmed",
                 "canceled": "it has been canceled", "processing": "it is processing",
                 "requires_capture": "it has already been confirmed and requires capture"}


def _new_payment_method(data: Any) -> PaymentMethod:
    """``payment_method_data`` as Stripe.js sends it: a card, a SEPA account (``sepa_debit[iban]``), PayPal, Klarna."""
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise missing_param("payment_method_data[type]")
    try:
        return PaymentMethod(**data)
    except UserError as error:
        raise invalid_param("payment_method_data", f"Invalid payment_method_data: {error.body['error']['message']}") \
            from None


def _confirm_payment_intent(request: web.Request, intent: PaymentIntent, *, payment_method: Any = None,
                            return_url: str | None = None, use_stripe_sdk: bool | None = None,
                            payment_method_data: Any = None) -> None:
    if intent.status in UNCONFIRMABLE:
        raise stripe_error(400, f"You cannot confirm this PaymentIntent because {UNCONFIRMABLE[intent.status]}.",
                           param="intent", code="payment_intent_unexpected_state")
    chosen = None
    if payment_method is not None:
        chosen = _payment_method(payment_method, param="payment_method", customer=intent.customer)
    elif payment_method_data is not None:
        chosen = _new_payment_method(payment_method_data)
    if chosen is not None and intent.automatic_payment_methods is None \
            and chosen.type not in intent.payment_method_types:
        raise stripe_error(400, f"The PaymentMethod provided ({chosen.type}) is not allowed for this PaymentIntent. "
                                "Please attach a PaymentMethod of one of the following types: "
                                f"{', '.join(intent.payment_method_types)}.", param="payment_method",
                           code="payment_intent_incompatible_payment_method")
    if chosen is not None:
        intent.payment_method = chosen.id
    if intent.payment_method is None:
        raise stripe_error(400, "You cannot confirm this PaymentIntent because it's missing a payment method. "
                                "Update it with a payment_method or pass one when confirming.",
                           param="payment_method", code="payment_intent_unexpected_state")
    _check_return_url(request, intent, return_url, use_stripe_sdk)
    if intent.latest_charge is not None and intent.latest_charge.status == "failed":
        intent.latest_charge = None  # a retry after a decline charges anew
    try:
        intent._confirm(on_failure_now=intent._report_failure)
    except UserError as error:
        raise _card_error(error, intent._export()) from None


async def create_payment_intent(request: web.Request) -> web.Response:
    params = await read_params(request)
    for name in DESTINATION_CHARGE_PARAMS:
        if name in params:
            raise stripe_error(400, f"{name} (destination charges) is not modelled by the local fake Stripe; agora "
                                    "uses separate charges and transfers.", param=name)
    automatic = _automatic_payment_methods(params)
    extras = {name: params.pop(name) for name in PI_CREATE_EXTRAS if name in params}
    confirm = to_bool(extras.get("confirm"), "confirm")
    off_session = to_bool(extras.get("off_session"), "off_session")
    if off_session is not None and not confirm:
        raise stripe_error(400, "off_session can only be used when confirm=true.", param="off_session")
    amount = to_int(params.get("amount"), "amount", required=True, minimum=1)
    currency_code = to_str(params.get("currency"), "currency", required=True)
    assert amount is not None and currency_code is not None
    minimum = MINIMUM_CHARGE.get(currency_code.lower(), 50)
    if amount < minimum:
        raise stripe_error(400, f"Amount must be at least {minimum} {currency_code.lower()} (in the smallest "
                                "currency unit).", param="amount", code="amount_too_small")
    customer = to_str(params.get("customer"), "customer")
    if customer is not None and not isinstance(store.get(f"customer:{customer}"), Customer):
        raise no_such("customer", customer, param="customer", status=400)
    if params.get("payment_method") is not None:
        params["payment_method"] = _payment_method(params["payment_method"], param="payment_method",
                                                   customer=customer).id
    payment_method_types = params.get("payment_method_types")
    intent = PaymentIntent._api_create(**params)
    intent.automatic_payment_methods = automatic
    intent.payment_method_types = payment_method_types or ["card"]
    intent.payment_method_options = params.get("payment_method_options") or {}
    intent.transfer_group = to_str(extras.get("transfer_group"), "transfer_group")
    intent.description = to_str(extras.get("description"), "description")
    intent.receipt_email = to_str(extras.get("receipt_email"), "receipt_email")
    intent.setup_future_usage = to_str(extras.get("setup_future_usage"), "setup_future_usage",
                                       choices=("on_session", "off_session"))
    intent.statement_descriptor = to_str(extras.get("statement_descriptor"), "statement_descriptor")
    intent.statement_descriptor_suffix = to_str(extras.get("statement_descriptor_suffix"),
                                                "statement_descriptor_suffix")
    intent.confirmation_method = to_str(extras.get("confirmation_method"), "confirmation_method",
                                        choices=("automatic", "manual")) or "automatic"
    webhooks.emit("payment_intent.created", intent)
    if confirm:
        _confirm_payment_intent(request, intent, return_url=to_str(extras.get("return_url"), "return_url"),
                                use_stripe_sdk=to_bool(extras.get("use_stripe_sdk"), "use_stripe_sdk"))
    return json_response(intent._export(expand=extras.get("expand")))


async def confirm_payment_intent(request: web.Request) -> web.Response:
    intent = PaymentIntent._api_retrieve(request.match_info["id"])
    params = await read_params(request)
    reject_unknown(params, PI_CONFIRM_PARAMS)
    if params.get("client_secret") not in (None, intent.client_secret):
        raise stripe_error(400, "The client_secret provided does not match the client_secret associated with the "
                                "PaymentIntent.", param="client_secret")
    if params.get("receipt_email") is not None:
        intent.receipt_email = to_str(params["receipt_email"], "receipt_email")
    _confirm_payment_intent(request, intent, payment_method=params.get("payment_method"),
                            return_url=to_str(params.get("return_url"), "return_url"),
                            use_stripe_sdk=to_bool(params.get("use_stripe_sdk"), "use_stripe_sdk"),
                            payment_method_data=params.get("payment_method_data"))
    return json_response(intent._export(expand=params.get("expand")))


async def settle_payment_intent(request: web.Request) -> web.Response:
    """``POST /_test/payment_intents/{id}/{succeed|fail|settle}``: the bank's verdict on a processing (SEPA)
    PaymentIntent, with Stripe's events (``payment_intent.succeeded`` + ``charge.succeeded``, or
    ``payment_intent.payment_failed``; the PaymentIntent then needs a new payment method, as on Stripe)."""
    intent = PaymentIntent._api_retrieve(request.match_info["id"])
    outcome = request.match_info["outcome"]
    if outcome not in ("succeed", "fail", "settle"):
        raise stripe_error(404, "Unrecognized request URL: use succeed, fail or settle.")
    if intent.status != "processing":
        raise stripe_error(400, f"Only a processing PaymentIntent can be settled; this one is {intent.status}.",
                           param="intent", code="payment_intent_unexpected_state")
    charge = intent.latest_charge
    if outcome == "settle":
        iban = getattr(PaymentMethod._api_retrieve(charge.payment_method), "_sepa_debit_iban", None)
        outcome = "fail" if iban == FAILING_IBAN else "succeed"
    if outcome == "succeed":
        charge.balance_transaction = BalanceTransaction(
            amount=charge.amount, currency=charge.currency, description=charge.description, exchange_rate=1.0,
            reporting_category="charge", source=charge.id, type="charge").id
        charge.status = "succeeded"
        intent._on_success()
    else:
        charge._set_auth_failure()
        charge.failure_code, charge.failure_message = "insufficient_funds", "The account has insufficient funds."
        intent._report_async_failure()
    return json_response(intent._export())


async def cancel_payment_intent(request: web.Request) -> web.Response:
    intent = PaymentIntent._api_retrieve(request.match_info["id"])
    params = await read_params(request)
    reject_unknown(params, {"cancellation_reason", "expand"})
    reason = to_str(params.get("cancellation_reason"), "cancellation_reason",
                    choices=("duplicate", "fraudulent", "requested_by_customer", "abandoned"))
    if intent.status in ("succeeded", "canceled", "processing"):
        raise stripe_error(400, f"You cannot cancel this PaymentIntent because it has a status of {intent.status}. "
                                "Only a PaymentIntent with one of the following statuses may be canceled: "
                                "requires_payment_method, requires_capture, requires_confirmation, "
                                "requires_action.", param="intent", code="payment_intent_unexpected_state")
    PaymentIntent._api_cancel(intent.id)
    intent.canceled_at = int(time.time())
    intent.cancellation_reason = reason
    webhooks.emit("payment_intent.canceled", intent)
    return json_response(intent._export(expand=params.get("expand")))


# --- SetupIntents ---------------------------------------------------------------------------------------------

SI_CREATE_PARAMS = {"customer", "usage", "payment_method_types", "metadata", "description", "payment_method",
                    "confirm", "automatic_payment_methods", "return_url", "use_stripe_sdk", "payment_method_options",
                    "mandate_data", "expand"}
SI_CONFIRM_PARAMS = {"payment_method", "payment_method_data", "client_secret", "use_stripe_sdk", "return_url",
                     "mandate_data", "payment_method_options", "expand"}


def _confirm_setup_intent(request: web.Request, intent: SetupIntent, params: dict[str, Any]) -> None:
    if intent.status in ("succeeded", "canceled"):
        raise stripe_error(400, f"You cannot confirm this SetupIntent because it has a status of {intent.status}.",
                           param="intent", code="setup_intent_unexpected_state")
    use_stripe_sdk = to_bool(params.get("use_stripe_sdk"), "use_stripe_sdk")
    payment_method = params.get("payment_method")
    if payment_method is not None:
        payment_method = _payment_method(payment_method, param="payment_method", customer=intent.customer).id
    elif params.get("payment_method_data") is None and intent.status == "requires_confirmation":
        payment_method = intent.payment_method
    if intent.status != "requires_action":
        _check_return_url(request, intent, to_str(params.get("return_url"), "return_url"), use_stripe_sdk)
    try:
        SetupIntent._api_confirm(intent.id, use_stripe_sdk=use_stripe_sdk,
                                 client_secret=params.get("client_secret"), payment_method=payment_method,
                                 payment_method_data=params.get("payment_method_data"))
    except UserError as error:
        if error.code == 402:
            webhooks.emit("setup_intent.setup_failed", intent)
        raise _card_error(error, intent._export(), "setup_intent") from None
    if intent.status != "succeeded":
        return
    attached = PaymentMethod._api_retrieve(intent.payment_method)
    if intent.customer is not None and getattr(attached, "customer", None) is None:
        attached.customer = intent.customer
        webhooks.emit("payment_method.attached", attached)
    webhooks.emit("setup_intent.succeeded", intent)


async def create_setup_intent(request: web.Request) -> web.Response:
    params = await read_params(request)
    reject_unknown(params, SI_CREATE_PARAMS)
    automatic = _automatic_payment_methods(params)
    customer = to_str(params.get("customer"), "customer")
    if customer is not None and not isinstance(store.get(f"customer:{customer}"), Customer):
        raise no_such("customer", customer, param="customer", status=400)
    payment_method = params.get("payment_method")
    if payment_method is not None:
        payment_method = _payment_method(payment_method, param="payment_method", customer=customer).id
    intent = SetupIntent._api_create(customer=customer, usage=params.get("usage"),
                                     payment_method_types=params.get("payment_method_types"),
                                     metadata=params.get("metadata"))
    intent.automatic_payment_methods = automatic
    intent.description = to_str(params.get("description"), "description")
    intent.payment_method_options = params.get("payment_method_options") or {}
    if payment_method is not None:
        intent.payment_method = payment_method
        intent.status = "requires_confirmation"
    webhooks.emit("setup_intent.created", intent)
    if to_bool(params.get("confirm"), "confirm"):
        _confirm_setup_intent(request, intent, {k: params.get(k) for k in ("return_url", "use_stripe_sdk")})
    return json_response(intent._export(expand=params.get("expand")))


async def confirm_setup_intent(request: web.Request) -> web.Response:
    intent = SetupIntent._api_retrieve(request.match_info["id"])
    params = await read_params(request)
    reject_unknown(params, SI_CONFIRM_PARAMS)
    _confirm_setup_intent(request, intent, params)
    return json_response(intent._export(expand=params.get("expand")))


# --- PaymentMethods -------------------------------------------------------------------------------------------

def _customer(customer_id: Any, *, param: str = "customer", status: int = 400) -> Customer:
    customer = store.get(f"customer:{customer_id}") if isinstance(customer_id, str) else None
    if not isinstance(customer, Customer):
        if customer_id is None:
            raise missing_param(param)
        raise no_such("customer", str(customer_id), param=param, status=status)
    return customer


def _payment_methods_of(customer_id: str | None, payment_method_type: str | None) -> list[PaymentMethod]:
    return [pm for pm in all_of(PaymentMethod)
            if (customer_id is None or pm.customer == customer_id)
            and (payment_method_type is None or pm.type == payment_method_type)]


async def list_payment_methods(request: web.Request) -> web.Response:
    params = await read_params(request)
    customer = params.pop("customer", None)
    if customer is not None:
        _customer(customer)
    payment_method_type = to_str(params.pop("type", None), "type")
    body = page(_payment_methods_of(customer, payment_method_type), "/v1/payment_methods", params)
    reject_unknown(params, set())
    return json_response(body)


async def list_customer_payment_methods(request: web.Request) -> web.Response:
    customer = _customer(request.match_info["id"], param="customer", status=404)
    params = await read_params(request)
    payment_method_type = to_str(params.pop("type", None), "type")
    params.pop("allow_redisplay", None)
    body = page(_payment_methods_of(customer.id, payment_method_type),
                f"/v1/customers/{customer.id}/payment_methods", params)
    reject_unknown(params, set())
    return json_response(body)


async def retrieve_customer_payment_method(request: web.Request) -> web.Response:
    customer = _customer(request.match_info["id"], param="customer", status=404)
    payment_method = store.get(f"payment_method:{request.match_info['payment_method']}")
    if not isinstance(payment_method, PaymentMethod) or payment_method.customer != customer.id:
        raise no_such("PaymentMethod", request.match_info["payment_method"], param="payment_method")
    params = await read_params(request)
    return json_response(payment_method._export(expand=params.get("expand")))


async def attach_payment_method(request: web.Request) -> web.Response:
    params = await read_params(request)
    reject_unknown(params, {"customer", "expand"})
    customer = _customer(params.get("customer"))
    stored = store.get(f"payment_method:{request.match_info['id']}")
    payment_method = stored if isinstance(stored, PaymentMethod) else \
        _payment_method(request.match_info["id"], param="payment_method", customer=None)
    if payment_method.customer not in (None, customer.id):
        raise stripe_error(400, "The payment method you provided has already been attached to a customer.",
                           param="payment_method")
    if payment_method.customer is None:
        try:
            PaymentMethod._api_attach(payment_method.id, customer=customer.id)
        except UserError as error:
            raise _card_error(error) from None
        webhooks.emit("payment_method.attached", payment_method)
    return json_response(payment_method._export(expand=params.get("expand")))


async def detach_payment_method(request: web.Request) -> web.Response:
    payment_method = store.get(f"payment_method:{request.match_info['id']}")
    if not isinstance(payment_method, PaymentMethod):
        raise no_such("PaymentMethod", request.match_info["id"], param="payment_method")
    params = await read_params(request)
    reject_unknown(params, {"expand"})
    if payment_method.customer is None:
        raise stripe_error(400, "The payment method you provided is not attached to a customer so detachment is "
                                "impossible.", param="payment_method")
    owner = store.get(f"customer:{payment_method.customer}")
    if isinstance(owner, Customer) and owner.invoice_settings.get("default_payment_method") == payment_method.id:
        owner.invoice_settings["default_payment_method"] = None
    previous = payment_method.customer
    payment_method.customer = None
    webhooks.emit("payment_method.detached", payment_method, previous_attributes={"customer": previous})
    return json_response(payment_method._export(expand=params.get("expand")))


# --- Refunds --------------------------------------------------------------------------------------------------

async def create_refund(request: web.Request) -> web.Response:
    params = await read_params(request)
    reject_unknown(params, {"charge", "payment_intent", "amount", "metadata", "reason", "instructions_email",
                            "expand"})
    reason = to_str(params.get("reason"), "reason", choices=("duplicate", "fraudulent", "requested_by_customer"))
    charge_id = to_str(params.get("charge"), "charge")
    intent_id = to_str(params.get("payment_intent"), "payment_intent")
    if charge_id is None and intent_id is None:
        raise stripe_error(400, "One of the following params should be provided for this request: payment_intent "
                                "or charge.", param="charge", code="parameter_missing")
    if intent_id is not None:
        intent = store.get(f"payment_intent:{intent_id}")
        if not isinstance(intent, PaymentIntent):
            raise no_such("payment_intent", intent_id, param="payment_intent", status=400)
        if intent.latest_charge is None or intent.latest_charge.status != "succeeded":
            raise stripe_error(400, f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                               param="payment_intent", code="charge_not_refundable")
        charge = intent.latest_charge
        if charge_id is not None and charge_id != charge.id:
            raise stripe_error(400, "The charge does not belong to the payment_intent.", param="charge")
    else:
        charge = store.get(f"charge:{charge_id}")
        if not isinstance(charge, Charge):
            raise no_such("charge", str(charge_id), param="charge", status=400)
    remaining = charge.amount - charge.amount_refunded
    if remaining <= 0:
        raise stripe_error(400, f"Charge {charge.id} has already been refunded.", param="charge",
                           code="charge_already_refunded")
    amount = to_int(params.get("amount"), "amount", minimum=1)
    amount = remaining if amount is None else amount
    if amount > remaining:
        raise stripe_error(400, f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                                f"({remaining})", param="amount", code="amount_too_large")
    refund = Refund._api_create(charge=charge.id, amount=amount, metadata=merge_metadata({}, params.get("metadata")))
    refund.payment_intent = charge.payment_intent
    refund.reason = reason
    webhooks.emit("refund.created", refund)
    webhooks.emit("charge.refunded", charge)
    return json_response(refund._export(expand=params.get("expand")))


# --- class patches --------------------------------------------------------------------------------------------

def _export_latest_charge_as_id(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Stripe returns ``latest_charge`` as an id unless expanded; it no longer returns ``charges``."""

    def _export(self: PaymentIntent, expand: Any = None) -> dict[str, Any]:
        if expand is not None and not isinstance(expand, list):
            return original(self, expand=expand)  # localstripe answers the 400
        own = [path for path in expand or [] if path.split(".")[0] == "latest_charge"]
        exported = original(self, expand=[path for path in expand or [] if path not in own])
        exported.pop("charges", None)
        charge = self.latest_charge
        if charge is None:
            exported["latest_charge"] = None
        elif own:
            exported["latest_charge"] = charge._export(expand=[p.split(".", 1)[1] for p in own if "." in p])
        else:
            exported["latest_charge"] = charge.id
        return exported

    return _export


def _charge_carries_intent_fields(original: Callable[[PaymentIntent], None]) -> Callable[[PaymentIntent], None]:
    """A PaymentIntent's charge gets its transfer_group and description; ``charge.succeeded`` is sent."""

    def _on_success(self: PaymentIntent) -> None:
        charge = self.latest_charge
        charge.transfer_group = self.transfer_group
        charge.description = self.description
        webhooks.emit("charge.succeeded", charge)
        original(self)

    return _on_success


def _canonical_test_article(original: Callable[[str], Any]) -> Callable[[type, str], Any]:
    def _try_get_canonical_test_article(cls: type, payment_method_id: str) -> Any:
        number = EXTRA_TEST_PAYMENT_METHODS.get(payment_method_id)
        if number is not None:
            return PaymentMethod(type="card", card={"number": number, "exp_month": "12", "exp_year": "2034",
                                                    "cvc": "123"})
        return original(payment_method_id)

    return _try_get_canonical_test_article


def _newest_first(original: Callable[..., Any]) -> Callable[..., Any]:
    """localstripe lists oldest first; Stripe lists are reverse-chronological (and so is pagination)."""

    def _api_list_all(cls: type, url: str, limit: Any = None, starting_after: Any = None, **kwargs: Any) -> Any:
        listed = original(cls, url, limit=limit, starting_after=starting_after, **kwargs)
        listed._list.reverse()
        return listed

    return _api_list_all


def _wallets(original: Callable[..., None]) -> Callable[..., None]:
    """PaymentMethods of type paypal and klarna, which localstripe does not know (no details to validate)."""

    def init(self: PaymentMethod, type: Any = None, billing_details: Any = None, metadata: Any = None,
                 **kwargs: Any) -> None:
        if type not in APPROVED_AT_ONCE:
            original(self, type=type, billing_details=billing_details, metadata=metadata, **kwargs)
            return
        if set(kwargs) - {type}:
            raise UserError(400, "Unexpected " + ", ".join(sorted(set(kwargs) - {type})))
        StripeObject.__init__(self)
        self.type = type
        self.billing_details = billing_details or {}
        setattr(self, type, {})
        self.customer = None
        self.metadata = metadata or {}

    return init


def _sepa_waits_for_the_bank(original: Callable[..., None]) -> Callable[..., None]:
    """A SEPA debit's charge stays pending (its PaymentIntent ``processing``, with that event) until
    :func:`settle_payment_intent`; localstripe settled it by itself half a second later."""

    def _initialize_charge(self: Charge, on_success: Any = None, on_failure_now: Any = None,
                           on_failure_later: Any = None) -> None:
        if not self._is_async_payment_method():
            original(self, on_success, on_failure_now, on_failure_later)
            return
        self.status = "pending"
        intent = store.get(f"payment_intent:{self.payment_intent}") if self.payment_intent else None
        if isinstance(intent, PaymentIntent):
            webhooks.emit("payment_intent.processing", intent)

    return _initialize_charge


def _declines_if_attach_declines(original: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """A card Stripe declines on attach (4000000000000002, ...9995) also declines a charge."""

    def _charging_is_declined(self: Any) -> bool:
        return original(self) or self._attaching_is_declined()

    return _charging_is_declined


_installed = False


def install() -> None:
    """Patch localstripe's classes once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    defaults: dict[type, dict[str, Any]] = {
        PaymentIntent: {"transfer_group": None, "description": None, "receipt_email": None,
                        "setup_future_usage": None, "statement_descriptor": None,
                        "statement_descriptor_suffix": None, "confirmation_method": "automatic",
                        "automatic_payment_methods": None, "payment_method_types": ["card"],
                        "payment_method_options": {}, "canceled_at": None, "cancellation_reason": None,
                        "application_fee_amount": None, "on_behalf_of": None, "transfer_data": None},
        Charge: {"transfer_group": None},
        Refund: {"reason": None},
        SetupIntent: {"automatic_payment_methods": None, "description": None, "payment_method_options": {}},
    }
    for cls, attributes in defaults.items():
        for name, value in attributes.items():
            setattr(cls, name, value)
    StripeObject._api_list_all = classmethod(_newest_first(StripeObject.__dict__["_api_list_all"].__func__))
    PaymentIntent._export = _export_latest_charge_as_id(PaymentIntent._export)
    PaymentIntent._on_success = _charge_carries_intent_fields(PaymentIntent._on_success)
    PaymentIntent.amount_received = property(
        lambda self: self.amount if self.latest_charge is not None and self.latest_charge.status == "succeeded"
        and self.latest_charge.captured else 0)
    PaymentIntent.amount_capturable = property(lambda self: self.amount if self.status == "requires_capture" else 0)
    PaymentMethod._try_get_canonical_test_article = classmethod(
        _canonical_test_article(PaymentMethod._try_get_canonical_test_article))
    PaymentMethod._charging_is_declined = _declines_if_attach_declines(PaymentMethod._charging_is_declined)
    PaymentMethod.__init__ = _wallets(PaymentMethod.__init__)
    Charge._initialize_charge = _sepa_waits_for_the_bank(Charge._initialize_charge)


def routes() -> list[tuple[str, str, Any]]:
    return [
        ("POST", "/v1/payment_intents", create_payment_intent),
        ("POST", "/v1/payment_intents/{id}/confirm", confirm_payment_intent),
        ("POST", "/v1/payment_intents/{id}/cancel", cancel_payment_intent),
        ("POST", "/v1/setup_intents", create_setup_intent),
        ("POST", "/v1/setup_intents/{id}/confirm", confirm_setup_intent),
        ("GET", "/v1/payment_methods", list_payment_methods),
        ("POST", "/v1/payment_methods/{id}/attach", attach_payment_method),
        ("POST", "/v1/payment_methods/{id}/detach", detach_payment_method),
        ("GET", "/v1/customers/{id}/payment_methods", list_customer_payment_methods),
        ("GET", "/v1/customers/{id}/payment_methods/{payment_method}", retrieve_customer_payment_method),
        ("POST", "/v1/refunds", create_refund),
        ("POST", "/_test/payment_intents/{id}/{outcome}", settle_payment_intent),
    ]
