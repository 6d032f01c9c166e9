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


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The DynamoDB round trips made while the test runs, in order, by operation: a call on
    the request's thread is one; the pages of one read, which ``read_items`` sends at once
    from its threads, are one together (the request's thread waits for all of them)."""
    import threading

    from botocore.client import BaseClient

    from chalicelib.orders.extensions import READ_THREADS

    trips: list[str] = []
    lock = threading.Lock()
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            page = threading.current_thread().name.startswith(READ_THREADS)
            with lock:
                if not (page and trips and trips[-1] == f"{operation_name} pages"):
                    trips.append(f"{operation_name} pages" if page else operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return trips
