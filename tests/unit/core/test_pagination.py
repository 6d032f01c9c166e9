from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.core.errors import BadRequest
from chalicelib.core.http import parse_query
from chalicelib.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from chalicelib.core.schemas import PageSchema

KEY = {"PK": "SELLER#sel_1", "SK": "PRODUCT#prd_9"}


def test_cursor_round_trips_within_its_scope() -> None:
    cursor = encode_cursor(KEY, scope="SELLER#sel_1/products")
    assert decode_cursor(cursor, scope="SELLER#sel_1/products") == KEY


def test_cursor_from_one_tenant_is_refused_for_another() -> None:
    cursor = encode_cursor(KEY, scope="SELLER#sel_1/products")
    with pytest.raises(BadRequest) as raised:
        decode_cursor(cursor, scope="SELLER#sel_2/products")
    assert raised.value.code == "invalid_cursor"


@pytest.mark.parametrize("cursor", ["garbage", "abc.def", "", "x" * 50 + "." + "y" * 10])
def test_forged_cursors_are_a_clear_400(cursor: str) -> None:
    if cursor == "":
        assert decode_cursor(cursor, scope="s") is None
        return
    with pytest.raises(BadRequest) as raised:
        decode_cursor(cursor, scope="s")
    assert raised.value.code == "invalid_cursor"


def test_tampered_cursor_is_refused() -> None:
    cursor = encode_cursor(KEY, scope="s")
    payload, signature = cursor.split(".")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
    with pytest.raises(BadRequest):
        decode_cursor(tampered, scope="s")


def test_no_last_key_means_no_next_page() -> None:
    assert encode_cursor(None, scope="s") is None


def _list_operations() -> list[tuple[str, Any]]:
    import app

    found = []
    for path, methods in sorted(app.app.routes.items()):
        for method, entry in methods.items():
            query = entry.view_function.__agora_operation__.query
            if query is not None and "limit" in query.model_fields:
                found.append((f"{method} {path}", entry.view_function.__agora_operation__))
    return found


LIST_QUERIES = _list_operations()


def test_the_lists_are_found() -> None:
    assert {"GET /v1/products", "GET /v1/me/orders", "GET /v1/seller/customers", "GET /v1/seller/statements",
            "GET /v1/me/consents", "GET /v1/admin/sellers"} <= {name for name, _ in LIST_QUERIES}


@pytest.mark.parametrize(("name", "spec"), LIST_QUERIES, ids=[name for name, _ in LIST_QUERIES])
def test_every_list_answers_a_bad_limit_or_cursor_with_the_same_400(name: str, spec: Any) -> None:
    for params, code in [({"limit": "0"}, "invalid_limit"), ({"limit": "101"}, "invalid_limit"),
                         ({"limit": "ten"}, "invalid_limit"), ({"limit": ""}, "invalid_limit"),
                         ({"cursor": "no cursor"}, "invalid_cursor"), ({"cursor": "x" * 5000}, "invalid_cursor")]:
        with pytest.raises(BadRequest) as raised:
            parse_query(SimpleNamespace(query_params=params), spec.query)  # type: ignore[arg-type]
        assert (raised.value.status, raised.value.code) == (400, code), params


@pytest.mark.parametrize(("name", "spec"), LIST_QUERIES, ids=[name for name, _ in LIST_QUERIES])
def test_every_list_has_the_same_default_page_size(name: str, spec: Any) -> None:
    assert spec.query.model_fields["limit"].default == DEFAULT_LIMIT == 20
    assert spec.query.model_json_schema()["properties"]["limit"]["maximum"] == MAX_LIMIT == 100


@pytest.mark.parametrize(("name", "spec"), LIST_QUERIES, ids=[name for name, _ in LIST_QUERIES])
def test_every_list_answers_the_one_page_shape(name: str, spec: Any) -> None:
    if name == "GET /v1/me/consents":  # the consents beside a page of their log (`log`, `next_cursor`)
        return
    assert issubclass(spec.response, PageSchema)
    assert {"items", "next_cursor"} <= set(spec.response.model_json_schema(mode="serialization")["required"])
