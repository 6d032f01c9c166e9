"""The sweeps over sharded day buckets (payment due, transfer due, completion due) find what
is due in every shard, and under the unsharded key items written before sharding carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.core import clock
from chalicelib.core.keys import (
    COMPLETION_DUE_SHARDS,
    PAYMENT_DUE_SHARDS,
    TRANSFER_DUE_SHARDS,
    completion_due_key,
    order_sk,
    payment_due_key,
    seller_key,
    shard,
    timed_sort_key,
    transfer_due_key,
    user_key,
)
from chalicelib.orders.models import Order, SubOrder

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
BEFORE_SHARDING = "ord_" + "0" * 25 + "X"  # an order written under the unsharded key


def _one_order_per_shard(shards: int) -> list[str]:
    """Order ids (order-id shaped) whose shards are 0…shards-1, sorted."""
    found = {shard(f"ord_{n:026d}", shards): f"ord_{n:026d}" for n in range(200)}
    assert len(found) == shards
    return sorted(found.values())


def _pending_order(order_id: str, due: datetime, index_key: str | None = None) -> None:
    """A pending order as checkout leaves it in the payment-due index; ``index_key`` puts it
    under another partition (the unsharded key of an order placed before sharding)."""
    stamp = clock.stamp(due)
    Order(user_key("usr_sweep"), order_sk(order_id), order_id=order_id, user_id="usr_sweep",
          email="sweep@example.com", status="pending_payment", currency="EUR", subtotal=100, discount=0, tax=0,
          total=100, seller_ids=["sel_a"], shipping_address={}, billing_address={}, payment_due_at=stamp,
          created_at=stamp, GSI1PK=index_key or payment_due_key(stamp[:10], order_id),
          GSI1SK=timed_sort_key(stamp, order_id)).save()


def _sub_order(order_id: str, status: str, **index: str) -> None:
    SubOrder(seller_key("sel_a"), order_sk(order_id), order_id=order_id, seller_id="sel_a", user_id="usr_sweep",
             buyer_email="sweep@example.com", status=status, currency="EUR", lines=[], subtotal=100, discount=0,
             tax=0, total=100, fee=10, shipping_address={}, created_at="2026-12-01T10:00:00.000000Z",
             updated_at="2026-12-01T10:00:00.000000Z", **index).save()


def test_the_payment_sweep_finds_due_orders_in_every_shard_and_under_the_unsharded_key_due_first() -> None:
    from chalicelib.orders.payment import due_orders

    order_ids = _one_order_per_shard(PAYMENT_DUE_SHARDS)
    for n, order_id in enumerate(order_ids):  # every 3 hours back from now: today's bucket and yesterday's
        _pending_order(order_id, NOW - timedelta(hours=3 * n, minutes=1))
    _pending_order(BEFORE_SHARDING, NOW - timedelta(hours=30), index_key="PAYMENT_DUE#2026-12-06")
    _pending_order("ord_not_due_yet", NOW + timedelta(minutes=1))

    assert [o.order_id for o in due_orders(NOW)] == [BEFORE_SHARDING, *order_ids[::-1]]


def test_the_recovery_sweep_finds_stuck_transfers_in_every_shard_and_under_the_unsharded_key() -> None:
    from chalicelib.orders.recovery import stuck_transfers

    order_ids = _one_order_per_shard(TRANSFER_DUE_SHARDS)
    for n, order_id in enumerate(order_ids):  # paid a day apart, over the week looked back on
        paid = clock.stamp(NOW - timedelta(days=n % 7, hours=1, minutes=n))
        _sub_order(order_id, "paid", GSI1PK=transfer_due_key(paid[:10], order_id),
                   GSI1SK=timed_sort_key(paid, "sel_a", order_id))
    _sub_order(BEFORE_SHARDING, "paid", GSI1PK="TRANSFER_DUE#2026-12-01",
               GSI1SK=timed_sort_key("2026-12-01T09:00:00.000000Z", "sel_a", BEFORE_SHARDING))

    found = stuck_transfers(NOW)

    assert sorted(s.order_id for s in found) == sorted([BEFORE_SHARDING, *order_ids])
    assert [s.GSI1SK for s in found] == sorted(s.GSI1SK for s in found)  # oldest payment first


def test_the_completion_sweep_completes_parts_in_every_shard_and_under_the_unsharded_key() -> None:
    from chalicelib.orders.lifecycle import complete_due

    order_ids = _one_order_per_shard(COMPLETION_DUE_SHARDS)
    for n, order_id in enumerate(order_ids):
        due = clock.stamp(NOW - timedelta(hours=2 * n, minutes=1))
        _sub_order(order_id, "delivered", GSI2PK=completion_due_key(due[:10], order_id),
                   GSI2SK=timed_sort_key(due, "sel_a", order_id))
    _sub_order(BEFORE_SHARDING, "delivered", GSI2PK="COMPLETE_DUE#2026-12-07",
               GSI2SK=timed_sort_key("2026-12-07T11:00:00.000000Z", "sel_a", BEFORE_SHARDING))

    assert complete_due(NOW) == COMPLETION_DUE_SHARDS + 1

    statuses = {s.order_id: s.status for s in SubOrder.query(seller_key("sel_a"))}
    assert statuses == dict.fromkeys([BEFORE_SHARDING, *order_ids], "completed")
