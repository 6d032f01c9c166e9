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
from chalicelib.core.keys import (
    ORDER_PREFIX,
    SUB_ORDER_LINES_PREFIX,
    order_sk,
    seller_key,
    sub_order_lines_sk,
    sub_order_status_index_key,
)
from chalicelib.events.service import new_event
from chalicelib.orders.events import OrderStatusChanged
from chalicelib.orders.models import FIXED_AT_CHECKOUT, Order, SubOrder, SubOrderLines
from chalicelib.orders.states import TRANSITIONS

LINE_COUNTERS = ("refunded_quantity", "refunded_amount", "return_quantity")
_NO_COUNTS = dict.fromkeys(LINE_COUNTERS, 0)


def with_lines_keys(keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Sub-order keys and their lines items' keys, for one BatchGetItem."""
    return [*keys, *((pk, sub_order_lines_sk(sk.removeprefix(ORDER_PREFIX))) for pk, sk in keys)]


def carries_fixed_fields(item: SubOrder | SubOrderLines) -> bool:
    """Whether this sub-order or lines item holds the fields of :data:`FIXED_AT_CHECKOUT`
    (the buyer's email is there exactly then): the one an erasure must change."""
    return item.buyer_email is not None


def _fill(sub: SubOrder, kept: SubOrder | SubOrderLines | None) -> None:
    """``sub`` with what its lines item ``kept`` holds: the fields fixed at checkout, when it
    carries them, and the lines with the sub-order's counters, when they are kept apart."""
    if kept is not None and carries_fixed_fields(kept):
        for name in FIXED_AT_CHECKOUT:
            setattr(sub, name, getattr(kept, name))
    if sub.line_state is not None:
        sub.lines = merged_lines(kept.lines if kept is not None and kept.lines else [], sub.line_state)


def attach_lines(items: list[SubOrder]) -> list[SubOrder]:
    """The sub-orders among ``items`` (a BatchGetItem of :func:`with_lines_keys`, the lines
    items read as ``SubOrder`` too: same table, their attributes are a subset), each filled
    from its lines item (:func:`_fill`). A sub-order with everything inline (written before
    the lines item existed) is returned as read."""
    kept = {(item.PK, item.SK): item for item in items if item.SK.startswith(SUB_ORDER_LINES_PREFIX)}
    subs = [item for item in items if not item.SK.startswith(SUB_ORDER_LINES_PREFIX)]
    for sub in subs:
        _fill(sub, kept.get((sub.PK, sub_order_lines_sk(sub.order_id))))
    return subs


def kept_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines as their item keeps them: without the counters, 0 at checkout and kept in the
    sub-order's ``line_state`` afterwards (a third of a line's bytes)."""
    return [{name: value for name, value in line.items() if name not in LINE_COUNTERS} for line in lines]


def merged_lines(lines: list[dict[str, Any]], state: Mapping[str, Mapping[str, int]]) -> list[dict[str, Any]]:
    """The lines item's lines with the sub-order's counters (0 where it has none; lines items
    written before :func:`kept_lines` carry them as 0)."""
    return [{**_NO_COUNTS, **line, **state.get(str(line["line"]), {})} for line in lines]


def line_state_of(lines: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """The counters of the lines where one is not 0 (checkout's lines item has them all 0)."""
    state = {}
    for line in lines:
        counters = {name: int(line.get(name, 0)) for name in LINE_COUNTERS}
        if any(counters.values()):
            state[str(line["line"])] = counters
    return state


def sub_order_items(orders: list[Order]) -> list[SubOrder]:
    """The sub-orders of several orders and their lines items (read as ``SubOrder``), as
    stored: BatchGetItem (1 RT per 100 keys, two a sub-order; PynamoDB pages them)."""
    keys = [(seller_key(sid), order_sk(o.order_id)) for o in orders for sid in o.seller_ids]
    return list(SubOrder.batch_get(with_lines_keys(keys), consistent_read=True))


def sub_orders_of(orders: list[Order]) -> dict[str, list[SubOrder]]:
    """The sub-orders of several orders, filled from their lines items (:func:`sub_order_items`)."""
    read = attach_lines(sub_order_items(orders))
    found = {(sub.order_id, sub.seller_id): sub for sub in read}
    return {o.order_id: [found[(o.order_id, sid)] for sid in o.seller_ids if (o.order_id, sid) in found]
            for o in orders}


def fill_lines(subs: list[SubOrder]) -> list[SubOrder]:
    """Lines (and the fields fixed at checkout) for sub-orders a Query read: one BatchGetItem
    (consistent), none when every one carries everything inline."""
    apart = [sub for sub in subs if sub.line_state is not None]
    if apart:
        keys = [(sub.PK, sub_order_lines_sk(sub.order_id)) for sub in apart]
        kept = {(item.PK, item.SK): item for item in SubOrderLines.batch_get(keys, consistent_read=True)}
        for sub in apart:
            _fill(sub, kept.get((sub.PK, sub_order_lines_sk(sub.order_id))))
    return subs


def find_sub_order(seller_id: str, order_id: str) -> SubOrder | None:
    """One sub-order filled from its lines item: one BatchGetItem (consistent), None when absent."""
    read = attach_lines(list(SubOrder.batch_get(with_lines_keys([(seller_key(seller_id), order_sk(order_id))]),
                                                consistent_read=True)))
    return read[0] if read else None


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
                              "history": [*sub.history, {"status": to, "at": at}], **(changes or {})}
    if sub.updated_at is not None:  # written before the views read it from the history
        values["updated_at"] = None
    if "lines" in values and sub.line_state is not None:  # lines kept apart: only their counters move
        after.lines = values.pop("lines")
        values["line_state"] = line_state_of(after.lines)
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
