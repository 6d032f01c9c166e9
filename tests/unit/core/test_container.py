"""Starting as a cold container forgets what the last one cached."""

from __future__ import annotations

import pytest

from chalicelib.core.cache import Expiring
from chalicelib.core.container import start_cold
from chalicelib.core.settings import get_settings


def _counting() -> tuple[Expiring[int], list[int]]:
    reads: list[int] = []

    def read() -> int:
        reads.append(len(reads) + 1)
        return reads[-1]

    return Expiring(3600, read), reads


def test_a_cached_value_is_read_once_until_it_expires() -> None:
    cached, reads = _counting()
    assert (cached.get(), cached.get()) == (1, 1)
    assert reads == [1]


def test_every_cache_is_read_afresh_after_a_cold_start_even_one_made_after_the_last() -> None:
    first, _ = _counting()
    first.get()
    start_cold()
    second, _ = _counting()  # made after the last cold start: nothing to register
    second.get()
    start_cold()
    assert (first.get(), second.get()) == (2, 2)


def test_a_value_set_after_a_cold_start_is_kept() -> None:
    cached, reads = _counting()
    cached.get()
    start_cold()
    cached.set(7)
    assert cached.get() == 7
    assert reads == [1]


def test_settings_are_read_again_after_a_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings()
    monkeypatch.setenv("AGORA_SENDER_EMAIL", "shop@agora.example")
    start_cold()
    assert get_settings().sender_email == "shop@agora.example"


def test_table_connections_are_opened_again_after_a_cold_start() -> None:
    from chalicelib.accounts.models import User

    assert User._get_connection().table_name == get_settings().table_name
    before = User._get_connection()
    start_cold()
    assert User._get_connection() is not before
