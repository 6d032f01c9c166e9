from __future__ import annotations

import pytest

from chalicelib.core.errors import BadRequest
from chalicelib.core.pagination import decode_cursor, encode_cursor, parse_limit

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


@pytest.mark.parametrize(("raw", "expected"), [(None, 20), ("", 20), ("1", 1), ("100", 100)])
def test_limit_defaults_and_bounds(raw: str | None, expected: int) -> None:
    assert parse_limit(raw) == expected


@pytest.mark.parametrize("raw", ["0", "101", "-3", "ten"])
def test_limit_out_of_range_is_refused(raw: str) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_limit(raw)
    assert raised.value.code == "invalid_limit"
