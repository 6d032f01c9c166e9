"""Bulk upsert by SKU: every row stands alone, and a re-run changes nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.support.auth import seller_headers
from tests.support.builders import product_body, put_seller
from tests.support.http import call

BULK = "/v1/seller/products/bulk"


def row(sku: str, **overrides: Any) -> dict[str, Any]:
    return product_body(sku=sku, **overrides)


def statuses(result: dict[str, Any]) -> list[tuple[int, str | None, str]]:
    return [(r["row"], r["sku"], r["status"]) for r in result["results"]]


def test_good_rows_are_written_and_bad_or_repeated_rows_are_reported(api: Any, headers: dict[str, str]) -> None:
    rows = [row("B-1"), row("B-2", price=-5), row("B-3", status="draft"), row("B-1", title="again"),
            {"sku": "B-4", "title": "No price"}, row("B 5")]

    status, result, _ = call(api, "POST", BULK, {"rows": rows}, headers=headers)

    assert status == 200
    assert statuses(result) == [(0, "B-1", "created"), (1, "B-2", "error"), (2, "B-3", "created"),
                                (3, "B-1", "error"), (4, "B-4", "error"), (5, "B 5", "error")]
    errors = {r["row"]: r["error"] for r in result["results"] if r["error"]}
    assert errors[1]["code"] == "validation_failed"
    assert errors[1]["details"][0]["field"] == "rows.1.price.amount"
    assert errors[3]["code"] == "duplicate_sku_in_request"
    assert errors[3]["details"] == {"sku": "B-1", "first_row": 0}
    assert {d["field"] for d in errors[4]["details"]} == {"rows.4.category", "rows.4.price"}
    assert errors[5]["details"][0]["field"] == "rows.5.sku"
    assert result["summary"] == {"created": 2, "updated": 0, "unchanged": 0, "error": 4}
    _, listed, _ = call(api, "GET", "/v1/seller/products", headers=headers)
    assert sorted(p["sku"] for p in listed["items"]) == ["B-1", "B-3"]


def test_a_row_that_is_not_an_object_refuses_the_upload(api: Any, headers: dict[str, str]) -> None:
    status, body, _ = call(api, "POST", BULK, {"rows": [row("X-1"), "not an object"]}, headers=headers)

    assert status == 422
    assert body["error"]["details"][0]["field"] == "body.rows.1"


def test_running_the_same_upload_again_changes_nothing(api: Any, headers: dict[str, str]) -> None:
    rows = [row(f"R-{i}", price=100 + i) for i in range(5)]
    _, first, _ = call(api, "POST", BULK, {"rows": rows}, headers=headers)
    _, listed_before, _ = call(api, "GET", "/v1/seller/products", headers=headers)

    status, second, _ = call(api, "POST", BULK, {"rows": rows}, headers=headers)

    assert status == 200
    assert [r["status"] for r in second["results"]] == ["unchanged"] * 5
    assert [r["product_id"] for r in second["results"]] == [r["product_id"] for r in first["results"]]
    _, listed_after, _ = call(api, "GET", "/v1/seller/products", headers=headers)
    assert listed_after == listed_before


def test_an_existing_sku_is_updated_with_only_the_fields_of_its_row(api: Any, headers: dict[str, str],
                                                                    create: Any) -> None:
    product = create(sku="U-1", price=1000, stock=5, title="Kept")

    status, result, _ = call(api, "POST", BULK, {"rows": [
        {"sku": "U-1", "price": {"amount": 900, "currency": "EUR"}, "stock": 0}, {"sku": "U-1b"}]}, headers=headers)

    assert status == 200
    assert statuses(result) == [(0, "U-1", "updated"), (1, "U-1b", "error")]
    assert result["results"][0]["product_id"] == product["product_id"]
    _, after, _ = call(api, "GET", f"/v1/seller/products/{product['product_id']}", headers=headers)
    assert (after["title"], after["price"]["amount"], after["stock"], after["version"]) == ("Kept", 900, 0, 2)


def test_rows_that_would_activate_for_a_seller_who_cannot_sell_fail_alone(api: Any) -> None:
    put_seller("sel_pending", status="pending")
    headers = seller_headers("sel_pending")

    _, result, _ = call(api, "POST", BULK, {"rows": [row("P-1", status="draft"), row("P-2", status="active")]},
                        headers=headers)

    assert statuses(result) == [(0, "P-1", "created"), (1, "P-2", "error")]
    assert result["results"][1]["error"]["code"] == "seller_cannot_sell"


def test_an_upload_of_more_than_500_rows_is_refused(api: Any, headers: dict[str, str]) -> None:
    status, body, _ = call(api, "POST", BULK, {"rows": [{"sku": f"S{i}"} for i in range(501)]}, headers=headers)

    assert status == 422
    assert body["error"]["details"][0]["field"] == "body.rows"


def test_bulk_reads_in_batches_and_writes_one_transaction_per_changed_row(
        api: Any, headers: dict[str, str], create: Any, dynamodb_operations: list[str]) -> None:
    create(sku="C-0", price=100)
    create(sku="C-1", price=100)
    dynamodb_operations.clear()
    rows = [row("C-0", price=100), {"sku": "C-1", "price": {"amount": 90, "currency": "EUR"}}, row("C-2"), row("C-3")]

    status, result, _ = call(api, "POST", BULK, {"rows": rows}, headers=headers)

    assert status == 200
    assert [r["status"] for r in result["results"]] == ["unchanged", "updated", "created", "created"]
    # GetItems: the seller's standing (authorisation), whether it may sell, and the updated row's
    # rating (its pointer), which its rewritten listing entries copy
    assert Counter(dynamodb_operations) == {"BatchGetItem": 2, "TransactWriteItems": 3, "GetItem": 3}


def test_a_large_upload_written_in_parallel_keeps_row_order_and_writes_whole_rows(
        api: Any, headers: dict[str, str], create: Any) -> None:
    # given 60 rows: updates, creations and every seventh row invalid (more rows than workers)
    for i in range(0, 60, 4):
        create(sku=f"P-{i}", price=100)
    rows = [row(f"P-{i}", price=-1 if i % 7 == 3 else 200 + i) for i in range(60)]

    # when
    status, result, _ = call(api, "POST", BULK, {"rows": rows}, headers=headers)

    # then each row's result is at its place, and exactly the good rows are stored, whole
    assert status == 200
    expected = ["error" if i % 7 == 3 else "updated" if i % 4 == 0 else "created" for i in range(60)]
    assert [(r["row"], r["sku"], r["status"]) for r in result["results"]] == [
        (i, f"P-{i}", s) for i, s in enumerate(expected)]
    stored = {}
    cursor = ""
    while cursor is not None:
        _, page, _ = call(api, "GET", f"/v1/seller/products?limit=100{cursor and '&cursor=' + cursor}",
                          headers=headers)
        stored.update({p["sku"]: p for p in page["items"]})
        cursor = page["next_cursor"]
    assert {sku: p["price"]["amount"] for sku, p in stored.items()} == {
        f"P-{i}": 200 + i if i % 7 != 3 else 100 for i in range(60) if i % 7 != 3 or i % 4 == 0}
    _, browse, _ = call(api, "GET", "/v1/products?seller_id=sel_a&limit=100")
    assert len(browse["items"]) == len(stored)
