"""Opening an invite-only marketplace approves the sellers already waiting with charges enabled."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.sellers import service
from tests.support.auth import operator_headers
from tests.support.builders import apply, own, set_mode, signed_up_headers
from tests.support.events import outbox, pump_events
from tests.support.http import call
from tests.support.stripe import account_updated, deliver

OPENING = ("marketplace.settings_changed", "sellers.approval_sweep")


def _waiting(api: Any, name: str, *, charges: bool = True, then: str | None = None) -> dict[str, Any]:
    """A seller admitted by invitation, still pending (or ``then`` rejected/suspended)."""
    _, invite, _ = call(api, "POST", "/v1/admin/seller-invites", {}, headers=operator_headers())
    body = apply(api, email=f"{name}@example.com", invite_code=invite["code"])
    seller = body["seller"]
    if charges:
        deliver(api, account_updated(seller["payments"]["stripe_account_id"], seller_id=seller["seller_id"],
                                     created=int(time.time())))
    if then:
        call(api, "POST", f"/v1/admin/sellers/{seller['seller_id']}/{then}", {"reason": "Checks"},
             headers=operator_headers())
    return body


def _status(api: Any, signed_up: dict[str, Any]) -> tuple[str, bool]:
    seen = own(api, signed_up_headers(signed_up))
    return seen["status"], seen["can_sell"]


def test_opening_approves_waiting_sellers_whose_charges_are_enabled(api: Any) -> None:
    # given an invite-only marketplace where Stripe's onboarding does not approve
    set_mode(api, "invite_only")
    ready = _waiting(api, "ready")
    unfinished = _waiting(api, "unfinished", charges=False)
    suspended = _waiting(api, "suspended", then="suspend")
    rejected = _waiting(api, "rejected", then="reject")
    assert _status(api, ready) == ("pending", False)

    # when the operator opens it and the events worker runs
    set_mode(api, "open")
    pump_events(*OPENING)

    # then only the ready seller is approved, and can sell
    assert _status(api, ready) == ("approved", True)
    assert _status(api, unfinished) == ("pending", False)
    assert _status(api, suspended) == ("suspended", False)
    assert _status(api, rejected) == ("rejected", False)
    assert [(e["seller_id"], e["by"]) for e in outbox("seller.approved")] == [
        (ready["seller"]["seller_id"], "marketplace_opened")]


def test_the_sweep_pages_through_many_waiting_sellers_in_steps(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given five waiting sellers, three of them ready, and steps of one seller
    monkeypatch.setattr(service, "SWEEP_PAGE_SIZE", 1)
    monkeypatch.setattr(service, "SWEEP_PAGES_PER_STEP", 1)
    set_mode(api, "invite_only")
    sellers = [_waiting(api, f"shop{i}", charges=i % 2 == 0) for i in range(5)]

    # when
    set_mode(api, "open")
    delivered = len(pump_events(*OPENING))

    # then every ready seller is approved, each step in its own event
    assert [_status(api, s)[0] for s in sellers] == ["approved", "pending", "approved", "pending", "approved"]
    assert delivered == 1 + 5  # the settings change, then a step per remaining page
    assert len(outbox("seller.approved")) == 3


def test_the_sweep_stops_when_the_marketplace_is_closed_again(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "SWEEP_PAGE_SIZE", 1)
    monkeypatch.setattr(service, "SWEEP_PAGES_PER_STEP", 1)
    set_mode(api, "invite_only")
    sellers = [_waiting(api, f"shop{i}") for i in range(3)]

    # when opened, one step runs, and then it is invite-only again
    set_mode(api, "open")
    pump_events("marketplace.settings_changed")
    set_mode(api, "invite_only")
    pump_events(*OPENING)

    # then
    assert [_status(api, s)[0] for s in sellers] == ["approved", "pending", "pending"]


def test_changing_only_buyer_access_starts_no_sweep(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sweeps: list[Any] = []
    monkeypatch.setattr(service, "approve_ready_sellers", lambda **kwargs: sweeps.append(kwargs))

    set_mode(api, "open", "members_only")

    assert len(pump_events(*OPENING)) == 1
    assert sweeps == []
