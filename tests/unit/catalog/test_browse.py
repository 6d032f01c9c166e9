"""Public browse: filters, sorts and pages over listed products of sellers who can sell."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support.auth import operator_headers, seller_headers
from tests.support.builders import put_seller
from tests.support.http import call

# (seller, title, brand, category, price, stock), created in this order
CATALOGUE = [
    ("sel_a", "Trail running shoe", "Salomon", "fashion/shoes", 12_999, 5),
    ("sel_a", "Road running shoe", "Asics", "fashion/shoes", 9_999, 0),
    ("sel_a", "Wool sweater", "Patagonia", "fashion/clothing", 8_999, 3),
    ("sel_a", "Leather belt", None, "fashion/accessories", 2_999, 12),
    ("sel_a", "Kids rain jacket", "Salomon", "fashion/kids", 4_999, 1),
    ("sel_a", "Bluetooth speaker", "JBL", "electronics/audio", 7_999, 9),
    ("sel_a", "Noise cancelling headphones", "Sony", "electronics/audio", 24_999, 2),
    ("sel_a", "Phone case", None, "electronics/phones", 999, 100),
    ("sel_a", "Wanderschuhe Gore-Tex", "Meindl", "fashion/shoes", 17_999, 4),
    ("sel_a", "Crime novel", None, "books/fiction", 1_299, 20),
    ("sel_b", "Espresso beans", "Lavazza", "food/beverages", 1_499, 30),
    ("sel_b", "Green tea", None, "food/beverages", 999, 0),
    ("sel_b", "Running socks", "Falke", "fashion/clothing", 1_499, 40),
    ("sel_b", "Trail running vest", "Salomon", "sports/outdoor", 8_999, 6),
    ("sel_b", "Yoga mat", None, "sports/fitness", 2_999, 0),
    ("sel_b", "Camping stove", "MSR", "sports/outdoor", 5_999, 3),
    ("sel_b", "Cookbook", None, "books/non-fiction", 2_499, 8),
    ("sel_b", "Chef knife", "Wüsthof", "home/kitchen", 11_999, 2),
    ("sel_b", "Table lamp", None, "home/decor", 4_499, 0),
    ("sel_b", "Running shorts", "Nike", "fashion/clothing", 2_999, 7),
    ("sel_c", "Board game", None, "toys/games", 3_999, 5),
    ("sel_c", "Puzzle 1000 pieces", None, "toys/games", 1_999, 0),
    ("sel_c", "Teddy bear", "Steiff", "toys/baby", 5_999, 2),
    ("sel_c", "Sneakers", "Nike", "fashion/shoes", 8_999, 6),
    ("sel_c", "Denim jacket", "Levi's", "fashion/clothing", 9_999, 3),
    ("sel_c", "USB-C charger", "Anker", "electronics/phones", 1_999, 50),
    ("sel_c", "Mountain bike", "Cube", "sports/bikes", 89_999, 1),
    ("sel_c", "Hand cream", None, "health/beauty", 799, 25),
    ("sel_c", "Espresso machine", "DeLonghi", "home/kitchen", 29_999, 0),
    ("sel_c", "Fantasy novel", None, "books/fiction", 1_499, 11),
]


@pytest.fixture
def catalogue(api: Any, create: Any) -> list[dict[str, Any]]:
    """30 listed products of three sellers, plus products that must never show up."""
    for seller_id in ("sel_b", "sel_c", "sel_gone"):
        put_seller(seller_id)
    listed = [create(seller_id, title=title, brand=brand, category=category, price=price, stock=stock,
                     images=[f"https://img.example.com/{i}.jpg"])
              for i, (seller_id, title, brand, category, price, stock) in enumerate(CATALOGUE)]
    create("sel_a", title="Running shoe draft", status="draft")
    archived = create("sel_b", title="Running shoe archived")
    call(api, "DELETE", f"/v1/seller/products/{archived['product_id']}", headers=seller_headers("sel_b"))
    hidden = create("sel_c", title="Running shoe counterfeit")
    call(api, "POST", f"/v1/admin/products/{hidden['product_id']}/hide", {"reason": "Counterfeit"},
         headers=operator_headers())
    create("sel_gone", title="Running shoe of a suspended seller")
    put_seller("sel_gone", status="suspended")
    return listed


def walk(api: Any, limit: int = 7, **filters: Any) -> list[str]:
    """Every product id of a listing, following the cursor to the end."""
    found: list[str] = []
    cursor = None
    for _ in range(50):
        query = {**filters, "limit": limit, **({"cursor": cursor} if cursor else {})}
        status, page, _ = call(api, "GET", f"/v1/products?{urlencode(query)}")
        assert status == 200, page
        assert len(page["items"]) <= limit
        found += [item["product_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("the cursor never ended")


def ids(products: list[dict[str, Any]]) -> list[str]:
    return [p["product_id"] for p in products]


def by_price(products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(products, key=lambda p: (p["price"]["amount"], p["product_id"]))


def test_every_sort_walks_every_listed_product_once_in_order(api: Any, catalogue: list[dict[str, Any]]) -> None:
    for limit in (4, 100):
        newest = walk(api, limit)
        cheapest = walk(api, limit, sort="price_asc")
        dearest = walk(api, limit, sort="price_desc")

        assert newest == ids(list(reversed(catalogue))), limit
        assert cheapest == ids(by_price(catalogue)), limit
        assert dearest == list(reversed(cheapest)), limit


def test_a_page_shows_the_product_summary_and_its_seller(api: Any, create: Any) -> None:
    product = create(title="Mountain bike", brand="Cube", category="sports/bikes", price=89_999, stock=1)

    _, page, _ = call(api, "GET", "/v1/products")

    assert page["items"] == [{
        "product_id": product["product_id"], "seller_id": "sel_a", "seller_name": "Shop sel_a",
        "title": "Mountain bike", "brand": "Cube", "category": "sports/bikes",
        "price": {"amount": 89_999, "currency": "EUR"}, "image": "https://img.example.com/shoe.jpg",
        "in_stock": True, "created_at": product["created_at"], "rating": {"count": 0, "average": None},
    }]


FILTER_CASES: list[tuple[dict[str, Any], Any]] = [
    ({"category": "fashion"}, lambda p: p["category"].startswith("fashion/")),
    ({"category": "fashion/shoes"}, lambda p: p["category"] == "fashion/shoes"),
    ({"seller_id": "sel_b"}, lambda p: p["seller_id"] == "sel_b"),
    ({"brand": "SALOMON"}, lambda p: p["brand"] == "Salomon"),
    ({"brand": "wusthof"}, lambda p: p["brand"] == "Wüsthof"),
    ({"in_stock": "true"}, lambda p: p["stock"] > 0),
    ({"in_stock": "false"}, lambda p: p["stock"] == 0),
    ({"min_price": 2_999, "max_price": 8_999}, lambda p: 2_999 <= p["price"]["amount"] <= 8_999),
    ({"q": "runn"}, lambda p: "running" in p["title"].lower()),
    ({"q": "RUNNING salo"}, lambda p: "running" in p["title"].lower() and p["brand"] == "Salomon"),
    ({"q": "wanderschuhe gore"}, lambda p: p["title"].startswith("Wanderschuhe")),
    ({"q": "espresso"}, lambda p: p["title"].startswith("Espresso")),
    ({"q": "nike"}, lambda p: p["brand"] == "Nike"),
    ({"q": "novel fantasy"}, lambda p: p["title"] == "Fantasy novel"),
    ({"category": "fashion", "in_stock": "true", "seller_id": "sel_a"},
     lambda p: p["category"].startswith("fashion/") and p["stock"] > 0 and p["seller_id"] == "sel_a"),
    ({"q": "running", "category": "fashion", "max_price": 9_999},
     lambda p: "running" in p["title"].lower() and p["category"].startswith("fashion/")
     and p["price"]["amount"] <= 9_999),
]


def test_filters_find_exactly_the_matching_products_in_every_sort(api: Any,
                                                                  catalogue: list[dict[str, Any]]) -> None:
    for filters, expected in FILTER_CASES:
        matching = [p for p in catalogue if expected(p)]
        assert matching, filters  # each case tests something
        for sort, ordered in (("newest", list(reversed(matching))), ("price_asc", by_price(matching)),
                              ("price_desc", list(reversed(by_price(matching))))):
            assert walk(api, 5, sort=sort, **filters) == ids(ordered), (filters, sort)
    # nor do search words match inside words or descriptions ("Grippy and light." is every description)
    assert [walk(api, q=q) for q in ("unning", "grippy", "running zzz")] == [[], [], []]


@pytest.mark.parametrize(("query", "field"), [("q=a", "query.q"), ("min_price=5&max_price=4", "query"),
                                              ("category=weapons", "query.category"),
                                              ("sort=cheapest", "query.sort"), ("in_stock=maybe", "query.in_stock"),
                                              ("currency=XYZ", "query.currency"),
                                              ("seller_id=sel%23x", "query.seller_id")])
def test_invalid_browse_parameters_are_a_422(api: Any, query: str, field: str) -> None:
    status, body, _ = call(api, "GET", f"/v1/products?{query}")

    assert status == 422
    assert body["error"]["details"][0]["field"] == field


def test_only_prices_in_the_chosen_currency_are_sorted_by_price(api: Any, create: Any) -> None:
    euro = create(price=500)
    franc = create(price=400, currency="CHF")

    assert walk(api, sort="price_asc") == [euro["product_id"]]
    assert walk(api, sort="price_asc", currency="CHF") == [franc["product_id"]]
    assert walk(api) == [franc["product_id"], euro["product_id"]]
    assert call(api, "GET", "/v1/products?currency=chf")[0] == 422  # the codes as ISO 4217 writes them


def test_filtered_pages_stay_complete_when_each_read_finds_few_matches(
        api: Any, create: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """With tiny Query pages and a read budget of two, pages come back short but the
    cursor still walks every match exactly once."""
    from chalicelib.catalog import browse

    products = [create(price=100 * (i % 4 + 1), stock=i % 3) for i in range(10)]
    monkeypatch.setattr(browse, "QUERY_PAGE", 3)
    monkeypatch.setattr(browse, "MAX_QUERY_PAGES", 2)
    matching = [p for p in products if p["stock"] == 0]

    assert walk(api, 2, in_stock="false") == ids(list(reversed(matching)))
    assert walk(api, 2, in_stock="false", sort="price_asc") == ids(by_price(matching))


def test_a_cursor_resumes_only_the_listing_it_came_from(api: Any, create: Any) -> None:
    create()
    create()
    _, page, _ = call(api, "GET", "/v1/products?limit=1&category=fashion")
    cursor = page["next_cursor"]

    other, body, _ = call(api, "GET", f"/v1/products?limit=1&category=books&cursor={cursor}")
    forged, _, _ = call(api, "GET", f"/v1/products?limit=1&category=fashion&cursor={cursor[:-2]}xx")

    assert (other, body["error"]["code"]) == (400, "invalid_cursor")
    assert forged == 400


def test_a_suspended_seller_disappears_at_once_and_comes_back_intact(api: Any, create: Any) -> None:
    put_seller("sel_b")
    products = [create(seller_id) for seller_id in ("sel_a", "sel_b", "sel_a", "sel_b")]

    put_seller("sel_b", status="suspended")
    while_suspended = walk(api, 1)
    detail, _, _ = call(api, "GET", f"/v1/products/{products[1]['product_id']}")
    put_seller("sel_b", status="approved")
    after = walk(api, 1)

    assert while_suspended == ids([products[2], products[0]])
    assert detail == 404
    assert after == ids(list(reversed(products)))


def test_a_seller_whose_stripe_charges_lapse_is_hidden_too(api: Any, create: Any) -> None:
    product = create()
    put_seller("sel_a", charges_enabled=False)

    assert walk(api) == []
    assert walk(api, seller_id="sel_a") == []
    assert call(api, "GET", f"/v1/products/{product['product_id']}")[0] == 404


def test_a_product_page_shows_a_listed_product(api: Any, create: Any) -> None:
    product = create(category="fashion/kids", stock=0)

    status, body, _ = call(api, "GET", f"/v1/products/{product['product_id']}")

    assert status == 200
    assert body == {
        "product_id": product["product_id"], "seller_id": "sel_a", "seller_name": "Shop sel_a",
        "title": product["title"], "description": product["description"], "category": "fashion/kids",
        "category_name": "Children's clothing", "brand": "Salomon", "attributes": product["attributes"],
        "images": product["images"], "price": product["price"], "in_stock": False,
        "created_at": product["created_at"],
        "rating": {"count": 0, "average": None, "distribution": dict.fromkeys("12345", 0)},
    }


@pytest.mark.parametrize("kind", ["draft", "archived", "unknown", "malformed"])
def test_a_product_page_of_anything_not_listed_is_a_404(api: Any, headers: dict[str, str], create: Any,
                                                        kind: str) -> None:
    product_id = {
        "draft": lambda: create(status="draft")["product_id"],
        "archived": lambda: call(api, "DELETE", f"/v1/seller/products/{create()['product_id']}",
                                 headers=headers)[1]["product_id"],
        "unknown": lambda: "prd_01JD0000000000000000000000",
        "malformed": lambda: "nope",
    }[kind]()

    status, body, _ = call(api, "GET", f"/v1/products/{product_id}")

    assert status == 404
    assert body["error"] == {"code": "product_not_found", "message": "No such product.", "details": None}


def test_a_price_change_moves_the_product_in_price_order(api: Any, headers: dict[str, str], create: Any) -> None:
    cheap, dear = create(price=100), create(price=200)

    call(api, "PATCH", f"/v1/seller/products/{cheap['product_id']}", {"price": {"amount": 300, "currency": "EUR"}},
         headers=headers)

    assert walk(api, sort="price_asc") == [dear["product_id"], cheap["product_id"]]
    assert walk(api, sort="price_asc", max_price=250) == [dear["product_id"]]


def test_a_title_change_moves_the_product_in_search(api: Any, headers: dict[str, str], create: Any) -> None:
    product = create(title="Blue kettle", brand=None)

    call(api, "PATCH", f"/v1/seller/products/{product['product_id']}", {"title": "Red toaster"}, headers=headers)

    assert walk(api, q="kettle") == []
    assert walk(api, q="toast") == [product["product_id"]]


def test_browse_reads_one_query_and_one_seller_batch_per_page(api: Any, create: Any,
                                                              dynamodb_operations: list[str]) -> None:
    create(title="Running shoe")
    create(title="Running sock", stock=0)
    dynamodb_operations.clear()

    call(api, "GET", "/v1/products?limit=20")
    call(api, "GET", "/v1/products?limit=20&category=fashion&in_stock=true&q=running&sort=price_desc")

    # GetItem: the buyer-access setting, read once per container and 30 s
    assert dynamodb_operations == ["GetItem"] + ["Query", "BatchGetItem"] * 2


def test_the_category_tree_names_every_department_and_vat_class(api: Any) -> None:
    status, tree, _ = call(api, "GET", "/v1/categories")

    assert status == 200
    fashion = next(d for d in tree["departments"] if d["slug"] == "fashion")
    assert fashion["name"] == "Fashion"
    assert {c["slug"]: c["vat_class"] for c in fashion["categories"]} == {
        "fashion/shoes": "standard", "fashion/clothing": "standard", "fashion/kids": "children_clothing",
        "fashion/accessories": "standard"}
    classes = Counter(c["vat_class"] for d in tree["departments"] for c in d["categories"])
    assert set(classes) == set(tree["vat_classes"])


def test_a_storefront_counts_only_the_listed_products_of_its_seller(api: Any, headers: dict[str, str],
                                                                   create: Any) -> None:
    from chalicelib.catalog.browse import count_listed_products

    put_seller("sel_b")
    create(title="One")
    create(title="Two")
    create(status="draft")
    archived = create()
    call(api, "DELETE", f"/v1/seller/products/{archived['product_id']}", headers=headers)
    create("sel_b")

    assert count_listed_products("sel_a") == 2
