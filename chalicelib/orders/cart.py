"""Carts: one per signed-in buyer (kept, with the time it last changed, for abandoned-cart
reminders) and one per guest cart token. Prices are never stored in a cart: a cart shows,
and checkout charges, the products' current prices.

Every view of a cart shows, per seller part, its shipping to the destination: the country
asked for (``?country=``), else the signed-in buyer's default shipping address's; with
neither the view says so and offers no option. Quotes are
:func:`chalicelib.shipping.engine.quote`'s on the lines' current prices (the view applies no
discount). The routes add the checkout's pricing, ``checkout.quote_cart``: it quotes each
part's standard shipping again on the goods after discounts, with the profiles the view read
(no read of its own), and applies shipping promotions, so its total is what checkout charges
for the default options.

The cart keeps at most one promo code as the buyer typed it (``set_promo_code``; the
route checks it applies first, through the checkout's contributors, ``checkout.quote_cart``);
checkout uses it unless the checkout names another.

Round trips: read -> BatchGetItem cart (and the signed-in buyer's user item) + BatchGetItem
products, the sellers' shipping profiles (each default and those the lines say their
products name) and the default shipping address (2), one BatchGetItem more when a product
names another profile than its line says (the routes add the quote's reads); put/remove a
line -> 3 GetItems (pointer, product, seller) + GetItem cart + PutItem, then the view
(GetItem user for a signed-in buyer without ``country`` + the BatchGetItem) (7), retried
when the cart changed concurrently (version condition); set or remove the code -> GetItem
cart + UpdateItem, then the view. Constant in lines and sellers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.accounts.models import Address, User
from chalicelib.accounts.profile import default_address_keys
from chalicelib.catalog.browse import public_product
from chalicelib.catalog.models import Product
from chalicelib.core import clock
from chalicelib.core.auth import new_secret
from chalicelib.core.db import LabelledTransaction, Stale, find_item, retrying, was_condition_failure
from chalicelib.core.errors import Code, Conflict, NotFound, ValidationFailed
from chalicelib.core.keys import (
    CART_SK,
    GUEST_CART_PREFIX,
    PROFILE_SK,
    carts_changed_key,
    guest_cart_key,
    product_sk,
    timed_sort_key,
    user_key,
)
from chalicelib.core.keys import seller_key as product_seller_key
from chalicelib.core.money import CurrencyMismatch, Money
from chalicelib.core.peppers import hash_secret, secret_hashes
from chalicelib.orders.extensions import Found, Key, read_items
from chalicelib.orders.models import Cart
from chalicelib.orders.states import MAX_CART_LINES, MAX_LINE_QUANTITY
from chalicelib.shipping import engine as shipping_engine
from chalicelib.shipping.models import ShippingProfile
from chalicelib.shipping.service import profile_keys, profiles_from

CART_TOKEN_PREFIX = "cart_"
GUEST_CART_TTL_SECONDS = 30 * 24 * 3600
MAX_WRITE_ATTEMPTS = 3
_TOKEN = re.compile(r"^cart_[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class CartRef:
    """Whose cart: a buyer's (``user_id``) or a guest's (``token``, shown once when new)."""

    pk: str
    user_id: str | None
    token: str | None = None
    new_token: bool = False

    @property
    def scope(self) -> str:
        """What an Idempotency-Key is unique within."""
        return self.user_id or self.pk.removeprefix(GUEST_CART_PREFIX)


def cart_ref(user_id: str | None, token: str | None, *, create: bool = False) -> CartRef | None:
    """The cart a request addresses; a guest without a token gets a new one when ``create``."""
    if user_id:
        return CartRef(pk=user_key(user_id), user_id=user_id)
    if token:
        if not _TOKEN.match(token):
            raise ValidationFailed("The cart token is malformed.", code=Code.INVALID_CART_TOKEN,
                                   details=[{"field": "header.X-Cart-Token", "message": "not a cart token",
                                             "type": "value_error"}])
        return CartRef(pk=_guest_cart_pk(token), user_id=None, token=token)
    if create:
        token = new_secret(CART_TOKEN_PREFIX)
        return CartRef(pk=guest_cart_key(hash_secret(token)), user_id=None, token=token, new_token=True)
    return None


def _guest_cart_pk(token: str) -> str:
    """The key of a guest's cart. While the pepper ring holds older versions (after a
    rotation), a cart made before it is found under its own version (one BatchGetItem more);
    otherwise the key is computed without a read."""
    keys = [guest_cart_key(digest) for digest in secret_hashes(token)]
    if len(keys) > 1:
        found = {cart.PK for cart in Cart.batch_get([(pk, CART_SK) for pk in keys])}
        return next((pk for pk in keys if pk in found), keys[0])
    return keys[0]


@dataclass(frozen=True)
class CartLine:
    product_id: str
    seller_id: str
    quantity: int
    added_at: str
    product: Product | None  # None: the product no longer exists

    @property
    def available(self) -> bool:
        """On sale and enough in stock for this quantity (the seller's standing is checked at checkout)."""
        return self.product is not None and self.product.is_listed and int(self.product.stock) >= self.quantity

    @property
    def line_total(self) -> Money | None:
        if self.product is None:
            return None
        return Money(self.product.currency, int(self.product.price) * self.quantity)


@dataclass(frozen=True)
class PartShipping:
    """One seller's part of the cart and its shipping quote (None: no destination known, or no
    line of the part can be ordered now); ``profiles`` are the seller's as read with the
    products, so the cart's pricing quotes shipping without reading them again."""

    seller_id: str
    quote: shipping_engine.Quote | None
    profiles: Mapping[str, shipping_engine.Profile] = field(default_factory=dict)


@dataclass(frozen=True)
class CartView:
    ref: CartRef | None
    lines: list[CartLine]
    updated_at: str | None
    country: str | None = None  # where the shipping quotes are for; None: unknown
    shipping: tuple[PartShipping, ...] = ()  # per seller, in the order of the lines
    promo_code: str | None = None

    def totals(self) -> list[Money]:
        """The sum of the available lines, per currency."""
        sums: dict[str, int] = {}
        for line in self.lines:
            if line.available and line.line_total is not None:
                sums[line.line_total.currency] = sums.get(line.line_total.currency, 0) + line.line_total.amount
        return [Money(currency, amount) for currency, amount in sorted(sums.items())]


def load_cart(ref: CartRef) -> Cart | None:
    return find_item(Cart, ref.pk, CART_SK, consistent_read=True)


def products_of(lines: dict[str, Any]) -> dict[str, Product]:
    """The cart's products by id, one BatchGetItem (a cart has at most 50 lines)."""
    keys = [(product_seller_key(line["seller_id"]), product_sk(pid)) for pid, line in lines.items()]
    return {p.product_id: p for p in Product.batch_get(keys, consistent_read=True)} if keys else {}


def _profiles_named(lines: dict[str, Any], products: dict[str, Product] | None = None) -> dict[str, set[str | None]]:
    """Per seller, the shipping profiles its lines' products name: as the lines say, or as
    ``products`` (read) say."""
    named: dict[str, set[str | None]] = {}
    for pid, line in lines.items():
        product = products.get(pid) if products is not None else None
        profile_id = product.shipping_profile_id if product is not None else line.get("shipping_profile_id")
        named.setdefault(line["seller_id"], set()).add(profile_id)
    return named


def _view(ref: CartRef | None, cart: Cart | None, *, country: str | None = None, user: User | None = None,
          user_read: bool = False) -> CartView:
    """The cart with its products and shipping: one BatchGetItem of the products, the sellers'
    profiles and the buyer's default shipping address (after a GetItem of the user when a
    signed-in buyer's destination is asked for and ``user`` was not read with the cart)."""
    if cart is None or not cart.lines:
        return CartView(ref=ref, lines=[], updated_at=cart.updated_at if cart else None, country=country,
                        promo_code=cart.promo_code if cart else None)
    if country is None and ref is not None and ref.user_id and not user_read:
        user = find_item(User, user_key(ref.user_id), PROFILE_SK)
    product_keys = [Key(Product, product_seller_key(line["seller_id"]), product_sk(pid))
                    for pid, line in cart.lines.items()]
    hinted = [Key(ShippingProfile, pk, sk) for pk, sk in profile_keys(_profiles_named(cart.lines))]
    address_key = None
    if country is None and user is not None and user.default_shipping_address_id:
        address_key = Key(Address, *default_address_keys(user)["shipping"])
    found = Found(read_items([*product_keys, *hinted, *([address_key] if address_key else [])],
                             consistent_read=True))
    products: dict[str, Product] = {p.product_id: p for p in found.all(product_keys)}
    wanted = [Key(ShippingProfile, pk, sk) for pk, sk in profile_keys(_profiles_named(cart.lines, products))]
    unread = [key for key in wanted if (key.pk, key.sk) not in {(k.pk, k.sk) for k in hinted}]
    if unread:  # a product names another profile than its line says
        found = found.merged(read_items(unread, consistent_read=True))
    if country is None and address_key is not None and found.get(address_key) is not None:
        country = str(found.get(address_key).country).upper()
    lines = [CartLine(product_id=pid, seller_id=line["seller_id"], quantity=int(line["quantity"]),
                      added_at=line["added_at"], product=products.get(pid))
             for pid, line in sorted(cart.lines.items(), key=lambda item: item[1]["added_at"])]
    seller_ids = list(dict.fromkeys(line.seller_id for line in lines))
    profiles = profiles_from(seller_ids, found.all(wanted))
    shipping = tuple(PartShipping(seller_id=seller_id, quote=_quote(
        [line for line in lines if line.seller_id == seller_id], profiles[seller_id], country),
        profiles=profiles[seller_id]) for seller_id in seller_ids)
    return CartView(ref=ref, lines=lines, updated_at=cart.updated_at, country=country, shipping=shipping,
                    promo_code=cart.promo_code)


def _quote(lines: list[CartLine], profiles: dict[str, shipping_engine.Profile],
           country: str | None) -> shipping_engine.Quote | None:
    """The part's quote for the lines that can be ordered now, at their current prices."""
    orderable = [line for line in lines if line.available and line.product is not None]
    if country is None or not orderable:
        return None
    try:
        return shipping_engine.quote(profiles, [
            shipping_engine.Line(product_id=line.product_id, profile_id=line.product.shipping_profile_id,
                                 quantity=line.quantity, goods_value=line.line_total)
            for line in orderable if line.product is not None and line.line_total is not None], country)
    except CurrencyMismatch:  # goods in another currency than the seller's rates: checkout refuses them too
        return shipping_engine.Quote(undeliverable=tuple(line.product_id for line in orderable), options=(),
                                     free_shipping=())


def get_cart(ref: CartRef | None, *, country: str | None = None) -> CartView:
    """The cart; shipping quoted for ``country``, else the signed-in buyer's default shipping
    address's country (the user item read with the cart)."""
    if ref is None:
        return _view(None, None, country=country)
    if ref.user_id and country is None:
        cart_at, user_at = Key(Cart, ref.pk, CART_SK), Key(User, user_key(ref.user_id), PROFILE_SK)
        found = Found(read_items([cart_at, user_at], consistent_read=True))
        return _view(ref, found.get(cart_at), user=found.get(user_at), user_read=True)
    return _view(ref, load_cart(ref), country=country)


def _unavailable(product_id: str) -> NotFound:
    return NotFound("No such product on sale.", code=Code.PRODUCT_NOT_FOUND, details={"product_id": product_id})


def _save(ref: CartRef, cart: Cart | None, lines: dict[str, Any]) -> Cart:
    now = clock.stamp()
    version = int(cart.version) if cart is not None else 0
    saved = Cart(ref.pk, CART_SK, user_id=ref.user_id, lines=lines, version=version + 1, updated_at=now,
                 promo_code=cart.promo_code if cart is not None else None)
    if ref.user_id is None:
        saved.expires_at = int(time.time()) + GUEST_CART_TTL_SECONDS
    elif lines:
        saved.GSI3PK, saved.GSI3SK = carts_changed_key(now[:10], ref.user_id), timed_sort_key(now, ref.user_id)
    condition = Cart.PK.does_not_exist() if cart is None else (Cart.version == version)
    saved.save(condition=condition)
    return saved


def _change(ref: CartRef, product_id: str, quantity: int, country: str | None = None) -> CartView:
    """Set a line's quantity (0 removes it), re-applied when the cart changed meanwhile."""
    product: Product | None = None
    if quantity:
        try:
            product, _ = public_product(product_id)
        except NotFound:
            raise _unavailable(product_id) from None
        if int(product.stock) < quantity:
            raise Conflict("Not enough in stock for that quantity.", code=Code.INSUFFICIENT_STOCK,
                           details={"products": [{"product_id": product_id, "requested": quantity,
                                                  "available": int(product.stock)}]})
    for _ in range(MAX_WRITE_ATTEMPTS):
        cart = load_cart(ref)
        lines = dict(cart.lines) if cart is not None else {}
        if quantity == 0:
            if product_id not in lines:
                return _view(ref, cart, country=country)
            del lines[product_id]
        else:
            assert product is not None
            if product_id not in lines and len(lines) >= MAX_CART_LINES:
                raise Conflict(f"A cart holds at most {MAX_CART_LINES} different products.", code=Code.CART_FULL)
            added = lines.get(product_id, {}).get("added_at") or clock.stamp()
            # currency, category and shipping profile let checkout name its fee, sales and profile
            # keys before reading the products
            lines[product_id] = {"seller_id": product.seller_id, "quantity": quantity, "added_at": added,
                                 "currency": product.currency, "category": product.category,
                                 **({"shipping_profile_id": product.shipping_profile_id}
                                    if product.shipping_profile_id else {})}
        try:
            return _view(ref, _save(ref, cart, lines), country=country)
        except PutError as error:
            if not was_condition_failure(error):
                raise
    raise Conflict("The cart kept changing while this request was applied; try again.", code=Code.CONCURRENT_UPDATE)


def set_quantity(ref: CartRef, product_id: str, quantity: int, *, country: str | None = None) -> CartView:
    if not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise ValidationFailed(f"The quantity must be between 1 and {MAX_LINE_QUANTITY}.",
                               details=[{"field": "body.quantity", "message": "out of range", "type": "value_error"}])
    return _change(ref, product_id, quantity, country)


def remove_line(ref: CartRef, product_id: str, *, country: str | None = None) -> CartView:
    return _change(ref, product_id, 0, country)


def merge_guest_cart(user_id: str, token: str) -> CartView:
    """After signing in, the guest cart joins the buyer's: quantities of a product in both
    add up (at most 99 each, 50 products), and the guest cart is gone. One transaction
    (buyer cart conditioned on its version, guest cart deleted), retried on a race."""
    guest_ref = cart_ref(None, token)
    mine = CartRef(pk=user_key(user_id), user_id=user_id)
    assert guest_ref is not None

    def attempt() -> CartView:
        guest, cart = load_cart(guest_ref), load_cart(mine)
        if guest is None or not guest.lines:
            return _view(mine, cart)
        lines = dict(cart.lines) if cart is not None else {}
        for product_id, line in sorted(guest.lines.items(), key=lambda item: item[1]["added_at"]):
            if product_id in lines:
                lines[product_id] = {**lines[product_id], "quantity": min(
                    MAX_LINE_QUANTITY, int(lines[product_id]["quantity"]) + int(line["quantity"]))}
            elif len(lines) < MAX_CART_LINES:
                lines[product_id] = dict(line)
        now = clock.stamp()
        version = int(cart.version) if cart is not None else 0
        merged = Cart(mine.pk, CART_SK, user_id=user_id, lines=lines, version=version + 1, updated_at=now,
                      promo_code=(cart.promo_code if cart is not None else None) or guest.promo_code,
                      GSI3PK=carts_changed_key(now[:10], user_id), GSI3SK=timed_sort_key(now, user_id))
        transaction = LabelledTransaction()
        transaction.put("cart", merged, Cart.PK.does_not_exist() if cart is None else (Cart.version == version))
        transaction.delete("guest", Cart(guest_ref.pk, CART_SK), Cart.version == guest.version)
        if transaction.commit():
            raise Stale
        return _view(mine, merged)

    return retrying(attempt, what="cart", attempts=MAX_WRITE_ATTEMPTS)


def set_promo_code(ref: CartRef, code: str | None, *, country: str | None = None) -> CartView:
    """Store ``code`` on the cart (None removes it), on the condition of the version read,
    retried when the cart changed meanwhile. The caller checked that it applies."""
    def attempt() -> CartView:
        cart = load_cart(ref)
        if cart is None or not cart.lines:
            raise Conflict("The cart is empty.", code=Code.CART_EMPTY)
        transaction = LabelledTransaction()
        version = int(cart.version)
        action = Cart.promo_code.set(code) if code else Cart.promo_code.remove()
        transaction.update("cart", cart, [action, Cart.version.set(version + 1)], Cart.version == version)
        if transaction.commit():
            raise Stale
        cart.promo_code, cart.version = code, version + 1
        return _view(ref, cart, country=country)

    return retrying(attempt, what="cart", attempts=MAX_WRITE_ATTEMPTS)
