"""Checkout: price the cart, reserve its stock, split it per seller, start the payment.

One request, in order:
1. one BatchGetItem reads the Idempotency-Key (required), the cart, the signed-in buyer and
   the marketplace's settings (the payment methods it offers: another is a 422):
   a key seen before with the same body returns that order again (its PaymentIntent too);
   with another body it is a 422;
2. one BatchGetItem reads everything else the cart names (:class:`_Needs`): its products
   and sellers, the buyer's default addresses, what the checkout's contributors need (the
   buyer's customer records at each seller, the promotions' indexes and the promo code — the
   checkout's ``promo_code``, else the cart's —, the loyalty programme and the buyer's points
   balance and membership, :mod:`chalicelib.orders.contributors`), the fee
   schedules, the sellers' trailing sales and their shipping profiles (each seller's default,
   whose key the seller id gives, and those its products name); the cart's lines carry each
   product's seller, currency, category and shipping profile, so none of these waits for the
   products. The cart is priced with the contributors' adjustments and each part's shipping
   to the shipping address's country, in the option the body's ``shipping`` names for its
   seller (default standard), with the contributors' shipping adjustments (``pricing.py``); a
   part that cannot go there is a 422 ``undeliverable`` naming the seller and its products,
   and a contributor's notice with a problem (a promo code that no longer applies) is
   answered; in both cases nothing is written;
3. one TransactWriteItems writes the key (on condition that it does not exist: a request
   racing with the same key loses there, reads the stored key and is answered as a replay),
   the order, one sub-order per seller and its lines (an item apart), every product's stock reservation
   (``catalog.stock``), the contributors' items, the emptied cart and the outbox events. A
   line that cannot be reserved fails the whole checkout with a 409 naming the products and
   what is available; a contributor's item whose condition fails answers that contributor's
   refusal; a concurrent change of a price or of the cart prices it again;
   ``TransactionConflict`` is retried with jittered backoff;
4. one PaymentIntent for the total is created with the key ``order:<id>:payment_intent``,
   so the replay of step 1 — or two requests racing with one key — gets the same one, and
   one UpdateItem records its id on the order.

Round trips for a signed-in buyer, whatever the number of lines (<= 50) and sellers (<= 8):
DynamoDB BatchGetItem key, cart, user and the marketplace's settings; UpdateItem per checkout
limit (buyer, source address; not for a replay); BatchGetItem of read 2 (past 100 keys — 8
sellers whose lines span most categories — its pages are sent at once: one wait); TransactWriteItems; UpdateItem order
= 4 + the 2 limits. One more BatchGetItem when a contributor names follow-ups — the groups of
a buyer in a customer group (named by the customer records read 2 finds), the promotions named
by a code or by the automatic-promotion indexes read 2 finds, and the buyer's use counts of
those with a per-buyer limit: one read however many lines and promotions — and one when the
cart's lines said another currency, category or shipping profile than their products now
have (or none: lines put in before they said so). Stripe: retrieve the saved payment method
(a buyer with a Stripe customer paying with a saved or default method: its type), create
PaymentIntent (+ the buyer's Stripe customer, with a GetItem and an UpdateItem of the user,
once per buyer). A named saved address is a GetItem of its own; a guest is looked up by email, and a new
guest's account is created only after every check passed. ``bench/checkout_round_trips.py`` counts them.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from chalicelib.accounts.addresses import address_snapshot, snapshot, validated_address
from chalicelib.accounts.models import Address, User
from chalicelib.accounts.payment_methods import ensure_stripe_customer
from chalicelib.accounts.profile import default_address_keys
from chalicelib.accounts.service import ensure_account, find_user_by_email, get_user, open_account
from chalicelib.catalog.models import Product
from chalicelib.catalog.stock import StockHold, reserve_writes, stock_changed_event, summed
from chalicelib.core import clock, throttle
from chalicelib.core.db import LabelledTransaction, Stale, find_item, retrying
from chalicelib.core.errors import Code, Conflict, NotFound, PaymentRequired, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.keys import (
    CART_SK,
    CHECKOUT_SK,
    MARKETPLACE_SETTINGS_KEY,
    PROFILE_SK,
    checkout_key,
    order_sk,
    payment_due_key,
    product_sk,
    seller_key,
    sub_order_lines_sk,
    sub_order_status_index_key,
    timed_sort_key,
    user_key,
)
from chalicelib.core.money import Money
from chalicelib.events.service import new_event
from chalicelib.fees.models import FeeScheduleItem, MonthlySales
from chalicelib.fees.service import fee_policies_from, fee_policy_keys, trailing_sales_from, trailing_sales_keys
from chalicelib.orders.cart import CartRef, CartView, get_cart, load_cart, products_of, set_promo_code
from chalicelib.orders.contributors import contributor_keys, contributors, follow_up_keys, price_with_contributors
from chalicelib.orders.events import OrderedProduct, OrderPlaced, SellerShare
from chalicelib.orders.extensions import CheckoutContext, Found, Key, Notice, TransactionItem, read_items
from chalicelib.orders.models import FIXED_AT_CHECKOUT, Cart, CheckoutKey, Order, SubOrder, SubOrderLines
from chalicelib.orders.pricing import LineInput, PricedOrder, ShippingChoice, UnavailableOption
from chalicelib.orders.transitions import kept_lines, sub_orders_of
from chalicelib.payments import stripe_gateway
from chalicelib.payments.methods import enabled_payment_methods
from chalicelib.sellers.models import MarketplaceSettings, Seller
from chalicelib.shipping.engine import OptionKind
from chalicelib.shipping.models import ShippingProfile
from chalicelib.shipping.service import profile_keys, profiles_from

MAX_SELLERS = 8  # keeps the payment's transaction (ledger included) under DynamoDB's 100 items
PAYMENT_WINDOW = timedelta(minutes=30)
IDEMPOTENCY_TTL_SECONDS = 48 * 3600
MAX_ATTEMPTS = 5
# New checkouts (retries with a stored key do not count): each one reserves stock and creates a
# PaymentIntent, so a buyer or guest cart gets a few a minute; a source address, which many
# buyers may share (offices, carriers), many more.
CHECKOUTS_PER_BUYER = throttle.Rule("checkout-buyer", limit=10, window_seconds=60)
CHECKOUTS_PER_SOURCE = throttle.Rule("checkout-source", limit=300, window_seconds=60)
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
# Stripe's smallest charge per currency (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts)
MINIMUM_CHARGE = {"USD": 50, "EUR": 50, "GBP": 30, "CHF": 50, "CAD": 50, "AUD": 50, "DKK": 250, "NOK": 300,
                  "SEK": 300, "PLN": 200, "CZK": 1500, "HUF": 17500, "JPY": 50}

@dataclass(frozen=True)
class CheckoutInput:
    email: str | None = None
    name: str | None = None
    shipping_address: dict[str, Any] | None = None
    shipping_address_id: str | None = None
    billing_address: dict[str, Any] | None = None
    billing_address_id: str | None = None
    payment_method_id: str | None = None
    payment_method_type: str | None = None  # None: the saved method's type, else card
    promo_code: str | None = None
    shipping: dict[str, OptionKind] = field(default_factory=dict)  # seller id -> option
    redeem_points: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # the request body as sent, for the key's hash

    def request_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.raw, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    sub_orders: list[SubOrder]
    client_secret: str | None
    payment_status: str | None
    replayed: bool


@dataclass
class _Buyer:
    user_id: str | None  # None: a guest whose account is created once the checkout passed its checks
    email: str
    name: str
    guest: bool
    vat_id: str | None
    stripe_customer_id: str | None
    default_addresses: dict[str, Key]  # "shipping", "billing": read with the products (read 2)


@dataclass
class _Plan:
    order: Order
    sub_orders: list[SubOrder]
    holds: list[StockHold]
    cart: Cart
    context: CheckoutContext
    priced: PricedOrder


class _Repriced(Exception):
    """A price, a product's state or the cart changed between reading and writing."""


# --- reading and checking -----------------------------------------------------------------------


def _check_key(idempotency_key: str | None) -> str:
    if not idempotency_key:
        raise ValidationFailed("Checkout needs an Idempotency-Key header (a unique id per order attempt).",
                               code=Code.IDEMPOTENCY_KEY_REQUIRED,
                               details=[{"field": "header.Idempotency-Key", "message": "Field required",
                                         "type": "missing"}])
    if not IDEMPOTENCY_KEY.match(idempotency_key):
        raise ValidationFailed("The Idempotency-Key must be 8-128 letters, digits or . _ : -.",
                               code=Code.INVALID_IDEMPOTENCY_KEY,
                               details=[{"field": "header.Idempotency-Key", "message": "malformed",
                                         "type": "value_error"}])
    return idempotency_key


@dataclass(frozen=True)
class _FirstRead:
    """Read 1, one BatchGetItem: the Idempotency-Key (a replay is answered from it, before
    any limit counts), the cart, the signed-in buyer's user item and the marketplace's
    settings (the payment methods it offers)."""

    stored_key: CheckoutKey | None
    cart: Cart | None
    user: User | None
    settings: MarketplaceSettings | None = None


def _first_read(ref: CartRef, key: str) -> _FirstRead:
    key_at, cart_at = Key(CheckoutKey, checkout_key(ref.scope, key), CHECKOUT_SK), Key(Cart, ref.pk, CART_SK)
    user_at = Key(User, user_key(ref.user_id), PROFILE_SK) if ref.user_id else None
    settings_at = Key(MarketplaceSettings, *MARKETPLACE_SETTINGS_KEY)
    found = Found(read_items([key_at, cart_at, settings_at, *([user_at] if user_at else [])], consistent_read=True))
    return _FirstRead(stored_key=found.get(key_at), cart=found.get(cart_at),
                      user=found.get(user_at) if user_at else None, settings=found.get(settings_at))


def _payment_choice(data: CheckoutInput, buyer: _Buyer, user: User | None,
                    settings: MarketplaceSettings | None) -> CheckoutInput:
    """The buyer's payment method: the body's saved method or type, else the saved default,
    else a card; one the operator has not enabled is a 422 before anything is written. A
    saved method's type is Stripe's (one Stripe read, only for a buyer with saved methods)."""
    kind, method = data.payment_method_type, data.payment_method_id
    if method is None and kind is None and user is not None and user.default_payment_method_id:
        method = user.default_payment_method_id
    if method is not None and buyer.stripe_customer_id and not buyer.guest:
        saved = stripe_gateway.find_customer_payment_method(buyer.stripe_customer_id, method)
        if saved is not None:
            if kind is not None and kind != saved.type:
                raise ValidationFailed("The saved payment method is of another type than the one chosen.", details=[
                                           {"field": "body.payment_method_type", "message": f"the method is "
                                            f"{saved.type}", "type": "payment_method_mismatch"}])
            kind = str(saved.type)
        elif data.payment_method_id is None:  # the default was removed at Stripe meanwhile
            method = None
    kind = kind or "card"
    enabled = enabled_payment_methods(settings.payment_methods if settings is not None else None)
    if kind not in enabled:
        raise ValidationFailed(f"This marketplace does not accept {kind} payments.",
                               code=Code.PAYMENT_METHOD_NOT_ENABLED,
                               details=[{"field": "body.payment_method_type", "message": f"enabled: {list(enabled)}",
                                         "type": "payment_method_not_enabled"}])
    return replace(data, payment_method_id=method, payment_method_type=kind)


def _buyer(ref: CartRef, data: CheckoutInput, user: User | None) -> _Buyer:
    """The signed-in buyer (``user``, from read 1), or the guest by email. A guest without an
    account yet gets one only once the checkout has passed every check
    (:func:`_guest_account`), so a refused checkout creates nothing."""
    if ref.user_id:
        user = open_account(user)
        return _Buyer(user_id=user.user_id, email=user.email, name=user.name, guest=False, vat_id=user.vat_id,
                      stripe_customer_id=user.stripe_customer_id,
                      default_addresses={what: Key(Address, pk, sk)
                                         for what, (pk, sk) in default_address_keys(user).items()})
    if not data.email:
        raise ValidationFailed("A guest checkout needs the buyer's email.", code=Code.EMAIL_REQUIRED,
                               details=[{"field": "body.email", "message": "Field required", "type": "missing"}])
    # A guest proves nothing about the address: the order joins the address's account (its
    # owner sees it after signing in by link), but nothing of that account (its name, VAT id,
    # addresses, cards) reaches the guest or the order, and nothing on it changes.
    user = find_user_by_email(data.email)
    return _Buyer(user_id=user.user_id if user else None, email=user.email if user else data.email,
                  name=data.name or "", guest=True, vat_id=None, stripe_customer_id=None, default_addresses={})


@dataclass(frozen=True)
class _Needs:
    """What a checkout reads besides the key, the cart and the user: the keys of read 2, one
    BatchGetItem whatever the number of lines and sellers. They are named from the cart,
    whose lines carry each product's seller, currency and category, so the fee schedules
    and the sellers' trailing sales are read with the products rather than after them."""

    products: list[Key]
    sellers: list[Key]
    addresses: list[Key]
    contributors: list[Key]  # the contributors' own keys (the buyer's customer records)
    fees: list[Key]
    sales: list[Key]
    profiles: list[Key]  # the sellers' default shipping profiles and those their products name

    def every_key(self) -> list[Key]:
        return [*self.products, *self.sellers, *self.addresses, *self.contributors, *self.fees, *self.sales,
                *self.profiles]


def _needs(buyer: _Buyer, lines: list[tuple[str, dict[str, Any]]], currency: str | None,
           categories: set[str], named: dict[str, set[str | None]], today: date,
           promo_code: str | None = None) -> _Needs:
    """The keys for these lines; none for pricing while the currency is unknown or the cart
    has more sellers than an order takes (it is refused)."""
    seller_ids = _seller_ids(lines)
    priced = currency is not None and len(seller_ids) <= MAX_SELLERS
    context = CheckoutContext(user_id=buyer.user_id, currency=currency or "", seller_ids=tuple(seller_ids),
                              promo_code=promo_code, guest=buyer.guest, email=buyer.email)
    return _Needs(
        products=[Key(Product, seller_key(line["seller_id"]), product_sk(pid)) for pid, line in lines],
        sellers=[Key(Seller, seller_key(seller_id), PROFILE_SK) for seller_id in seller_ids],
        addresses=list(buyer.default_addresses.values()),
        contributors=contributor_keys(context) if priced else [],
        fees=[Key(FeeScheduleItem, pk, sk) for pk, sk in fee_policy_keys(seller_ids, categories)] if priced else [],
        sales=[Key(MonthlySales, pk, sk) for pk, sk in trailing_sales_keys(seller_ids, currency or "", today)]
        if priced else [],
        profiles=[Key(ShippingProfile, pk, sk) for pk, sk in profile_keys(named)])


def _hinted(lines: list[tuple[str, dict[str, Any]]]) -> tuple[str | None, set[str], dict[str, set[str | None]]]:
    """The currency, categories and shipping profiles the cart's lines say (lines put in
    before they said so say nothing; what they miss is read after the products)."""
    currencies = {line.get("currency") for _, line in lines}
    currency = next(iter(currencies)) if len(currencies) == 1 else None
    named: dict[str, set[str | None]] = {}
    for _, line in lines:
        named.setdefault(line["seller_id"], set()).add(line.get("shipping_profile_id"))
    return currency, {line["category"] for _, line in lines if line.get("category")}, named


def _shipping_options(data: CheckoutInput, seller_ids: list[str]) -> dict[str, OptionKind]:
    """The body's option per seller; a seller not in the cart is a 422 (a stale page's choice
    would silently ship standard otherwise)."""
    strangers = sorted(set(data.shipping) - set(seller_ids))
    if strangers:
        raise ValidationFailed("Shipping was chosen for sellers who are not in the cart.",
                               details=[{"field": f"body.shipping.{seller_id}", "message": "not a seller of the cart",
                                         "type": "value_error"} for seller_id in strangers])
    return dict(data.shipping)


def _seller_ids(lines: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return list(dict.fromkeys(line["seller_id"] for _, line in lines))


def _guest_account(buyer: _Buyer, data: CheckoutInput) -> None:
    """Create (or, after a race, link) the guest's passwordless account."""
    user, _ = ensure_account(buyer.email, name=data.name or "", method="guest_checkout")
    buyer.user_id, buyer.email = user.user_id, user.email


def _address_dict(address: Any) -> dict[str, Any] | None:
    return snapshot(address) if address is not None else None


def _address(buyer: _Buyer, given: dict[str, Any] | None, address_id: str | None,
             default: dict[str, Any] | None, what: str) -> dict[str, Any] | None:
    if given is not None:
        try:
            return validated_address(given)
        except ValidationFailed as error:  # name the field where the checkout body has it
            for detail in error.details or []:
                detail["field"] = f"body.{what}_address." + detail["field"].removeprefix("body.")
            raise
    if address_id is not None:
        if buyer.guest or buyer.user_id is None:  # only a guest has no account yet
            raise ValidationFailed("Guests type their address in; saved addresses need signing in.",
                                   code=Code.ADDRESS_ID_NEEDS_ACCOUNT,
                                   details=[{"field": f"body.{what}_address_id", "message": "sign in first",
                                             "type": "value_error"}])
        return address_snapshot(buyer.user_id, address_id)
    return default


def _insufficient(shortages: list[dict[str, Any]]) -> Conflict:
    return Conflict("Some products are not available in the quantity ordered.", code=Code.INSUFFICIENT_STOCK,
                    details={"products": shortages})


def _shortages(holds: list[StockHold], products: dict[str, Product]) -> list[dict[str, Any]]:
    return [{"product_id": h.product_id, "title": products[h.product_id].title if h.product_id in products else None,
             "requested": h.quantity, "available": int(products[h.product_id].stock) if h.product_id in products else 0}
            for h in summed(holds)
            if h.product_id not in products or int(products[h.product_id].stock) < h.quantity]


def _plan(ref: CartRef, buyer: _Buyer, data: CheckoutInput, cart: Cart | None) -> _Plan:
    if cart is None or not cart.lines:
        raise Conflict("The cart is empty.", code=Code.CART_EMPTY)  # the cart's state, not the request
    lines = sorted(cart.lines.items(), key=lambda item: item[1]["added_at"])
    today = clock.today()
    # a code given with the checkout, or else the one stored on the cart ("" asks for none)
    promo_code = (data.promo_code if data.promo_code is not None else cart.promo_code) or None
    asked = _needs(buyer, lines, *_hinted(lines), today, promo_code)
    found = Found(read_items(asked.every_key(), consistent_read=True))  # read 2
    products: dict[str, Product] = {p.product_id: p for p in found.all(asked.products)}
    sellers: dict[str, Seller] = {s.seller_id: s for s in found.all(asked.sellers)}
    gone = [pid for pid, line in lines
            if pid not in products or not products[pid].is_listed
            or line["seller_id"] not in sellers or not sellers[line["seller_id"]].can_sell]
    if gone:
        raise Conflict("Some products in the cart are no longer on sale; remove them and check out again.",
                       code=Code.PRODUCTS_UNAVAILABLE, details={"products": [{"product_id": pid} for pid in gone]})
    currencies = sorted({products[pid].currency for pid, _ in lines})
    if len(currencies) > 1:
        raise ValidationFailed("A cart can be paid in one currency only; split it into several orders.",
                               code=Code.MIXED_CURRENCIES,
                               details=[{"field": "cart", "message": "products in several currencies",
                                         "type": "mixed_currencies", "currencies": currencies}])
    seller_ids = _seller_ids(lines)
    if len(seller_ids) > MAX_SELLERS:
        raise ValidationFailed(f"One order can include at most {MAX_SELLERS} sellers.", code=Code.TOO_MANY_SELLERS)
    holds = [StockHold(line["seller_id"], pid, int(line["quantity"]), int(products[pid].price)) for pid, line in lines]
    short = _shortages(holds, products)
    if short:
        raise _insufficient(short)

    currency = currencies[0]
    categories = {products[pid].category for pid, _ in lines}
    named: dict[str, set[str | None]] = {}
    for pid, line in lines:
        named.setdefault(line["seller_id"], set()).add(products[pid].shipping_profile_id)
    needs = _needs(buyer, lines, currency, categories, named, today, promo_code)
    read = {(key.pk, key.sk) for key in asked.every_key()}
    unread = [key for key in needs.every_key() if (key.pk, key.sk) not in read]
    if unread:  # the cart's lines said another currency, category or profile than the products now have, or none
        found = found.merged(read_items(unread, consistent_read=True))
    defaults = {what: _address_dict(found.get(key)) for what, key in buyer.default_addresses.items()}
    shipping = _address(buyer, data.shipping_address, data.shipping_address_id, defaults.get("shipping"), "shipping")
    if shipping is None:
        raise ValidationFailed("Where should the order go? Give a shipping address.",
                               code=Code.SHIPPING_ADDRESS_REQUIRED,
                               details=[{"field": "body.shipping_address", "message": "Field required",
                                         "type": "missing"}])
    options = _shipping_options(data, seller_ids)
    context = CheckoutContext(user_id=buyer.user_id, currency=currency, seller_ids=tuple(seller_ids), found=found,
                              destination_country=str(shipping["country"]).upper(), promo_code=promo_code,
                              now=clock.now(), guest=buyer.guest, email=buyer.email,
                              redeem_points=data.redeem_points)
    follow_ups = follow_up_keys(context)
    if follow_ups:  # named by what read 2 found: the groups of a buyer who is in one, the promotions
        context = replace(context, found=found.merged(read_items(follow_ups)))
    profiles = profiles_from(seller_ids, found.all(needs.profiles))
    try:
        priced, notices = price_with_contributors(
            context,
            [LineInput(product_id=pid, seller_id=line["seller_id"], sku=products[pid].sku, title=products[pid].title,
                       category=products[pid].category, unit_price=Money(currency, int(products[pid].price)),
                       quantity=int(line["quantity"]), shipping_profile_id=products[pid].shipping_profile_id,
                       brand=products[pid].brand) for pid, line in lines],
            countries={sid: sellers[sid].country for sid in seller_ids},
            policies=fee_policies_from(seller_ids, categories, found.all(needs.fees)),
            trailing_sales=trailing_sales_from(seller_ids, currency, found.all(needs.sales), today),
            shipping={sid: ShippingChoice(profiles=profiles[sid], country=context.destination_country or "",
                                          option=options.get(sid, "standard")) for sid in seller_ids})
    except UnavailableOption as unavailable:
        raise ValidationFailed(f"This seller offers no {unavailable.option} shipping to {context.destination_country}.",
                               code=Code.SHIPPING_OPTION_UNAVAILABLE,
                               details=[{"field": f"body.shipping.{unavailable.seller_id}",
                                         "message": f"no {unavailable.option} shipping there",
                                         "type": "shipping_option_unavailable"}]) from None
    if priced.undeliverable:
        raise ValidationFailed(f"Some products cannot be delivered to {context.destination_country}; remove them "
                               "or ship elsewhere.", code=Code.UNDELIVERABLE,
                               details=[{"field": "cart", "message": f"not delivered to {context.destination_country}",
                                         "type": "undeliverable", "seller_id": seller_id, "products": list(products_)}
                                        for seller_id, products_ in priced.undeliverable.items()])
    problem = next((notice.problem for notice in notices if notice.problem is not None), None)
    if problem is not None:  # e.g. the promo code no longer applies: nothing is written
        raise problem
    if data.payment_method_type == "sepa_debit" and currency != "EUR":
        raise ValidationFailed("SEPA direct debits are in euros only.", code=Code.PAYMENT_METHOD_NOT_ENABLED,
                               details=[{"field": "body.payment_method_type", "message": "SEPA debits EUR only",
                                         "type": "payment_method_currency"}])
    minimum = MINIMUM_CHARGE.get(currency, 50)
    if priced.total.amount < minimum:
        raise ValidationFailed("The order total is below the smallest amount that can be charged.",
                               code=Code.ORDER_BELOW_MINIMUM,
                               details=[{"field": "cart", "message": "total below the smallest charge",
                                         "type": "order_below_minimum", "total": priced.total.to_json(),
                                         "minimum": Money(currency, minimum).to_json()}])

    billing = _address(buyer, data.billing_address, data.billing_address_id, defaults.get("billing"), "billing")
    if buyer.user_id is None:
        _guest_account(buyer, data)
    assert buyer.user_id is not None

    order_id, now = new_id("ord"), clock.now()
    created, due = clock.stamp(now), clock.stamp(now + PAYMENT_WINDOW)
    order = Order(user_key(buyer.user_id), order_sk(order_id), order_id=order_id, user_id=buyer.user_id,
                  email=buyer.email, buyer_name=buyer.name, guest="yes" if buyer.guest else None,
                  status="pending_payment", payment_status="pending", currency=currency,
                  subtotal=priced.subtotal.amount, discount=priced.discount.amount, tax=priced.tax.amount,
                  total=priced.total.amount, shipping=priced.shipping.amount or None, seller_ids=seller_ids,
                  shipping_address=shipping,
                  billing_address=billing or shipping,
                  vat_id=buyer.vat_id, payment_method=data.payment_method_id,
                  payment_method_type=data.payment_method_type,
                  stripe_customer_id=buyer.stripe_customer_id, payment_due_at=due, created_at=created,
                  GSI1PK=payment_due_key(due[:10], order_id), GSI1SK=timed_sort_key(due, order_id))
    sub_orders = [
        SubOrder(seller_key(part.seller_id), order_sk(order_id), order_id=order_id, seller_id=part.seller_id,
                 user_id=buyer.user_id, buyer_name=buyer.name, buyer_email=buyer.email, status="pending_payment",
                 currency=currency, lines=[line.to_json() for line in part.lines], line_state={},
                 subtotal=part.subtotal.amount,
                 discount=part.discount.amount, tax=part.tax.amount, total=part.total.amount, fee=part.fee.amount,
                 marketplace_discount=part.marketplace_discount.amount or None,
                 tax_exempt="yes" if part.tax_exempt else None, shipping_address=shipping,
                 adjustments=[adjustment.to_json() for adjustment in part.adjustments] or None,
                 shipping=part.shipping.to_json() if part.shipping is not None and part.shipping.price.amount else None,
                 history=[{"status": "pending_payment", "at": created}], version=1,
                 GSI3PK=sub_order_status_index_key(part.seller_id, "pending_payment"),
                 GSI3SK=order_id)
        for part in priced.sellers
    ]
    return _Plan(order=order, sub_orders=sub_orders, holds=holds, cart=cart, context=context, priced=priced)


# --- the cart's quote ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CartQuote:
    """The cart priced as checkout would price it now, and what the contributors say (a
    promo code applied, or why not)."""

    priced: PricedOrder
    notices: list[Notice]


def quote_cart(view: CartView, *, country: str | None = None, promo_code: str | None = None) -> CartQuote | None:
    """The available lines priced through the checkout's contributors with the cart's code
    (or ``promo_code``) for ``country`` and, when ``country`` is known, each part's standard
    shipping there with the contributors' shipping adjustments: what checkout charges for
    the default options. One BatchGetItem (sellers, the contributors' keys, fees, sales) and
    one more when the contributors name follow-ups (promotions, groups). None when there is
    nothing to price (no available line, several currencies, too many sellers). The
    products and the sellers' shipping profiles are the view's."""
    available = [line for line in view.lines if line.available and line.product is not None]
    if view.ref is None or not available or len({line.product.currency for line in available if line.product}) > 1:
        return None
    products = {line.product_id: line.product for line in available if line.product is not None}
    seller_ids = list(dict.fromkeys(line.seller_id for line in available))
    if len(seller_ids) > MAX_SELLERS:
        return None
    currency = available[0].product.currency if available[0].product else ""
    categories = {product.category for product in products.values()}
    today = clock.today()
    code = view.promo_code if promo_code is None else promo_code
    context = CheckoutContext(user_id=view.ref.user_id, currency=currency, seller_ids=tuple(seller_ids),
                              destination_country=country, promo_code=code or None, now=clock.now(),
                              guest=view.ref.user_id is None)
    seller_keys = [Key(Seller, seller_key(seller_id), PROFILE_SK) for seller_id in seller_ids]
    fees = [Key(FeeScheduleItem, pk, sk) for pk, sk in fee_policy_keys(seller_ids, categories)]
    sales = [Key(MonthlySales, pk, sk) for pk, sk in trailing_sales_keys(seller_ids, currency, today)]
    found = Found(read_items([*seller_keys, *contributor_keys(context), *fees, *sales]))
    context = replace(context, found=found)
    follow_ups = follow_up_keys(context)
    if follow_ups:
        context = replace(context, found=found.merged(read_items(follow_ups)))
    sellers: dict[str, Seller] = {s.seller_id: s for s in found.all(seller_keys)}
    if set(seller_ids) - set(sellers):
        return None
    priced, notices = price_with_contributors(
        context,
        [LineInput(product_id=pid, seller_id=product.seller_id, sku=product.sku, title=product.title,
                   category=product.category, unit_price=Money(currency, int(product.price)),
                   quantity=next(line.quantity for line in available if line.product_id == pid),
                   shipping_profile_id=product.shipping_profile_id, brand=product.brand)
         for pid, product in products.items()],
        countries={sid: sellers[sid].country for sid in seller_ids},
        policies=fee_policies_from(seller_ids, categories, found.all(fees)),
        trailing_sales=trailing_sales_from(seller_ids, currency, found.all(sales), today),
        shipping={part.seller_id: ShippingChoice(profiles=part.profiles, country=country, option="standard")
                  for part in view.shipping if part.seller_id in seller_ids} if country else None)
    return CartQuote(priced=priced, notices=notices)


def apply_promo_code(ref: CartRef | None, code: str, *, country: str | None = None
                     ) -> tuple[CartView, CartQuote | None]:
    """Store ``code`` on the cart if it applies to it now; a code that does not apply is a
    422 ``promo_code_invalid`` with the reason (``details[0].reason``) and is not stored, so
    the cart never holds a code the buyer was told is wrong. A code whose reason may pass
    by itself (a minimum not reached yet) is refused too: the reply says what is missing."""
    view = get_cart(ref, country=country)
    if ref is None or not view.lines:
        raise Conflict("The cart is empty.", code=Code.CART_EMPTY)
    typed = code.strip()
    if not "".join(typed.split()):
        raise ValidationFailed("There is no such promo code.", code=Code.PROMO_CODE_INVALID, details=[
            {"field": "body.code", "message": "There is no such promo code.", "type": "code_unknown",
             "reason": "code_unknown"}])  # type: ignore[typeddict-unknown-key]
    quote = quote_cart(view, country=view.country, promo_code=typed)
    problem = next((n.problem for n in quote.notices if n.problem is not None), None) if quote else None
    if quote is None:
        raise Conflict("Nothing in the cart can be priced now; check its lines.", code=Code.PRODUCTS_UNAVAILABLE,
                       details={"products": [{"product_id": line.product_id} for line in view.lines
                                             if not line.available]})
    if problem is not None:
        for detail in problem.details or []:
            if isinstance(detail, dict):
                detail["field"] = "body.code"
        raise problem
    return set_promo_code(ref, typed, country=view.country), quote


# --- writing ------------------------------------------------------------------------------------

def _commit(plan: _Plan, ref: CartRef, key: str, request_hash: str) -> None:
    """The checkout's one transaction. Raises _KeyTaken, _Repriced, Conflict (stock) or
    TransactionContention."""
    order = plan.order
    transaction = LabelledTransaction()
    transaction.put("key", CheckoutKey(checkout_key(ref.scope, key), CHECKOUT_SK, order_id=order.order_id,
                                       user_id=order.user_id, request_hash=request_hash, created_at=order.created_at,
                                       expires_at=int(time.time()) + IDEMPOTENCY_TTL_SECONDS),
                    CheckoutKey.PK.does_not_exist())
    transaction.put("order", order, Order.PK.does_not_exist())
    for sub in plan.sub_orders:
        # the lines and the fields fixed at checkout in an item of their own, so that the
        # status moves do not rewrite them
        stored = SubOrder.from_raw_data(sub.serialize())
        stored.lines = None
        fixed = {name: getattr(sub, name) for name in FIXED_AT_CHECKOUT}
        for name in FIXED_AT_CHECKOUT:
            setattr(stored, name, None)
        transaction.put("sub_order", stored, SubOrder.PK.does_not_exist())
        transaction.put("sub_order_lines", SubOrderLines(sub.PK, sub_order_lines_sk(sub.order_id),
                                                         lines=kept_lines(sub.lines), **fixed))
    for hold, write in zip(summed(plan.holds), reserve_writes(plan.holds), strict=True):
        transaction.add(f"stock:{hold.product_id}", write)
    refusals: dict[str, TransactionItem] = {}
    for contributor in contributors:
        for index, item in enumerate(contributor.transaction_items(plan.context, order, plan.priced)):
            label = f"contributor:{contributor.name}:{index}"
            refusals[label] = item
            transaction.add(label, item.write)
    transaction.delete("cart", Cart(ref.pk, CART_SK), Cart.version == plan.cart.version)
    transaction.put("event", new_event(_placed(plan)))
    transaction.put("event", stock_changed_event(plan.holds))
    failed = transaction.commit()
    if "key" in failed:
        raise _KeyTaken
    refused = [refusals[label] for label in sorted(failed) if label in refusals]
    if refused:  # e.g. a promotion's usage cap reached: nothing was written
        raise refused[0].refusal
    if failed:  # a reservation (stock, price, state) or the cart changed; or, practically never, a ULID collided
        raise _Repriced


class _KeyTaken(Exception):
    """Another request with the same Idempotency-Key committed first."""


def _placed(plan: _Plan) -> OrderPlaced:
    order = plan.order
    return OrderPlaced(order_id=order.order_id, user_id=order.user_id, guest=bool(order.guest),
                       total=int(order.total), currency=order.currency,
                       sellers=[SellerShare(seller_id=s.seller_id, amount=int(s.total), currency=s.currency)
                                for s in plan.sub_orders],
                       products=[OrderedProduct(product_id=h.product_id, seller_id=h.seller_id, quantity=h.quantity)
                                 for h in summed(plan.holds)])


def _after_stock_failure(plan: _Plan) -> None:
    """A reservation's condition failed: either stock ran out (409 naming the products), or
    the price/state changed (price again)."""
    fresh = products_of(plan.cart.lines)
    short = _shortages(plan.holds, fresh)
    if short:
        raise _insufficient(short)


# --- the PaymentIntent --------------------------------------------------------------------------

def start_payment(order: Order) -> tuple[str | None, str | None]:
    """The order's PaymentIntent, created once (deterministic Stripe key from stored fields, so
    a replay sends identical parameters): (client secret, status). A declined saved card
    is a 402; the ``payment_intent.payment_failed`` webhook releases the stock."""
    import stripe

    customer_id = order.stripe_customer_id
    if customer_id is None and order.payment_method and not order.guest:
        # kept on the buyer's account, so a replay finds the same customer and sends the same parameters
        customer_id = ensure_stripe_customer(get_user(order.user_id))
    try:
        intent = stripe_gateway.create_payment_intent(
            order_id=order.order_id, user_id=order.user_id, amount=int(order.total), currency=order.currency,
            customer_id=customer_id, payment_method=order.payment_method, receipt_email=order.email,
            payment_method_type=order.payment_method_type or "card")
    except stripe.CardError as error:
        # The PaymentIntent is spent (a replay gets the same decline): end the order now and
        # give the stock back; the payment_failed webhook then finds nothing left to do.
        from chalicelib.orders.payment import release_unpaid

        body = error.json_body if isinstance(error.json_body, dict) else {}
        intent_id = (body.get("error") or {}).get("payment_intent", {}).get("id")
        if intent_id and order.payment_intent_id != intent_id:
            order.update(actions=[Order.payment_intent_id.set(intent_id)], condition=Order.PK.exists())
        release_unpaid(order, None, "payment_failed", cancel_payment=True)
        raise PaymentRequired("The card was declined; choose another payment method and check out again.",
                              details={"order_id": order.order_id, "decline_code": error.code}) from None
    if (order.payment_intent_id, order.stripe_customer_id) != (intent.id, customer_id):
        order.update(actions=[Order.payment_intent_id.set(intent.id),
                              *([Order.stripe_customer_id.set(customer_id)] if customer_id else [])],
                     condition=Order.PK.exists())
    return intent.client_secret, intent.status


# --- the whole checkout -------------------------------------------------------------------------

def _stored_key(ref: CartRef, key: str) -> CheckoutKey | None:
    return find_item(CheckoutKey, checkout_key(ref.scope, key), CHECKOUT_SK, consistent_read=True)


def _replay(stored: CheckoutKey, request_hash: str) -> CheckoutResult:
    """The order of a key seen before: GetItem order + BatchGetItem parts (+ the PaymentIntent)."""
    if stored.request_hash != request_hash:
        raise ValidationFailed("This Idempotency-Key was used for a different checkout; use a new key.",
                               code=Code.IDEMPOTENCY_KEY_REUSED,
                               details=[{"field": "header.Idempotency-Key", "message": "used for another checkout",
                                         "type": "idempotency_key_reused", "order_id": stored.order_id}])
    try:
        order = Order.get(user_key(stored.user_id), order_sk(stored.order_id), consistent_read=True)
    except Order.DoesNotExist:  # pragma: no cover - written in one transaction with the key
        raise NotFound("The order of this Idempotency-Key is gone.", code=Code.ORDER_NOT_FOUND) from None
    client_secret, status = start_payment(order) if order.status == "pending_payment" else (None, order.status)
    return CheckoutResult(order=order, sub_orders=sub_orders_of([order])[order.order_id],
                          client_secret=client_secret, payment_status=status, replayed=True)


def checkout(ref: CartRef | None, idempotency_key: str | None, data: CheckoutInput, *,
             source_ip: str | None = None) -> CheckoutResult:
    """A retry with the same key is answered from what was stored and counts against no limit;
    a new checkout counts against the buyer's (or guest cart's) and the caller's limits."""
    key = _check_key(idempotency_key)
    if ref is None:
        raise Conflict("The cart is empty.", code=Code.CART_EMPTY)  # the cart's state, not the request
    request_hash = data.request_hash()
    first = _first_read(ref, key)
    if first.stored_key is not None:
        return _replay(first.stored_key, request_hash)
    throttle.hit_all([(CHECKOUTS_PER_BUYER, ref.scope)] + ([(CHECKOUTS_PER_SOURCE, source_ip)] if source_ip else []))
    buyer = _buyer(ref, data, first.user)
    data = _payment_choice(data, buyer, first.user, first.settings)
    carts = [first.cart]  # the first attempt prices the cart of read 1; a retry reads the cart again

    def attempt() -> _Plan | CheckoutResult:
        plan = _plan(ref, buyer, data, carts.pop() if carts else load_cart(ref))
        try:
            _commit(plan, ref, key, request_hash)
        except (_KeyTaken, _Repriced) as lost:
            stored = _stored_key(ref, key)  # a request with this key may have won the race
            if stored is not None:
                return _replay(stored, request_hash)
            if isinstance(lost, _KeyTaken):  # pragma: no cover - the key is only ever written with its order
                raise
            _after_stock_failure(plan)
            raise Stale from None  # priced again from what the winner left
        return plan

    # The PaymentIntent is started only once the order is stored, outside the retried part.
    outcome = retrying(attempt, what="checkout", attempts=MAX_ATTEMPTS, exhausted=_contention)
    if isinstance(outcome, CheckoutResult):
        return outcome
    client_secret, status = start_payment(outcome.order)
    return CheckoutResult(order=outcome.order, sub_orders=outcome.sub_orders, client_secret=client_secret,
                          payment_status=status, replayed=False)


def _contention(_: Exception) -> Conflict:
    return Conflict("Too many checkouts touched these products at once; try again.", code=Code.CHECKOUT_CONTENTION)
