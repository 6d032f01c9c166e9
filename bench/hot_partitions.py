"""Writes per second on the hottest partition keys of the table and of every index, under
a replayed order stream scaled to 100 orders/s.

    .venv/bin/python bench/hot_partitions.py [--orders 200] [--flash-sale]

Against moto in-process (the stack from infra, as the unit tests build it) and the fake
Stripe in a thread. A synthetic stream goes through the API and the real domain code:
per order a new signed-in buyer makes ten cart edits (adds five products of three of the
30 sellers, taken in turn, changes three quantities, removes two lines), checks out with a saved card
and is paid by Stripe's webhook; the events it causes (customers, transfers) are handed
to their subscribers, and each seller accepts, ships and delivers its part. Every tenth
order is not paid and is released by the reservation sweep at the end; the delivered
parts complete when the completion sweep runs after their return window. ``--flash-sale``
puts one product of one seller in every order.

Rate model: the replayed orders stand for ``orders / 100`` seconds of a marketplace taking
100 orders/s (1,000 cart edits/s), so a key's writes/s is its writes per order x 100.
This is the steady state of keys that every order shares (day and month buckets, a
seller's partition at its share of the orders: each seller is in a tenth of them, 10
orders/s). A buyer's own keys take the buyer's pace, which the replay compresses: they are
listed, but no buyer edits a cart ten times a second.

Writes are counted at botocore: per item a write touches, 1 on its partition key in the
table; per global secondary index, the entries it changes: the old entry's delete and
the new one's put when the index key moves (both when the key changes, 1 each), 1 when
the entry stays but another attribute changes (every index projects ALL). Condition
checks and refused writes are not counted. Prints tables, asserts nothing; the goal is
no key above 300 writes/s (DynamoDB takes about 1,000 write units a second per partition).
"""

from __future__ import annotations

import copy
import random
import re
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import in_process  # noqa: E402 - the marketplace in one process, shared by the benches

RATE = 100  # orders per second the replay is scaled to
GOAL = 300  # writes per second on any key
SELLERS = 30
SELLERS_PER_ORDER = 3
PRODUCTS_PER_SELLER = 10
UNPAID_EVERY = 10  # every n-th order is not paid and runs out
RETURN_WINDOW_DAYS = 14  # the sellers' default: delivered parts complete after it
EVENTS_EVERY = 10  # orders between two deliveries of the outbox's events
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
INDEXES = {"GSI1": ("GSI1PK", "GSI1SK"), "GSI2": ("GSI2PK", "GSI2SK"), "GSI3": ("GSI3PK", "GSI3SK")}
# The sharded key families (chalicelib.core.keys): a shard's key is the bucket's key + "#<n>".
SHARDED = re.compile(r"^((?:CARTS_CHANGED|PAYMENT_DUE|TRANSFER_DUE|COMPLETE_DUE)#\d{4}-\d{2}-\d{2}"
                     r"|LEDGER#[a-z_]+#\d{4}-\d{2})#\d+$")


class WriteCounter:
    """Writes per (table or index, partition key) while ``counting``."""

    def __init__(self) -> None:
        self.counting = False
        self.writes: Counter[tuple[str, str]] = Counter()

    def wrap(self, original: Any) -> Any:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        def counting(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if not self.counting or operation not in WRITES or client.meta.service_model.service_name != "dynamodb":
                return original(client, operation, params)
            backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][client.meta.region_name]
            touched = [t for t in _touched(operation, params) if t[1] != "ConditionCheck"]
            before = [copy.deepcopy(_item(backend, table, key)) for table, _, key in touched]
            result = original(client, operation, params)  # a refused write raises: nothing counted
            for (table, _, key), old in zip(touched, before, strict=True):
                self._count(old, _item(backend, table, key), key)
            return result

        return counting

    def _count(self, old: Any, new: Any, key: dict[str, Any]) -> None:
        self.writes["table", _text(key["PK"])] += 1
        for index, (pk, sk) in INDEXES.items():
            old_entry, new_entry = _entry(old, pk, sk), _entry(new, pk, sk)
            if old_entry is not None and old_entry != new_entry:
                self.writes[index, old_entry[0]] += 1  # the old entry's delete
            if new_entry is not None and (old_entry != new_entry or old.attrs != new.attrs):
                self.writes[index, new_entry[0]] += 1


def _text(value: dict[str, Any]) -> str:
    return str(next(iter(value.values())))


def _touched(operation: str, params: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(table, kind, key or item) of every item a write operation touches."""
    if operation == "TransactWriteItems":
        return [(op["TableName"], kind, op.get("Item") or op["Key"])
                for entry in params["TransactItems"] for kind, op in entry.items()]
    if operation == "BatchWriteItem":
        return [(table, kind, body.get("Item") or body["Key"]) for table, requests in params["RequestItems"].items()
                for request in requests for kind, body in request.items()]
    return [(params["TableName"], operation, params.get("Item") or params["Key"])]


def _item(backend: Any, table_name: str, key_or_item: dict[str, Any]) -> Any:
    table = backend.get_table(table_name)
    key = {name: key_or_item[name] for name in (table.hash_key_attr, table.range_key_attr)}
    return backend.get_item(table_name, key)


def _entry(item: Any, pk: str, sk: str) -> tuple[str, str] | None:
    if item is None or pk not in item.attrs or sk not in item.attrs:
        return None
    return str(item.attrs[pk].value), str(item.attrs[sk].value)


def _order(market: Any, rng: random.Random, products: dict[str, list[str]], number: int,
           flash_sale: str | None, orders_of: Counter[str]) -> list[tuple[str, str]]:
    """One order's ten cart edits, its checkout and (but every tenth) its payment; returns
    the (seller, order) parts to deliver once the payment's events are handled."""
    from tests.support.http import call

    buyer = market.buyer()
    every = sorted(products)  # round robin: each seller in exactly 3 orders of 30
    sellers = [every[(SELLERS_PER_ORDER * number + n) % len(every)] for n in range(SELLERS_PER_ORDER)]
    seller_of = {p: s for s, listed in products.items() for p in listed}
    kept = [rng.choice(products[s]) for s in sellers]  # one product per seller stays in the cart
    if flash_sale:
        kept[0] = flash_sale
    dropped = [rng.choice([p for p in products[s] if p not in kept]) for s in sellers[:2]]
    for product_id in [*kept, *dropped]:  # 5 edits
        market.add(buyer, product_id)
    for product_id in kept:  # 3 edits
        market.add(buyer, product_id, rng.randint(2, 3))
    for product_id in dropped:  # 2 edits
        status, body, _ = call(market.api, "DELETE", f"/v1/cart/items/{product_id}", headers=buyer)
        if status != 200:
            raise SystemExit(f"cart edit failed: {status} {body}")
    orders_of.update({seller_of[p] for p in kept})
    unpaid = number % UNPAID_EVERY == UNPAID_EVERY - 1
    status, body, _ = market.checkout(buyer, **({} if unpaid else {"payment_method_id": "pm_card_visa"}))
    if status != 201:
        raise SystemExit(f"checkout failed: {status} {body}")
    if unpaid:
        return []
    intent = market.payment_intent(body["payment"]["payment_intent_id"])
    status, answer = market.stripe_event("payment_intent.succeeded", intent)
    if status != 200:
        raise SystemExit(f"webhook failed: {status} {answer}")
    return [(seller_id, body["order"]["order_id"]) for seller_id in sorted({seller_of[p] for p in kept})]


def _family(key: str) -> str:
    """A sharded key's bucket (``PAYMENT_DUE#<day>#3`` -> ``PAYMENT_DUE#<day>``), else the key."""
    found = SHARDED.match(key)
    return found.group(1) if found else key


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for n, row in enumerate([header, *rows]):
        print("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _report(writes: Counter[tuple[str, str]], orders: int, top: int, orders_of: Counter[str]) -> None:
    def per_second(count: int) -> float:
        return count * RATE / orders

    print(f"{orders} orders replayed = {orders / RATE:.2f} s at {RATE} orders/s; "
          f"{sum(writes.values())} writes counted\n")
    print(f"Hottest partition keys (writes/s at {RATE} orders/s, {RATE * 10} cart edits/s):")
    rows = [[where, key, f"{count / orders:.2f}", f"{per_second(count):.0f}",
             "" if per_second(count) <= GOAL else "OVER"]
            for (where, key), count in writes.most_common(top)]
    _print_table(["where", "partition key", "per order", "writes/s", f"> {GOAL}/s"], rows)
    buckets: Counter[tuple[str, str]] = Counter()
    shards: dict[tuple[str, str], set[str]] = {}
    for (where, key), count in writes.items():
        if _family(key) != key:
            buckets[where, _family(key)] += count
            shards.setdefault((where, _family(key)), set()).add(key)
    if buckets:
        print("\nThe sharded buckets: all shards together (what one unsharded key would take), an even share\n"
              "and the hottest shard (above the even share by how the replay's few owners fell on the shards)")
        _print_table(["where", "bucket", "shards written", "all writes/s", "even share/s", "hottest shard/s"],
                     [[where, bucket, str(len(shards[where, bucket])), f"{per_second(count):.0f}",
                       f"{per_second(count) / len(shards[where, bucket]):.0f}",
                       f"{max(per_second(writes[where, key]) for key in shards[where, bucket]):.0f}"]
                      for (where, bucket), count in sorted(buckets.items())])
    sellers = [(count, key) for (where, key), count in writes.items() if where == "table" and key.startswith("SELLER#")]
    if sellers:
        count, key = max(sellers)
        per_own_order = count / orders_of[key.removeprefix("SELLER#")]
        print(f"\nA seller's partition takes what its own orders write: {key} {per_own_order:.1f} writes per order "
              f"it is in, so {GOAL}/s at {GOAL / per_own_order:.0f} of its orders a second")
    hottest = max(per_second(count) for count in writes.values())
    print(f"\nHottest key: {hottest:.0f} writes/s — goal <= {GOAL}/s: {'met' if hottest <= GOAL else 'NOT met'}")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200, help="orders to replay (default 200)")
    parser.add_argument("--top", type=int, default=15, help="keys to list (default 15)")
    parser.add_argument("--flash-sale", action="store_true", help="one product of one seller in every order")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with in_process.environment():
        from botocore.client import BaseClient
        from chalice.test import Client

        import app
        from chalicelib.fees.service import set_schedule
        from chalicelib.orders.lifecycle import complete_due
        from chalicelib.orders.payment import release_expired
        from dev.fake_stripe.server import start_in_thread
        from tests.support.builders import Marketplace

        stripe_url, stop = start_in_thread("127.0.0.1", 0)
        counter = WriteCounter()
        try:
            in_process.create_stack(stripe_url)
            BaseClient._make_api_call = counter.wrap(BaseClient._make_api_call)
            with Client(app.app, stage_name="local") as api:
                market = Marketplace(api=api, stripe_url=stripe_url)
                set_schedule("default", {"percent_bp": 1_000, "currencies": {"EUR": {"fixed": 30}}})  # 10 % + 0.30
                products = {market.seller(f"sel_hot_{n:02d}"): [] for n in range(SELLERS)}
                for seller_id, listed in products.items():
                    listed += [market.product(seller_id, price=1_000 + 10 * n, stock=1_000_000)
                               for n in range(PRODUCTS_PER_SELLER)]
                flash_sale = products["sel_hot_00"][0] if args.flash_sale else None
                market.events()
                counter.counting = True
                parts: list[tuple[str, str]] = []
                orders_of: Counter[str] = Counter()  # seller -> orders it is in
                for number in range(args.orders):
                    parts += _order(market, rng, products, number, flash_sale, orders_of)
                    if number % EVENTS_EVERY == EVENTS_EVERY - 1 or number == args.orders - 1:
                        market.events()  # transfers, customers: before the sellers ship
                        for seller_id, order_id in parts:
                            market.deliver_order(seller_id, order_id)
                        parts = []
                release_expired(datetime.now(UTC) + timedelta(minutes=31))
                complete_due(datetime.now(UTC) + timedelta(days=RETURN_WINDOW_DAYS, minutes=1))
                market.events()
                counter.counting = False
        finally:
            stop()
    print("Flash sale: one product of sel_hot_00 in every order\n" if args.flash_sale else "", end="")
    _report(counter.writes, args.orders, args.top, orders_of)


if __name__ == "__main__":
    main()
