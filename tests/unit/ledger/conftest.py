"""The ledger blueprint on a small app of its own until app.py registers it."""

from __future__ import annotations

from chalicelib.core.money import Money


def bearer(*, operator: bool = False, seller_id: str | None = None) -> dict[str, str]:
    """An Authorization header for an operator or a seller user."""
    from chalicelib.core.auth import issue_access_token

    roles = {"operator"} if operator else {"buyer", "seller"}
    token, _ = issue_access_token(user_id="usr_test", roles=roles, seller_id=seller_id)
    return {"Authorization": f"Bearer {token}"}


def eur(amount: int) -> Money:
    return Money("EUR", amount)
