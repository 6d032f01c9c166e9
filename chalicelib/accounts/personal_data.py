"""The parts of a buyer's data export that packages above accounts keep (GDPR Art. 15, 20).

Accounts sit below orders and the catalog and may not import them, so each of those adds
its section here (``@export_section("wishlist")`` in its routes module, which the app, and so
every Lambda, imports) and :func:`chalicelib.accounts.data_rights.export` reads them all.
Erasure needs no hook: those packages react to the ``account.erased`` event.

Pure Python: a routes module imports it at cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Reader = Callable[[str], list[Any]]

# The sections the export answer has (chalicelib.accounts.schemas.AccountExport). An export
# with one of them unregistered is refused rather than handed out incomplete.
SECTIONS = ("orders", "wishlist", "loyalty", "reviews", "questions", "conversations")
_readers: dict[str, Reader] = {}


def export_section(name: str) -> Callable[[Reader], Reader]:
    """Decorator: ``reader(user_id)`` gives the export's section ``name``."""
    if name not in SECTIONS:
        raise ValueError(f"the data export has no section {name!r}; add it to SECTIONS and AccountExport")

    def register(reader: Reader) -> Reader:
        _readers[name] = reader
        return reader

    return register


def registered_sections() -> frozenset[str]:
    return frozenset(_readers)


def read_sections(user_id: str) -> dict[str, list[Any]]:
    """Every section of the buyer's export, by name."""
    missing = [name for name in SECTIONS if name not in _readers]
    if missing:
        raise RuntimeError(f"data export sections not registered: {', '.join(missing)} (import the app first)")
    return {name: _readers[name](user_id) for name in SECTIONS}
