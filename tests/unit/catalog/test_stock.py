"""Stock is set with compare-and-set: a stale read is a 409, never a lost update."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.http import call


def stock_path(product: dict[str, Any]) -> str:
    return f"/v1/seller/products/{product['product_id']}/stock"


def read(api: Any, headers: dict[str, str], product: dict[str, Any]) -> dict[str, Any]:
    return call(api, "GET", f"/v1/seller/products/{product['product_id']}", headers=headers)[1]


@pytest.mark.parametrize("expectation", [{"expected_version": 1}, {"expected_quantity": 5},
                                         {"expected_version": 1, "expected_quantity": 5}])
def test_stock_is_set_when_the_expectation_holds(api: Any, headers: dict[str, str], create: Any,
                                                 expectation: dict[str, int]) -> None:
    product = create(stock=5)

    status, body, _ = call(api, "PUT", stock_path(product), {"quantity": 9, **expectation}, headers=headers)

    assert status == 200
    assert (body["stock"], body["version"]) == (9, 2)
    assert read(api, headers, product)["stock"] == 9


@pytest.mark.parametrize("expectation", [{"expected_version": 7}, {"expected_quantity": 4},
                                         {"expected_version": 1, "expected_quantity": 4}])
def test_a_stale_expectation_is_a_409_with_the_current_values_and_nothing_changes(
        api: Any, headers: dict[str, str], create: Any, expectation: dict[str, int]) -> None:
    product = create(stock=5)

    status, body, _ = call(api, "PUT", stock_path(product), {"quantity": 0, **expectation}, headers=headers)

    assert status == 409
    assert body["error"]["code"] == "stock_conflict"
    assert body["error"]["details"] == {"current_version": 1, "current_quantity": 5}
    after = read(api, headers, product)
    assert (after["stock"], after["version"]) == (5, 1)


def test_a_second_writer_with_the_same_version_loses_instead_of_overwriting(api: Any, headers: dict[str, str],
                                                                            create: Any) -> None:
    product = create(stock=5)

    first, _, _ = call(api, "PUT", stock_path(product), {"quantity": 4, "expected_version": 1}, headers=headers)
    second, body, _ = call(api, "PUT", stock_path(product), {"quantity": 3, "expected_version": 1}, headers=headers)

    assert (first, second) == (200, 409)
    assert body["error"]["details"] == {"current_version": 2, "current_quantity": 4}
    assert read(api, headers, product)["stock"] == 4


def lose_the_next_race(monkeypatch: pytest.MonkeyPatch, *, quantity: int) -> None:
    """The next product read is followed at once by another writer's stock update, so the
    request that made the read commits against a product that has moved on."""
    from chalicelib.catalog import service

    real_get = service.get_seller_product
    raced: list[bool] = []

    def get_then_lose_the_race(seller_id: str, product_id: str) -> Any:
        found = real_get(seller_id, product_id)
        if not raced:
            raced.append(True)
            service.set_stock(seller_id, product_id, quantity=quantity, expected_version=1, expected_quantity=None)
        return found

    monkeypatch.setattr(service, "get_seller_product", get_then_lose_the_race)


def test_a_write_racing_between_read_and_commit_is_detected(api: Any, headers: dict[str, str], create: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Both requests read version 1; the other one commits first. Ours must not overwrite it."""
    product = create(stock=5)
    lose_the_next_race(monkeypatch, quantity=1)

    status, body, _ = call(api, "PUT", stock_path(product), {"quantity": 8, "expected_version": 1}, headers=headers)

    assert status == 409
    assert body["error"]["details"] == {"current_version": 2, "current_quantity": 1}
    assert read(api, headers, product)["stock"] == 1


def test_a_patch_racing_with_another_write_is_reapplied_on_the_fresh_product(
        api: Any, headers: dict[str, str], create: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    product = create(stock=5, title="Old title")
    lose_the_next_race(monkeypatch, quantity=2)

    status, body, _ = call(api, "PATCH", f"/v1/seller/products/{product['product_id']}", {"title": "New title"},
                           headers=headers)

    assert status == 200
    assert (body["title"], body["stock"], body["version"]) == ("New title", 2, 3)


@pytest.mark.parametrize(("body", "field"), [({"quantity": 3}, "body"),
                                             ({"quantity": -1, "expected_version": 1}, "body.quantity"),
                                             ({"quantity": "3", "expected_version": 1}, "body.quantity")])
def test_a_stock_update_needs_an_expectation_and_a_whole_quantity(api: Any, headers: dict[str, str],
                                                                   create: Any, body: dict[str, Any],
                                                                   field: str) -> None:
    product = create()

    status, answer, _ = call(api, "PUT", stock_path(product), body, headers=headers)

    assert status == 422
    assert answer["error"]["details"][0]["field"] == field


def test_stock_reaching_zero_marks_the_product_out_of_stock_in_browse(api: Any, headers: dict[str, str],
                                                                      create: Any) -> None:
    product = create(stock=1)

    call(api, "PUT", stock_path(product), {"quantity": 0, "expected_quantity": 1}, headers=headers)

    _, page, _ = call(api, "GET", "/v1/products")
    assert [item["in_stock"] for item in page["items"]] == [False]
    _, in_stock, _ = call(api, "GET", "/v1/products?in_stock=true")
    assert in_stock["items"] == []
