"""Messages' unit tests: a small marketplace of onboarded sellers and paid orders."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.builders import Marketplace


@pytest.fixture(autouse=True)
def _stripe(fake_stripe: str) -> str:
    return fake_stripe


@pytest.fixture
def order(market: Marketplace) -> dict[str, Any]:
    """A buyer's paid order of one product of seller A's (two units)."""
    return market.paid_order(("sel_a",))

