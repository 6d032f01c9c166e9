"""Referral codes: each buyer has one, to share as a link; a new buyer gives it at sign-up.

Accounts owns the code because sign-up must resolve it (an unknown code is refused before
anything is created); loyalty, above accounts, shows it and rewards the referral
(:mod:`chalicelib.loyalty.referrals`). A code is made the first time it is asked for: 8
characters of an alphabet without look-alikes (0/O, 1/I), drawn at random, so a code says
nothing about the account; a clash with another buyer's code draws again.
"""

from __future__ import annotations

import re
import secrets

from chalicelib.accounts.models import ReferralCode, User
from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, find_item
from chalicelib.core.errors import Code, ValidationFailed
from chalicelib.core.keys import PROFILE_SK, REFERRAL_CODE_SK, referral_code_key, user_key

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_DRAWS = 5
_SEPARATORS = re.compile(r"[\s-]+")


def normalise_code(raw: str) -> str:
    """As people type it: case, spaces and hyphens do not matter."""
    return _SEPARATORS.sub("", raw).upper()


def code_of(user_id: str) -> str:
    """The buyer's referral code, made now if they have none. GetItem (1 RT); the first time a
    TransactWriteItems of the two items as well."""
    own = find_item(ReferralCode, user_key(user_id), REFERRAL_CODE_SK, consistent_read=True)
    if own is not None:
        return own.code
    for _ in range(MAX_DRAWS):
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        at = clock.stamp()
        transaction = LabelledTransaction()
        transaction.put("code", ReferralCode(PK=referral_code_key(code), SK=REFERRAL_CODE_SK, code=code,
                                             user_id=user_id, created_at=at), ReferralCode.PK.does_not_exist())
        transaction.put("own", ReferralCode(PK=user_key(user_id), SK=REFERRAL_CODE_SK, code=code, user_id=user_id,
                                            created_at=at), ReferralCode.PK.does_not_exist())
        failed = transaction.commit()
        if not failed:
            return code
        if "own" in failed:  # made at the same moment by another request: that one is the code
            made = find_item(ReferralCode, user_key(user_id), REFERRAL_CODE_SK, consistent_read=True)
            if made is not None:
                return made.code
    raise RuntimeError("no free referral code after several draws")


def referrer_of(raw_code: str) -> str | None:
    """The active account a referral code names, or None. GetItem (code) + GetItem (user)."""
    code = normalise_code(raw_code)
    if not code:
        return None
    found = find_item(ReferralCode, referral_code_key(code), REFERRAL_CODE_SK)
    if found is None:
        return None
    user = find_item(User, user_key(found.user_id), PROFILE_SK)
    return found.user_id if user is not None and user.is_active else None


def require_referrer(raw_code: str) -> str:
    """The referrer a sign-up's code names; 422 ``referral_code_unknown`` when none."""
    referrer = referrer_of(raw_code)
    if referrer is None:
        raise ValidationFailed("The referral code is not known.", code=Code.REFERRAL_CODE_UNKNOWN,
                               details=[{"field": "body.referral_code", "message": "no buyer has this code",
                                         "type": "referral_code"}])
    return referrer
