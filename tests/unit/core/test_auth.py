"""Access tokens: only agora's own, unexpired, correctly typed tokens pass (RFC 8725)."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from chalicelib.core.auth import (
    AUDIENCE,
    ISSUER,
    Principal,
    authenticate,
    authorize,
    issue_access_token,
)
from chalicelib.core.errors import Forbidden, Unauthorized
from chalicelib.core.secrets import get_secret
from chalicelib.core.settings import reset_settings


def _key() -> str:
    return get_secret("token_signing_key")


def _claims(**overrides: object) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "usr_1", "iat": now, "nbf": now, "exp": now + 60,
            "jti": "tok_1", "roles": ["buyer"], **overrides}


def _kid() -> str:
    token, _ = issue_access_token(user_id="usr_1", roles={"buyer"})
    return jwt.get_unverified_header(token)["kid"]


def test_a_fresh_token_authenticates_its_user() -> None:
    token, seconds = issue_access_token(user_id="usr_1", roles={"buyer", "seller"}, seller_id="sel_1")
    principal = authenticate(f"Bearer {token}")
    assert principal == Principal(kind="user", user_id="usr_1", seller_id="sel_1",
                                  roles=frozenset({"buyer", "seller"}), scopes=principal.scopes,
                                  auth_time=principal.auth_time)
    assert abs(principal.auth_time - time.time()) < 5
    assert "products:write" in principal.scopes
    assert seconds == 900


def test_expired_token_says_so() -> None:
    token, _ = issue_access_token(user_id="usr_1", roles={"buyer"}, now=time.time() - 3600)
    with pytest.raises(Unauthorized) as raised:
        authenticate(f"Bearer {token}")
    assert raised.value.code == "token_expired"


@pytest.mark.parametrize("forge", [
    "tampered_payload", "alg_none", "wrong_typ", "wrong_audience", "wrong_issuer", "unknown_kid", "other_key",
    "missing_exp",
])
def test_forged_tokens_are_refused(forge: str) -> None:
    headers = {"kid": _kid(), "typ": "at+jwt"}
    key = _key()
    claims = _claims()
    if forge == "wrong_typ":  # e.g. a refresh or magic-link token presented as an access token
        headers["typ"] = "JWT"
    if forge == "wrong_audience":
        claims["aud"] = "another-api"
    if forge == "wrong_issuer":
        claims["iss"] = "someone-else"
    if forge == "unknown_kid":
        headers["kid"] = "nope"
    if forge == "other_key":
        key = "an-attackers-key-that-is-long-enough-0123456789"
    if forge == "missing_exp":
        del claims["exp"]
    token = jwt.encode(claims, key, algorithm="HS256", headers=headers)
    if forge == "tampered_payload":
        head, payload, signature = token.split(".")
        data = json.loads(base64.urlsafe_b64decode(payload + "=="))
        data["roles"] = ["operator"]
        payload = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
        token = ".".join([head, payload, signature])
    if forge == "alg_none":
        token = jwt.encode(claims, None, algorithm="none", headers=headers)
    with pytest.raises(Unauthorized) as raised:
        authenticate(f"Bearer {token}")
    assert raised.value.code == "invalid_token"


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer    "])
def test_missing_or_malformed_authorization_is_a_401(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        authenticate(header)


def test_rotated_keys_still_verify_old_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    old_secret = "old-signing-key-0123456789-0123456789"
    monkeypatch.setenv("AGORA_SECRET_TOKEN_SIGNING_KEY", f"k1={old_secret}")
    reset_settings()
    token, _ = issue_access_token(user_id="usr_1", roles={"buyer"})
    monkeypatch.setenv("AGORA_SECRET_TOKEN_SIGNING_KEY", f"k2=new-signing-key-0123456789-0123456789,k1={old_secret}")
    reset_settings()
    assert authenticate(f"Bearer {token}").user_id == "usr_1"
    new_token, _ = issue_access_token(user_id="usr_2", roles={"buyer"})
    assert jwt.get_unverified_header(new_token)["kid"] == "k2"


@pytest.mark.parametrize(("principal", "requirement", "code"), [
    (Principal(kind="user", user_id="u", roles=frozenset({"buyer"})), "seller", "seller_required"),
    (Principal(kind="user", user_id="u", roles=frozenset({"buyer"})), "operator", "operator_required"),
    (Principal(kind="api_key", seller_id="s", scopes=frozenset({"products:read"})), "buyer", "buyer_required"),
])
def test_roles_gate_routes(principal: Principal, requirement: str, code: str) -> None:
    with pytest.raises(Forbidden) as raised:
        authorize(principal, requirement)
    assert raised.value.code == code


def test_api_keys_are_limited_to_their_scopes() -> None:
    key = Principal(kind="api_key", seller_id="sel_1", scopes=frozenset({"products:read"}), key_id="k")
    authorize(key, "seller", ("products:read",))
    with pytest.raises(Forbidden) as raised:
        authorize(key, "seller", ("products:write",))
    assert raised.value.details == {"missing_scopes": ["products:write"]}


def test_without_the_seller_hooks_nobody_passes_what_sellers_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.core import auth

    # given an entry point that never imported chalicelib.sellers.subscriptions
    monkeypatch.setattr(auth, "_seller_hooks", [])
    seller_user = Principal(kind="user", user_id="usr_1", seller_id="sel_1", roles=frozenset({"seller"}),
                            scopes=auth.SELLER_SCOPES)

    # then an API key, the members-only gate and a seller user's standing all fail closed
    with pytest.raises(RuntimeError, match="no seller hooks"):
        authenticate(f"Bearer {auth.API_KEY_PREFIX}key_1_secret")
    with pytest.raises(RuntimeError, match="no seller hooks"):
        auth.admit_member(None)
    with pytest.raises(RuntimeError, match="no seller hooks"):
        authorize(seller_user, "seller", ("products:read",))


def test_a_route_acts_for_the_callers_own_seller_and_user_or_refuses() -> None:
    key = Principal(kind="api_key", seller_id="sel_1", scopes=frozenset({"products:read"}), key_id="k")
    buyer = Principal(kind="user", user_id="usr_1", roles=frozenset({"buyer"}))
    assert (key.own_seller_id, buyer.own_user_id) == ("sel_1", "usr_1")
    with pytest.raises(Forbidden) as no_seller:
        _ = buyer.own_seller_id
    with pytest.raises(Forbidden) as no_user:
        _ = key.own_user_id
    assert (no_seller.value.code, no_user.value.code) == ("seller_required", "user_required")
