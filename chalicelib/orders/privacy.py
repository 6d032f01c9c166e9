"""The buyer's orders under data rights: in the export, and after an erasure.

Orders, sub-orders and refunds stay (amounts, dates, ids, lines: bookkeeping law keeps them
for ten years); on ``account.erased`` their personal fields — the buyer's name, email and
the shipping and billing addresses — are replaced in the buyer's orders and in every
seller's copy, keeping only the destination country (VAT); the buyer's first-order mark under
the email goes (:mod:`chalicelib.orders.first_orders`). Query the buyer's partition
page by page, then one TransactWriteItems per order (the order and, per sub-order, the item
that holds its buyer's fields: its lines item, or the sub-order itself if written before).
"""

from __future__ import annotations

from typing import Any

from chalicelib.accounts.events import AccountErased
from chalicelib.core.db import LabelledTransaction
from chalicelib.core.keys import ORDER_PREFIX, order_sk, seller_key, user_key
from chalicelib.events.registry import Delivered
from chalicelib.orders.first_orders import forget_emails
from chalicelib.orders.models import Order, SubOrder
from chalicelib.orders.transitions import carries_fixed_fields, sub_order_items, sub_orders_of, with_lines_keys


def _orders(user_id: str) -> list[Order]:
    return list(Order.query(user_key(user_id), Order.SK.startswith(ORDER_PREFIX), consistent_read=True))


def orders_for_export(user_id: str) -> list[dict[str, Any]]:
    """Every order of the buyer as the API shows it (Query per page + BatchGetItem per 100 parts)."""
    from chalicelib.orders.schemas import order_out

    orders = _orders(user_id)
    parts = sub_orders_of(orders)
    return [order_out(order, parts[order.order_id]).model_dump(mode="json") for order in orders]


def erased_address(address: dict[str, Any] | None) -> dict[str, Any]:
    return {"country": (address or {}).get("country"), "erased": True}


def on_account_erased(delivered: Delivered[AccountErased]) -> None:
    """Subscriber of ``account.erased``; repeating it changes nothing new."""
    user_id = delivered.event.user_id
    placeholder = f"erased+{user_id}@invalid"
    orders = _orders(user_id)
    forget_emails({order.email for order in orders if order.email != placeholder})
    stored = {(item.PK, item.SK): item for item in sub_order_items(orders)}  # lines items read as SubOrder
    for order in orders:
        if order.email == placeholder:
            continue
        transaction = LabelledTransaction()
        transaction.update("order", order, [
            Order.email.set(placeholder), Order.buyer_name.set(""), Order.vat_id.remove(),
            Order.shipping_address.set(erased_address(order.shipping_address)),
            Order.billing_address.set(erased_address(order.billing_address))])
        for key in with_lines_keys([(seller_key(sid), order_sk(order.order_id)) for sid in order.seller_ids]):
            item = stored.get(key)  # a sub-order or its lines item: the one that holds the buyer's fields
            if item is not None and carries_fixed_fields(item):
                transaction.update("sub", item, [
                    SubOrder.buyer_email.set(placeholder), SubOrder.buyer_name.set(""),
                    SubOrder.shipping_address.set(erased_address(item.shipping_address))])
        transaction.commit()
