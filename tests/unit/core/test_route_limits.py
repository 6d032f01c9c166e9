"""Every route that can be abused is limited per caller: past its limit, a clear 429 with
Retry-After, before any work is done. (Limits are lowered to 2 here; README lists the real ones.)"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.support.http import call

GUEST_CART = {"X-Cart-Token": "cart_" + "A" * 43}


def _routes() -> list[tuple[str, str, str, Any]]:
    """(module, rule, request, body factory taking the attempt number)."""
    return [
        ("chalicelib.accounts.service", "SIGN_UPS_PER_SOURCE", "/v1/auth/register",
         lambda n: {"email": f"new{n}@example.com", "password": "a-solid-Lantern-2031", "name": "New"}),
        ("chalicelib.accounts.service", "LOGIN_FAILURES_PER_SOURCE", "/v1/auth/login",
         lambda n: {"email": f"guess{n}@example.com", "password": "a-wrong-guess-2031"}),
        ("chalicelib.accounts.sessions", "REFRESHES_PER_SOURCE", "/v1/auth/refresh",
         lambda n: {"refresh_token": f"agora_rt_forged{n}"}),
        ("chalicelib.accounts.magic_links", "LINK_REQUESTS_PER_SOURCE", "/v1/auth/magic-link",
         lambda n: {"email": f"someone{n}@example.com"}),
        ("chalicelib.accounts.magic_links", "VERIFY_ATTEMPTS_PER_SOURCE", "/v1/auth/magic-link/verify",
         lambda n: {"token": f"agora_ml_forged{n}"}),
        ("chalicelib.accounts.consents", "LINK_ATTEMPTS_PER_SOURCE", "/v1/consents/confirm",
         lambda n: {"token": f"p1.forged.{n}"}),
        ("chalicelib.accounts.consents", "LINK_ATTEMPTS_PER_SOURCE", "/v1/consents/unsubscribe",
         lambda n: {"token": f"p1.forged.{n}"}),
        ("chalicelib.accounts.identities", "CALLBACKS_PER_SOURCE", "/v1/auth/oidc/exchange",
         lambda n: {"code": f"agora_oc_forged{n}"}),
        ("chalicelib.sellers.service", "APPLICATIONS_PER_SOURCE", "/v1/sellers",
         lambda n: {"business_name": f"Shop {n}", "email": f"shop{n}@example.com", "password": "a-solid-Lantern-2031",
                    "country": "DE", "default_currency": "EUR"}),
        ("chalicelib.sellers.service", "CONFIRMATIONS_PER_SOURCE", "/v1/sellers/confirm",
         lambda n: {"token": f"agora_ml_forged{n}"}),
    ]


@pytest.mark.parametrize(("module", "rule", "path", "body"), _routes(),
                         ids=[f"{path}" for _, _, path, _ in _routes()])
def test_past_its_limit_a_route_answers_429_with_retry_after(api: Any, monkeypatch: pytest.MonkeyPatch, module: str,
                                                             rule: str, path: str, body: Any) -> None:
    import importlib

    owner = importlib.import_module(module)
    monkeypatch.setattr(owner, rule, replace(getattr(owner, rule), limit=2))

    answers = [call(api, "POST", path, body(n))[0] for n in range(2)]
    status, refused, headers = call(api, "POST", path, body(2))

    assert 429 not in answers
    assert (status, refused["error"]["code"]) == (429, "too_many_attempts")
    assert int(headers["Retry-After"]) > 0


def test_new_checkouts_are_limited_per_buyer_or_guest_cart(api: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.orders import checkout

    monkeypatch.setattr(checkout, "CHECKOUTS_PER_BUYER", replace(checkout.CHECKOUTS_PER_BUYER, limit=2))
    attempt = {"email": "guest@example.com", "shipping_address": {
        "name": "G", "line1": "Weg 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}}

    answers = [call(api, "POST", "/v1/checkout", attempt, headers={**GUEST_CART, "Idempotency-Key": f"k-{n:08d}"})
               for n in range(3)]

    assert [a[0] for a in answers[:2]] == [409, 409]  # the (empty) cart is refused, but counted
    assert (answers[2][0], answers[2][1]["error"]["code"]) == (429, "too_many_attempts")
