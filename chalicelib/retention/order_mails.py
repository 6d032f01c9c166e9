"""The transactional mails of orders: to the buyer the confirmation, shipped, delivered, return
approved and refund issued; to the seller a new paid order and a return requested.

Always sent (no consent), each once: keyed by what it tells of (the order, one seller's part
in a state it enters once, the refund), so a redelivered event, or a subscriber run again
after a crash, queues the same dedupe key and the mail worker sends it once.

Language: the buyer's from their account, read here anyway for the current address (an
erased account gets nothing); the seller's from the account of its contact address, looked
up by the mail worker (as for Q&A mails). Amounts travel as ``Money.to_json`` and are written
out when the mail is rendered, in the mail's language (the ``money`` filter).

A seller's mail is made from that seller's sub-order alone: never another seller's lines or
the order's totals.

The events carry ids and amounts, not lines, addresses or carriers, so each mail reads what
it shows (round trips per event, besides one SQS SendMessage per mail):
- ``order.paid`` (the confirmation and one mail per seller): GetItem order, BatchGetItem
  sub-orders with their lines, BatchGetItem sellers, GetItem account, BatchGetItem the
  order's loyalty lots -> 5 for 1 + N mails;
- ``order.status_changed`` to ``shipped``, ``delivered`` or ``returned`` (to the buyer):
  BatchGetItem sub-order with lines, GetItem seller, GetItem account -> 3;
- to ``return_requested`` (to the seller): BatchGetItem sub-order with lines, GetItem seller -> 2;
- ``order.refund_requested`` (refund issued, to the buyer): GetItem refund, GetItem seller,
  GetItem account -> 3.
The seller's mails cost the mail worker its account lookup (GetItem email claim, GetItem
account); the buyer's carry their language, so the worker reads nothing for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from chalicelib.accounts.service import get_user
from chalicelib.core.db import find_item
from chalicelib.core.errors import NotFound
from chalicelib.core.keys import loyalty_lot_sk, order_sk, refund_sk, user_key
from chalicelib.core.logging import logger
from chalicelib.core.mail import EmailMessage, enqueue_email
from chalicelib.core.money import Money
from chalicelib.core.settings import get_settings
from chalicelib.events.registry import Delivered
from chalicelib.loyalty.earning import bonus_lot_id, order_lot_id
from chalicelib.loyalty.models import LoyaltyLot
from chalicelib.orders.events import OrderPaid, OrderStatusChanged, RefundRequested
from chalicelib.orders.models import Order, Refund, SubOrder
from chalicelib.orders.transitions import find_sub_order, sub_orders_of
from chalicelib.retention.mailer import language_of
from chalicelib.sellers.models import Seller
from chalicelib.sellers.service import get_seller, sellers_by_id

# Where a parcel of the carriers sellers name most can be followed; another carrier's mail
# gives the tracking number without a link. Matched on the carrier as the seller typed it,
# case and spaces aside.
TRACKING_URLS = {
    "dhl": "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={number}",
    "deutschepost": "https://www.deutschepost.de/de/s/sendungsverfolgung.html?piececode={number}",
    "dpd": "https://tracking.dpd.de/status/de_DE/parcel/{number}",
    "hermes": "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation#{number}",
    "gls": "https://gls-group.com/DE/de/paketverfolgung?match={number}",
    "ups": "https://www.ups.com/track?tracknum={number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
}

# The sub-order moves that mail the buyer, by the state entered.
BUYER_MOVES = {"shipped": "order_shipped", "delivered": "order_delivered", "returned": "return_approved"}


class RefundNotYetIssued(Exception):
    """The refund is still being carried out: its event comes back (SQS), and the mail goes
    once Stripe has it. (Orders' own subscriber of the event runs first and normally has.)"""


@dataclass(frozen=True)
class _Buyer:
    email: str
    name: str
    language: str


def tracking_link(carrier: str | None, number: str | None) -> str | None:
    """The carrier's tracking page for ``number``, when we know the carrier."""
    if not carrier or not number:
        return None
    template = TRACKING_URLS.get("".join(carrier.split()).lower())
    return template.format(number=quote(number, safe="")) if template else None


def _buyer(user_id: str) -> _Buyer | None:
    """The buyer's current address, name and language (GetItem); None for an erased account."""
    try:
        user = get_user(user_id)
    except NotFound:
        return None
    if not user.is_active:
        return None
    return _Buyer(email=user.email, name=user.name or "", language=language_of(user.language))


def _seller(seller_id: str) -> Seller | None:
    try:
        return get_seller(seller_id)
    except NotFound:
        return None


def _money(amount: Any, currency: str) -> dict[str, object]:
    return Money(currency, int(amount or 0)).to_json()


def _frontend() -> str:
    return get_settings().frontend_url.rstrip("/")


def _address_lines(address: Mapping[str, Any] | None) -> list[str]:
    """The address as it goes on a parcel, one line each."""
    found = address or {}
    town = " ".join(str(found[name]) for name in ("postal_code", "city") if found.get(name))
    parts = [found.get("name"), found.get("company"), found.get("line1"), found.get("line2"), town,
             found.get("region"), found.get("country")]
    return [str(part) for part in parts if part]


def _lines(sub: SubOrder) -> list[dict[str, Any]]:
    c = sub.currency
    return [{"title": line["title"], "quantity": int(line["quantity"]), "unit_price": _money(line["unit_price"], c),
             "discount": _money(line.get("discount"), c), "total": _money(line["total"], c)}
            for line in sub.lines or []]


def _returned_lines(sub: SubOrder) -> list[dict[str, Any]]:
    return [{"title": line["title"], "quantity": int(line["return_quantity"])}
            for line in sub.lines or [] if int(line.get("return_quantity") or 0) > 0]


def _shipping(sub: SubOrder) -> dict[str, Any] | None:
    shipping = sub.shipping
    if not shipping:
        return None
    return {"option": shipping["option"], "amount": _money(shipping["amount"], sub.currency),
            "discount": _money(shipping.get("discount"), sub.currency)}


def _part(sub: SubOrder) -> dict[str, Any]:
    """One seller's part as both its buyer and its seller read it."""
    c = sub.currency
    return {"lines": _lines(sub), "subtotal": _money(sub.subtotal, c), "discount": _money(sub.discount, c),
            "shipping": _shipping(sub), "tax": _money(sub.tax, c), "total": _money(sub.total, c)}


def _points_earned(user_id: str, order_id: str, seller_ids: list[str]) -> int | None:
    """The points the order earned (pending until the return window ends): its lots, which
    loyalty's subscriber of ``order.paid`` wrote before this one ran (app.py registers
    loyalty's subscriptions first, and the events worker runs an event's subscribers in
    order, the next only after the last returned). BatchGetItem; None when none were earned
    (the programme is off, nothing earned points)."""
    keys = [(user_key(user_id), loyalty_lot_sk(lot(order_id, seller_id)))
            for seller_id in seller_ids for lot in (order_lot_id, bonus_lot_id)]
    points = sum(int(lot.points) for lot in LoyaltyLot.batch_get(keys, consistent_read=True))
    return points or None


def _send(template: str, to: str, dedupe_key: str, context: dict[str, Any], language: str | None = None) -> None:
    enqueue_email(EmailMessage(template=template, to=to, context=context, dedupe_key=dedupe_key, language=language))


# --- order.paid ---------------------------------------------------------------------------

def on_order_paid(delivered: Delivered[OrderPaid]) -> None:
    """The buyer's confirmation of the whole order, and each seller's mail of its part."""
    paid = delivered.event
    order = find_item(Order, user_key(paid.user_id), order_sk(paid.order_id), consistent_read=True)
    if order is None:
        logger.warning("paid order not found for its mails", extra={"order_id": paid.order_id})
        return
    subs = sub_orders_of([order])[order.order_id]
    sellers = sellers_by_id(sub.seller_id for sub in subs)
    for sub in subs:
        seller = sellers.get(sub.seller_id)
        if seller is not None:
            _send("seller_new_order", seller.contact_email, f"seller_new_order:{order.order_id}:{sub.seller_id}",
                  seller_new_order(sub, seller))
    buyer = _buyer(order.user_id)
    if buyer is None:
        return
    points = _points_earned(order.user_id, order.order_id, [sub.seller_id for sub in subs])
    _send("order_confirmation", buyer.email, f"order_confirmation:{order.order_id}",
          order_confirmation(order, subs, sellers, buyer, points), buyer.language)


def order_confirmation(order: Order, subs: list[SubOrder], sellers: Mapping[str, Seller], buyer: _Buyer,
                       points: int | None) -> dict[str, Any]:
    c = order.currency
    parts = [{"seller_name": seller.display_name if (seller := sellers.get(sub.seller_id)) else "", **_part(sub)}
             for sub in subs]
    return {"name": buyer.name, "order_id": order.order_id, "parts": parts,
            "subtotal": _money(order.subtotal, c), "discount": _money(order.discount, c),
            "shipping": _money(order.shipping, c), "tax": _money(order.tax, c), "total": _money(order.total, c),
            "points": points, "address": _address_lines(order.shipping_address),
            "link": f"{_frontend()}/orders/{order.order_id}"}


def seller_new_order(sub: SubOrder, seller: Seller) -> dict[str, Any]:
    """The seller's part only (tenant isolation), with what it is paid for it."""
    c = sub.currency
    payout = max(int(sub.total) + int(sub.marketplace_discount or 0) - int(sub.fee), 0)
    return {"seller_name": seller.display_name, "order_id": sub.order_id, "buyer_name": sub.buyer_name or "",
            "address": _address_lines(sub.shipping_address), **_part(sub),
            "fee": _money(sub.fee, c), "payout": _money(payout, c),
            "link": f"{_frontend()}/seller/orders/{sub.order_id}"}


# --- order.status_changed -----------------------------------------------------------------

def on_order_status_changed(delivered: Delivered[OrderStatusChanged]) -> None:
    """Shipped, delivered and return approved to the buyer; return requested to the seller."""
    moved = delivered.event
    if moved.to not in BUYER_MOVES and moved.to != "return_requested":
        return
    sub = find_sub_order(moved.seller_id, moved.order_id)
    seller = _seller(moved.seller_id)
    if sub is None or seller is None:
        logger.warning("sub-order or seller not found for its mail",
                       extra={"order_id": moved.order_id, "seller_id": moved.seller_id, "to": moved.to})
        return
    key = f"{moved.order_id}:{moved.seller_id}"
    if moved.to == "return_requested":
        _send("return_requested", seller.contact_email, f"return_requested:{key}", {
            "seller_name": seller.display_name, "order_id": sub.order_id, "buyer_name": sub.buyer_name or "",
            "reason": moved.reason or sub.return_reason or "", "lines": _returned_lines(sub),
            "link": f"{_frontend()}/seller/orders/{sub.order_id}"})
        return
    buyer = _buyer(moved.user_id)
    if buyer is None:
        return
    template = BUYER_MOVES[moved.to]
    context: dict[str, Any] = {"name": buyer.name, "order_id": sub.order_id, "seller_name": seller.display_name,
                               "link": f"{_frontend()}/orders/{sub.order_id}"}
    if moved.to == "shipped":
        context.update(carrier=sub.carrier or "", tracking_number=sub.tracking_number or "",
                       tracking_link=tracking_link(sub.carrier, sub.tracking_number), lines=_lines(sub))
    elif moved.to == "delivered":
        context.update(lines=_lines(sub), return_window_days=int(seller.return_window_days))
    else:
        context.update(lines=_returned_lines(sub))
    _send(template, buyer.email, f"{template}:{key}", context, buyer.language)


# --- order.refund_requested ---------------------------------------------------------------

def on_refund_requested(delivered: Delivered[RefundRequested]) -> None:
    """Refund issued: once Stripe has the refund (orders' subscriber carried it out)."""
    requested = delivered.event
    refund = find_item(Refund, user_key(requested.user_id), refund_sk(requested.order_id, requested.refund_id),
                       consistent_read=True)
    if refund is None:
        logger.warning("refund not found for its mail", extra={"refund_id": requested.refund_id})
        return
    if refund.status != "refunded":
        raise RefundNotYetIssued(f"{requested.order_id}/{requested.refund_id}")
    buyer = _buyer(requested.user_id)
    if buyer is None:
        return
    seller = _seller(refund.seller_id)
    _send("refund_issued", buyer.email, f"refund_issued:{refund.refund_id}", {
        "name": buyer.name, "order_id": refund.order_id, "seller_name": seller.display_name if seller else "",
        "amount": _money(refund.amount, refund.currency), "reason": refund.reason,
        "link": f"{_frontend()}/orders/{refund.order_id}"}, buyer.language)
