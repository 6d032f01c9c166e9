"""The marketplace under load, as `make load` runs it (bench/load.py starts the local stack):
buyers sign up, browse, search, fill carts, check out and pay at the fake Stripe, and read
their orders, while sellers update stock and prices of the demo catalog.

Every buyer was signed up afresh through the API by bench/load.py before the run (sign-up,
mailed link, confirmation: password hashing and mail delivery are not what this measures)
and comes from an address of its own on 127.0.0.0/8 (the local API hands the peer address
to the app as API Gateway does), so per-address limits apply per buyer as they would to
real buyers, not to the whole load at once.

An answer the marketplace gives on purpose under contention (409 ``insufficient_stock`` once
stock runs out, a seller's ``stock_conflict`` when two updates race) is a success in the
statistics and counted apart in ``expected_answers``; every other non-2xx is an error.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from itertools import count
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task
from locust.clients import LocustHttpAdapter

DEMO_SELLERS = [  # dev/demo_data.py's sellers: email, password
    ("shop@nordwind.example", "nordwind-demo-password"),
    ("hallo@bohne.example", "bohne-demo-password-1"),
    ("post@seitenweise.example", "seitenweise-demo-pass"),
    ("info@klangraum.example", "klangraum-demo-pass"),
]
SEARCHES = ["espresso", "trail", "tent", "merino", "kaffee", "puzzle", "headphones", "tea", "boot", "roman"]
DEPARTMENTS = ["fashion", "sports", "food", "home", "books", "electronics"]
ADDRESS = {"name": "Lena Last", "line1": "Lastweg 12", "postal_code": "10115", "city": "Berlin", "country": "DE"}

# Every route the scenario calls, with the answers it may give on purpose under load
# (status, error code); tests/unit/bench/test_locustfile.py holds them to /openapi.json.
ROUTES: dict[tuple[str, str], frozenset[tuple[int, str]]] = {
    ("POST", "/v1/auth/login"): frozenset(),
    ("GET", "/v1/products"): frozenset(),
    ("GET", "/v1/products/{product_id}"): frozenset(),
    ("PUT", "/v1/cart/items/{product_id}"): frozenset({(409, "insufficient_stock"), (409, "cart_full")}),
    ("DELETE", "/v1/cart/items/{product_id}"): frozenset(),
    ("GET", "/v1/cart"): frozenset(),
    ("POST", "/v1/checkout"): frozenset({(409, "insufficient_stock"), (409, "cart_empty"),
                                         (409, "products_unavailable"), (409, "checkout_contention")}),
    ("GET", "/v1/me/orders"): frozenset(),
    ("GET", "/v1/me/orders/{order_id}"): frozenset(),
    ("GET", "/v1/seller/products"): frozenset(),
    ("GET", "/v1/seller/products/{product_id}"): frozenset(),
    ("PUT", "/v1/seller/products/{product_id}/stock"): frozenset({(409, "stock_conflict")}),
    ("PATCH", "/v1/seller/products/{product_id}"): frozenset(),
    ("GET", "/v1/seller/orders"): frozenset(),
}
STRIPE_CONFIRM = "[fake Stripe] /v1/payment_intents/{id}/confirm"

expected_answers: Counter[str] = Counter()
_addresses = count(2)
_buyers: list[dict[str, str]] | None = None


def _next_buyer(path: str) -> dict[str, str] | None:
    """The next buyer bench/load.py signed up (and confirmed) before the run, with its address."""
    global _buyers
    if _buyers is None:
        _buyers = json.loads(Path(path).read_text()) if Path(path).exists() else []
    return _buyers.pop(0) if _buyers else None


def _next_address() -> str:
    """127.0.0.2, 127.0.0.3, …: all loopback on Linux, one per simulated user."""
    n = next(_addresses)
    return f"127.0.{n // 250}.{n % 250 + 2}"


class _FromAddress(LocustHttpAdapter):
    """Connections from one loopback address, as one device of one user would come from."""

    def __init__(self, address: str) -> None:
        self.source = address
        super().__init__(pool_manager=None)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, source_address=(self.source, 0), **kwargs)


class MarketplaceUser(HttpUser):
    abstract = True
    token: str | None = None

    def on_start(self) -> None:
        self.client.mount("http://", _FromAddress(_next_address()))

    def call(self, method: str, route: str, *, path: dict[str, str] | None = None, **kwargs: Any) -> Any:
        """One API request, reported under its route; the JSON body on a 2xx or an expected
        answer, else None (the request is counted as an error)."""
        expected = ROUTES[(method, route)]
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        with self.client.request(method, route.format(**(path or {})), name=route, headers=headers,
                                 catch_response=True, timeout=60, **kwargs) as response:
            body = _json(response)
            if 200 <= response.status_code < 300:
                response.success()
                return body if body is not None else {}
            code = _error_code(body)
            if (response.status_code, code) in expected:
                expected_answers[f"{method} {route} {response.status_code} {code}"] += 1
                response.success()
                return body
            response.failure(repr(response.error) if response.error else f"{response.status_code} {code}")
            return None


def _json(response: Any) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _error_code(body: Any) -> str | None:
    return ((body or {}).get("error") or {}).get("code") if isinstance(body, dict) else None


class Buyer(MarketplaceUser):
    """A signed-in customer: browses, fills a cart in euros, checks out, pays, reads orders."""

    weight = 9
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.products: list[str] = []
        self.in_cart: set[str] = set()
        buyer = _next_buyer(self.environment.parsed_options.buyers)
        if buyer is None:  # more buyers than were signed up: this one browses as a guest
            super().on_start()
            return
        self.client.mount("http://", _FromAddress(buyer["address"]))
        self.token = buyer["access_token"]

    def _remember(self, page: Any) -> None:
        for item in (page or {}).get("items", []):
            if item["price"]["currency"] == "EUR" and item["in_stock"] and item["product_id"] not in self.products:
                self.products.append(item["product_id"])

    @task(5)
    def browse(self) -> None:
        params: dict[str, Any] = {"currency": "EUR", "sort": random.choice(["newest", "price_asc", "price_desc"])}
        if random.random() < 0.6:
            params["category"] = random.choice(DEPARTMENTS)
        if random.random() < 0.5:
            params["in_stock"] = "true"
        if random.random() < 0.3:
            params["max_price"] = random.choice([2_000, 5_000, 20_000])
        self._remember(self.call("GET", "/v1/products", params=params))

    @task(3)
    def search(self) -> None:
        self._remember(self.call("GET", "/v1/products", params={"q": random.choice(SEARCHES)}))

    @task(4)
    def view_product(self) -> None:
        if self.products:
            self.call("GET", "/v1/products/{product_id}", path={"product_id": random.choice(self.products)})

    @task(3)
    def add_to_cart(self) -> None:
        if self.token and self.products:
            product_id = random.choice(self.products)
            cart = self.call("PUT", "/v1/cart/items/{product_id}", path={"product_id": product_id},
                             json={"quantity": random.choice([1, 1, 1, 2])})
            if cart is not None and _error_code(cart) is None:
                self.in_cart.add(product_id)

    @task(1)
    def view_cart(self) -> None:
        if self.token:
            self.call("GET", "/v1/cart")

    @task(2)
    def check_out_and_pay(self) -> None:
        if not (self.token and self.in_cart):  # a shop offers no checkout for an empty cart
            return
        placed = self.call("POST", "/v1/checkout", json={"shipping_address": ADDRESS},
                           headers={"Idempotency-Key": f"load-{uuid.uuid4().hex}"})
        code = _error_code(placed)
        if code in ("insufficient_stock", "products_unavailable"):
            gone = [p["product_id"] for p in (placed["error"].get("details") or {}).get("products", [])]
            for product_id in gone:
                self.call("DELETE", "/v1/cart/items/{product_id}", path={"product_id": product_id})
                self.in_cart.discard(product_id)
                if product_id in self.products:
                    self.products.remove(product_id)
            return
        if code == "cart_empty":
            self.in_cart.clear()
        if placed is None or code is not None:
            return
        self.in_cart.clear()
        order_id, payment_intent = placed["order"]["order_id"], placed["payment"]["payment_intent_id"]
        with self.client.post(f"{self.environment.parsed_options.stripe}/v1/payment_intents/{payment_intent}/confirm",
                              data={"payment_method": "pm_card_visa"}, auth=("sk_test_agora_local", ""),
                              name=STRIPE_CONFIRM, catch_response=True, timeout=60) as response:
            if response.status_code != 200 or (_json(response) or {}).get("status") != "succeeded":
                response.failure(repr(response.error) if response.error else f"{response.status_code}")
        self.call("GET", "/v1/me/orders/{order_id}", path={"order_id": order_id})

    @task(1)
    def my_orders(self) -> None:
        if self.token:
            self.call("GET", "/v1/me/orders")


class Seller(MarketplaceUser):
    """A demo seller's staff keeping stock and prices current."""

    weight = 1
    wait_time = between(1, 3)
    _seats = count()

    def on_start(self) -> None:
        super().on_start()
        email, password = DEMO_SELLERS[next(self._seats) % len(DEMO_SELLERS)]
        tokens = self.call("POST", "/v1/auth/login", json={"email": email, "password": password})
        self.token = (tokens or {}).get("access_token")
        listed = self.call("GET", "/v1/seller/products", params={"limit": 100}) if self.token else None
        self.catalog: list[dict[str, Any]] = (listed or {}).get("items", [])

    @task(4)
    def restock(self) -> None:
        if not self.catalog:
            return
        product_id = random.choice(self.catalog)["product_id"]
        product = self.call("GET", "/v1/seller/products/{product_id}", path={"product_id": product_id})
        if product:
            self.call("PUT", "/v1/seller/products/{product_id}/stock", path={"product_id": product_id},
                      json={"quantity": random.randint(20, 200), "expected_version": product["version"]})

    @task(1)
    def reprice(self) -> None:
        if not self.catalog:
            return
        product = random.choice(self.catalog)
        list_price = product["price"]["amount"]
        price = max(100, list_price + random.choice([-1, 1]) * list_price // 20)
        self.call("PATCH", "/v1/seller/products/{product_id}", path={"product_id": product["product_id"]},
                  json={"price": {"amount": price, "currency": product["price"]["currency"]}})

    @task(1)
    def paid_orders(self) -> None:
        if self.token:
            self.call("GET", "/v1/seller/orders", params={"status": "paid"})


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--buyers", default=".local/load/buyers.json", help="buyers signed up by bench/load.py")
    parser.add_argument("--stripe", default="http://127.0.0.1:8420", help="the fake Stripe's URL")
    parser.add_argument("--summary-file", default=".local/load/summary.json")


RESET_SIGNS = ("ConnectionReset", "Connection reset", "RemoteDisconnected", "BrokenPipe", "Connection aborted")


def summary(environment: Any) -> dict[str, Any]:
    """Requests/s, p50/p95/p99 per route, errors, connection resets and expected answers."""
    stats = environment.stats
    routes = []
    for entry in sorted(stats.entries.values(), key=lambda e: (e.name, e.method)):
        routes.append({"method": entry.method, "route": entry.name, "requests": entry.num_requests,
                       "errors": entry.num_failures, "rps": round(entry.total_rps, 2),
                       "p50_ms": entry.get_response_time_percentile(0.5),
                       "p95_ms": entry.get_response_time_percentile(0.95),
                       "p99_ms": entry.get_response_time_percentile(0.99)})
    errors = [{"method": e.method, "route": e.name, "error": str(e.error), "count": e.occurrences}
              for e in stats.errors.values()]
    total = stats.total
    return {
        "users": environment.parsed_options.num_users, "spawn_rate": environment.parsed_options.spawn_rate,
        "run_time_s": environment.parsed_options.run_time, "host": environment.host,
        "requests": total.num_requests, "rps": round(total.total_rps, 2),
        "p50_ms": total.get_response_time_percentile(0.5), "p95_ms": total.get_response_time_percentile(0.95),
        "p99_ms": total.get_response_time_percentile(0.99),
        "errors": total.num_failures,
        "connection_resets": sum(e["count"] for e in errors if any(s in e["error"] for s in RESET_SIGNS)),
        "expected_answers": dict(expected_answers), "routes": routes, "error_details": errors,
    }


@events.quitting.add_listener
def _write_summary(environment: Any, **_kwargs: Any) -> None:
    result = summary(environment)
    path = Path(environment.parsed_options.summary_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    if result["errors"] or result["connection_resets"]:
        environment.process_exit_code = 1
