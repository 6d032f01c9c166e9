"""The catalog over real HTTP: a seller lists products, buyers browse and search anonymously."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.support.stack import LocalStack, expect_json


@pytest.fixture
def seller(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, str]]]:
    """An approved seller with Stripe charges enabled, written straight into the local table,
    and an access token signed with the local stack's key."""
    from chalicelib.core.auth import issue_access_token
    from chalicelib.core.keys import seller_key
    from chalicelib.core.settings import reset_settings
    from chalicelib.sellers.models import Seller

    seller_id = f"sel_e2e{uuid.uuid4().hex[:12]}"
    item = Seller(PK=seller_key(seller_id), SK="PROFILE", seller_id=seller_id, status="approved",
                  business_name="Bergfink Outdoor GmbH", display_name="Bergfink Outdoor",
                  contact_email=f"{seller_id}@bergfink.example", country="DE", default_currency="EUR",
                  charges_enabled=True, created_at="2026-11-25T00:00:00+00:00")
    local_stack.boto3_client("dynamodb").put_item(TableName=local_stack.outputs["TableName"], Item=item.serialize())
    for name in ("AGORA_STAGE", "AGORA_SECRET_TOKEN_SIGNING_KEY"):
        monkeypatch.setenv(name, local_stack.env[name])
    reset_settings()
    token, _ = issue_access_token(user_id=f"usr_{seller_id}", roles={"seller"}, seller_id=seller_id)
    yield seller_id, {"Authorization": f"Bearer {token}"}
    monkeypatch.undo()
    reset_settings()


def test_a_seller_lists_products_and_buyers_browse_them(local_stack: LocalStack,
                                                        seller: tuple[str, dict[str, str]]) -> None:
    api = local_stack.api
    seller_id, headers = seller
    word = f"zq{uuid.uuid4().hex[:8]}"  # a search word no other test's product has
    rows = [("Alpine tent", 24_900, 3, "sports/outdoor"), ("Alpine sleeping bag", 12_900, 0, "sports/outdoor"),
            ("Hiking boots", 15_900, 8, "fashion/shoes")]
    created = [expect_json(requests.post(f"{api}/v1/seller/products", headers=headers, timeout=20, json={
        "sku": f"BF-{i}", "title": f"{title} {word}", "category": category, "brand": "Bergfink",
        "price": {"amount": price, "currency": "EUR"}, "stock": stock, "status": "active", "images": [f"https://img.bergfink.example/{i}.jpg"],
    }), 201) for i, (title, price, stock, category) in enumerate(rows)]

    own = expect_json(requests.get(f"{api}/v1/seller/products", headers=headers, timeout=10), 200)
    assert [p["product_id"] for p in own["items"]] == [p["product_id"] for p in reversed(created)]

    # anonymous browse of the seller's shop, cheapest first, two per page
    seen, cursor = [], None
    while True:
        params = {"seller_id": seller_id, "sort": "price_asc", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = expect_json(requests.get(f"{api}/v1/products", params=params, timeout=10), 200)
        seen += [(item["title"].removesuffix(f" {word}"), item["price"]["amount"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [("Alpine sleeping bag", 12_900), ("Hiking boots", 15_900), ("Alpine tent", 24_900)]

    found = expect_json(requests.get(f"{api}/v1/products", params={"q": f"alp {word}", "in_stock": "true"}, timeout=10),
                  200)
    assert [item["product_id"] for item in found["items"]] == [created[0]["product_id"]]
    shoes = expect_json(requests.get(f"{api}/v1/products", params={"q": word, "category": "fashion"}, timeout=10), 200)
    assert [item["seller_name"] for item in shoes["items"]] == ["Bergfink Outdoor"]

    page = expect_json(requests.get(f"{api}/v1/products/{created[2]['product_id']}", timeout=10), 200)
    assert (page["category_name"], page["in_stock"]) == ("Shoes", True)

    # a stale stock update loses, then the product is archived and leaves browse
    stale = requests.put(f"{api}/v1/seller/products/{created[2]['product_id']}/stock", headers=headers,
                         json={"quantity": 0, "expected_version": 7}, timeout=10)
    assert (stale.status_code, stale.json()["error"]["code"]) == (409, "stock_conflict")
    archived = expect_json(requests.delete(f"{api}/v1/seller/products/{created[2]['product_id']}", headers=headers,
                                     timeout=10), 200)
    assert archived["outcome"] == "archived"
    left = expect_json(requests.get(f"{api}/v1/products", params={"q": word}, timeout=10), 200)
    assert {item["product_id"] for item in left["items"]} == {created[0]["product_id"], created[1]["product_id"]}
