"""Seller API keys: shown once, stored as a hash, limited to their seller and scopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.core.auth import authenticate, authorize
from chalicelib.core.errors import Forbidden, Unauthorized
from chalicelib.core.keys import api_key_key
from chalicelib.sellers.models import ApiKey
from tests.support.auth import bearer, operator_headers
from tests.support.builders import api_key, apply, approve, own, signed_up_headers
from tests.support.http import call


def _stored(key_id: str) -> ApiKey:
    return ApiKey.get(api_key_key(key_id), "APIKEY", consistent_read=True)


def test_a_new_key_is_shown_once_and_authenticates_as_its_seller_with_its_scopes(api: Any) -> None:
    # given
    signed_up = apply(api)

    # when
    key = api_key(api, signed_up, scopes=("products:write", "products:read"))

    # then
    assert key["secret"].startswith(f"agora_sk_{key['key_id']}_")
    assert key["prefix"] == f"agora_sk_{key['key_id']}_"
    assert (key["name"], key["scopes"], key["last_used_at"]) == ("ERP", ["products:read", "products:write"], None)
    principal = authenticate(f"Bearer {key['secret']}")
    assert (principal.kind, principal.seller_id, principal.key_id, principal.user_id) == (
        "api_key", signed_up["seller"]["seller_id"], key["key_id"], None)
    assert principal.scopes == frozenset({"products:read", "products:write"})


def test_only_a_hash_of_the_key_is_stored(api: Any) -> None:
    key = api_key(api, apply(api))

    stored = _stored(key["key_id"])

    assert key["secret"] not in str(stored.serialize())
    version, _, digest = stored.secret_hash.partition(":")
    assert (version, len(digest)) == ("1", 64)  # the pepper version it was hashed under, then the hash


def test_listing_shows_keys_without_their_secrets(api: Any) -> None:
    signed_up = apply(api)
    first, second = api_key(api, signed_up), api_key(api, signed_up, scopes=("orders:read",))

    status, body, _ = call(api, "GET", "/v1/seller/api-keys", headers=signed_up_headers(signed_up))

    assert status == 200
    assert [k["key_id"] for k in body["items"]] == [first["key_id"], second["key_id"]]
    assert all("secret" not in k for k in body["items"])
    assert body["items"][1]["scopes"] == ["orders:read"]


def test_a_key_without_a_scope_is_refused_routes_that_need_it(api: Any) -> None:
    key = api_key(api, apply(api), scopes=("products:read",))
    principal = authenticate(f"Bearer {key['secret']}")

    authorize(principal, "seller", ("products:read",))
    with pytest.raises(Forbidden) as refused:
        authorize(principal, "seller", ("products:write",))
    assert refused.value.code == "missing_scope"


def test_a_revoked_key_stops_at_once(api: Any) -> None:
    signed_up = apply(api)
    key = api_key(api, signed_up)

    status, _, _ = call(api, "DELETE", f"/v1/seller/api-keys/{key['key_id']}", headers=signed_up_headers(signed_up))

    assert status == 204
    status, body, _ = call(api, "GET", "/v1/seller", headers=bearer(key["secret"]))
    assert (status, body["error"]["code"]) == (401, "invalid_api_key")
    _, listed, _ = call(api, "GET", "/v1/seller/api-keys", headers=signed_up_headers(signed_up))
    assert listed["items"] == []
    status, _, _ = call(api, "DELETE", f"/v1/seller/api-keys/{key['key_id']}", headers=signed_up_headers(signed_up))
    assert status == 404


@pytest.mark.parametrize("forge", ["wrong_secret", "truncated", "unknown_id", "no_separator", "prefix_only"])
def test_forged_keys_are_refused(api: Any, forge: str) -> None:
    key = api_key(api, apply(api))
    secret, key_id = key["secret"], key["key_id"]
    forged = {
        "wrong_secret": secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB"),
        "truncated": secret[:-1],
        "unknown_id": secret.replace(key_id, "key_01JD000000000000000000000Z"),
        "no_separator": f"agora_sk_{key_id}",
        "prefix_only": "agora_sk_",
    }[forge]

    with pytest.raises(Unauthorized) as refused:
        authenticate(f"Bearer {forged}")
    assert refused.value.code == "invalid_api_key"


def test_a_suspended_sellers_keys_are_paused_until_it_is_reinstated(api: Any) -> None:
    signed_up = apply(api)
    key, seller_id = bearer(api_key(api, signed_up)["secret"]), signed_up["seller"]["seller_id"]

    call(api, "POST", f"/v1/admin/sellers/{seller_id}/suspend", {"reason": "Checks"}, headers=operator_headers())
    status, body, _ = call(api, "GET", "/v1/seller", headers=key)
    assert (status, body["error"]["code"]) == (403, "seller_suspended")

    call(api, "POST", f"/v1/admin/sellers/{seller_id}/reinstate", headers=operator_headers())
    assert own(api, key)["seller_id"] == seller_id


def test_last_use_is_recorded_at_most_once_a_minute(api: Any) -> None:
    key = api_key(api, apply(api))
    item = _stored(key["key_id"])

    own(api, bearer(key["secret"]))
    first_use = _stored(key["key_id"]).last_used_at
    assert first_use is not None

    recent = (datetime.now(UTC) - timedelta(seconds=30)).isoformat(timespec="seconds")
    item.update(actions=[ApiKey.last_used_at.set(recent)])
    own(api, bearer(key["secret"]))
    assert _stored(key["key_id"]).last_used_at == recent

    old = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds")
    item.update(actions=[ApiKey.last_used_at.set(old)])
    own(api, bearer(key["secret"]))
    assert _stored(key["key_id"]).last_used_at > old


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "ERP", "scopes": ["everything"]}, "body.scopes.0"),
    ({"name": "ERP", "scopes": []}, "body.scopes"),
    ({"name": "", "scopes": ["products:read"]}, "body.name"),
    ({"name": "ERP", "scopes": ["products:read"], "seller_id": "sel_other"}, "body.seller_id"),
    ({"name": "ERP", "scopes": ["seller:manage"]}, "body.scopes.0"),
    ({"name": "ERP", "scopes": ["products:read"], "expires_in_days": 0}, "body.expires_in_days"),
])
def test_invalid_key_requests_are_refused(api: Any, body: dict[str, Any], field: str) -> None:
    signed_up = apply(api)
    approve(api, signed_up)

    status, answer, _ = call(api, "POST", "/v1/seller/api-keys", body, headers=signed_up_headers(signed_up))

    assert (status, answer["error"]["code"]) == (422, "validation_failed")
    assert answer["error"]["details"][0]["field"] == field


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/v1/seller/api-keys", {"name": "Escalation", "scopes": ["products:write"]}),
    ("GET", "/v1/seller/api-keys", None),
    ("DELETE", "/v1/seller/api-keys/{key_id}", None),
    ("POST", "/v1/seller/onboarding-link", None),
])
def test_an_api_key_cannot_manage_keys_or_onboarding(api: Any, method: str, path: str, body: Any) -> None:
    signed_up = apply(api)
    key = api_key(api, signed_up, scopes=("products:read", "products:write"))

    status, answer, _ = call(api, method, path.format(key_id=key["key_id"]), body, headers=bearer(key["secret"]))

    assert (status, answer["error"]["code"]) == (403, "user_required")
    _, listed, _ = call(api, "GET", "/v1/seller/api-keys", headers=signed_up_headers(signed_up))
    assert [k["key_id"] for k in listed["items"]] == [key["key_id"]]
