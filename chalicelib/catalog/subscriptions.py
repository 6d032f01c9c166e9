"""What catalog does when events arrive; registered when app.py imports this module.

The subscriber imports its domain module only when it runs (lazy, for cold start: app.py
imports this module, and ``import app`` loads no PynamoDB). ``marker`` keeps the name the
once-markers had before events were typed, so an event redelivered across that deploy is
not handled twice."""

from __future__ import annotations

from chalicelib.catalog.events import StockChanged
from chalicelib.events.registry import Delivered, subscribe


@subscribe(StockChanged, marker="chalicelib.catalog.stock:on_stock_changed")
def on_stock_changed(changed: Delivered[StockChanged]) -> None:
    """Browse entries' in-stock flag follows reservations and releases."""
    from chalicelib.catalog import stock  # lazy: cold start

    stock.on_stock_changed(changed)
