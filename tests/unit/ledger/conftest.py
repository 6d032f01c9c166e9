"""Ledger fixtures: tokens, money, sellers and the fake Stripe (reconciliation, subscription fees)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import requests

from chalicelib.core.money import Money


def bearer(*, operator: bool = False, seller_id: str | None = None) -> dict[str, str]:
    """An Authorization header for an operator or a seller user (of an approved seller, put in
    the table unless the test made that seller itself: seller routes check its standing)."""
    from chalicelib.core.auth import issue_access_token
    from chalicelib.sellers.standing import standing_of

    if seller_id is not None and standing_of(seller_id) is None:
        put_seller(seller_id)
    roles = {"operator"} if operator else {"buyer", "seller"}
    token, _ = issue_access_token(user_id="usr_test", roles=roles, seller_id=seller_id)
    return {"Authorization": f"Bearer {token}"}


def eur(amount: int) -> Money:
    return Money("EUR", amount)


_created = itertools.count(1)


@pytest.fixture
def stripe(fake_stripe: str) -> Iterator[str]:
    """The fake Stripe, emptied: its store is process-wide, and reconciliation lists everything in it."""
    requests.delete(f"{fake_stripe}/_config/data", timeout=5).raise_for_status()
    yield fake_stripe


def put_seller(seller_id: str, *, status: str = "approved", currency: str = "EUR",
               stripe_account_id: str | None = None, approved_at: str | None = "2026-01-02T00:00:00+00:00") -> None:
    """A seller item as the sellers domain stores it, listed in its status index."""
    from chalicelib.core.keys import seller_key, seller_status_index_key
    from chalicelib.sellers.models import Seller

    created_at = f"2026-01-01T00:00:{next(_created):02d}+00:00"
    Seller(PK=seller_key(seller_id), SK="PROFILE", seller_id=seller_id, status=status,
           business_name=f"{seller_id} GmbH", display_name=f"Shop {seller_id}",
           contact_email=f"{seller_id}@example.com", country="DE", default_currency=currency,
           stripe_account_id=stripe_account_id, charges_enabled=status == "approved", created_at=created_at,
           approved_at=approved_at if status in ("approved", "suspended") else None,
           GSI1PK=seller_status_index_key(status), GSI1SK=f"{created_at}#{seller_id}").save()


def onboarded_seller(stripe_url: str, seller_id: str) -> str:
    """An approved seller with a connected account on the fake Stripe that can receive transfers."""
    from chalicelib.payments import stripe_gateway

    account = stripe_gateway.create_express_account(seller_id=seller_id, email=f"{seller_id}@example.com",
                                                    country="DE", business_name=f"{seller_id} GmbH")
    requests.post(f"{stripe_url}/_connect/accounts/{account.id}/onboard", json={}, timeout=5).raise_for_status()
    put_seller(seller_id, stripe_account_id=account.id)
    return account.id
