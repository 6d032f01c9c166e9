"""Order items. Keys begin with their owner: a buyer's cart and orders live in the buyer's
partition, a seller's part of an order (the sub-order) in the seller's.

Keys
- ``Cart``: PK=USER#<user_id>, SK=CART for a signed-in buyer; PK=CART#<sha256(token)>, SK=CART
  for a guest (the token is a bearer secret the client keeps; only its hash is stored;
  guest carts expire by TTL after 30 days). One item: lines are a map product_id -> quantity
  and seller, at most ``MAX_CART_LINES``.
  - GSI3 (sparse, signed-in carts with lines): GSI3PK=CARTS_CHANGED#<yyyy-mm-dd>#<n>,
    GSI3SK=<updated_at>#<user_id> (``n``: the buyer's shard) — who changed a cart on a
    given day, for the abandoned-cart sweep (a Query per shard of a day, never Scan).
- ``Order``: PK=USER#<user_id>, SK=ORDER#<order_id> (ULIDs: newest last) — the marketplace
  order: totals, addresses, payment state and payment status (pending -> paid ->
  partially_refunded -> refunded, or cancelled before payment), the sellers it is split into.
  - GSI1 (sparse, only while payment is pending): GSI1PK=PAYMENT_DUE#<yyyy-mm-dd>#<n>,
    GSI1SK=<due ISO time>#<order_id> (``n``: the order's shard) — orders whose stock
    reservation runs out, for the release sweep (Query every shard of today's and
    yesterday's bucket up to now, in parallel).
- ``SubOrder``: PK=SELLER#<seller_id>, SK=ORDER#<order_id> — one seller's part of an order:
  its totals, fees, fulfilment state, transfer and refunds, and what changed on its lines
  since checkout (``line_state``). Its lines, and what checkout fixed for good (the buyer's
  name, email and shipping address, the price adjustments), are an item of their own
  (``SubOrderLines``), so that the sub-order every status move rewrites (table and GSI3)
  stays under 1 KB.
  - GSI3: GSI3PK=SELLER#<seller_id>#ORDERS#<status>, GSI3SK=<order_id> — a seller's
    orders of one status, newest first.
  - GSI2 (sparse, only while delivered): GSI2PK=COMPLETE_DUE#<yyyy-mm-dd>#<n>,
    GSI2SK=<due ISO time>#<seller_id>#<order_id> (``n``: the order's shard) — delivered
    parts whose return window ends that day, for the completion sweep.
  - GSI1 (sparse, from paid until the seller's transfer is recorded):
    GSI1PK=TRANSFER_DUE#<yyyy-mm-dd of payment>#<n>, GSI1SK=<paid ISO time>#<seller_id>#<order_id>
    — for the sweep that finishes transfers a dead Lambda left undone (``orders/recovery.py``).
- ``SubOrderLines``: PK=SELLER#<seller_id>, SK=LINES#<order_id> — the sub-order's lines as
  checkout priced them and the sub-order's fields fixed at checkout
  (``FIXED_AT_CHECKOUT``), written once in the checkout's transaction and
  never again but by an erasure; read with the sub-order in the same BatchGetItem.
  Sub-orders written before it carry their lines inline (``SubOrder.lines``, and no
  ``line_state``), and those written before the fixed fields moved carry these inline
  (their lines item has none); reads and writes keep both as they are.
- ``CheckoutKey``: PK=CHECKOUT#<scope>#<Idempotency-Key>, SK=CHECKOUT (scope: the buyer's
  user id, or the guest cart's hash) — written with ``attribute_not_exists`` in the
  checkout's transaction; holds the request's hash and the order id; TTL 48 h.
- ``Refund``: PK=USER#<user_id>, SK=REFUND#<order_id>#<refund_id> — one refund of one
  seller's lines: what it covers and how far it got (requested -> refunded).
  - GSI1 (sparse, only while requested): GSI1PK=REFUND_DUE#<yyyy-mm-dd of the request>,
    GSI1SK=<requested ISO time>#<user_id>#<order_id>#<refund_id> — for the sweep that
    finishes refunds a dead Lambda left ``requested`` (``orders/recovery.py``).

Access patterns and round trips
- cart: read (GetItem cart + BatchGetItem products) -> 2; change a line (GetItem pointer,
  product, seller; GetItem cart; PutItem conditioned on the cart's version) -> 5
- checkout, any number of lines and sellers -> constant (see ``checkout.py``)
- buyer: orders newest first (Query PK=USER#, SK begins_with ORDER#, then one BatchGetItem
  of the page's sub-orders) -> 2; one order (GetItem + BatchGetItem) -> 2
- seller: orders newest first (Query PK=SELLER#, SK begins_with ORDER#) or of one status
  (Query GSI3), then one BatchGetItem of the page's lines -> 2; one order (BatchGetItem of
  the sub-order and its lines) -> 1
- transitions: BatchGetItem sub-order and lines (+ GetItem order) + one TransactWriteItems -> 2-3
- payment due sweep: one Query per shard of a day bucket (in parallel), then per order
  the release transaction
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.attributes import CompactJSONAttribute
from chalicelib.core.db import GSI1, GSI2, GSI3, TableModel
from chalicelib.orders.states import (  # noqa: F401
    MAX_CART_LINES,
    MAX_LINE_QUANTITY,
    PAYMENT_STATUSES,
    STATUSES,
    TRANSITIONS,
)

# A sub-order's fields that checkout fixes for good (an erasure aside): kept in its lines item,
# so that the status moves rewrite (twice in a transaction, and in GSI3) an item under 1 KB.
FIXED_AT_CHECKOUT = ("buyer_name", "buyer_email", "shipping_address", "adjustments", "shipping")


class Cart(TableModel):
    user_id = UnicodeAttribute(null=True)  # None for a guest cart
    # product_id -> {"seller_id", "quantity", "added_at", "currency", "category",
    # "shipping_profile_id"}; the last three (the product's when put in; absent on older lines,
    # the profile also on products of the default) let checkout name its fee, sales and
    # shipping profile keys
    lines = CompactJSONAttribute(default=dict)
    promo_code = UnicodeAttribute(null=True)  # as the buyer typed it; checkout uses it unless given another
    version = NumberAttribute(default=0)
    updated_at = UnicodeAttribute()
    expires_at = NumberAttribute(null=True)  # guest carts only

    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    by_change_day = GSI3()


class Order(TableModel):
    order_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    buyer_name = UnicodeAttribute(default="")
    guest = UnicodeAttribute(null=True)  # "yes" when placed without signing in
    status = UnicodeAttribute()  # pending_payment | paid | cancelled (before payment)
    # PAYMENT_STATUSES: written with every change of status or refunded total; absent on orders
    # written before it existed, which ``states.order_payment_status`` derives on read
    payment_status = UnicodeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    currency = UnicodeAttribute()
    subtotal = NumberAttribute()
    discount = NumberAttribute()
    tax = NumberAttribute()
    total = NumberAttribute()  # goods and shipping: what the buyer is charged
    shipping = NumberAttribute(null=True)  # the parts' shipping (in ``total``); absent: 0 (before shipping)
    # PynamoDB types a list by its attribute class; the values it reads are str
    seller_ids: ListAttribute[str] = ListAttribute(of=UnicodeAttribute)  # type: ignore[arg-type]
    shipping_address = CompactJSONAttribute()
    billing_address = CompactJSONAttribute()
    vat_id = UnicodeAttribute(null=True)
    payment_method = UnicodeAttribute(null=True)  # a saved card the PaymentIntent is confirmed with
    payment_method_type = UnicodeAttribute(null=True)  # card | sepa_debit | paypal | klarna; absent: card
    stripe_customer_id = UnicodeAttribute(null=True)
    payment_intent_id = UnicodeAttribute(null=True)
    charge_id = UnicodeAttribute(null=True)
    amount_captured = NumberAttribute(default=0)
    amount_refunded = NumberAttribute(default=0)
    # payments Stripe captured that agora refused because they do not match the order, one per
    # PaymentIntent, for an operator: [{"mismatch", "expected", "received", "order_status", "at"}]
    # (orders/payment.py, ``refuse_payment``)
    payment_problems = JSONAttribute(null=True)
    payment_due_at = UnicodeAttribute()
    created_at = UnicodeAttribute()
    paid_at = UnicodeAttribute(null=True)
    cancelled_at = UnicodeAttribute(null=True)

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    by_payment_due = GSI1()


class StatusHistoryAttribute(CompactJSONAttribute):
    """A sub-order's status history, ``[{"status", "at"}]`` as the API shows it, stored as
    ``[[status, at]]``: 14 bytes an entry less in the item every move rewrites (and one
    entry more each time). Reads both forms."""

    def serialize(self, value: Any) -> str | None:
        return None if value is None else super().serialize([[entry["status"], entry["at"]] for entry in value])

    def deserialize(self, value: str) -> Any:
        return [{"status": entry[0], "at": entry[1]} if isinstance(entry, list) else entry
                for entry in json.loads(value, strict=False)]


class SubOrder(TableModel):
    order_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    # buyer_name, buyer_email, shipping_address and adjustments: stored here only on sub-orders
    # written before ``SubOrderLines`` carried them; on the others the reads fill them in
    # (``transitions.attach_lines``) and they are never written here
    buyer_name = UnicodeAttribute(default="", null=True)
    buyer_email = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    currency = UnicodeAttribute()
    # [{"line", "product_id", "sku", "title", "category", "quantity", "unit_price", "discount",
    #   "total", "tax_rate_bp", "tax", "fee", "refunded_quantity", "refunded_amount",
    #   "return_quantity"}]: stored here only on sub-orders written before ``SubOrderLines``;
    # on the others the reads fill it in (``transitions.attach_lines``) and it is never written
    lines = CompactJSONAttribute(null=True)
    # the lines' counters that change after checkout, for the lines where one is not 0:
    # {"<line>": {"refunded_quantity", "refunded_amount", "return_quantity"}}; present (maybe
    # empty) exactly when the lines are kept apart
    line_state = CompactJSONAttribute(null=True)
    subtotal = NumberAttribute()
    discount = NumberAttribute()
    tax = NumberAttribute()  # the lines' and the shipping's VAT
    total = NumberAttribute()  # the lines' totals and the shipping's amount
    fee = NumberAttribute()  # the lines' fees and the fee on shipping
    # the marketplace-funded part of ``discount`` and of the shipping's discount (``shipping``'s
    # ``marketplace_discount``; absent when none): the seller is credited ``total +
    # marketplace_discount``, the fee is on that and the transfer pays it less the fee
    marketplace_discount = NumberAttribute(null=True)
    tax_exempt = UnicodeAttribute(null=True)  # "yes" when the seller exempts this buyer
    # the checkout contributors' price adjustments, with who funds them (absent when none):
    # [{"line", "amount", "source", "label", "funding": {"seller_bp"}}]; ``discount`` is their sum
    adjustments = CompactJSONAttribute(null=True)
    shipping_address = CompactJSONAttribute(null=True)
    # fixed at checkout, so kept in the lines item like the adjustments (absent: no shipping,
    # 0, as before shipping existed): ``pricing.PricedShipping.to_json``, {"option", "price",
    # "discount", "amount", "tax", "vat": [[rate_bp, gross, tax]], "fee", "handling_days",
    # "delivery_days_min", "delivery_days_max", "adjustments"?, "marketplace_discount"?}
    shipping = CompactJSONAttribute(null=True)
    shipping_refunded = NumberAttribute(null=True)  # of ``shipping["amount"]``; absent: 0
    carrier = UnicodeAttribute(null=True)
    tracking_number = UnicodeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    return_reason = UnicodeAttribute(null=True)
    transfer_id = UnicodeAttribute(null=True)
    transferred = NumberAttribute(default=0)
    refunded = NumberAttribute(default=0)
    history = StatusHistoryAttribute(default=list)  # [{"status", "at"}], stored as [[status, at]]
    version = NumberAttribute(default=1)
    # the first and the last entry's "at" of ``history``: stored only on sub-orders written
    # before (a move removes ``updated_at``); the views read them from ``history``
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    paid_at = UnicodeAttribute(null=True)
    delivered_at = UnicodeAttribute(null=True)

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    by_transfer_due = GSI1()
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    by_completion_due = GSI2()
    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    by_status = GSI3()


class SubOrderLines(TableModel):
    # on lines items written before only: the keys say whose and which order's lines they are
    order_id = UnicodeAttribute(null=True)
    seller_id = UnicodeAttribute(null=True)
    # as ``SubOrder.lines`` at checkout without the counters (``transitions.kept_lines``); lines
    # items written before carry them, every one 0
    lines = CompactJSONAttribute()
    # as on ``SubOrder``; absent on lines items written before they moved here (the sub-order has them)
    buyer_name = UnicodeAttribute(null=True)
    buyer_email = UnicodeAttribute(null=True)
    shipping_address = CompactJSONAttribute(null=True)
    adjustments = CompactJSONAttribute(null=True)
    shipping = CompactJSONAttribute(null=True)


class CheckoutKey(TableModel):
    order_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()


class Refund(TableModel):
    refund_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    reason = UnicodeAttribute()  # cancelled | returned
    currency = UnicodeAttribute()
    amount = NumberAttribute()
    # [{"line", "amount", "line_total", "fee", "refunded_before", "marketplace_discount" (when the
    #   line has one)}] — what the ledger needs; refunded shipping is an entry with "line": 0 and
    #   "shipping": true (its total is the shipping's amount, its fee the fee on shipping)
    lines = CompactJSONAttribute()
    status = UnicodeAttribute(default="requested")  # requested | refunded
    stripe_refund_id = UnicodeAttribute(null=True)
    reversal_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    refunded_at = UnicodeAttribute(null=True)

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    by_due = GSI1()
