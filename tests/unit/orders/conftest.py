"""Orders' unit tests: a small marketplace of onboarded sellers (real Connect accounts in the
fake Stripe), their products, buyers, and the Stripe events that pay orders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.builders import Marketplace


@pytest.fixture(autouse=True)
def _stripe(fake_stripe: str) -> str:
    return fake_stripe


@pytest.fixture
def paid_order(market: Marketplace) -> Callable[..., dict[str, Any]]:
    """A buyer's paid order of one product each from ``sellers`` (default two)."""
    return market.paid_order
