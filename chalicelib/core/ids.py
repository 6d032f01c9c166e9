"""Sortable, prefixed ids: ``ord_01JD...``. The prefix says what an id names in logs and URLs;
the ULID sorts by creation time, which key designs rely on for "newest first"."""

from __future__ import annotations


def new_id(prefix: str) -> str:
    from ulid import ULID  # lazy for cold start: importing ulid loads importlib.metadata (~10 ms)

    return f"{prefix}_{ULID()}"


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(f"{prefix}_") and len(value) == len(prefix) + 27
