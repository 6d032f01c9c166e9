"""A sub-order's moves between states, shared by everything that moves one.

The buyer's and seller's actions (:mod:`chalicelib.orders.lifecycle`), the payment's
verdict (:mod:`chalicelib.orders.payment`) and refunds all add a move to their own
TransactWriteItems through :func:`move`; living here, none of them imports another for it.
States and moves are :data:`chalicelib.orders.models.TRANSITIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.catalog.stock import StockHold
from chalicelib.core.db import LabelledTransaction
from chalicelib.core.errors import Code, Conflict
from chalicelib.core.keys import order_sk, seller_key, sub_order_status_index_key
from chalicelib.events.service import new_event
from chalicelib.orders.events import OrderStatusChanged
from chalicelib.orders.models import Order, SubOrder
from chalicelib.orders.states import TRANSITIONS


def sub_orders_of(orders: list[Order]) -> dict[str, list[SubOrder]]:
    """The sub-orders of several orders: BatchGetItem (1 RT per 100, PynamoDB pages them)."""
    keys = [(seller_key(sid), order_sk(o.order_id)) for o in orders for sid in o.seller_ids]
    found = {(sub.order_id, sub.seller_id): sub for sub in SubOrder.batch_get(keys, consistent_read=True)}
    return {o.order_id: [found[(o.order_id, sid)] for sid in o.seller_ids if (o.order_id, sid) in found]
            for o in orders}


def invalid_transition(sub: SubOrder, to: str) -> Conflict:
    return Conflict(f"An order that is {sub.status.replace('_', ' ')} cannot become {to.replace('_', ' ')}.",
                    code=Code.INVALID_TRANSITION, details={"order_id": sub.order_id, "seller_id": sub.seller_id,
                                                        "status": sub.status, "requested": to})


def move(transaction: LabelledTransaction, sub: SubOrder, to: str, *, at: str,
         changes: Mapping[str, Any] | None = None, payload: Mapping[str, Any] | None = None) -> SubOrder:
    """Add the move of ``sub`` to ``to`` (with attribute ``changes``) and its event; returns the
    sub-order as it will be once the transaction commits, so callers need not read it again."""
    if to not in TRANSITIONS[sub.status]:
        raise invalid_transition(sub, to)
    after = SubOrder.from_raw_data(sub.serialize())
    values: dict[str, Any] = {"status": to, "GSI3PK": sub_order_status_index_key(sub.seller_id, to),
                              "history": [*sub.history, {"status": to, "at": at}], "updated_at": at,
                              **(changes or {})}
    actions: list[Action] = [SubOrder.version.add(1)]
    for name, value in values.items():
        attribute = getattr(SubOrder, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
        setattr(after, name, value)
    after.version = int(sub.version) + 1
    transaction.update(f"sub:{sub.seller_id}", sub, actions, SubOrder.version == sub.version)
    transaction.put("event", new_event(OrderStatusChanged(
        order_id=sub.order_id, seller_id=sub.seller_id, user_id=sub.user_id, from_=sub.status,
        to=to, at=at, **(payload or {}))))
    return after


def holds_of(sub: SubOrder, quantities: Mapping[int, int] | None = None) -> list[StockHold]:
    """Stock to give back: every line, or ``quantities`` per line number."""
    holds = []
    for line in sub.lines:
        quantity = int(line["quantity"]) if quantities is None else quantities.get(int(line["line"]), 0)
        if quantity:
            holds.append(StockHold(sub.seller_id, line["product_id"], quantity))
    return holds
