"""What sellers does when events and Stripe's Connect webhooks arrive, and what it tells
core's authoriser; registered when app.py imports this module.

Each function imports its domain module only when it runs (lazy, for cold start: app.py
imports this module, and ``import app`` loads no PynamoDB). ``marker`` keeps the names the
once-markers had before events were typed, so an event redelivered across that deploy is
not handled twice."""

from __future__ import annotations

from typing import Any

from chalicelib.core.auth import Principal, SellerHooks, provide_seller_hooks
from chalicelib.events.registry import Delivered, subscribe
from chalicelib.payments.webhooks import handles
from chalicelib.sellers.events import ApprovalSweep, MarketplaceSettingsChanged


@subscribe(MarketplaceSettingsChanged, marker="chalicelib.sellers.service:on_settings_changed")
def on_settings_changed(changed: Delivered[MarketplaceSettingsChanged]) -> None:
    """Opening the marketplace to sellers approves those waiting with charges enabled."""
    from chalicelib.sellers import service  # lazy: cold start

    service.on_settings_changed(changed)


@subscribe(ApprovalSweep, marker="chalicelib.sellers.service:on_approval_sweep")
def on_approval_sweep(sweep: Delivered[ApprovalSweep]) -> None:
    from chalicelib.sellers import service  # lazy: cold start

    service.on_approval_sweep(sweep)


@handles("account.updated", endpoint="connect", marker="chalicelib.sellers.service:on_stripe_account_updated")
def on_stripe_account_updated(event: dict[str, Any]) -> str | None:
    """A connected account's state goes onto its seller."""
    from chalicelib.sellers import service  # lazy: cold start

    return service.on_stripe_account_updated(event)


def _api_key_principal(credential: str) -> Principal:
    from chalicelib.sellers import api_keys  # lazy: cold start

    return api_keys.authenticate(credential)


def _members_only() -> bool:
    from chalicelib.sellers import marketplace  # lazy: cold start

    return marketplace.members_only()


def _standing_of(seller_id: str) -> str | None:
    from chalicelib.sellers import standing  # lazy: cold start; a leaf module, only the seller model

    return standing.standing_of(seller_id)


provide_seller_hooks(SellerHooks(api_key_principal=_api_key_principal, members_only=_members_only,
                                 standing_of=_standing_of))
