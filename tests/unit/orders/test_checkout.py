"""Checkout: pricing on the server, one stock transaction, one order split per seller, one
PaymentIntent, and idempotency by key."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.support.auth import buyer_headers, seller_headers
from tests.support.builders import ADDRESS, Marketplace, known_buyer, stock_of
from tests.support.http import call


def test_a_cart_from_two_sellers_becomes_one_order_with_a_part_per_seller(market: Marketplace) -> None:
    market.seller("sel_a")
    market.seller("sel_b")
    shoe = market.product("sel_a", price=5_950, stock=3)
    book = market.product("sel_b", price=1_070, stock=9, category="books/fiction")
    buyer = market.buyer()
    market.add(buyer, shoe, 2)
    market.add(buyer, book, 1)

    status, body, _ = market.checkout(buyer)

    assert status == 201, body
    order = body["order"]
    assert order["status"] == "pending_payment"
    assert order["total"] == {"amount": 2 * 5_950 + 1_070, "currency": "EUR"}
    parts = {p["seller_id"]: p for p in order["sellers"]}
    assert parts["sel_a"]["total"]["amount"] == 11_900
    assert parts["sel_a"]["tax"]["amount"] == 1_900  # 19 % included in 119.00
    assert parts["sel_b"]["tax"]["amount"] == 70  # books: 7 % included in 10.70
    assert [p["status"] for p in order["sellers"]] == ["pending_payment", "pending_payment"]
    assert stock_of(market.api, "sel_a", shoe) == 1
    assert stock_of(market.api, "sel_b", book) == 8
    intent = market.payment_intent(body["payment"]["payment_intent_id"])
    assert intent["amount"] == 12_970 and intent["currency"] == "eur"
    assert intent["metadata"]["order_id"] == order["order_id"]
    assert body["payment"]["client_secret"] == intent["client_secret"]
    assert call(market.api, "GET", "/v1/cart", headers=buyer)[1]["lines"] == []


def test_a_line_that_cannot_be_reserved_fails_the_whole_checkout(market: Marketplace) -> None:
    market.seller("sel_a")
    plenty = market.product("sel_a", stock=10)
    scarce = market.product("sel_a", stock=2, title="Last pair of trail shoes")
    buyer = market.buyer()
    market.add(buyer, plenty, 3)
    market.add(buyer, scarce, 2)
    rival = market.buyer()
    market.add(rival, scarce, 1)
    assert market.checkout(rival)[0] == 201

    status, body, _ = market.checkout(buyer)

    assert status == 409
    assert body["error"]["code"] == "insufficient_stock"
    assert body["error"]["details"]["products"] == [
        {"product_id": scarce, "title": "Last pair of trail shoes", "requested": 2,
         "available": 1}]
    assert stock_of(market.api, "sel_a", plenty) == 10  # nothing reserved
    assert len(call(market.api, "GET", "/v1/cart", headers=buyer)[1]["lines"]) == 2  # the cart is kept
    assert call(market.api, "GET", "/v1/me/orders", headers=buyer)[1]["items"] == []


def test_the_same_key_and_body_return_the_same_order_and_payment(market: Marketplace) -> None:
    market.seller("sel_a")
    product = market.product("sel_a", stock=5)
    buyer = market.buyer()
    market.add(buyer, product, 2)

    first = market.checkout(buyer, key="order-attempt-1")
    again = market.checkout(buyer, key="order-attempt-1")

    assert first[0] == again[0] == 201
    assert again[1]["order"]["order_id"] == first[1]["order"]["order_id"]
    assert again[1]["payment"]["payment_intent_id"] == first[1]["payment"]["payment_intent_id"]
    assert again[2].get("Idempotent-Replayed") == "true"
    assert stock_of(market.api, "sel_a", product) == 3  # reserved once
    assert len(call(market.api, "GET", "/v1/me/orders", headers=buyer)[1]["items"]) == 1


def test_the_same_key_with_another_body_is_refused(market: Marketplace) -> None:
    market.seller("sel_a")
    buyer = market.buyer()
    market.add(buyer, market.product("sel_a"), 1)
    assert market.checkout(buyer, key="order-attempt-2")[0] == 201

    status, body, _ = market.checkout(buyer, key="order-attempt-2",
                                      shipping_address={**ADDRESS, "city": "Hamburg", "postal_code": "20095"})

    assert status == 422
    assert body["error"]["code"] == "idempotency_key_reused"
    first_order = call(market.api, "GET", "/v1/me/orders", headers=buyer)[1]["items"][0]["order_id"]
    assert body["error"]["details"] == [{"field": "header.Idempotency-Key", "message": "used for another checkout",
                                         "type": "idempotency_key_reused", "order_id": first_order}]


def test_a_cart_in_two_currencies_is_refused_with_details_like_any_422(market: Marketplace) -> None:
    market.seller("sel_a")
    buyer = market.buyer()
    market.add(buyer, market.product("sel_a", currency="EUR"), 1)
    market.add(buyer, market.product("sel_a", currency="USD"), 1)

    status, body, _ = market.checkout(buyer, key="two-currencies")

    assert (status, body["error"]["code"]) == (422, "mixed_currencies")
    assert body["error"]["details"] == [{"field": "cart", "message": "products in several currencies",
                                         "type": "mixed_currencies", "currencies": ["EUR", "USD"]}]


@pytest.mark.parametrize(("headers", "code"), [({}, "idempotency_key_required"),
                                                ({"Idempotency-Key": "short"}, "invalid_idempotency_key")])
def test_checkout_needs_a_well_formed_idempotency_key(market: Marketplace, headers: dict[str, str],
                                                      code: str) -> None:
    market.seller("sel_a")
    buyer = market.buyer()
    market.add(buyer, market.product("sel_a"), 1)

    status, body, _ = call(market.api, "POST", "/v1/checkout", {"shipping_address": ADDRESS},
                           headers={**buyer, **headers})

    assert status == 422
    assert body["error"]["code"] == code


def test_an_empty_cart_cannot_be_checked_out(market: Marketplace) -> None:
    status, body, _ = market.checkout(market.buyer())
    assert (status, body["error"]["code"]) == (409, "cart_empty")


def test_a_bad_address_is_a_clear_422_and_reserves_nothing(market: Marketplace) -> None:
    market.seller("sel_a")
    product = market.product("sel_a", stock=4)
    buyer = market.buyer()
    market.add(buyer, product, 1)

    status, body, _ = market.checkout(buyer, shipping_address={**ADDRESS, "postal_code": "1234"})

    assert status == 422
    assert body["error"]["details"][0]["field"] == "body.shipping_address.postal_code"
    assert stock_of(market.api, "sel_a", product) == 4


def test_a_guest_checks_out_with_a_cart_token_and_gets_a_passwordless_account(market: Marketplace) -> None:
    from chalicelib.accounts.service import find_user_by_email

    market.seller("sel_a")
    product = market.product("sel_a")
    status, cart, _ = call(market.api, "PUT", f"/v1/cart/items/{product}", {"quantity": 1})
    assert status == 200 and cart["cart_token"]
    guest = {"X-Cart-Token": cart["cart_token"]}

    status, body, _ = market.checkout(guest, email="Guest@Example.com", name="Gast")

    assert status == 201, body
    user = find_user_by_email("guest@example.com")
    assert user is not None and user.password_hash is None
    orders = call(market.api, "GET", "/v1/me/orders", headers=buyer_headers(user.user_id))[1]["items"]
    assert [o["order_id"] for o in orders] == [body["order"]["order_id"]]


def test_a_guest_checkout_with_someone_elses_address_learns_and_changes_nothing_of_the_account(
        market: Marketplace) -> None:
    """The takeover review's third path: a guest typing a buyer's address. The order joins the
    address's account (its owner sees it), but the guest gets no credential, none of the
    account's data, and the account's sign-in stays the owner's alone."""
    from chalicelib.accounts.service import create_user, find_user_by_email, new_user

    owner = create_user(new_user("owner@example.com", name="Olivia Owner", password="owners-Lantern-2031",
                                 email_verified=True))
    market.seller("sel_a")
    product = market.product("sel_a")
    cart = call(market.api, "PUT", f"/v1/cart/items/{product}", {"quantity": 1})[1]

    status, body, _ = market.checkout({"X-Cart-Token": cart["cart_token"]}, email="OWNER@example.com", name="Mallory")

    assert status == 201, body
    assert "Olivia" not in json.dumps(body) and owner.user_id not in json.dumps(body)
    assert not {"access_token", "refresh_token", "tokens"} & set(body)
    assert market.order_of_seller("sel_a", body["order"]["order_id"])["buyer_name"] == "Mallory"
    after = find_user_by_email("owner@example.com")
    assert (after.user_id, after.name, after.password_hash, after.email_verified) == (
        owner.user_id, "Olivia Owner", owner.password_hash, True)
    signed_in = call(market.api, "POST", "/v1/auth/login", {"email": "owner@example.com",
                                                            "password": "owners-Lantern-2031"})[1]
    mine = call(market.api, "GET", "/v1/me/orders", headers={"Authorization": f"Bearer {signed_in['access_token']}"})
    assert [o["order_id"] for o in mine[1]["items"]] == [body["order"]["order_id"]]


def test_a_transaction_conflict_is_retried(market: Marketplace, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.core import db

    market.seller("sel_a")
    product = market.product("sel_a", stock=3)
    buyer = market.buyer()
    market.add(buyer, product, 1)
    original = db.LabelledTransaction.commit
    conflicts = [db.TransactionContention()]
    waits: list[float] = []

    def flaky(self: db.LabelledTransaction) -> set[str]:
        if conflicts:
            raise conflicts.pop()
        return original(self)

    monkeypatch.setattr(db.LabelledTransaction, "commit", flaky)
    monkeypatch.setattr(time, "sleep", waits.append)  # core.db backs off before the next attempt

    status, body, _ = market.checkout(buyer)

    assert status == 201, body
    assert len(waits) == 1 and waits[0] > 0
    assert stock_of(market.api, "sel_a", product) == 2


def test_a_price_change_between_cart_and_checkout_charges_the_new_price(market: Marketplace) -> None:
    market.seller("sel_a")
    product = market.product("sel_a", price=1_000)
    buyer = market.buyer()
    market.add(buyer, product, 1)
    call(market.api, "PATCH", f"/v1/seller/products/{product}", {"price": {"amount": 1_500, "currency": "EUR"}},
         headers=seller_headers("sel_a"))

    status, body, _ = market.checkout(buyer)

    assert status == 201
    assert body["order"]["total"]["amount"] == 1_500


def test_customer_group_discount_and_tax_exemption_apply_to_that_sellers_lines(market: Marketplace) -> None:
    from datetime import UTC, datetime

    from chalicelib.accounts.service import find_user_by_email
    from chalicelib.core.money import Money
    from chalicelib.customers import service as customers

    market.seller("sel_a")
    market.seller("sel_b")
    a = market.product("sel_a", price=11_900)
    b = market.product("sel_b", price=11_900)
    buyer = market.buyer("firma@example.com")
    user_id = find_user_by_email("firma@example.com").user_id
    group = customers.create_group("sel_a", name="Wholesale", discount_basis_points=1_000)
    customers.record_order("sel_a", user_id, "ord_earlier", Money("EUR", 100),  # a customer since an earlier order
                           datetime(2026, 1, 5, tzinfo=UTC))
    customers.update_customer("sel_a", user_id, {"group_id": group.group_id, "tax_exempt": True,
                                                 "tax_exempt_reason": "export"})
    market.add(buyer, a, 1)
    market.add(buyer, b, 1)

    status, body, _ = market.checkout(buyer)

    assert status == 201, body
    parts = {p["seller_id"]: p for p in body["order"]["sellers"]}
    # 119.00 - 10 % = 107.10 gross, exempt: 107.10 / 1.19 = 90.00 net, no VAT
    assert parts["sel_a"]["discount"]["amount"] == 1_190
    assert parts["sel_a"]["total"]["amount"] == 9_000 and parts["sel_a"]["tax"]["amount"] == 0
    assert parts["sel_a"]["tax_exempt"] is True
    assert parts["sel_b"]["total"]["amount"] == 11_900 and parts["sel_b"]["tax"]["amount"] == 1_900


def test_a_refused_guest_checkout_creates_no_account(market: Marketplace) -> None:
    from chalicelib.accounts.service import find_user_by_email

    market.seller("sel_a")
    product = market.product("sel_a", stock=1)
    token = call(market.api, "PUT", f"/v1/cart/items/{product}", {"quantity": 1})[1]["cart_token"]

    status, body, _ = market.checkout({"X-Cart-Token": token}, email="neu@example.com",
                                      shipping_address={**ADDRESS, "postal_code": "1"})

    assert (status, body["error"]["details"][0]["field"]) == (422, "body.shipping_address.postal_code")
    assert find_user_by_email("neu@example.com") is None


# --- round trips ----------------------------------------------------------------------------------

def _check_out_with_defaults(market: Marketplace, buyer: dict[str, str]) -> tuple[int, Any]:
    status, body, _ = call(market.api, "POST", "/v1/checkout", {},
                           headers={**buyer, "Idempotency-Key": f"key-{time.time_ns()}"})
    return status, body


@pytest.mark.parametrize(("sellers", "lines", "read_2"), [
    (1, 1, "BatchGetItem"),
    (3, 10, "BatchGetItem"),  # one page: 2 sales keys a seller (30 when they were daily: 2 pages)
    (8, 40, "BatchGetItem pages"),  # past 100 keys (every category's fees): pages sent at once, one wait
])
def test_a_known_buyers_checkout_costs_the_same_round_trips_whatever_its_lines_and_sellers(
        market: Marketplace, round_trips: list[str], sellers: int, lines: int, read_2: str) -> None:
    seller_ids = [market.seller(f"sel_{n}") for n in range(sellers)]
    from chalicelib.core.categories import CATEGORIES

    leaves = [slug for slug, category in CATEGORIES.items() if category.is_leaf] if sellers == 8 else ["fashion/shoes"]
    products = [market.product(seller_ids[n % sellers], price=1_000 + n, category=leaves[n % len(leaves)])
                for n in range(lines)]
    buyer, _ = known_buyer()
    for product in products:
        market.add(buyer, product)
    round_trips.clear()

    status, body = _check_out_with_defaults(market, buyer)

    assert status == 201, body
    assert body["order"]["shipping_address"]["city"] == "Berlin"  # the default, read with the products
    assert len(body["order"]["sellers"]) == sellers
    assert round_trips == [
        "BatchGetItem",  # read 1: the Idempotency-Key, the cart, the user
        "UpdateItem", "UpdateItem",  # the checkout limits: per buyer, per source address
        read_2,  # read 2: everything else
        "TransactWriteItems",
        "UpdateItem",  # the order's PaymentIntent
    ]


def test_a_buyer_in_a_customer_group_costs_one_read_more_for_the_group(
        market: Marketplace, round_trips: list[str]) -> None:
    from datetime import UTC, datetime

    from chalicelib.core.money import Money
    from chalicelib.customers import service as customers

    market.seller("sel_a")
    product = market.product("sel_a", price=2_000)
    buyer, user_id = known_buyer()
    group = customers.create_group("sel_a", name="Stammkunden", discount_basis_points=1_000)
    customers.record_order("sel_a", user_id, "ord_earlier", Money("EUR", 100), datetime(2026, 1, 5, tzinfo=UTC))
    customers.update_customer("sel_a", user_id, {"group_id": group.group_id})
    market.add(buyer, product)
    round_trips.clear()

    status, body = _check_out_with_defaults(market, buyer)

    assert status == 201, body
    assert body["order"]["total"]["amount"] == 1_800
    assert round_trips == ["BatchGetItem", "UpdateItem", "UpdateItem", "BatchGetItem",
                           "BatchGetItem",  # the group, named by the customer record read 2 found
                           "TransactWriteItems", "UpdateItem"]


def test_a_cart_line_that_names_an_old_category_or_none_is_priced_by_the_products_category(
        market: Marketplace, round_trips: list[str]) -> None:
    from chalicelib.core.keys import CART_SK, user_key
    from chalicelib.fees import service as fees
    from chalicelib.orders.models import Cart

    market.seller("sel_a")
    fees.set_schedule("category:books", {"percent_bp": 1_000})
    book, other = market.product("sel_a", price=2_000, category="books/fiction"), market.product("sel_a")
    buyer, user_id = known_buyer()
    market.add(buyer, book)
    market.add(buyer, other)
    cart = Cart.get(user_key(user_id), CART_SK)
    cart.lines[book] = {**cart.lines[book], "category": "fashion/shoes"}  # the book was shoes when put in
    cart.lines[other] = {key: value for key, value in cart.lines[other].items()
                         if key not in ("currency", "category")}  # put in before lines said them
    cart.save()
    round_trips.clear()

    status, body = _check_out_with_defaults(market, buyer)
    checkout_trips = list(round_trips)

    assert status == 201, body
    assert market.order_of_seller("sel_a", body["order"]["order_id"])["fee"]["amount"] == 200  # 10 % of the book
    assert checkout_trips == ["BatchGetItem", "UpdateItem", "UpdateItem", "BatchGetItem",
                           "BatchGetItem",  # what the products said and the lines did not
                           "TransactWriteItems", "UpdateItem"]



def test_a_sellers_sales_of_the_last_30_days_select_its_volume_tier(market: Marketplace) -> None:
    from datetime import timedelta

    from chalicelib.core import clock
    from chalicelib.core.money import Money
    from chalicelib.fees import service as fees

    fees.set_schedule("default", {"percent_bp": 1_000, "currencies": {"EUR": {
        "tiers": [{"above": 50_000, "percent_bp": 500}]}}})
    market.seller("sel_a")
    market.seller("sel_b")
    today = clock.today()
    fees.record_sale("sel_a", Money("EUR", 60_000), today - timedelta(days=29)).apply()  # the window's first day
    fees.record_sale("sel_b", Money("EUR", 60_000), today - timedelta(days=30)).apply()  # the day before it
    buyer, _ = known_buyer()
    market.add(buyer, market.product("sel_a", price=2_000))
    market.add(buyer, market.product("sel_b", price=2_000))

    status, body = _check_out_with_defaults(market, buyer)

    assert status == 201, body
    order_id = body["order"]["order_id"]
    assert market.order_of_seller("sel_a", order_id)["fee"]["amount"] == 100  # 5 %: above the tier
    assert market.order_of_seller("sel_b", order_id)["fee"]["amount"] == 200  # 10 %


@pytest.mark.parametrize(("sellers", "lines"), [(1, 1), (3, 12)])
def test_a_checkout_with_a_code_and_two_automatic_promotions_costs_one_read_more_whatever_its_lines(
        market: Marketplace, round_trips: list[str], sellers: int, lines: int) -> None:
    """The promotions' indexes and the code are read with the products; the promotions they
    name (and the buyer's use counts) in one more BatchGetItem; their counters are written in
    the checkout's transaction."""
    from chalicelib.promotions import service

    seller_ids = [market.seller(f"sel_{n}") for n in range(sellers)]
    products = [market.product(seller_ids[n % sellers], price=2_000 + n) for n in range(lines)]
    code = service.create_promotion("sel_0", {"name": "Code", "kind": "percentage", "percent_bp": 1_000,
                                              "currency": "EUR", "max_uses_per_buyer": 3})
    service.add_public_code("sel_0", code.promotion_id, "RUNDE10")
    service.create_promotion(None, {"name": "Auto", "kind": "fixed_amount", "amount": 300, "currency": "EUR",
                                    "automatic": True, "max_uses_per_buyer": 5})
    service.create_promotion(seller_ids[-1], {"name": "Auto seller", "kind": "percentage", "percent_bp": 500,
                                              "currency": "EUR", "automatic": True, "priority": 50})
    buyer, _ = known_buyer()
    for product in products:
        market.add(buyer, product)
    round_trips.clear()

    status, body, _ = call(market.api, "POST", "/v1/checkout", {"promo_code": "runde10"},
                           headers={**buyer, "Idempotency-Key": f"key-{time.time_ns()}"})

    assert status == 201, body
    assert body["order"]["discount"]["amount"] > 300
    assert round_trips == [
        "BatchGetItem",  # read 1
        "UpdateItem", "UpdateItem",  # the checkout limits
        "BatchGetItem",  # read 2, with the promotions' indexes and the code
        "BatchGetItem",  # the promotions they name and the buyer's uses of them
        "TransactWriteItems",  # with the promotions' counters
        "UpdateItem",
    ]
