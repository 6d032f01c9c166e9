"""Seller API keys: server-to-server credentials limited to one seller and chosen scopes.

A key reads ``agora_sk_<key_id>_<secret>``. Only a keyed hash of the whole key is stored;
the key id inside it makes authentication one GetItem of the key (strongly consistent, so a
revoked key stops at once) and one of its seller (a suspended seller's keys are refused).
``last_used_at`` is written at most once a minute per key, so busy integrations do not turn
every read into a write.

Round trips: create 1 (TransactWrite: key + event), list 1 (Query GSI3), revoke 1
(TransactWrite: conditional delete + event), authenticate 2 (+1 UpdateItem a minute).
"""

from __future__ import annotations

import time
from datetime import timedelta

from pynamodb.exceptions import UpdateError

from chalicelib.core import clock
from chalicelib.core.auth import API_KEY_PREFIX, Principal, new_secret, scopes_for_standing
from chalicelib.core.db import LabelledTransaction, was_condition_failure
from chalicelib.core.errors import Code, Forbidden, NotFound, Unauthorized
from chalicelib.core.ids import has_prefix, new_id
from chalicelib.core.keys import API_KEY_SK, PROFILE_SK, api_key_key, api_keys_index_key, seller_key
from chalicelib.core.logging import logger
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.core.peppers import hash_secret, is_current, same_secret
from chalicelib.events.service import new_event
from chalicelib.sellers.events import ApiKeyCreated, ApiKeyRevoked
from chalicelib.sellers.models import ApiKey, Seller

KEY_ID_PREFIX = "key"
KEY_ID_LENGTH = len(KEY_ID_PREFIX) + 27  # "key_" + a 26-character ULID
LAST_USED_RESOLUTION = timedelta(minutes=1)


def key_not_found() -> NotFound:
    return NotFound("No such API key.", code=Code.API_KEY_NOT_FOUND)


def create_key(*, seller_id: str, user_id: str | None, name: str, scopes: list[str],
               expires_in_days: int | None = None) -> tuple[ApiKey, str]:
    """A new key and its secret, which is returned only here."""
    key_id = new_id(KEY_ID_PREFIX)
    secret = new_secret(f"{API_KEY_PREFIX}{key_id}_")
    now = clock.now()
    expires_at = int((now + timedelta(days=expires_in_days)).timestamp()) if expires_in_days else None
    key = ApiKey(api_key_key(key_id), API_KEY_SK, key_id=key_id, seller_id=seller_id, name=name, scopes=set(scopes),
                 secret_hash=hash_secret(secret), created_at=clock.stamp(now), created_by=user_id,
                 expires_at=expires_at, GSI3PK=api_keys_index_key(seller_id), GSI3SK=key_id)
    transaction = LabelledTransaction()
    transaction.put("key", key, ApiKey.PK.does_not_exist())
    transaction.put("event", new_event(ApiKeyCreated(
        seller_id=seller_id, key_id=key_id, name=name, scopes=sorted(scopes), by=user_id)))
    if transaction.commit():  # a new random key id already taken: practically never, and a 500 as before
        raise RuntimeError(f"API key id {key_id} exists already")
    return key, secret


def list_keys(seller_id: str, *, cursor: str | None, limit: int) -> Page[ApiKey]:
    """The seller's keys, oldest first."""
    scope = f"{seller_key(seller_id)}/api-keys"
    results = ApiKey.by_seller.query(api_keys_index_key(seller_id), limit=limit,
                                     last_evaluated_key=decode_cursor(cursor, scope=scope))
    items = list(results)
    return Page(items, encode_cursor(results.last_evaluated_key, scope=scope))


def revoke_key(*, seller_id: str, key_id: str, user_id: str | None) -> None:
    """Delete the key if it is this seller's; another seller's key is "not found" like a missing one."""
    if not has_prefix(key_id, KEY_ID_PREFIX):
        raise key_not_found()
    transaction = LabelledTransaction()
    transaction.delete("key", ApiKey(api_key_key(key_id), API_KEY_SK), ApiKey.seller_id == seller_id)
    transaction.put("event", new_event(ApiKeyRevoked(seller_id=seller_id, key_id=key_id, by=user_id)))
    if transaction.commit():
        raise key_not_found()


def _key_id(credential: str) -> str | None:
    rest = credential[len(API_KEY_PREFIX):] if credential.startswith(API_KEY_PREFIX) else ""
    key_id = rest[:KEY_ID_LENGTH]
    if rest[KEY_ID_LENGTH:KEY_ID_LENGTH + 1] != "_" or not has_prefix(key_id, KEY_ID_PREFIX):
        return None
    return key_id


def authenticate(credential: str) -> Principal:
    """The principal of an API key (core's authoriser asks through ``SellerHooks.api_key_principal``)."""
    invalid = Unauthorized("The API key is not valid.", code=Code.INVALID_API_KEY)
    key_id = _key_id(credential)
    if key_id is None:
        raise invalid
    try:
        key = ApiKey.get(api_key_key(key_id), API_KEY_SK, consistent_read=True)
    except ApiKey.DoesNotExist:
        raise invalid from None
    if not same_secret(credential, key.secret_hash):
        raise invalid
    try:
        seller = Seller.get(seller_key(key.seller_id), PROFILE_SK)
    except Seller.DoesNotExist:
        raise invalid from None
    if seller.status == "suspended":
        raise Forbidden("This seller is suspended; its API keys work again once an operator reinstates it.",
                        code=Code.SELLER_SUSPENDED)
    if seller.status == "rejected":
        raise Forbidden("This seller's application was rejected; its API keys do not work.", code=Code.SELLER_REJECTED)
    if key.expires_at is not None and key.expires_at <= time.time():
        raise Unauthorized("This API key has expired; create a new one.", code=Code.API_KEY_EXPIRED)
    _record_use(key)
    if not is_current(key.secret_hash):
        _rehash(key, credential)
    return Principal(kind="api_key", seller_id=key.seller_id, key_id=key_id, standing=seller.status,
                     scopes=scopes_for_standing(seller.status, frozenset(key.scopes)))


def _rehash(key: ApiKey, credential: str) -> None:
    """Move a key hashed under an older pepper version to the newest, so that the old version
    can one day leave the ring (conditional on the hash read: a concurrent rehash wins)."""
    try:
        key.update(actions=[ApiKey.secret_hash.set(hash_secret(credential))],
                   condition=ApiKey.secret_hash == key.secret_hash)
    except UpdateError as error:
        if not was_condition_failure(error):
            logger.warning("could not re-hash an API key", extra={"key_id": key.key_id})


def _record_use(key: ApiKey) -> None:
    now = clock.now()
    stale = clock.stamp(now - LAST_USED_RESOLUTION)
    if key.last_used_at and key.last_used_at > stale:
        return
    not_recent = ApiKey.last_used_at.does_not_exist() | (ApiKey.last_used_at <= stale)
    try:
        key.update(actions=[ApiKey.last_used_at.set(clock.stamp(now))], condition=ApiKey.PK.exists() & not_recent)
    except UpdateError as error:
        if not was_condition_failure(error):  # a lost race is fine; a failed write must not fail the request
            logger.warning("could not record an API key's use", extra={"key_id": key.key_id})
