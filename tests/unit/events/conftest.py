"""Event pipeline fixtures (the helpers are in tests/support/events.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def scratch_subscriptions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Subscriptions a test adds with ``subscribe`` are gone after it."""
    from chalicelib.events import registry

    monkeypatch.setattr(registry, "_SUBSCRIBERS", {t: list(s) for t, s in registry.subscriptions().items()})
