"""The local API under a burst, as `make run` serves it (dev/local_api.py): parallel checkouts get
their proper answers, never a reset connection, and the stock is never oversold."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from dev import demo_data
from tests.support.stack import LocalStack

ADDRESS = {"name": "Gast Käufer", "line1": "Ringstraße 5", "postal_code": "1010", "city": "Wien", "country": "AT"}


def _seller_headers(local_stack: LocalStack) -> dict[str, str]:
    seller = demo_data.SELLERS[2][0]  # the bookshop
    login = requests.post(f"{local_stack.api}/v1/auth/login", timeout=30,
                          json={"email": seller["email"], "password": seller["password"]})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def _set_stock(local_stack: LocalStack, headers: dict[str, str], product_id: str, quantity: int) -> None:
    product = requests.get(f"{local_stack.api}/v1/seller/products/{product_id}", headers=headers, timeout=10).json()
    response = requests.put(f"{local_stack.api}/v1/seller/products/{product_id}/stock", headers=headers, timeout=10,
                            json={"quantity": quantity, "expected_version": product["version"]})
    assert response.status_code == 200, response.text


def _guest_cart(local_stack: LocalStack, product_id: str) -> str:
    response = requests.put(f"{local_stack.api}/v1/cart/items/{product_id}", json={"quantity": 1}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["cart_token"]


@pytest.mark.parametrize("parallel", [20, 100])
def test_parallel_checkouts_are_each_answered_and_never_oversell(local_stack: LocalStack, parallel: int) -> None:
    # given a product with stock for three in four of the guests who each have one in their cart
    api, headers = local_stack.api, _seller_headers(local_stack)
    found = requests.get(f"{api}/v1/products", params={"q": "Sternenreise Puzzle"}, timeout=10).json()["items"]
    product_id = found[0]["product_id"]
    stock = parallel * 3 // 4
    _set_stock(local_stack, headers, product_id, parallel)  # enough to fill every cart
    with ThreadPoolExecutor(max_workers=8) as pool:
        carts = list(pool.map(lambda _: _guest_cart(local_stack, product_id), range(parallel)))
    _set_stock(local_stack, headers, product_id, stock)

    # when they all check out at the same moment, each on its own connection
    start = threading.Barrier(parallel)

    def checkout(cart_token: str) -> Any:
        body = {"email": f"gast-{uuid.uuid4().hex[:10]}@example.com", "name": "Gast", "shipping_address": ADDRESS}
        start.wait()
        try:
            response = requests.post(f"{api}/v1/checkout", json=body, timeout=120, headers={
                "X-Cart-Token": cart_token, "Idempotency-Key": f"burst-{uuid.uuid4().hex}"})
        except requests.ConnectionError as error:
            return f"connection error: {error}"
        return response.status_code, response.json()["error"]["code"] if response.status_code >= 400 else None

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        answers = list(pool.map(checkout, carts))

    # then every checkout got an answer: an order, or "sold out" (or a throttle's 429), no 5xx
    counted = Counter(answers)
    assert set(counted) <= {(201, None), (409, "insufficient_stock"), (429, "too_many_requests")}, counted
    throttled = counted[(429, "too_many_requests")]
    assert counted[(201, None)] == stock if not throttled else counted[(201, None)] <= stock, counted
    # and exactly the stock was sold
    product = requests.get(f"{api}/v1/seller/products/{product_id}", headers=headers, timeout=10).json()
    assert product["stock"] == stock - counted[(201, None)]
