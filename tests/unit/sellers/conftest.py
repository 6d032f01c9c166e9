"""Sellers' unit tests: the app through Chalice's test client, moto in-process, and the local
fake Stripe (localstripe + Connect) on 127.0.0.1, driven by the real Stripe SDK."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _stripe(fake_stripe: str) -> str:
    """Every sellers test talks to the fake Stripe (tests/unit/conftest.py)."""
    return fake_stripe
