"""What an order costs to run: measured units of one order's whole life, priced per 1,000 orders.

    .venv/bin/python bench/cost.py

Drives orders in-process as ``bench/checkout_round_trips.py`` does (moto, the stack from
``infra``, the fake Stripe in a thread, onboarded sellers, one signed-in buyer) through
their whole life: the cart (one ``PUT /v1/cart/items`` a line), ``POST /v1/checkout``, the
``payment_intent.succeeded`` webhook, each seller's accept, ship and deliver, the hourly
sweep that completes the parts once their return window is over (run as if 14 days had
passed; its Query is shared by every order due that day, counted whole here), and every
event these cause (relayed from the outbox by the stream Lambda, dispatched by the events
Lambda) and every mail queued (sent by the mail Lambda), until nothing new happens.

Units, per order:

- DynamoDB, computed from moto's item sizes as DynamoDB charges them (moto's
  ``ReturnConsumedCapacity`` answers a constant 1.0, so it is not used). Writes: per item,
  the larger of its size before and after, rounded up to 1 KB, twice inside
  TransactWriteItems (a ConditionCheck is 1 KB). Each global secondary index: an entry
  put, or removed, costs its projected size rounded up to 1 KB; an entry whose key moves
  costs a removal and a put; an update that changes none of the index's projected
  attributes costs nothing there. Reads: per item, its size rounded up to 4 KB, half for
  eventually consistent reads, twice inside TransactGetItems, a missing item as a small
  one; a Query sums the sizes it read (projected sizes on an index, always eventually
  consistent) before rounding.
- Lambda: an invocation per API request, per stream batch relayed and per SQS message
  handled (an upper bound: at low traffic Lambda hands messages over one by one; at
  scale, batches of 10 share one), GB-seconds = measured handler time (in-process, moto
  for DynamoDB, so slower than AWS) rounded up to 1 ms times the memory from .chalice/config.json.
- API Gateway: the HTTP requests (the webhook is one).
- SQS: the requests agora sends (measured), plus a ReceiveMessage and a DeleteMessage per
  message the Lambda poller hands over (modelled, unbatched: an upper bound).
- SES: mails sent.

Prints units and dollars per 1,000 orders per component for each cart, and Stripe's card
fee for the same orders. Not counted: reads of orders by buyers and sellers, and the
sweeps that run whatever the orders (reservations, stuck payments: a fixed monthly cost).
"""

from __future__ import annotations

import copy
import json
import math
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import checkout_round_trips as rt  # noqa: E402 - the driver shared with the round-trip bench
import in_process  # noqa: E402
import prices  # noqa: E402

PHASES = ("cart", "checkout", "webhook", "fulfilment", "completion", "events", "mails")
TRANSACTIONAL = {"TransactWriteItems"}
RETURN_WINDOW_DAYS = 14  # the sellers' default
CARTS = ((1, 1), (3, 1), (3, 3), (10, 1), (10, 3))  # (lines, sellers)
# The 10-line, 3-seller order as this bench first measured it (2026-12-07), before the reductions
# of bench/README.md: dollars per 1,000 orders (Lambda GB-s is a timing, so it varies run to run).
BEFORE = {"DynamoDB writes": 0.2838, "DynamoDB reads": 0.0255, "Lambda requests": 0.0114, "Lambda GB-s": 0.0140,
          "API Gateway": 0.0735, "SQS": 0.0228, "SES mails": 0.0}


@dataclass
class Units:
    """What one phase of one order used."""

    wru: Counter[str] = field(default_factory=Counter)  # "table", "GSI1", ...
    rru: Counter[str] = field(default_factory=Counter)  # in half units, to stay integral
    wru_by_kind: Counter[str] = field(default_factory=Counter)  # "table USER/ORDER", "GSI1 ..."
    calls: Counter[str] = field(default_factory=Counter)
    invocations: Counter[str] = field(default_factory=Counter)  # per Lambda function
    billed_ms: Counter[str] = field(default_factory=Counter)
    api_requests: int = 0
    sqs_requests: int = 0
    mails: int = 0

    def add(self, other: Units) -> None:
        for name in ("wru", "rru", "wru_by_kind", "calls", "invocations", "billed_ms"):
            getattr(self, name).update(getattr(other, name))
        self.api_requests += other.api_requests
        self.sqs_requests += other.sqs_requests
        self.mails += other.mails


def write_units(size: int) -> int:
    return math.ceil(size / 1024) if size else 0


def read_half_units(size: int) -> int:
    """Half read units of one strongly consistent read of ``size`` bytes (at least one 4 KB block)."""
    return 2 * max(1, math.ceil(size / 4096))


def projected_size(attrs: dict[str, Any], projection: dict[str, Any], keys: set[str]) -> int:
    """Bytes an index entry holds: every attribute for ALL, else the table's and index's keys
    plus the included attributes (moto's per-attribute sizes: name plus value)."""
    names = attrs.keys() if projection["ProjectionType"] == "ALL" else \
        keys | set(projection.get("NonKeyAttributes", []))
    return sum(len(name.encode()) + attrs[name].size() for name in names if name in attrs)


def index_write_units(old: dict[str, Any] | None, new: dict[str, Any] | None, index: Index) -> int:
    """Write units one item change costs in one global secondary index."""
    old_key, new_key = index.key_of(old), index.key_of(new)
    if old_key is None and new_key is None:
        return 0
    if old_key != new_key:  # put, removal, or a move (both)
        return (write_units(index.size(old)) if old_key else 0) + (write_units(index.size(new)) if new_key else 0)
    assert old is not None and new is not None
    changed = {name for name in old.keys() | new.keys()
               if name not in old or name not in new or old[name].to_json() != new[name].to_json()}
    if index.projection["ProjectionType"] != "ALL":
        changed &= index.attributes
    return write_units(index.size(new)) if changed else 0


@dataclass
class Index:
    name: str
    hash_key: str
    range_key: str
    projection: dict[str, Any]
    table_keys: set[str]

    @property
    def attributes(self) -> set[str]:
        return self.table_keys | {self.hash_key, self.range_key} | set(self.projection.get("NonKeyAttributes", []))

    def key_of(self, attrs: dict[str, Any] | None) -> tuple[str, str] | None:
        if attrs is None or self.hash_key not in attrs or self.range_key not in attrs:
            return None
        return str(attrs[self.hash_key].value), str(attrs[self.range_key].value)

    def size(self, attrs: dict[str, Any] | None) -> int:
        return projected_size(attrs or {}, self.projection, self.table_keys | {self.hash_key, self.range_key})


class Meter:
    """Counts into the units of the current phase; nothing while ``phase`` is None."""

    def __init__(self) -> None:
        self.phase: str | None = None
        self.units: dict[str, Units] = defaultdict(Units)
        self.indexes: list[Index] = []
        self.queued: dict[str, list[dict[str, Any]]] = {}  # queue URL -> messages sent, for the pump
        self.events_queue_url = self.retention_queue_url = ""
        self.relayed: set[str] = set()  # outbox item keys handed to the stream relay

    @property
    def current(self) -> Units | None:
        return self.units[self.phase] if self.phase else None

    def take(self) -> dict[str, Units]:
        units, self.units = dict(self.units), defaultdict(Units)
        return units

    def invoke(self, function: str, run: Any, *args: Any) -> Any:
        """Run one Lambda invocation of ``function``, timed."""
        started = time.perf_counter()
        try:
            return run(*args)
        finally:
            units = self.current
            if units is not None:
                units.invocations[function] += 1
                units.billed_ms[function] += math.ceil((time.perf_counter() - started) * 1000)


def _attrs(backend: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    item = rt._item(backend, table, key)
    return copy.deepcopy(item.attrs) if item is not None else None


def _size(attrs: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + value.size() for name, value in (attrs or {}).items())


def _count_write(meter: Meter, units: Units, backend: Any, operation: str, params: dict[str, Any],
                 original: Any, client: Any) -> Any:
    touched = rt._table_and_keys(operation, params)
    before = [_attrs(backend, table, key) for table, _, key in touched]
    result = original(client, operation, params)  # a failed write raises: it counts no units here
    factor = 2 if operation in TRANSACTIONAL else 1
    for (table, kind, key), old in zip(touched, before, strict=True):
        new = _attrs(backend, table, key)
        table_units = factor * write_units(max(_size(old), _size(new), 1 if kind == "ConditionCheck" else 0))
        what = rt._kind(key)
        units.wru["table"] += table_units
        units.wru_by_kind[f"table {what}"] += table_units
        for index in meter.indexes:
            index_units = index_write_units(old, new, index)
            units.wru[index.name] += index_units
            units.wru_by_kind[f"{index.name} {what}"] += index_units
    return result


def _count_read(meter: Meter, units: Units, backend: Any, operation: str, params: dict[str, Any],
                result: dict[str, Any]) -> None:
    def item_half_units(table: str, key: dict[str, Any], consistent: bool) -> int:
        half = read_half_units(_size(_attrs(backend, table, key)))
        return half if consistent else half // 2 or 1

    if operation == "GetItem":
        units.rru["table"] += item_half_units(params["TableName"], params["Key"], bool(params.get("ConsistentRead")))
    elif operation == "BatchGetItem":
        for table, request in params["RequestItems"].items():
            for key in request["Keys"]:  # unprocessed keys come back and are asked again: counted then
                if key not in result.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []):
                    units.rru["table"] += item_half_units(table, key, bool(request.get("ConsistentRead")))
    elif operation == "TransactGetItems":
        for entry in params["TransactItems"]:
            units.rru["table"] += 2 * item_half_units(entry["Get"]["TableName"], entry["Get"]["Key"], True)
    elif operation in ("Query", "Scan"):
        index = next((i for i in meter.indexes if i.name == params.get("IndexName")), None)
        sizes = 0
        for item in result.get("Items", []):
            attrs = _attrs(backend, params["TableName"], item) if "PK" in item else None
            sizes += index.size(attrs) if index else _size(attrs)
        half = read_half_units(sizes)
        consistent = index is None and bool(params.get("ConsistentRead"))
        units.rru[index.name if index else "table"] += half if consistent else half // 2 or 1


def _meter_aws(meter: Meter, original: Any) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    def metering(client: Any, operation: str, params: dict[str, Any]) -> Any:
        units, service = meter.current, client.meta.service_model.service_name
        if service == "sqs" and operation in ("SendMessage", "SendMessageBatch"):
            queued = meter.queued.get(params["QueueUrl"])
            bodies = [params["MessageBody"]] if "MessageBody" in params else \
                [entry["MessageBody"] for entry in params["Entries"]]
            if queued is not None:
                queued.extend(json.loads(body) for body in bodies)
        if units is None:
            return original(client, operation, params)
        units.calls[f"{service} {operation}"] += 1
        if service == "sqs":
            units.sqs_requests += 1
        elif service in ("ses", "sesv2") and operation.startswith("Send"):
            units.mails += 1
        if service != "dynamodb":
            return original(client, operation, params)
        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][client.meta.region_name]
        if operation in rt.WRITES:
            return _count_write(meter, units, backend, operation, params, original, client)
        result = original(client, operation, params)
        _count_read(meter, units, backend, operation, params, result)
        return result

    return metering


def _install(meter: Meter) -> None:
    import boto3
    from botocore.client import BaseClient

    from chalicelib.core.settings import get_settings

    settings = get_settings()
    table = boto3.client("dynamodb").describe_table(TableName=settings.table_name)["Table"]
    table_keys = {key["AttributeName"] for key in table["KeySchema"]}
    for gsi in table.get("GlobalSecondaryIndexes", []):
        hash_key, range_key = (key["AttributeName"] for key in gsi["KeySchema"])
        meter.indexes.append(Index(gsi["IndexName"], hash_key, range_key, gsi["Projection"], table_keys))
    sqs = boto3.client("sqs")
    meter.events_queue_url = sqs.get_queue_url(QueueName=settings.events_queue_name)["QueueUrl"]
    meter.retention_queue_url = sqs.get_queue_url(QueueName=settings.retention_queue_name)["QueueUrl"]
    meter.queued = {meter.events_queue_url: [], meter.retention_queue_url: []}
    BaseClient._make_api_call = _meter_aws(meter, BaseClient._make_api_call)


def _memory_gb() -> float:
    config = json.loads((BENCH.parent / ".chalice" / "config.json").read_text())
    return int(config["lambda_memory_size"]) / 1024


def _take(queued: list[dict[str, Any]]) -> list[dict[str, Any]]:
    taken = list(queued)
    queued.clear()
    return taken


def _pump(meter: Meter) -> None:
    """Relay the new outbox events (one stream invocation), dispatch each event the relay
    queued (one events invocation a message), send each queued mail (one mail invocation a
    message), until nothing new comes; the outbox is read by a test Scan outside any phase."""
    from chalicelib.events.service import dispatch, relay
    from chalicelib.retention.service import deliver
    from tests.support.events import _outbox_items

    phase, meter.phase = meter.phase, None
    while True:
        items = [item for item in _outbox_items() if item["PK"]["S"] not in meter.relayed]
        mails = _take(meter.queued[meter.retention_queue_url])
        if not items and not mails:
            meter.phase = phase
            return
        meter.phase = "events"
        meter.relayed.update(item["PK"]["S"] for item in items)
        if items:
            meter.invoke("table_stream", relay, [{"eventName": "INSERT", "dynamodb": {"NewImage": item}}
                                                 for item in items])
        for message in sorted(_take(meter.queued[meter.events_queue_url]), key=lambda m: m["event_id"]):
            meter.invoke("domain_events", dispatch, message)
            meter.units["events"].sqs_requests += 2  # the poller's ReceiveMessage and DeleteMessage
        meter.phase = "mails"
        for mail in mails:
            meter.invoke("retention_emails", deliver, mail)
            meter.units["mails"].sqs_requests += 2
        meter.phase = None


def _api(meter: Meter, phase: str, run: Any, *args: Any, **kwargs: Any) -> Any:
    meter.phase = phase
    try:
        meter.units[phase].api_requests += 1
        return meter.invoke("api_handler", lambda: run(*args, **kwargs))
    finally:
        meter.phase = None


def _order(market: Any, meter: Meter, buyer: dict[str, str], cart: list[str], sellers: list[str]) -> dict[str, Units]:
    """One order's whole life; the units of each phase."""
    from chalicelib.core import clock
    from chalicelib.orders.lifecycle import complete_due

    for product_id in cart:
        _api(meter, "cart", market.add, buyer, product_id)
    _pump(meter)
    status, body, _ = _api(meter, "checkout", market.checkout, buyer, payment_method_id="pm_card_visa")
    if status != 201:
        raise SystemExit(f"checkout failed: {status} {body}")
    _pump(meter)
    intent = market.payment_intent(body["payment"]["payment_intent_id"])
    status, answer = _api(meter, "webhook", market.stripe_event, "payment_intent.succeeded", intent)
    if status != 200:
        raise SystemExit(f"webhook failed: {status} {answer}")
    _pump(meter)
    order_id = body["order"]["order_id"]
    for seller_id in sellers:
        for action, action_body in (("accept", None), ("ship", {"carrier": "DHL", "tracking_number": "JJD0001"}),
                                    ("deliver", None)):
            status, answer = _api(meter, "fulfilment", market.act, seller_id, order_id, action, action_body)
            if status != 200:
                raise SystemExit(f"{action} failed: {status} {answer}")
            _pump(meter)
    meter.phase = "completion"  # the hourly sweep, once the return window is over
    meter.invoke("complete_delivered_orders", complete_due, clock.now() + timedelta(days=RETURN_WINDOW_DAYS,
                                                                                     minutes=1))
    meter.phase = None
    _pump(meter)
    units = meter.take()
    units["_order"] = Units(calls=Counter({"amount": body["order"]["total"]["amount"]}))  # the charged amount, cents
    return units


@dataclass
class Cost:
    """Dollars per 1,000 orders per component."""

    lines: dict[str, float]

    @property
    def before_mails(self) -> float:
        return sum(value for name, value in self.lines.items() if name != "SES mails")


def cost_per_1000(total: Units, memory_gb: float) -> Cost:
    orders = 1000
    wru, rru = sum(total.wru.values()), sum(total.rru.values()) / 2
    gb_seconds = sum(total.billed_ms.values()) / 1000 * memory_gb
    return Cost({
        "DynamoDB writes": orders * wru * prices.DYNAMODB_WRU,
        "DynamoDB reads": orders * rru * prices.DYNAMODB_RRU,
        "Lambda requests": orders * sum(total.invocations.values()) * prices.LAMBDA_REQUEST,
        "Lambda GB-s": orders * gb_seconds * prices.LAMBDA_GB_SECOND,
        "API Gateway": orders * total.api_requests * prices.API_GATEWAY_REST_REQUEST,
        "SQS": orders * total.sqs_requests * prices.SQS_REQUEST,
        "SES mails": orders * total.mails * prices.SES_MAIL,
    })


def _total(units: dict[str, Units]) -> Units:
    total = Units()
    for phase in PHASES:
        total.add(units.get(phase, Units()))
    return total


def _stripe_fee_cents(amount: int) -> float:
    return amount * prices.STRIPE_CARD_PERCENT / 100 + prices.STRIPE_CARD_FIXED_CENTS


def run() -> list[tuple[str, dict[str, Units]]]:
    """The orders of every cart shape; a first order warms up the buyer (Stripe customer)."""
    with in_process.environment():
        from chalice.test import Client

        import app
        from dev.fake_stripe.server import start_in_thread
        from tests.support.builders import Marketplace

        stripe_url, stop = start_in_thread("127.0.0.1", 0)
        try:
            in_process.create_stack(stripe_url)
            meter = Meter()
            _install(meter)
            with Client(app.app, stage_name="local") as api:
                market = Marketplace(api=api, stripe_url=stripe_url)
                sellers = [market.seller(f"sel_cost_{n}") for n in range(3)]
                products: dict[str, list[str]] = defaultdict(list)
                buyer = rt._buyer()
                _order(market, meter, buyer, rt._cart(market, products, sellers[:1], 1), sellers[:1])
                results = []
                for lines, seller_count in CARTS:
                    cart = rt._cart(market, products, sellers[:seller_count], lines)
                    in_order = sellers[:min(lines, seller_count)]
                    label = f"{lines} line{'s' * (lines > 1)}, {len(in_order)} seller{'s' * (len(in_order) > 1)}"
                    results.append((label, _order(market, meter, buyer, cart, in_order)))
        finally:
            stop()
    return results


def main() -> None:
    import argparse

    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    results = run()
    memory_gb = _memory_gb()
    index_names = sorted({name for _, units in results for phase in units.values() for name in phase.wru} - {"table"})

    print(f"Units of one order's whole life ({', '.join(PHASES)}); "
          f"Lambda at {memory_gb * 1024:.0f} MB\n")
    header = ["cart", "WRU table", *[f"WRU {n}" for n in index_names], "RRU table",
              *[f"RRU {n}" for n in index_names], "DDB calls", "Lambda inv", "Lambda ms", "API", "SQS", "mails"]
    rows = []
    for label, units in results:
        total = _total(units)
        rows.append([label, str(total.wru["table"]), *[str(total.wru[n]) for n in index_names],
                     f"{total.rru['table'] / 2:g}", *[f"{total.rru[n] / 2:g}" for n in index_names],
                     str(sum(n for c, n in total.calls.items() if c.startswith("dynamodb"))),
                     str(sum(total.invocations.values())), str(sum(total.billed_ms.values())),
                     str(total.api_requests), str(total.sqs_requests), str(total.mails)])
    rt._print_table(header, rows)

    print(f"\nDollars per 1,000 orders ({prices.REGION} list prices of {prices.PRICED_ON}); "
          "Stripe's EEA card fee for the same orders in euros\n")
    costs = [(label, cost_per_1000(_total(units), memory_gb), units["_order"].calls["amount"])
             for label, units in results]
    components = list(costs[0][1].lines)
    rt._print_table(["cart", *components, "before mails", "total", "Stripe fee €"],
                    [[label, *[f"{cost.lines[c]:.4f}" for c in components], f"{cost.before_mails:.4f}",
                      f"{sum(cost.lines.values()):.4f}", f"{1000 * _stripe_fee_cents(amount) / 100:,.0f}"]
                     for label, cost, amount in costs])

    label, units = next((r for r in results if r[0] == "10 lines, 3 sellers"), results[-1])
    now = cost_per_1000(_total(units), memory_gb)
    print(f"\n{label}: before the reductions (recorded 2026-12-07) and now, dollars per 1,000 orders\n")
    rt._print_table(["", *components, "before mails"],
                    [["before", *[f"{BEFORE[c]:.4f}" for c in components],
                      f"{sum(v for c, v in BEFORE.items() if c != 'SES mails'):.4f}"],
                     ["now", *[f"{now.lines[c]:.4f}" for c in components], f"{now.before_mails:.4f}"]])
    print(f"\n{label}: dollars per 1,000 orders per phase (checkout + webhook + events is the order "
          "the issue estimated)\n")
    phase_costs = [(phase, cost_per_1000(units.get(phase, Units()), memory_gb)) for phase in PHASES]
    rt._print_table(["phase", *components, "before mails"],
                    [[phase, *[f"{cost.lines[c]:.4f}" for c in components], f"{cost.before_mails:.4f}"]
                     for phase, cost in phase_costs])
    print(f"\nWrite units of the {label} order per phase and item kind (PK/SK prefixes)\n")
    kinds = Counter[str]()
    for phase in PHASES:
        for kind, n in units.get(phase, Units()).wru_by_kind.items():
            if n:
                kinds[f"{phase:<10} {kind}"] += n
    rt._print_table(["phase and item", "WRU"], [[kind, str(n)] for kind, n in kinds.most_common()])
    print(f"\n{label}: Lambda invocations and billed ms per function, calls per phase\n")
    rt._print_table(["phase", "function or call", "count", "ms"],
                    [[phase, name, str(n), str(units[phase].billed_ms.get(name, ""))]
                     for phase in PHASES if phase in units
                     for name, n in sorted({**units[phase].invocations, **units[phase].calls}.items())],
                    text_columns=2)


if __name__ == "__main__":
    main()
