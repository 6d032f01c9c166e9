"""Account items: people who sign in (buyers, seller users, operators) and their sessions.

Keys and access patterns:
- ``User``: PK=USER#<user_id>, SK=PROFILE — get a user by id (GetItem).
- ``EmailClaim``: PK=EMAIL#<normalised email>, SK=EMAIL — one per email, written in the
  same transaction as its user with ``attribute_not_exists``, which is what makes emails
  unique; sign-in by email is GetItem(claim) then GetItem(user).
- ``RefreshToken``: PK=REFRESH#<hash of the token>, SK=REFRESH — GetItem on refresh; the
  token itself is never stored. Expires by TTL.
- ``SessionFamily``: PK=FAMILY#<family_id>, SK=FAMILY — one per sign-in; every rotated
  refresh token belongs to it, and presenting a used token revokes the whole family
  (refresh-token reuse detection). Expires by TTL.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)

from chalicelib.core.db import TableModel


def user_key(user_id: str) -> str:
    return f"USER#{user_id}"


def email_key(email: str) -> str:
    return f"EMAIL#{email}"


class User(TableModel):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    password_hash = UnicodeAttribute(null=True)  # None: a passwordless account (magic link only)
    roles = UnicodeSetAttribute(default=lambda: {"buyer"})
    seller_id = UnicodeAttribute(null=True)  # set when this person works for a seller
    status = UnicodeAttribute(default="active")  # active | erased
    created_at = UnicodeAttribute()
    email_verified = BooleanAttribute(default=False)


class EmailClaim(TableModel):
    user_id = UnicodeAttribute()


class RefreshToken(TableModel):
    user_id = UnicodeAttribute()
    family_id = UnicodeAttribute()
    used = BooleanAttribute(default=False)
    expires_at = NumberAttribute()


class SessionFamily(TableModel):
    user_id = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)
    expires_at = NumberAttribute()
