"""Stripe Connect for localstripe: accounts, onboarding links, login links, transfers and their reversals.

Shapes follow Stripe's API objects closely enough that the SDK and agora's code read them as they read Stripe's.
Onboarding is instant: following an account link's URL completes it; ``POST /_connect/accounts/{id}/onboard``
does the same from scripts and can leave the account partly onboarded.
"""

from __future__ import annotations

import copy
import html
import json
import secrets
import time
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from localstripe.resources import (
    BalanceTransaction,
    Charge,
    DeletedObject,
    StripeObject,
    random_id,
    store,
)

from dev.fake_stripe import webhooks
from dev.fake_stripe.errors import missing_param, no_such, stripe_error
from dev.fake_stripe.params import (
    currency,
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

ACCOUNT_TYPES = ("express", "standard", "custom")
BUSINESS_TYPES = ("individual", "company", "non_profit", "government_entity")
DEFAULT_CAPABILITIES = ("card_payments", "transfers")
ACCOUNT_LINK_TTL_SECONDS = 300
EUR_COUNTRIES = {"AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU", "LV", "MT",
                 "NL", "PT", "SI", "SK"}
OTHER_CURRENCIES = {"US": "usd", "GB": "gbp", "CH": "chf", "SE": "sek", "DK": "dkk", "NO": "nok", "PL": "pln",
                    "CZ": "czk", "CA": "cad", "AU": "aud", "JP": "jpy"}

LINKS: web.AppKey[dict[str, dict[str, Any]]] = web.AppKey("fake_stripe_account_links", dict)
PUBLIC_URL: web.AppKey[str | None] = web.AppKey("fake_stripe_public_url", str)


def default_currency_for(country: str) -> str:
    return "eur" if country in EUR_COUNTRIES else OTHER_CURRENCIES.get(country, "usd")


def initial_requirements(business_type: str | None) -> list[str]:
    """What Stripe asks of a fresh Express account before onboarding."""
    person = "company.owners_provided" if business_type == "company" else "individual.first_name"
    due = ["business_profile.mcc", "business_profile.url", "external_account", person, "tos_acceptance.date",
           "tos_acceptance.ip"]
    if business_type is None:
        due.insert(0, "business_type")
    elif business_type == "company":
        due[3:3] = ["company.address.city", "company.name", "company.tax_id"]
    else:
        due[3:3] = ["individual.address.city", "individual.dob.day", "individual.email", "individual.last_name"]
    return sorted(due)


def requirements(currently_due: list[str], disabled_reason: str | None) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(currently_due),
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": list(currently_due),
        "past_due": list(currently_due) if disabled_reason else [],
        "pending_verification": [],
    }


def _now() -> int:
    return int(time.time())


class Account(StripeObject):
    """A connected account (``acct_...``)."""

    object = "account"
    _id_prefix = "acct_"

    def __init__(self, *, account_type: str, country: str, email: str | None, business_type: str | None,
                 business_profile: dict[str, Any], capabilities: list[str], metadata: dict[str, str],
                 default_currency: str, settings: dict[str, Any] | None) -> None:
        super().__init__()
        self.type = account_type
        self.country = country
        self.email = email
        self.business_type = business_type
        self.business_profile = {"mcc": None, "name": None, "product_description": None, "support_email": None,
                                 "support_phone": None, "support_url": None, "url": None, **business_profile}
        self.capabilities = {name: "inactive" for name in capabilities}
        self.charges_enabled = False
        self.payouts_enabled = False
        self.details_submitted = False
        self.controller = {
            "fees": {"payer": "application" if account_type == "express" else "account"},
            "is_controller": True,
            "losses": {"payments": "application" if account_type != "standard" else "stripe"},
            "requirement_collection": "application" if account_type == "custom" else "stripe",
            "stripe_dashboard": {"type": {"express": "express", "standard": "full", "custom": "none"}[account_type]},
            "type": "application",
        }
        self.default_currency = default_currency
        self.external_accounts = {"object": "list", "data": [], "has_more": False,
                                  "url": f"/v1/accounts/{self.id}/external_accounts"}
        self.future_requirements = requirements([], None)
        self.requirements = requirements(initial_requirements(business_type), "requirements.past_due")
        self.metadata = metadata
        self.settings = {
            "dashboard": {"display_name": business_profile.get("name"), "timezone": "Etc/UTC"},
            "payments": {"statement_descriptor": None},
            "payouts": {"debit_negative_balances": True, "schedule": {"delay_days": 2, "interval": "daily"},
                        "statement_descriptor": None},
            **(settings or {}),
        }
        self.tos_acceptance = {"date": None, "ip": None, "user_agent": None}

    def _export(self, expand: list[str] | None = None) -> dict[str, Any]:
        return copy.deepcopy(super()._export(expand=expand))

    def _complete_onboarding(self, *, details_submitted: bool = True, charges_enabled: bool = True,
                             payouts_enabled: bool = True, currently_due: list[str] | None = None,
                             capabilities: dict[str, str] | None = None, disabled_reason: str | None = None) -> None:
        """What finishing (or partly finishing) Stripe's hosted onboarding does, then ``account.updated``."""
        before = self._export()
        if currently_due is None:
            currently_due = []
            if not charges_enabled:
                currently_due.append(f"{self.business_type or 'individual'}.verification.document")
            if not payouts_enabled:
                currently_due.append("external_account")
        if disabled_reason is None and not charges_enabled:
            disabled_reason = "requirements.past_due"
        status = "active" if charges_enabled else "inactive"
        self.capabilities = {name: status for name in self.capabilities}
        self.capabilities.update(capabilities or {})
        self.details_submitted = details_submitted
        self.charges_enabled = charges_enabled
        self.payouts_enabled = payouts_enabled
        self.requirements = requirements(sorted(currently_due), disabled_reason)
        if details_submitted:
            self.business_type = self.business_type or "individual"
            self.tos_acceptance = {"date": self.tos_acceptance["date"] or _now(), "ip": "127.0.0.1",
                                   "user_agent": "fake-stripe onboarding"}
        if payouts_enabled and not self.external_accounts["data"]:
            self.external_accounts = {**self.external_accounts, "data": [self._bank_account()], "total_count": 1}
        self._changed(before)

    def _bank_account(self) -> dict[str, Any]:
        return {"id": "ba_" + random_id(24), "object": "bank_account", "account": self.id,
                "account_holder_name": None, "bank_name": "STRIPE TEST BANK", "country": self.country,
                "currency": self.default_currency, "default_for_currency": True, "last4": "6789",
                "status": "new"}

    def _changed(self, before: dict[str, Any]) -> None:
        after = self._export()
        changed = webhooks.previous_attributes(before, after)
        if changed:
            webhooks.emit("account.updated", self, account=self.id, previous_attributes=changed)


def get_account(account_id: str, *, param: str = "id", status: int = 404) -> Account:
    account = store.get(f"account:{account_id}")
    if not isinstance(account, Account):
        raise no_such("account", account_id, param=param, status=status)
    return account


def all_of(cls: type[StripeObject]) -> list[Any]:
    """Every stored object of a class, newest first (Stripe lists are reverse-chronological)."""
    prefix = f"{cls.object}:"
    return [value for key, value in reversed(list(store.items())) if key.startswith(prefix)]


# --- accounts ---------------------------------------------------------------------------------------------

ACCOUNT_CREATE_PARAMS = {"type", "country", "email", "business_type", "business_profile", "capabilities",
                         "metadata", "default_currency", "settings", "controller", "tos_acceptance", "individual",
                         "company", "expand"}
ACCOUNT_UPDATE_PARAMS = {"email", "business_type", "business_profile", "capabilities", "metadata",
                         "default_currency", "settings", "tos_acceptance", "individual", "company", "expand"}


def _requested_capabilities(value: Any) -> tuple[list[str], list[str]]:
    """(requested, unrequested) names from ``capabilities[name][requested]=true|false``."""
    capabilities = to_dict(value, "capabilities") or {}
    requested, unrequested = [], []
    for name, options in capabilities.items():
        flag = to_bool((options or {}).get("requested") if isinstance(options, dict) else None,
                       f"capabilities[{name}][requested]")
        if flag is None:
            raise missing_param(f"capabilities[{name}][requested]")
        (requested if flag else unrequested).append(name)
    return requested, unrequested


def _account_type(params: dict[str, Any]) -> str:
    account_type = to_str(params.get("type"), "type", choices=ACCOUNT_TYPES)
    if account_type is not None:
        return account_type
    controller = to_dict(params.get("controller"), "controller")
    if controller is None:
        raise missing_param("type")
    dashboard = (controller.get("stripe_dashboard") or {}).get("type")
    return {"express": "express", "none": "custom"}.get(dashboard, "standard")


async def create_account(request: web.Request) -> web.Response:
    params = await read_params(request)
    reject_unknown(params, ACCOUNT_CREATE_PARAMS)
    account_type = _account_type(params)
    country = (to_str(params.get("country"), "country") or "US").upper()
    if len(country) != 2:
        raise stripe_error(400, f"Country '{country}' is unknown.", param="country")
    requested, _ = _requested_capabilities(params.get("capabilities"))
    if "capabilities" not in params:
        requested = list(DEFAULT_CAPABILITIES)  # what a platform's Connect settings usually request by default
    default = params.get("default_currency")
    account = Account(
        account_type=account_type,
        country=country,
        email=to_str(params.get("email"), "email"),
        business_type=to_str(params.get("business_type"), "business_type", choices=BUSINESS_TYPES),
        business_profile=to_dict(params.get("business_profile"), "business_profile") or {},
        capabilities=requested,
        metadata=merge_metadata({}, params.get("metadata")),
        default_currency=currency(default, "default_currency") if default else default_currency_for(country),
        settings=to_dict(params.get("settings"), "settings"),
    )
    return json_response(account._export(expand=params.get("expand")))


async def retrieve_account(request: web.Request) -> web.Response:
    params = await read_params(request)
    return json_response(get_account(request.match_info["id"])._export(expand=params.get("expand")))


async def retrieve_own_account(request: web.Request) -> web.Response:
    """``GET /v1/account``: the connected account named by Stripe-Account, else a stand-in platform account."""
    params = await read_params(request)
    connected = request.headers.get("Stripe-Account")
    if connected:
        return json_response(get_account(connected)._export(expand=params.get("expand")))
    return json_response({
        "id": "acct_fakeplatform0001", "object": "account", "type": "standard", "country": "DE",
        "default_currency": "eur", "charges_enabled": True, "payouts_enabled": True, "details_submitted": True,
        "email": "platform@agora.example", "business_profile": {"name": "agora (local)"},
        "capabilities": {"card_payments": "active", "transfers": "active"}, "metadata": {},
        "requirements": requirements([], None), "livemode": False, "created": 1_600_000_000,
    })


async def update_account(request: web.Request) -> web.Response:
    account = get_account(request.match_info["id"])
    params = await read_params(request)
    reject_unknown(params, ACCOUNT_UPDATE_PARAMS)
    before = account._export()
    if "email" in params:
        account.email = to_str(params["email"], "email")
    if "business_type" in params:
        account.business_type = to_str(params["business_type"], "business_type", choices=BUSINESS_TYPES)
    if "business_profile" in params:
        account.business_profile = {**account.business_profile,
                                    **(to_dict(params["business_profile"], "business_profile") or {})}
    if "settings" in params:
        account.settings = {**account.settings, **(to_dict(params["settings"], "settings") or {})}
    if "default_currency" in params:
        account.default_currency = currency(params["default_currency"], "default_currency")
    if "capabilities" in params:
        requested, unrequested = _requested_capabilities(params["capabilities"])
        status = "active" if account.charges_enabled else "inactive"
        account.capabilities = {
            **{name: value for name, value in account.capabilities.items() if name not in unrequested},
            **{name: account.capabilities.get(name, status) for name in requested},
        }
    account.metadata = merge_metadata(account.metadata, params.get("metadata"))
    account._changed(before)
    return json_response(account._export(expand=params.get("expand")))


async def delete_account(request: web.Request) -> web.Response:
    account = get_account(request.match_info["id"])
    del store[f"account:{account.id}"]
    return json_response(DeletedObject(account.id, "account")._export())


async def list_accounts(request: web.Request) -> web.Response:
    params = await read_params(request)
    body = page(all_of(Account), "/v1/accounts", params)
    reject_unknown(params, {"created"})
    return json_response(body)


# --- onboarding ---------------------------------------------------------------------------------------------

def _base_url(request: web.Request) -> str:
    """Links point back at this server, as the client reached it (or at the configured public URL)."""
    return request.app.get(PUBLIC_URL) or f"{request.scheme}://{request.host}"


async def create_account_link(request: web.Request) -> web.Response:
    params = await read_params(request)
    reject_unknown(params, {"account", "refresh_url", "return_url", "type", "collect", "collection_options",
                            "expand"})
    account = get_account(to_str(params.get("account"), "account", required=True), param="account", status=400)
    link_type = to_str(params.get("type"), "type", required=True, choices=("account_onboarding", "account_update"))
    if link_type == "account_update" and account.type != "custom":
        raise stripe_error(400, f"You cannot create `account_update` type Account Links for {account.type} "
                                "accounts; use `account_onboarding`.", param="type")
    urls = {}
    for name in ("refresh_url", "return_url"):
        value = to_str(params.get(name), name, required=True)
        assert value is not None
        if not value.startswith(("http://", "https://")):
            raise stripe_error(400, f"Not a valid URL: {value}", param=name, code="url_invalid")
        urls[name] = value
    created = _now()
    token = secrets.token_urlsafe(16)
    request.app[LINKS][token] = {"account": account.id, "expires_at": created + ACCOUNT_LINK_TTL_SECONDS,
                                 "used": False, **urls}
    query = urlencode({"link": token, **urls})
    return json_response({"object": "account_link", "created": created,
                          "expires_at": created + ACCOUNT_LINK_TTL_SECONDS,
                          "url": f"{_base_url(request)}/_connect/onboard/{account.id}?{query}"})


async def follow_account_link(request: web.Request) -> web.Response:
    """The hosted onboarding page: completes onboarding at once and sends the browser back to return_url.

    A link works once and for five minutes, as Stripe's do; a used or expired link sends the browser to
    refresh_url, where the platform is expected to create a fresh link.
    """
    account = get_account(request.match_info["id"])
    token = request.query.get("link")
    link = request.app[LINKS].get(token) if token else None
    if token and (link is None or link["account"] != account.id):
        raise stripe_error(404, "This account link is unknown to this server.", param="link")
    if link is None:
        return_url = request.query.get("return_url")
        if not return_url:
            raise missing_param("return_url")
        account._complete_onboarding()
        raise web.HTTPFound(return_url)
    if link["used"] or link["expires_at"] < _now():
        raise web.HTTPFound(link["refresh_url"])
    link["used"] = True
    account._complete_onboarding()
    raise web.HTTPFound(link["return_url"])


ONBOARD_OPTIONS = {"details_submitted": bool, "charges_enabled": bool, "payouts_enabled": bool,
                   "currently_due": list, "capabilities": dict, "disabled_reason": str}


async def onboard(request: web.Request) -> web.Response:
    """``POST /_connect/accounts/{id}/onboard``: onboarding without a browser; the JSON body may make it partial,
    e.g. ``{"charges_enabled": false}`` leaves verification due, or disables a previously onboarded account."""
    account = get_account(request.match_info["id"])
    raw = await request.read()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError as error:
        raise stripe_error(400, f"The body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise stripe_error(400, "The body must be a JSON object.")
    for name, value in body.items():
        expected = ONBOARD_OPTIONS.get(name)
        if expected is None:
            raise stripe_error(400, f"Received unknown parameter: {name}", param=name, code="parameter_unknown")
        if not isinstance(value, expected) and not (name == "disabled_reason" and value is None):
            raise stripe_error(400, f"{name} must be a {expected.__name__}", param=name)
    account._complete_onboarding(**body)
    return json_response(account._export())


async def create_login_link(request: web.Request) -> web.Response:
    account = get_account(request.match_info["id"], param="account")
    params = await read_params(request)
    reject_unknown(params, {"expand"})
    if account.type != "express":
        raise stripe_error(400, "Login links can only be created for Express accounts.", param="account")
    if not account.details_submitted:
        raise stripe_error(400, "Cannot create a login link for an account that has not completed onboarding.",
                           param="account")
    return json_response({"object": "login_link", "created": _now(),
                          "url": f"{_base_url(request)}/_connect/express/{account.id}"})


async def express_dashboard(request: web.Request) -> web.Response:
    """Where a login link leads: a bare page standing in for the Express dashboard."""
    account = get_account(request.match_info["id"])
    exported = account._export()
    rows = "".join(f"<tr><th>{key}</th><td>{html.escape(str(exported[key]))}</td></tr>"
                   for key in ("id", "email", "charges_enabled", "payouts_enabled", "details_submitted"))
    balance = ", ".join(f"{b['amount']} {b['currency']}" for b in connected_balance(account)["available"])
    return web.Response(content_type="text/html", text=(
        f"<!doctype html><title>Express dashboard (fake)</title><h1>{html.escape(account.id)}</h1>"
        f"<table>{rows}</table><p>Available balance: {html.escape(balance)}</p>"))


# --- transfers ------------------------------------------------------------------------------------------------

class Transfer(StripeObject):
    """Money moved from the platform's balance to a connected account (``tr_...``)."""

    object = "transfer"
    _id_prefix = "tr_"

    def __init__(self, *, amount: int, currency: str, destination: str, source_transaction: str | None,
                 transfer_group: str | None, description: str | None, metadata: dict[str, str],
                 source_type: str) -> None:
        super().__init__()
        self.amount = amount
        self.currency = currency
        self.destination = destination
        self.source_transaction = source_transaction
        self.source_type = source_type
        self.transfer_group = transfer_group
        self.description = description
        self.metadata = metadata
        self.balance_transaction = "txn_" + random_id(24)
        self.destination_payment = "py_" + random_id(24)

    @property
    def _reversal_objects(self) -> list[TransferReversal]:
        return [r for r in all_of(TransferReversal) if r.transfer == self.id]

    @property
    def amount_reversed(self) -> int:
        return sum(reversal.amount for reversal in self._reversal_objects)

    @property
    def reversed(self) -> bool:
        return self.amount_reversed >= self.amount

    @property
    def reversals(self) -> dict[str, Any]:
        items = self._reversal_objects
        return {"object": "list", "data": [r._export() for r in items[:10]], "has_more": len(items) > 10,
                "total_count": len(items), "url": f"/v1/transfers/{self.id}/reversals"}

    def _export(self, expand: list[str] | None = None) -> dict[str, Any]:
        return copy.deepcopy(super()._export(expand=expand))


class TransferReversal(StripeObject):
    """A (partial) reversal of a transfer (``trr_...``): the money goes back to the platform."""

    object = "transfer_reversal"
    _id_prefix = "trr_"

    def __init__(self, *, transfer: Transfer, amount: int, metadata: dict[str, str]) -> None:
        super().__init__()
        self.amount = amount
        self.currency = transfer.currency
        self.transfer = transfer.id
        self.metadata = metadata
        self.balance_transaction = "txn_" + random_id(24)
        self.destination_payment_refund = "pyr_" + random_id(24)
        self.source_refund = None


def get_transfer(transfer_id: str, *, param: str = "id") -> Transfer:
    transfer = store.get(f"transfer:{transfer_id}")
    if not isinstance(transfer, Transfer):
        raise no_such("transfer", transfer_id, param=param)
    return transfer


TRANSFER_CREATE_PARAMS = {"amount", "currency", "destination", "source_transaction", "transfer_group", "metadata",
                          "description", "source_type", "expand"}


def _check_source_transaction(charge_id: str, amount: int, currency_code: str) -> None:
    charge = store.get(f"charge:{charge_id}")
    if not isinstance(charge, Charge):
        raise no_such("charge", charge_id, param="source_transaction", status=400)
    if charge.status == "failed":
        raise stripe_error(400, f"The charge {charge_id} failed; it cannot fund a transfer.",
                           param="source_transaction")
    if charge.currency != currency_code:
        raise stripe_error(400, f"The currency of source_transaction ({charge.currency}) must be the same as the "
                                f"transfer currency ({currency_code}).", param="currency")
    already = sum(t.amount for t in all_of(Transfer) if t.source_transaction == charge_id)
    if already + amount > charge.amount:
        raise stripe_error(400, f"Transfers using this transaction as a source must not exceed the source amount "
                                f"of {charge.amount} ({already} already transferred).", param="amount")


async def create_transfer(request: web.Request) -> web.Response:
    params = await read_params(request)
    reject_unknown(params, TRANSFER_CREATE_PARAMS)
    amount = to_int(params.get("amount"), "amount", required=True, minimum=1)
    currency_code = currency(params.get("currency"))
    destination_id = to_str(params.get("destination"), "destination", required=True)
    assert amount is not None and destination_id is not None
    destination = store.get(f"account:{destination_id}")
    if not isinstance(destination, Account):
        raise no_such("destination", destination_id, param="destination", status=400)
    if destination.capabilities.get("transfers") != "active":
        raise stripe_error(400, "Your destination account needs to have at least one of the following capabilities "
                                "enabled: transfers, crypto_transfers, legacy_payments",
                           param="destination", code="insufficient_capabilities_for_transfer")
    source_transaction = to_str(params.get("source_transaction"), "source_transaction")
    if source_transaction is not None:
        _check_source_transaction(source_transaction, amount, currency_code)
    transfer = Transfer(
        amount=amount,
        currency=currency_code,
        destination=destination.id,
        source_transaction=source_transaction,
        transfer_group=to_str(params.get("transfer_group"), "transfer_group"),
        description=to_str(params.get("description"), "description"),
        metadata=merge_metadata({}, params.get("metadata")),
        source_type=to_str(params.get("source_type"), "source_type", choices=("card", "bank_account", "fpx"))
        or "card",
    )
    webhooks.emit("transfer.created", transfer)
    return json_response(transfer._export(expand=params.get("expand")))


async def retrieve_transfer(request: web.Request) -> web.Response:
    params = await read_params(request)
    return json_response(get_transfer(request.match_info["id"])._export(expand=params.get("expand")))


async def update_transfer(request: web.Request) -> web.Response:
    transfer = get_transfer(request.match_info["id"])
    params = await read_params(request)
    reject_unknown(params, {"description", "metadata", "expand"})
    before = transfer._export()
    if "description" in params:
        transfer.description = to_str(params["description"], "description")
    transfer.metadata = merge_metadata(transfer.metadata, params.get("metadata"))
    changed = webhooks.previous_attributes(before, transfer._export())
    if changed:
        webhooks.emit("transfer.updated", transfer, previous_attributes=changed)
    return json_response(transfer._export(expand=params.get("expand")))


async def list_transfers(request: web.Request) -> web.Response:
    params = await read_params(request)
    destination = to_str(params.pop("destination", None), "destination")
    transfer_group = to_str(params.pop("transfer_group", None), "transfer_group")
    transfers = [t for t in all_of(Transfer)
                 if (destination is None or t.destination == destination)
                 and (transfer_group is None or t.transfer_group == transfer_group)]
    body = page(transfers, "/v1/transfers", params)
    reject_unknown(params, {"created"})
    return json_response(body)


async def create_reversal(request: web.Request) -> web.Response:
    transfer = get_transfer(request.match_info["id"])
    params = await read_params(request)
    reject_unknown(params, {"amount", "metadata", "description", "refund_application_fee", "expand"})
    to_bool(params.get("refund_application_fee"), "refund_application_fee")
    remaining = transfer.amount - transfer.amount_reversed
    if remaining <= 0:
        raise stripe_error(400, f"Transfer {transfer.id} has already been fully reversed.", param="amount")
    amount = to_int(params.get("amount"), "amount", minimum=1)
    amount = remaining if amount is None else amount
    if amount > remaining:
        raise stripe_error(400, f"Reversal amount ({amount}) is greater than the transfer amount remaining to be "
                                f"reversed ({remaining}).", param="amount")
    reversal = TransferReversal(transfer=transfer, amount=amount, metadata=merge_metadata({}, params.get("metadata")))
    webhooks.emit("transfer.reversed", transfer)
    return json_response(reversal._export(expand=params.get("expand")))


def _get_reversal(request: web.Request) -> TransferReversal:
    transfer = get_transfer(request.match_info["id"], param="transfer")
    reversal = store.get(f"transfer_reversal:{request.match_info['reversal_id']}")
    if not isinstance(reversal, TransferReversal) or reversal.transfer != transfer.id:
        raise no_such("transfer_reversal", request.match_info["reversal_id"])
    return reversal


async def list_reversals(request: web.Request) -> web.Response:
    transfer = get_transfer(request.match_info["id"])
    params = await read_params(request)
    body = page(transfer._reversal_objects, f"/v1/transfers/{transfer.id}/reversals", params)
    reject_unknown(params, set())
    return json_response(body)


async def retrieve_reversal(request: web.Request) -> web.Response:
    params = await read_params(request)
    return json_response(_get_reversal(request)._export(expand=params.get("expand")))


async def update_reversal(request: web.Request) -> web.Response:
    reversal = _get_reversal(request)
    params = await read_params(request)
    reject_unknown(params, {"metadata", "expand"})
    reversal.metadata = merge_metadata(reversal.metadata, params.get("metadata"))
    return json_response(reversal._export(expand=params.get("expand")))


# --- balances -----------------------------------------------------------------------------------------------

def _balance(amounts: dict[str, int], fallback_currency: str) -> dict[str, Any]:
    amounts = amounts or {fallback_currency: 0}
    return {
        "object": "balance",
        "available": [{"amount": amount, "currency": code, "source_types": {"card": amount}}
                      for code, amount in sorted(amounts.items())],
        "pending": [{"amount": 0, "currency": code, "source_types": {"card": 0}} for code in sorted(amounts)],
        "livemode": False,
    }


def connected_balance(account: Account) -> dict[str, Any]:
    """Everything transferred to the account, less reversals; payouts are not modelled."""
    amounts: dict[str, int] = defaultdict(int)
    for transfer in all_of(Transfer):
        if transfer.destination == account.id:
            amounts[transfer.currency] += transfer.amount - transfer.amount_reversed
    return _balance(dict(amounts), account.default_currency)


def platform_balance() -> dict[str, Any]:
    """Charges less refunds (localstripe's balance transactions), less transfers, plus reversals; all available."""
    amounts: dict[str, int] = defaultdict(int)
    for transaction in all_of(BalanceTransaction):
        amounts[transaction.currency] += transaction.net
    for transfer in all_of(Transfer):
        amounts[transfer.currency] -= transfer.amount - transfer.amount_reversed
    return _balance(dict(amounts), "eur")


async def retrieve_balance(request: web.Request) -> web.Response:
    connected = request.headers.get("Stripe-Account")
    if connected:
        return json_response(connected_balance(get_account(connected)))
    return json_response(platform_balance())


def routes() -> list[tuple[str, str, Any]]:
    return [
        ("POST", "/v1/accounts", create_account),
        ("GET", "/v1/accounts", list_accounts),
        ("GET", "/v1/account", retrieve_own_account),
        ("POST", "/v1/accounts/{id}/login_links", create_login_link),
        ("GET", "/v1/accounts/{id}", retrieve_account),
        ("POST", "/v1/accounts/{id}", update_account),
        ("DELETE", "/v1/accounts/{id}", delete_account),
        ("POST", "/v1/account_links", create_account_link),
        ("POST", "/v1/transfers", create_transfer),
        ("GET", "/v1/transfers", list_transfers),
        ("POST", "/v1/transfers/{id}/reversals", create_reversal),
        ("GET", "/v1/transfers/{id}/reversals", list_reversals),
        ("GET", "/v1/transfers/{id}/reversals/{reversal_id}", retrieve_reversal),
        ("POST", "/v1/transfers/{id}/reversals/{reversal_id}", update_reversal),
        ("GET", "/v1/transfers/{id}", retrieve_transfer),
        ("POST", "/v1/transfers/{id}", update_transfer),
        ("GET", "/v1/balance", retrieve_balance),
        ("GET", "/_connect/onboard/{id}", follow_account_link),
        ("POST", "/_connect/accounts/{id}/onboard", onboard),
        ("GET", "/_connect/express/{id}", express_dashboard),
    ]
