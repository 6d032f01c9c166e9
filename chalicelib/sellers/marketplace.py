"""The operator's admission rules: marketplace settings and single-use seller invite codes.

Round trips: reading the settings is one GetItem (absent item: the defaults), saving them
one GetItem + one TransactWrite (with its event); issuing an invite one PutItem; checking a
code at application one Query (the invite and its redemption share a partition); listing
invites one Query + one BatchGetItem of the page's redemptions; revoking one Query (by id)
+ one conditional PutItem.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pynamodb.exceptions import PutError

from chalicelib.core import clock
from chalicelib.core.auth import new_secret
from chalicelib.core.cache import Expiring
from chalicelib.core.db import LabelledTransaction, was_condition_failure
from chalicelib.core.errors import Code, Conflict, NotFound, ValidationFailed
from chalicelib.core.ids import has_prefix, new_id
from chalicelib.core.keys import (
    INVITE_SK,
    INVITES_INDEX_KEY,
    MARKETPLACE_SETTINGS_KEY,
    REDEEMED_SK,
    invite_id_index_key,
    invite_key,
    timed_sort_key,
)
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.core.peppers import hash_secret, secret_hashes
from chalicelib.events.service import new_event
from chalicelib.payments.methods import enabled_payment_methods
from chalicelib.sellers.events import MarketplaceSettingsChanged
from chalicelib.sellers.models import MarketplaceSettings, SellerInvite

# How long a container trusts its copy of buyer_access (see members_only).
BUYER_ACCESS_TTL_SECONDS = 30.0
INVITE_PREFIX = "agora_inv_"
DAY_SECONDS = 24 * 3600


def current_settings() -> MarketplaceSettings:
    """The operator's settings, or the defaults (open to sellers and buyers) before any were saved."""
    try:
        return MarketplaceSettings.get(*MARKETPLACE_SETTINGS_KEY, consistent_read=True)
    except MarketplaceSettings.DoesNotExist:
        return MarketplaceSettings(*MARKETPLACE_SETTINGS_KEY)


_buyer_access = Expiring(BUYER_ACCESS_TTL_SECONDS, lambda: current_settings().buyer_access)


def members_only() -> bool:
    """Whether buyers must sign in to browse: asked by every buyer-facing public request, so
    each Lambda container reads the settings item (one GetItem) at most
    once per ``BUYER_ACCESS_TTL_SECONDS`` and answers from memory in between. A change
    therefore reaches other containers within 30 s; the container that saved it sees it at
    once. Admission of sellers reads the settings afresh (:func:`current_settings`)."""
    return _buyer_access.get() == "members_only"


def save_settings(*, seller_access: str, buyer_access: str, operator_id: str | None,
                  payment_methods: list[str] | None = None) -> MarketplaceSettings:
    """Save the settings together with a ``marketplace.settings_changed`` event (one GetItem +
    one TransactWrite). Opening the marketplace to sellers starts the approval of waiting
    sellers from that event (:func:`chalicelib.sellers.service.on_settings_changed`).
    ``payment_methods`` None keeps the enabled ones (a client that does not know them yet)."""
    previous = current_settings()
    methods = list(enabled_payment_methods(previous.payment_methods if payment_methods is None else payment_methods))
    settings = MarketplaceSettings(*MARKETPLACE_SETTINGS_KEY, seller_access=seller_access, buyer_access=buyer_access,
                                   payment_methods=methods, updated_at=clock.stamp(), updated_by=operator_id)
    transaction = LabelledTransaction()
    transaction.put("settings", settings)
    transaction.put("event", new_event(MarketplaceSettingsChanged(
        seller_access=seller_access, buyer_access=buyer_access, by=operator_id,
        previous_seller_access=previous.seller_access, previous_buyer_access=previous.buyer_access,
        payment_methods=methods)))
    transaction.commit()
    _buyer_access.set(buyer_access)
    return settings


def issue_invite(*, operator_id: str | None, note: str | None, expires_in_days: int) -> tuple[SellerInvite, str]:
    """A new invite and its code. Only a hash of the code is stored."""
    code = new_secret(INVITE_PREFIX)
    invite_id, now = new_id("inv"), clock.stamp()
    expires_at = int(time.time()) + expires_in_days * DAY_SECONDS
    invite = SellerInvite(invite_key(hash_secret(code)), INVITE_SK, invite_id=invite_id, created_at=now,
                          created_by=operator_id, note=note, expires_at=expires_at,
                          GSI1PK=INVITES_INDEX_KEY, GSI1SK=timed_sort_key(now, invite_id),
                          GSI2PK=invite_id_index_key(invite_id), GSI2SK=INVITE_SK)
    invite.save()
    return invite, code


@dataclass(frozen=True)
class InviteState:
    """An invite as operators see it: the INVITE item and, once spent, its REDEEMED item."""

    invite: SellerInvite
    spent: SellerInvite | None

    @property
    def state(self) -> str:
        if self.spent is not None:
            return "revoked" if self.spent.revoked_at else "used"
        return "expired" if self.invite.expires_at <= time.time() else "open"


def list_invites(*, cursor: str | None, limit: int) -> Page[InviteState]:
    """Invites, newest first, with what became of each (Query GSI1 + BatchGetItem). Expired
    invites stay listed until TTL deletes them."""
    scope = "admin/seller-invites"
    results = SellerInvite.by_created.query(INVITES_INDEX_KEY, scan_index_forward=False, limit=limit,
                                            last_evaluated_key=decode_cursor(cursor, scope=scope))
    invites = list(results)
    spent = {item.PK: item for item in SellerInvite.batch_get([(i.PK, REDEEMED_SK) for i in invites])} \
        if invites else {}
    return Page([InviteState(i, spent.get(i.PK)) for i in invites],
                encode_cursor(results.last_evaluated_key, scope=scope))


def revoke_invite(invite_id: str, *, operator_id: str | None) -> InviteState:
    """Spend the code without a seller, so it can no longer be redeemed. Revoking a revoked
    code changes nothing; a used code cannot be revoked (409 ``invite_used``)."""
    missing = NotFound("No such invite.", code=Code.INVITE_NOT_FOUND)
    if not has_prefix(invite_id, "inv"):
        raise missing
    invite = next(iter(SellerInvite.by_id.query(invite_id_index_key(invite_id), limit=1)), None)
    if invite is None:
        raise missing
    revocation = SellerInvite(invite.PK, REDEEMED_SK, invite_id=invite_id, created_at=clock.stamp(),
                              revoked_at=clock.stamp(), revoked_by=operator_id,
                              expires_at=int(invite.expires_at))
    try:
        revocation.save(condition=SellerInvite.PK.does_not_exist())
    except PutError as error:
        if not was_condition_failure(error):
            raise
        spent = SellerInvite.get(invite.PK, REDEEMED_SK, consistent_read=True)
        if not spent.revoked_at:
            raise invite_used(seller_id=spent.seller_id) from None
        revocation = spent
    return InviteState(invite, revocation)


def invite_used(*, seller_id: str | None = None) -> Conflict:
    return Conflict("This invite code has already been used.", code=Code.INVITE_USED,
                    details={"seller_id": seller_id} if seller_id else None)


def check_invite(code: str | None) -> str:
    """The key of the invite ``code`` names, if it can still be redeemed (422 otherwise; 409
    when it was used). Checked when a seller applies; redeemed when the application is
    confirmed, by :func:`redemption_of`."""
    if not code:
        raise ValidationFailed("Sellers join by invitation: an invite code is needed.", code=Code.INVITE_REQUIRED,
                               details=[{"field": "body.invite_code", "message": "Field required", "type": "missing"}])
    found: dict[str, SellerInvite] = {}
    key = invite_key(hash_secret(code))
    for digest in secret_hashes(code):  # a code issued before a pepper rotation: its own version
        key = invite_key(digest)
        found = {item.SK: item for item in SellerInvite.query(key, consistent_read=True)}
        if found:
            break
    _check_state(found)
    return key


def _check_state(found: dict[str, SellerInvite]) -> SellerInvite:
    invite = found.get(INVITE_SK)
    if invite is None or invite.expires_at <= time.time():
        raise ValidationFailed("The invite code is not valid or has expired.", code=Code.INVALID_INVITE,
                               details=[{"field": "body.invite_code", "message": "Unknown or expired invite code",
                                         "type": "invite"}])
    spent = found.get(REDEEMED_SK)
    if spent is not None and spent.revoked_at:
        raise ValidationFailed("The invite code has been revoked.", code=Code.INVITE_REVOKED,
                               details=[{"field": "body.invite_code", "message": "Revoked invite code",
                                         "type": "invite"}])
    if spent is not None:
        raise invite_used()
    return invite


def redemption_of(key: str, *, seller_id: str) -> SellerInvite:
    """The item that spends the invite under ``key`` for ``seller_id``. Save it with
    ``attribute_not_exists`` in the seller's creating transaction: that write, not this
    check, is what makes a code single-use."""
    invite = _check_state({item.SK: item for item in SellerInvite.query(key, consistent_read=True)})
    return SellerInvite(key, REDEEMED_SK, invite_id=invite.invite_id, created_at=clock.stamp(),
                        seller_id=seller_id, expires_at=int(invite.expires_at))


def redemption(code: str | None, *, seller_id: str) -> SellerInvite:
    """Check and spend ``code`` in one go (see :func:`check_invite`, :func:`redemption_of`)."""
    return redemption_of(check_invite(code), seller_id=seller_id)
