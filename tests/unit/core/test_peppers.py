"""Stored hashes of secrets survive key rotation: the pepper is versioned and apart from the
signing key, so rotating either never locks anybody out."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core import peppers
from chalicelib.core.secrets import get_secret
from chalicelib.core.settings import reset_settings
from tests.support.builders import put_seller

NEW_SIGNING_KEY = "k2=a-brand-new-signing-key-0123456789-abcdef"
NEW_PEPPER = "2=a-brand-new-hash-pepper-0123456789-abcdef"


def _rotate(monkeypatch: pytest.MonkeyPatch, *, signing_key: str | None = None, pepper: str | None = None) -> None:
    if signing_key is not None:
        monkeypatch.setenv("AGORA_SECRET_TOKEN_SIGNING_KEY", signing_key)
    if pepper is not None:
        monkeypatch.setenv("AGORA_SECRET_HASH_PEPPER", pepper)
    reset_settings()


def _user() -> Any:
    from chalicelib.accounts.service import create_user, new_user

    return create_user(new_user("rotation@example.com", name="Rita"))


def _stored_credentials() -> dict[str, Any]:
    """One of everything agora stores hashed, made before a rotation."""
    from chalicelib.accounts.sessions import start_session
    from chalicelib.orders.cart import cart_ref
    from chalicelib.sellers.api_keys import create_key
    from chalicelib.sellers.marketplace import issue_invite

    put_seller("sel_rot")
    _, api_key = create_key(seller_id="sel_rot", user_id=None, name="ERP", scopes=["products:read"])
    _, invite_code = issue_invite(operator_id=None, note=None, expires_in_days=7)
    guest = cart_ref(None, None, create=True)
    return {"refresh": start_session(_user()).refresh_token, "api_key": api_key, "invite": invite_code,
            "cart_token": guest.token, "cart_pk": guest.pk}


def _still_valid(stored: dict[str, Any]) -> None:
    from chalicelib.accounts.sessions import refresh
    from chalicelib.core.auth import authenticate
    from chalicelib.orders.cart import cart_ref
    from chalicelib.sellers.marketplace import redemption

    assert refresh(stored["refresh"]).refresh_token != stored["refresh"]
    assert authenticate(f"Bearer {stored['api_key']}").seller_id == "sel_rot"
    assert redemption(stored["invite"], seller_id="sel_new").invite_id.startswith("inv_")
    assert cart_ref(None, stored["cart_token"]).pk == stored["cart_pk"]


def _save_guest_cart(pk: str) -> None:
    from chalicelib.core.keys import CART_SK
    from chalicelib.orders.models import Cart

    Cart(pk, CART_SK, lines={}, updated_at="2026-12-01T00:00:00+00:00").save()


def test_rotating_the_signing_key_leaves_every_stored_hash_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = _stored_credentials()

    _rotate(monkeypatch, signing_key=NEW_SIGNING_KEY)  # the old signing key is gone entirely

    _still_valid(stored)


def test_a_new_pepper_version_hashes_new_secrets_and_still_finds_old_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = _stored_credentials()
    _save_guest_cart(stored["cart_pk"])  # an existing guest cart is found under its old version

    _rotate(monkeypatch, pepper=f"{NEW_PEPPER},{get_secret('hash_pepper')}")

    _still_valid(stored)
    assert peppers.hash_secret("anything").startswith("2:")


def test_an_api_key_is_rehashed_under_the_newest_pepper_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.core.auth import authenticate
    from chalicelib.core.keys import API_KEY_SK, api_key_key
    from chalicelib.sellers.models import ApiKey

    stored = _stored_credentials()
    old_pepper = get_secret("hash_pepper")
    _rotate(monkeypatch, pepper=f"{NEW_PEPPER},{old_pepper}")

    principal = authenticate(f"Bearer {stored['api_key']}")

    assert ApiKey.get(api_key_key(principal.key_id), API_KEY_SK).secret_hash.startswith("2:")
    _rotate(monkeypatch, pepper=NEW_PEPPER)  # the old version can now leave the ring
    assert authenticate(f"Bearer {stored['api_key']}").key_id == principal.key_id


def test_dropping_a_pepper_version_invalidates_what_it_hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.accounts.sessions import refresh
    from chalicelib.core.errors import Unauthorized

    stored = _stored_credentials()

    _rotate(monkeypatch, pepper=NEW_PEPPER)  # a leaked pepper is removed on purpose

    with pytest.raises(Unauthorized):
        refresh(stored["refresh"])


def test_hashes_from_before_the_pepper_stay_valid_with_the_legacy_marker(monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import hmac

    from chalicelib.core.auth import key_ring

    legacy = hmac.new(hashlib.sha256(b"agora-secret-hash:" + key_ring()[-1][1]).digest(), b"agora_rt_secret",
                      hashlib.sha256).hexdigest()
    _rotate(monkeypatch, pepper=f"{get_secret('hash_pepper')},0=signing-key")

    assert peppers.same_secret("agora_rt_secret", legacy)
    assert legacy in peppers.secret_hashes("agora_rt_secret")
    assert not peppers.is_current(legacy)


@pytest.mark.parametrize("ring", ["1=short", "1=" + "x" * 40 + ",1=" + "y" * 40, "0=signing-key", "0=other"])
def test_a_malformed_pepper_ring_is_refused_at_use(monkeypatch: pytest.MonkeyPatch, ring: str) -> None:
    _rotate(monkeypatch, pepper=ring)

    with pytest.raises(RuntimeError):
        peppers.hash_secret("anything")


def test_secret_environment_variables_count_only_in_local_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    monkeypatch.setenv("AGORA_STAGE", "prod")
    monkeypatch.setenv("AGORA_SECRETS_PATH", "/agora/prod/secrets/")
    monkeypatch.setenv("AGORA_SECRET_HASH_PEPPER", "1=" + "an-injected-pepper-0123456789-0123456789")
    boto3.client("ssm").put_parameter(Name="/agora/prod/secrets/hash-pepper", Type="SecureString",
                                      Value="1=the-real-pepper-from-ssm-0123456789-01234")
    reset_settings()

    assert get_secret("hash_pepper") == "1=the-real-pepper-from-ssm-0123456789-01234"
