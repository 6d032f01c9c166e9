"""Saved payment methods: cards and SEPA accounts kept at Stripe on the buyer's Stripe customer.

agora stores only the customer id (and which saved method is the default) on the user; card
details (brand, last four digits, expiry) and a SEPA account's last four digits are read
from Stripe when listed, so nothing sensitive is kept here. A method is saved through a
SetupIntent that the frontend confirms with Stripe.js; the customer is
created the first time a buyer saves a card (idempotency key ``user:<id>:customer``, so
a retry or a concurrent first use gets the same customer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chalicelib.accounts.models import User
from chalicelib.accounts.service import get_active_user, update_open_account
from chalicelib.core.errors import Code, NotFound
from chalicelib.core.ids import new_id
from chalicelib.payments import stripe_gateway
from chalicelib.payments.methods import SAVABLE_PAYMENT_METHOD_TYPES

_REQUEST_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")


@dataclass(frozen=True)
class SetupStarted:
    setup_intent_id: str
    client_secret: str


@dataclass(frozen=True)
class Card:
    """A saved method: a card, or a SEPA account (no brand, no expiry)."""

    payment_method_id: str
    brand: str | None
    last4: str
    exp_month: int | None
    exp_year: int | None
    type: str = "card"
    default: bool = False


def ensure_stripe_customer(user: User) -> str:
    """The buyer's Stripe customer id, created on first use (also for checkout).

    Round trips: none when known; else Stripe create customer + UpdateItem(user)."""
    if user.stripe_customer_id:
        return user.stripe_customer_id
    customer = stripe_gateway.create_customer(user_id=user.user_id, email=user.email)
    update_open_account(user, [User.stripe_customer_id.set(customer.id)],
                        (User.status == "active")
                        & (User.stripe_customer_id.does_not_exist() | (User.stripe_customer_id == customer.id)))
    customer_id: str = customer.id
    return customer_id


def start_setup(user_id: str, *, request_key: str | None = None) -> SetupStarted:
    """A SetupIntent for saving a card. ``request_key`` (the client's ``Idempotency-Key``
    header) makes a retried request return the same SetupIntent; without one each request
    gets its own.

    Round trips: GetItem(user), [the first time: Stripe create customer, UpdateItem(user)],
    Stripe create SetupIntent."""
    user = get_active_user(user_id)
    customer_id = ensure_stripe_customer(user)
    key = request_key if request_key and _REQUEST_KEY.match(request_key) else new_id("req")
    intent = stripe_gateway.create_setup_intent(customer_id=customer_id, user_id=user_id, request_key=key,
                                                payment_method_types=SAVABLE_PAYMENT_METHOD_TYPES)
    return SetupStarted(setup_intent_id=intent.id, client_secret=intent.client_secret)


def _card(payment_method: Any, default_id: str | None) -> Card:
    default = payment_method.id == default_id
    if payment_method.type == "sepa_debit":
        return Card(payment_method_id=payment_method.id, brand=None, last4=payment_method.sepa_debit.last4,
                    exp_month=None, exp_year=None, type="sepa_debit", default=default)
    card = payment_method.card
    return Card(payment_method_id=payment_method.id, brand=card.brand, last4=card.last4,
                exp_month=card.exp_month, exp_year=card.exp_year, default=default)


def cards_of(user: User) -> list[Card]:
    """Stripe list, a call per savable type (none when the buyer has no customer yet)."""
    if not user.stripe_customer_id:
        return []
    return [_card(pm, user.default_payment_method_id) for pm in stripe_gateway.list_cards(user.stripe_customer_id)]


def list_payment_methods(user_id: str) -> list[Card]:
    """Round trips: GetItem(user), Stripe list payment methods of the customer."""
    return cards_of(get_active_user(user_id))


def _own_payment_method(user: User, payment_method_id: str) -> Any:
    """The buyer's saved method; any other — another buyer's too — is a 404. Stripe retrieve."""
    missing = NotFound("No such payment method.", code=Code.PAYMENT_METHOD_NOT_FOUND)
    if not user.stripe_customer_id or not payment_method_id.startswith("pm_"):
        raise missing
    found = stripe_gateway.find_customer_payment_method(user.stripe_customer_id, payment_method_id)
    if found is None:
        raise missing
    return found


def remove_payment_method(user_id: str, payment_method_id: str) -> None:
    """Detach a saved method of this buyer (no longer the default then); any other is a 404.

    Round trips: GetItem(user), Stripe retrieve the customer's payment method, Stripe detach
    (+ UpdateItem(user) when it was the default)."""
    user = get_active_user(user_id)
    _own_payment_method(user, payment_method_id)
    stripe_gateway.detach_payment_method(payment_method_id)
    if user.default_payment_method_id == payment_method_id:
        update_open_account(user, [User.default_payment_method_id.remove()],
                            (User.status == "active") & (User.default_payment_method_id == payment_method_id))


def set_default_payment_method(user_id: str, payment_method_id: str, default: bool) -> Card:
    """Make a saved method the buyer's default (the one checkout uses when the buyer names
    none), or no longer; a buyer has one default at most, as it is one attribute of the user.

    Round trips: GetItem(user), Stripe retrieve the customer's payment method, UpdateItem(user)."""
    user = get_active_user(user_id)
    method = _own_payment_method(user, payment_method_id)
    if default:
        update_open_account(user, [User.default_payment_method_id.set(payment_method_id)], User.status == "active")
        user.default_payment_method_id = payment_method_id
    elif user.default_payment_method_id == payment_method_id:
        update_open_account(user, [User.default_payment_method_id.remove()], User.status == "active")
        user.default_payment_method_id = None
    return _card(method, user.default_payment_method_id)
