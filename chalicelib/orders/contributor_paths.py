"""Checkout contributors of the packages above orders, named by import path.

A package's registration module (imported by app.py, so it must stay light) calls
:func:`register_contributor_later`; :mod:`chalicelib.orders.contributors` imports and
registers the named contributors the first time checkout, a cancellation or a refund asks for
them. So orders never imports promotions or loyalty, and the cold start loads neither.
"""

from __future__ import annotations

PENDING: list[str] = []  # "package.module:ClassName", in the order registered


def register_contributor_later(path: str) -> None:
    """Register the contributor class at ``path`` (``module:Class``) when the registry is first used."""
    if path not in PENDING:
        PENDING.append(path)
