"""The social-login identities stored on an account, below the accounts service: erasure and
the first proof of an account's mailbox (:func:`chalicelib.accounts.service.confirm_mailbox`)
remove them, and :mod:`chalicelib.accounts.identities` (which signs in with them) sits above
the service."""

from __future__ import annotations

import hashlib

from chalicelib.accounts.models import IdentityClaim, LinkedIdentity
from chalicelib.core.keys import IDENTITY_PREFIX, IDENTITY_SK, identity_key, user_key


def identity_hash(issuer: str, subject: str) -> str:
    """Not a secret (the claim's key only needs a bounded length), so no pepper."""
    return hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()


def claim_key(issuer: str, subject: str) -> tuple[str, str]:
    return identity_key(identity_hash(issuer, subject)), IDENTITY_SK


def linked_identities(user_id: str) -> list[LinkedIdentity]:
    """One Query of the user's partition."""
    return list(LinkedIdentity.query(user_key(user_id), LinkedIdentity.SK.startswith(IDENTITY_PREFIX)))


def forget_all(user_id: str) -> int:
    """Remove every link of the account and its claim, so the identities are nobody's; returns
    how many there were. One Query, BatchWriteItem deletes (per 25). The caller resets the
    user's ``identity_count``."""
    linked = linked_identities(user_id)
    with LinkedIdentity.batch_write() as batch:
        for item in linked:
            batch.delete(item)
            batch.delete(IdentityClaim(*claim_key(item.issuer, item.subject)))
    return len(linked)
