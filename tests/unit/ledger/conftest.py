"""Ledger fixtures: the fake Stripe, emptied (reconciliation, subscription fees)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests


@pytest.fixture
def stripe(fake_stripe: str) -> Iterator[str]:
    """The fake Stripe, emptied: its store is process-wide, and reconciliation lists everything in it."""
    requests.delete(f"{fake_stripe}/_config/data", timeout=5).raise_for_status()
    yield fake_stripe
