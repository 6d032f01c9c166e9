"""Checkout contributors of the packages above orders, named by import path.

A package's registration module (imported by app.py, so it must stay light) calls
:func:`register_contributor_later`; :mod:`chalicelib.orders.contributors` imports and
registers the named contributors the first time checkout, a cancellation or a refund asks for
them. So orders never imports promotions or loyalty, and the cold start loads neither.

Their order is the pricing pipeline's (DESIGN.md), whatever order app.py imports the packages
in: promotions (``PROMOTIONS``), then loyalty points redeemed (``POINTS``).
"""

from __future__ import annotations

PROMOTIONS, POINTS = 20, 30  # pipeline stages: a stage's contributors price on what the earlier ones left

PENDING: list[str] = []  # "package.module:ClassName", by stage, then in the order registered
STAGES: dict[str, int] = {}


def register_contributor_later(path: str, stage: int = PROMOTIONS) -> None:
    """Register the contributor class at ``path`` (``module:Class``) when the registry is first used."""
    if path not in PENDING:
        STAGES[path] = stage
        PENDING.append(path)
        PENDING.sort(key=STAGES.__getitem__)  # stable: the order registered within a stage
