from __future__ import annotations

import time

from chalicelib.core.ids import has_prefix, new_id


def test_ids_carry_their_prefix() -> None:
    order_id = new_id("ord")
    assert has_prefix(order_id, "ord")
    assert not has_prefix(order_id, "sel")


def test_later_ids_sort_after_earlier_ones() -> None:
    first = new_id("ord")
    time.sleep(0.002)
    assert new_id("ord") > first
