"""Round trips and write units of one order: checkout, payment webhook, transfers.

    .venv/bin/python bench/checkout_round_trips.py

Against moto in-process (the stack from infra, as the unit tests build it) and the fake
Stripe in a thread, with sellers onboarded as real Connect accounts there. For each cart
(1, 3, 10 and 30 lines across 3 sellers; 10 lines across 1 and 8 sellers; 1, 10 and 30
lines across 3 sellers with shipping profiles, half of each seller's products naming a
profile of their own, the rest shipping with the default; and 1, 10 and 30 lines across 3
sellers with loyalty points redeemed, the programme on) it counts
what agora sends, in three phases of one order. A last variant (``--only-promotions`` runs
it alone) repeats the shipping carts of 1, 10 and 30 lines with the marketplace's public code
``BENCH10`` on the cart (checkout uses it) and 0, 4 and 16 automatic promotions of the marketplace and
the three sellers (percentages and fixed amounts, some with a per-buyer limit, a use limit or
a budget, and the first seller's free shipping), and counts the cart's ``GET /v1/cart`` (its
pricing with shipping and promotions) besides:

(a) checkout   — ``POST /v1/checkout`` through the Chalice app;
(b) webhook    — ``payment_intent.succeeded`` posted to the platform endpoint (mark paid);
(c) transfers  — the ``order.paid`` subscriber :mod:`chalicelib.orders.payouts`, its
                 once-only claim included.

DynamoDB calls are counted by operation name at botocore (``BaseClient._make_api_call``,
as ``tests/unit/catalog/conftest.py`` does), and the checkout's round trips beside them: a
read past 100 keys sends its BatchGetItem pages at once from threads
(:func:`chalicelib.orders.extensions.read_items`), which together are one wait. Stripe calls
as HTTP requests the SDK's HTTP client sends (retries would count). Write request units
are computed, as moto reports no consumed capacity for transactions: per written item the larger of its size before and
after (moto's item size), rounded up to 1 KB, times 2 in a TransactWriteItems and 1
outside one; global secondary index entries (projection ALL) cost 1 per KB per entry
written or deleted. The buyer's first checkout (which creates the Stripe customer) is
a row of its own; the other rows reuse that buyer. Prints tables, asserts nothing.
"""

from __future__ import annotations

import copy
import math
import re
import sys
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import in_process  # noqa: E402 - the marketplace in one process, shared by the benches

PHASES = ("checkout", "webhook", "transfers")
TRANSACTIONAL = {"TransactWriteItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
GSIS = (("GSI1PK", "GSI1SK"), ("GSI2PK", "GSI2SK"), ("GSI3PK", "GSI3SK"))
SUBSCRIBER_PHASE = {"chalicelib.orders.payouts:on_order_paid": "transfers"}
STRIPE_ID = re.compile(r"/(?:acct|pi|ch|cus|tr|re|trr|pm|seti|evt)_[A-Za-z0-9]+")


@dataclass
class Tally:
    calls: Counter[str] = field(default_factory=Counter)  # "DynamoDB GetItem", "Stripe POST /v1/..."
    dynamodb_round_trips: int = 0  # calls, but the pages of one read sent at once count as one
    in_pages: bool = False  # the last DynamoDB call was a page sent by read_items' threads
    table_wru: int = 0
    index_wru: int = 0

    def total(self, service: str) -> int:
        return sum(n for name, n in self.calls.items() if name.startswith(service))


class Recorder:
    """Counts calls into the tally of the current phase; nothing while ``phase`` is None."""

    def __init__(self) -> None:
        self.phase: str | None = None
        self.tallies: dict[str, Tally] = defaultdict(Tally)
        self.trace: list[tuple[str, str, str]] | None = None  # (phase, call, what it touched)

    def note(self, call: str, what: str = "") -> None:
        if self.phase is not None and self.trace is not None:
            self.trace.append((self.phase, call, what))

    def take(self) -> dict[str, Tally]:
        tallies, self.tallies = dict(self.tallies), defaultdict(Tally)
        return tallies

    @property
    def tally(self) -> Tally | None:
        return self.tallies[self.phase] if self.phase else None


def _units(size: int) -> int:
    return math.ceil(size / 1024) if size else 0


def _table_and_keys(operation: str, params: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(table, kind, key or item) of every item a write operation touches."""
    if operation == "TransactWriteItems":
        touched = []
        for entry in params["TransactItems"]:
            kind, op = next(iter(entry.items()))
            touched.append((op["TableName"], kind, op.get("Item") or op["Key"]))
        return touched
    if operation == "BatchWriteItem":
        return [(table, kind, body.get("Item") or body["Key"]) for table, requests in params["RequestItems"].items()
                for request in requests for kind, body in request.items()]
    return [(params["TableName"], operation, params.get("Item") or params["Key"])]


def _kind(key: dict[str, Any]) -> str:
    """``PK-prefix/SK-prefix`` of an item key, e.g. ``USER/ORDER``."""
    parts = [str(next(iter(key[name].values()))).split("#")[0] for name in ("PK", "SK") if name in key]
    return "/".join(re.sub(r"^\d.*", "<time>", part) for part in parts)


def _touched(operation: str, params: dict[str, Any]) -> str:
    if operation in WRITES:
        kinds = Counter(f"{kind.removesuffix('Request')} {_kind(key)}"
                        for _, kind, key in _table_and_keys(operation, params))
    elif operation == "BatchGetItem":
        kinds = Counter(_kind(key) for request in params["RequestItems"].values() for key in request["Keys"])
    elif "Key" in params:
        kinds = Counter([_kind(params["Key"])])
    else:
        kinds = Counter([params.get("IndexName", "table")])
    return ", ".join(f"{n} x {kind}" if n > 1 else kind for kind, n in sorted(kinds.items()))


def _item(backend: Any, table_name: str, key_or_item: dict[str, Any]) -> Any:
    table = backend.get_table(table_name)
    key = {table.hash_key_attr: key_or_item[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = key_or_item[table.range_key_attr]
    return backend.get_item(table_name, key)


def _index_entries(item: Any) -> dict[int, tuple[Any, Any]]:
    if item is None:
        return {}
    return {n: (str(item.attrs[pk].value), str(item.attrs[sk].value)) for n, (pk, sk) in enumerate(GSIS)
            if pk in item.attrs and sk in item.attrs}


def _record_dynamodb(recorder: Recorder, original: Any) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib.orders.extensions import READ_THREADS

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        tally = recorder.tally
        if tally is None or client.meta.service_model.service_name != "dynamodb":
            return original(client, operation, params)
        tally.calls[f"DynamoDB {operation}"] += 1
        page = threading.current_thread().name.startswith(READ_THREADS)
        tally.dynamodb_round_trips += 0 if page and tally.in_pages else 1
        tally.in_pages = page
        recorder.note(f"DynamoDB {operation}", _touched(operation, params))
        if operation not in WRITES:
            return original(client, operation, params)
        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][client.meta.region_name]
        touched = _table_and_keys(operation, params)
        before = [copy.deepcopy(_item(backend, table, key)) for table, _, key in touched]
        result = original(client, operation, params)  # a failed write raises: it counts no units here
        factor = 2 if operation in TRANSACTIONAL else 1
        for (table, kind, key), old in zip(touched, before, strict=True):
            new = _item(backend, table, key)
            old_size, new_size = (old.size() if old else 0), (new.size() if new else 0)
            tally.table_wru += factor * _units(max(old_size, new_size, 1 if kind == "ConditionCheck" else 0))
            old_entries, new_entries = _index_entries(old), _index_entries(new)
            for index in set(old_entries) | set(new_entries):
                if old_entries.get(index) == new_entries.get(index):
                    tally.index_wru += _units(new_size) if old.attrs != new.attrs else 0
                else:  # the entry moves: a delete of the old one, a put of the new one
                    tally.index_wru += (_units(old_size) if index in old_entries else 0) + \
                        (_units(new_size) if index in new_entries else 0)
        return result

    return recording


def _record_stripe(recorder: Recorder, original: Any) -> Any:
    def recording(http_client: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if recorder.tally is not None:
            call = f"Stripe {method.upper()} {STRIPE_ID.sub('/{id}', urlsplit(url).path)}"
            recorder.tally.calls[call] += 1
            recorder.note(call)
        return original(http_client, method, url, *args, **kwargs)

    return recording


def _install(recorder: Recorder) -> None:
    """Count DynamoDB and Stripe calls; label each event subscriber's calls with its phase."""
    from botocore.client import BaseClient

    from chalicelib.core import once
    from chalicelib.events import service
    from chalicelib.payments import stripe_gateway

    BaseClient._make_api_call = _record_dynamodb(recorder, BaseClient._make_api_call)
    http_client = type(stripe_gateway.client()._requestor._client)
    http_client.request = _record_stripe(recorder, http_client.request)

    begin, dispatch = once.begin, service.dispatch

    dispatching_now = False

    def claiming(key: str, **kwargs: Any) -> bool:
        if dispatching_now and key.startswith("event:"):  # event:<id>:<module>:<function>
            target = ":".join(key.split(":")[2:])
            recorder.phase = SUBSCRIBER_PHASE.get(target, f"other {target.rsplit('.', 1)[-1]}")
        return begin(key, **kwargs)

    def dispatching(message: dict[str, Any]) -> None:
        nonlocal dispatching_now
        dispatching_now = True
        try:
            dispatch(message)
        finally:
            dispatching_now, recorder.phase = False, None

    once.begin = claiming
    service.dispatch = dispatching


def _cart(market: Any, products: dict[str, list[str]], sellers: list[str], lines: int) -> list[str]:
    """``lines`` distinct products, dealt round-robin over ``sellers``."""
    chosen, taken = [], Counter[str]()
    for n in range(lines):
        seller_id = sellers[n % len(sellers)]
        while len(products[seller_id]) <= taken[seller_id]:
            products[seller_id].append(market.product(seller_id, price=1_000 + 7 * n, stock=100_000))
        chosen.append(products[seller_id][taken[seller_id]])
        taken[seller_id] += 1
    return chosen


def _shipping_sellers(market: Any, count: int) -> tuple[list[str], dict[str, list[str]]]:
    """Sellers with a default shipping profile and a second one that every other product names."""
    from chalicelib.shipping.schemas import ProfileCreate
    from chalicelib.shipping.service import create_profile
    from tests.support.auth import seller_headers
    from tests.support.http import call

    sellers = [market.seller(f"sel_ship_{n}") for n in range(count)]
    products: dict[str, list[str]] = defaultdict(list)
    for seller_id in sellers:
        zones = [{"countries": ["DE", "AT"], "standard": {"amount": 490, "currency": "EUR"},
                  "per_extra_item": {"amount": 100, "currency": "EUR"},
                  "free_shipping_threshold": {"amount": 100_000, "currency": "EUR"}}]
        create_profile(seller_id, ProfileCreate.model_validate({"name": "Parcel", "zones": zones}))
        bulky = create_profile(seller_id, ProfileCreate.model_validate({"name": "Bulky", "zones": zones}))
        for n in range(10):
            product_id = market.product(seller_id, price=1_000 + 7 * n, stock=100_000)
            if n % 2:
                call(market.api, "PATCH", f"/v1/seller/products/{product_id}",
                     {"shipping_profile_id": bulky.profile_id}, headers=seller_headers(seller_id))
            products[seller_id].append(product_id)
    return sellers, products


def _order(market: Any, recorder: Recorder, buyer: dict[str, str], cart: list[str], *,
           code: str | None = None, **more: Any) -> dict[str, Tally]:
    """One order through the three phases (``more``: more of the checkout's body); with
    ``code``, put on the cart first (not counted), the buyer's ``GET /v1/cart`` is counted as
    the phase "cart" and checkout uses the cart's code. Returns the tallies of each phase."""
    from tests.support.http import call

    for product_id in cart:
        market.add(buyer, product_id)
    if code is not None:
        status, body, _ = call(market.api, "POST", "/v1/cart/promo-code", {"code": code}, headers=buyer)
        if status != 200:
            raise SystemExit(f"the code was refused: {status} {body}")
        recorder.phase = "cart"
        status, body, _ = call(market.api, "GET", "/v1/cart", headers=buyer)
        recorder.phase = None
        if status != 200 or body["pricing"] is None or None in [p["shipping"] for p in body["pricing"]["sellers"]]:
            raise SystemExit(f"the cart has no pricing with shipping: {status} {body}")
    recorder.phase = "checkout"
    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa", **more)
    recorder.phase = None
    if status != 201:
        raise SystemExit(f"checkout failed: {status} {body}")
    market.events()  # the checkout's own events (stock flags), counted as "other ..."
    intent = market.payment_intent(body["payment"]["payment_intent_id"])
    recorder.phase = "webhook"
    status, answer = market.stripe_event("payment_intent.succeeded", intent)
    recorder.phase = None
    if status != 200:
        raise SystemExit(f"webhook failed: {status} {answer}")
    market.events()  # order.paid: the buyer becomes each seller's customer; the transfers
    return recorder.take()


PROMOTION_STEPS = (0, 4, 16)  # automatic promotions in play, in all (the marketplace's and the sellers')
CODE = "BENCH10"


def _code() -> None:
    """The marketplace's public 10 % code, run before the automatic promotions."""
    from chalicelib.promotions import service

    promotion = service.create_promotion(None, {"name": "Bench -10 %", "kind": "percentage", "percent_bp": 1_000,
                                                "currency": "EUR", "priority": 5})
    service.add_public_code(None, promotion.promotion_id, CODE)


def _automatic_promotions(sellers: list[str], made: int, wanted: int) -> None:
    """Automatic promotions number ``made`` to ``wanted - 1``, dealt over the marketplace and
    ``sellers`` in turn: small discounts that always apply, each adding its counters (and,
    with a per-buyer limit, the buyer's count) to the checkout's reads and transaction."""
    from chalicelib.promotions import service

    owners: list[str | None] = [None, *sellers]
    for n in range(made, wanted):
        owner = owners[n % len(owners)]
        fields: dict[str, Any] = {"name": f"Bench automatic {n}", "currency": "EUR", "automatic": True,
                                  "priority": 10 + n}
        if n == 1:  # the first seller's
            fields.update(kind="free_shipping")
        elif n % 3 == 0:
            fields.update(kind="percentage", percent_bp=100, max_uses_per_buyer=1_000)
        elif n % 3 == 1:
            fields.update(kind="fixed_amount", amount=10, budget=10_000_000)
        else:
            fields.update(kind="percentage", percent_bp=100, max_uses=1_000_000)
        service.create_promotion(owner, fields)


def _promotion_orders(market: Any, recorder: Recorder, buyer: dict[str, str], sellers: list[str],
                      products: dict[str, list[str]]) -> list[tuple[str, dict[str, Tally]]]:
    """The shipping carts of 1, 10 and 30 lines with the code, at each step of automatic promotions."""
    _code()
    results, made = [], 0
    for wanted in PROMOTION_STEPS:
        _automatic_promotions(sellers, made, wanted)
        made = wanted
        for lines in (1, 10, 30):
            cart = _cart(market, products, sellers, lines)
            in_order = min(lines, len(sellers))
            label = f"{lines} line{'s' * (lines > 1)}, {in_order} seller{'s' * (in_order > 1)}, {wanted}"
            results.append((label, _order(market, recorder, buyer, cart, code=CODE.lower())))
    return results


def _promotion_row(label: str, tallies: dict[str, Tally]) -> list[str]:
    cart, checkout = tallies.get("cart", Tally()), tallies.get("checkout", Tally())
    wru = [tallies.get(phase, Tally()) for phase in PHASES]
    return [*label.rsplit(", ", 1), str(cart.dynamodb_round_trips), str(checkout.total("DynamoDB")),
            str(checkout.dynamodb_round_trips), str(checkout.total("Stripe")),
            *(str(tallies.get(phase, Tally()).total("DynamoDB")) for phase in ("webhook", "transfers")),
            str(checkout.table_wru), str(sum(t.table_wru for t in wru)), str(sum(t.index_wru for t in wru))]


def _row(label: str, tallies: dict[str, Tally]) -> list[str]:
    cells = [label]
    for phase in PHASES:
        tally = tallies.get(phase, Tally())
        cells += [str(tally.total("DynamoDB")), str(tally.total("Stripe"))]
        if phase == "checkout":
            cells.insert(2, str(tally.dynamodb_round_trips))
    wru = [tallies.get(phase, Tally()) for phase in PHASES]
    cells += [str(t.table_wru) for t in wru] + [str(sum(t.table_wru for t in wru)),
                                                  str(sum(t.index_wru for t in wru))]
    return cells


def _print_table(header: list[str], rows: list[list[str]], *, text_columns: int = 1) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for n, row in enumerate([header, *rows]):
        print("  ".join(cell.ljust(w) if i < text_columns else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _print_breakdown(results: list[tuple[str, dict[str, Tally]]], phases: list[str]) -> None:
    for phase in phases:
        names = sorted({name for _, tallies in results for name in tallies.get(phase, Tally()).calls})
        if not names:
            continue
        print(f"\n{phase}: calls per operation")
        _print_table([phase] + [label.split(" (")[0] for label, _ in results],
                     [[name] + [str(tallies.get(phase, Tally()).calls[name]) for _, tallies in results]
                      for name in names])


def _buyer() -> dict[str, str]:
    """A signed-in buyer with a default shipping and billing address (read by every checkout)."""
    from chalicelib.accounts.addresses import add_address
    from chalicelib.accounts.service import ensure_account
    from tests.support.auth import buyer_headers
    from tests.support.builders import ADDRESS

    user, _ = ensure_account("bench-buyer@example.com", name="Anna Käufer")
    add_address(user.user_id, ADDRESS, default_shipping=True, default_billing=True)
    return buyer_headers(user.user_id)


def _points(buyer: dict[str, str]) -> None:
    """The loyalty programme on, and the buyer with points to redeem (500 a checkout: €5)."""
    from chalicelib.loyalty.earning import adjust
    from chalicelib.loyalty.programme import Programme, save_programme
    from tests.support.builders import user_of

    save_programme(Programme(enabled=True), by="bench")
    adjust(user_of(buyer), 100_000, reason="bench", by="bench")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only-promotions", action="store_true",
                        help="only the variant with a code, automatic promotions and shipping")
    args = parser.parse_args()
    with in_process.environment():
        from chalice.test import Client

        import app
        from dev.fake_stripe.server import start_in_thread
        from tests.support.builders import Marketplace

        stripe_url, stop = start_in_thread("127.0.0.1", 0)
        try:
            in_process.create_stack(stripe_url)
            recorder = Recorder()
            _install(recorder)
            with Client(app.app, stage_name="local") as api:
                market = Marketplace(api=api, stripe_url=stripe_url)
                buyer = _buyer()
                results: list[tuple[str, dict[str, Tally]]] = []
                trace: list[tuple[str, str, str]] = []
                if args.only_promotions:
                    shipping_sellers, shipping_products = _shipping_sellers(market, 3)
                    # the buyer's first checkout (its Stripe customer) out of the way first
                    _order(market, recorder, buyer, _cart(market, shipping_products, shipping_sellers, 1))
                    promoted = _promotion_orders(market, recorder, buyer, shipping_sellers, shipping_products)
                else:
                    promoted = _all_orders(market, recorder, buyer, results, trace)
        finally:
            stop()

    if not args.only_promotions:
        _print_all(results, trace)
        print()
    _print_promotions(promoted)


def _all_orders(market: Any, recorder: Recorder, buyer: dict[str, str], results: list[tuple[str, dict[str, Tally]]],
                trace: list[tuple[str, str, str]]) -> list[tuple[str, dict[str, Tally]]]:
    """Every cart of the module docstring into ``results`` (and the 10-line, 3-seller order's
    calls into ``trace``); returns the promotions variant's."""
    sellers = [market.seller(f"sel_bench_{n}") for n in range(8)]
    products: dict[str, list[str]] = defaultdict(list)
    results.append(("1 line, 1 seller, buyer's first", _order(market, recorder, buyer,
                                                              _cart(market, products, sellers[:1], 1))))
    for lines, seller_count in ((1, 3), (3, 3), (10, 3), (30, 3), (10, 1), (10, 8)):
        cart = _cart(market, products, sellers[:seller_count], lines)
        recorder.trace = trace if (lines, seller_count) == (10, 3) else None
        in_order = min(lines, seller_count)
        label = f"{lines} line{'s' * (lines > 1)}, {in_order} seller{'s' * (in_order > 1)}"
        results.append((label, _order(market, recorder, buyer, cart)))
    recorder.trace = None
    shipping_sellers, shipping_products = _shipping_sellers(market, 3)
    for lines in (1, 10, 30):
        cart = _cart(market, shipping_products, shipping_sellers, lines)
        in_order = min(lines, 3)
        label = f"{lines} line{'s' * (lines > 1)}, {in_order} seller{'s' * (in_order > 1)}, shipping"
        results.append((label, _order(market, recorder, buyer, cart)))
    _points(buyer)
    for lines in (1, 10, 30):
        cart = _cart(market, products, sellers[:3], lines)
        in_order = min(lines, 3)
        label = f"{lines} line{'s' * (lines > 1)}, {in_order} seller{'s' * (in_order > 1)}, points"
        results.append((label, _order(market, recorder, buyer, cart, redeem_points=500)))
    return _promotion_orders(market, recorder, buyer, shipping_sellers, shipping_products)


def _print_all(results: list[tuple[str, dict[str, Tally]]], trace: list[tuple[str, str, str]]) -> None:
    print("Round trips per order (DDB = DynamoDB API calls, RT = the checkout's DynamoDB round trips, the pages\n"
          "of one read sent at once counting as one, S = Stripe HTTP requests) and write request\n"
          "units (WRU: base table per phase, then their total; GSI: global secondary index writes, all phases)\n")
    _print_table(["cart", "checkout DDB", "RT", "S", "webhook DDB", "S", "transfers DDB", "S",
                  "WRU checkout", "webhook", "transfers", "total", "GSI WRU"],
                 [_row(label, tallies) for label, tallies in results])
    others = sorted({phase for _, tallies in results for phase in tallies if phase not in PHASES})
    _print_breakdown(results, [*PHASES, *others])
    print("\nThe 10-line, 3-seller order call by call (PK/SK prefixes of the items touched):")
    _print_table(["phase", "call", "items"], [list(step) for step in trace], text_columns=3)


def _print_promotions(results: list[tuple[str, dict[str, Tally]]]) -> None:
    print(f"With the code {CODE} and shipping, by automatic promotions in play (cart RT: GET /v1/cart's DynamoDB\n"
          "round trips, its pricing included; the other columns as above)\n")
    _print_table(["cart", "automatic", "cart RT", "checkout DDB", "RT", "S", "webhook DDB", "transfers DDB",
                  "WRU checkout", "WRU total", "GSI WRU"], [_promotion_row(label, t) for label, t in results],
                 text_columns=2)
    short = [f"{label.split(' ')[0]}L/{label.rsplit(', ', 1)[1]}P" for label, _ in results]  # lines/promotions
    _print_breakdown([(name, t) for name, (_, t) in zip(short, results, strict=True)], ["cart", "checkout"])


if __name__ == "__main__":
    main()
