"""Saved payment methods: cards kept at Stripe on the buyer's Stripe customer.

agora stores only the customer id on the user; card details (brand, last four digits,
expiry) are read from Stripe when listed, so nothing sensitive is kept here. A card is
saved through a SetupIntent that the frontend confirms with Stripe.js; the customer is
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

_REQUEST_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")


@dataclass(frozen=True)
class SetupStarted:
    setup_intent_id: str
    client_secret: str


@dataclass(frozen=True)
class Card:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


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
    intent = stripe_gateway.create_setup_intent(customer_id=customer_id, user_id=user_id, request_key=key)
    return SetupStarted(setup_intent_id=intent.id, client_secret=intent.client_secret)


def _card(payment_method: Any) -> Card:
    card = payment_method.card
    return Card(payment_method_id=payment_method.id, brand=card.brand, last4=card.last4,
                exp_month=card.exp_month, exp_year=card.exp_year)


def cards_of(user: User) -> list[Card]:
    """Stripe list (none when the buyer has no customer yet)."""
    if not user.stripe_customer_id:
        return []
    return [_card(pm) for pm in stripe_gateway.list_cards(user.stripe_customer_id)]


def list_payment_methods(user_id: str) -> list[Card]:
    """Round trips: GetItem(user), Stripe list payment methods of the customer."""
    return cards_of(get_active_user(user_id))


def remove_payment_method(user_id: str, payment_method_id: str) -> None:
    """Detach a card of this buyer; any other card — another buyer's too — is a 404.

    Round trips: GetItem(user), Stripe retrieve the customer's payment method, Stripe detach."""
    user = get_active_user(user_id)
    missing = NotFound("No such payment method.", code=Code.PAYMENT_METHOD_NOT_FOUND)
    if not user.stripe_customer_id or not payment_method_id.startswith("pm_"):
        raise missing
    if stripe_gateway.find_customer_payment_method(user.stripe_customer_id, payment_method_id) is None:
        raise missing
    stripe_gateway.detach_payment_method(payment_method_id)
