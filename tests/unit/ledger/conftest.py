"""The ledger blueprint on a small app of its own until app.py registers it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core.money import Money


@pytest.fixture
def ledger_app() -> Any:
    from chalice import Chalice

    from chalicelib.core import http
    from chalicelib.ledger.routes import bp

    app = Chalice(app_name="agora-ledger-test")
    http.install(app)
    app.register_blueprint(bp)
    return app


@pytest.fixture
def ledger_api(ledger_app: Any) -> Iterator[Any]:
    from chalice.test import Client

    with Client(ledger_app, stage_name="local") as client:
        yield client


def bearer(*, operator: bool = False, seller_id: str | None = None) -> dict[str, str]:
    """An Authorization header for an operator or a seller user."""
    from chalicelib.core.auth import issue_access_token

    roles = {"operator"} if operator else {"buyer", "seller"}
    token, _ = issue_access_token(user_id="usr_test", roles=roles, seller_id=seller_id)
    return {"Authorization": f"Bearer {token}"}


def eur(amount: int) -> Money:
    return Money("EUR", amount)
