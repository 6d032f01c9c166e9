"""A seller's standing decides what its users and keys may do, on every seller route.

Pending: onboarding and a hidden catalogue, never customers' data or keys. Suspended: read
the account and settle what buyers paid for. Rejected: read the account. Approved: all."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.core.auth import STANDING_SCOPES
from tests.support.auth import bearer, operator_headers
from tests.support.builders import api_key, apply, approve, own, signed_up_headers
from tests.support.http import call

CSV = "Name,E-Mail,Passwort\nEva Beispiel,eva@example.com,Geheim-Passwort-2026\n"


def _status(api: Any, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> tuple[int, str | None]:
    status, body, _ = call(api, method, path, headers=headers, **kwargs)
    return status, (body or {}).get("error", {}).get("code") if isinstance(body, dict) else None


def _routes(signed_up: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        "import customers": ("POST", "/v1/seller/customers/import",
                             {"raw": CSV, "headers": {"Content-Type": "text/csv"}}),
        "export customers": ("GET", "/v1/seller/customers/export", {}),
        "list customers": ("GET", "/v1/seller/customers", {}),
        "create a key": ("POST", "/v1/seller/api-keys", {"body": {"name": "ERP", "scopes": ["products:read"]}}),
        "list keys": ("GET", "/v1/seller/api-keys", {}),
        "balance": ("GET", "/v1/seller/balance", {}),
    }


def _call(api: Any, route: tuple[str, str, dict[str, Any]], headers: dict[str, str]) -> tuple[int, str | None]:
    method, path, extra = route
    status, body, _ = call(api, method, path, extra.get("body"), raw=extra.get("raw"),
                           headers={**headers, **extra.get("headers", {})})
    return status, body["error"]["code"] if isinstance(body, dict) and "error" in body else None


def test_a_pending_seller_onboards_but_touches_no_customers_and_makes_no_keys(api: Any) -> None:
    signed_up = apply(api)
    headers = signed_up_headers(signed_up)

    refused = {name: _call(api, route, headers) for name, route in _routes(signed_up).items()}

    assert refused == {name: (403, "seller_pending") for name in refused}
    assert own(api, headers)["status"] == "pending"
    assert call(api, "PATCH", "/v1/seller", {"display_name": "Nordwind"}, headers=headers)[0] == 200
    assert call(api, "POST", "/v1/seller/onboarding-link", headers=headers)[0] == 200


def test_a_suspended_sellers_users_read_the_account_and_settle_orders_but_nothing_else(api: Any) -> None:
    signed_up = apply(api)
    approve(api, signed_up)
    headers = signed_up_headers(signed_up)
    call(api, "POST", f"/v1/admin/sellers/{signed_up['seller']['seller_id']}/suspend", {"reason": "Checks"},
         headers=operator_headers())

    answers = {name: _call(api, route, headers) for name, route in _routes(signed_up).items()}

    assert answers.pop("balance")[0] == 200
    assert answers == {name: (403, "seller_suspended") for name in answers}
    assert own(api, headers)["status"] == "suspended"
    assert call(api, "GET", "/v1/seller/orders", headers=headers)[0] == 200


def test_a_rejected_sellers_keys_are_refused_and_its_users_only_read_the_account(api: Any) -> None:
    signed_up = apply(api)
    approve(api, signed_up)
    key = bearer(api_key(api, signed_up)["secret"])
    seller_id = signed_up["seller"]["seller_id"]
    from chalicelib.core.keys import seller_key
    from chalicelib.sellers.models import Seller
    Seller(seller_key(seller_id), "PROFILE").update(actions=[Seller.status.set("rejected")])  # set it directly

    assert _status(api, "GET", "/v1/seller", key) == (403, "seller_rejected")
    assert _status(api, "GET", "/v1/seller/products", key) == (403, "seller_rejected")
    assert own(api, signed_up_headers(signed_up))["status"] == "rejected"
    assert _status(api, "GET", "/v1/seller/products", signed_up_headers(signed_up)) == (403, "seller_rejected")


def test_a_pending_sellers_old_key_keeps_only_the_pending_scopes(api: Any) -> None:
    from chalicelib.sellers.api_keys import create_key

    signed_up = apply(api)  # a key made before pending sellers were stopped from making keys
    _, secret = create_key(seller_id=signed_up["seller"]["seller_id"], user_id=None, name="old",
                           scopes=["products:read", "customers:read"])

    assert _status(api, "GET", "/v1/seller/products", bearer(secret))[0] == 200
    assert _status(api, "GET", "/v1/seller/customers", bearer(secret)) == (403, "seller_pending")


def test_reading_the_account_or_fees_with_a_key_needs_the_seller_read_scope(api: Any) -> None:
    signed_up = apply(api)
    without = bearer(api_key(api, signed_up, scopes=("products:read",))["secret"])
    with_scope = bearer(api_key(api, signed_up, scopes=("seller:read",))["secret"])

    for path in ("/v1/seller", "/v1/seller/fees"):
        assert _status(api, "GET", path, without) == (403, "missing_scope")
        assert _status(api, "GET", path, with_scope)[0] == 200


def test_a_key_with_an_expiry_stops_working_then(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.sellers import api_keys

    signed_up = apply(api)
    approve(api, signed_up)
    status, key, _ = call(api, "POST", "/v1/seller/api-keys",
                          {"name": "Temp", "scopes": ["seller:read"], "expires_in_days": 1},
                          headers=signed_up_headers(signed_up))
    assert status == 201 and key["expires_at"] is not None
    assert _status(api, "GET", "/v1/seller", bearer(key["secret"]))[0] == 200

    day_later = time.time() + 24 * 3600 + 1
    monkeypatch.setattr(api_keys.time, "time", lambda: day_later)

    assert _status(api, "GET", "/v1/seller", bearer(key["secret"])) == (401, "api_key_expired")


def test_every_seller_route_declares_scopes_so_standing_is_checked_on_each() -> None:
    from chalice.app import Chalice

    import app as agora

    undeclared = []
    app: Chalice = agora.app
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            spec = getattr(entry.view_function, "__agora_operation__", None)
            if spec is not None and spec.auth == "seller" and not spec.scopes:
                undeclared.append(f"{method} {path}")
    assert undeclared == []
    assert set().union(*STANDING_SCOPES.values()) == STANDING_SCOPES["approved"]
