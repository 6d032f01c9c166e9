"""The operator's admission rules: marketplace settings and single-use seller invite codes.

Round trips: reading the settings is one GetItem (absent item: the defaults), saving them
one PutItem; issuing an invite one PutItem; checking a code at application one Query (the
invite and its redemption share a partition).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from chalicelib.core.auth import hash_secret, new_secret
from chalicelib.core.errors import Conflict, ValidationFailed
from chalicelib.sellers.models import (
    INVITE_SK,
    REDEEMED_SK,
    MarketplaceSettings,
    SellerInvite,
    invite_key,
)

SETTINGS_KEY = ("MARKETPLACE", "SETTINGS")
INVITE_PREFIX = "agora_inv_"
DAY_SECONDS = 24 * 3600


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def current_settings() -> MarketplaceSettings:
    """The operator's settings, or the defaults (open to sellers and buyers) before any were saved."""
    try:
        return MarketplaceSettings.get(*SETTINGS_KEY, consistent_read=True)
    except MarketplaceSettings.DoesNotExist:
        return MarketplaceSettings(*SETTINGS_KEY)


def save_settings(*, seller_access: str, buyer_access: str, operator_id: str | None) -> MarketplaceSettings:
    settings = MarketplaceSettings(*SETTINGS_KEY, seller_access=seller_access, buyer_access=buyer_access,
                                   updated_at=datetime.now(UTC).isoformat(), updated_by=operator_id)
    settings.save()
    return settings


def issue_invite(*, operator_id: str | None, note: str | None, expires_in_days: int) -> tuple[str, str]:
    """A new code and when it expires. Only a hash of the code is stored."""
    code = new_secret(INVITE_PREFIX)
    expires_at = int(time.time()) + expires_in_days * DAY_SECONDS
    SellerInvite(invite_key(hash_secret(code)), INVITE_SK, created_at=datetime.now(UTC).isoformat(),
                 created_by=operator_id, note=note, expires_at=expires_at).save()
    return code, _iso(expires_at)


def invite_used() -> Conflict:
    return Conflict("This invite code has already been used.", code="invite_used")


def redemption(code: str | None, *, seller_id: str) -> SellerInvite:
    """The item that spends ``code`` for ``seller_id``. Save it with ``attribute_not_exists`` in
    the application's transaction: that write, not this check, is what makes a code single-use."""
    if not code:
        raise ValidationFailed("Sellers join by invitation: an invite code is needed.", code="invite_required",
                               details=[{"field": "body.invite_code", "message": "Field required", "type": "missing"}])
    key = invite_key(hash_secret(code))
    found = {item.SK: item for item in SellerInvite.query(key, consistent_read=True)}
    invite = found.get(INVITE_SK)
    if invite is None or invite.expires_at <= time.time():
        raise ValidationFailed("The invite code is not valid or has expired.", code="invalid_invite",
                               details=[{"field": "body.invite_code", "message": "Unknown or expired invite code",
                                         "type": "invite"}])
    if REDEEMED_SK in found:
        raise invite_used()
    return SellerInvite(key, REDEEMED_SK, created_at=datetime.now(UTC).isoformat(), seller_id=seller_id,
                        expires_at=int(invite.expires_at))
