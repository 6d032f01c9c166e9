"""Time-based one-time codes (TOTP, RFC 6238) as the second factor of operators' sign-in.

An operator enrols once (``agora operators create`` or ``reset-mfa``): a random 160-bit
secret, shown once as an ``otpauth://`` URI and in base32 for an authenticator app. The
secret is stored as is in ``User.totp_secret``: the server has to compute codes from it, so
it cannot be hashed like a password; DynamoDB's encryption at rest protects it, it is never
part of an API answer, and erasure removes it.

A code is accepted for the current 30-second step or the one before or after (clocks
drift), and each step at most once (RFC 6238 §5.2): ``User.totp_last_step`` only moves
forward, by a conditional UpdateItem (``totp_last_step < step``), so a code someone watched
being typed, or one sent twice in parallel, signs in once.

A 6-digit code is guessed with probability 3 in a million per try: the caller counts failed
codes against the sign-in throttle like failed passwords.

pyotp is imported where it is used, not at cold start.
"""

from __future__ import annotations

import hmac
import time
from typing import TYPE_CHECKING

from pynamodb.exceptions import UpdateError

from chalicelib.accounts.models import User
from chalicelib.core.db import was_condition_failure
from chalicelib.core.errors import Code, NotFound
from chalicelib.core.keys import PROFILE_SK, user_key

if TYPE_CHECKING:  # imported where used, for cold start
    from pyotp import TOTP

ISSUER = "agora"
STEP_SECONDS = 30
DIGITS = 6
# How many steps before and after the current one a code may come from.
TOLERANCE_STEPS = 1


def _totp(secret: str) -> TOTP:
    import pyotp

    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS, issuer=ISSUER)


def new_secret() -> str:
    """160 random bits in base32 (32 characters), the key length RFC 4226 recommends."""
    import pyotp

    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, email: str) -> str:
    """``otpauth://totp/agora:<email>?secret=…&issuer=agora`` — what an authenticator app
    reads from a QR code or a pasted link."""
    return _totp(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def step_at(moment: float) -> int:
    return int(moment) // STEP_SECONDS


def code_at(secret: str, moment: float | None = None) -> str:
    """The code an authenticator app shows at ``moment`` (now by default)."""
    return _totp(secret).generate_otp(step_at(time.time() if moment is None else moment))


def enrol(user_id: str, *, secret: str | None = None) -> tuple[str, str]:
    """Give the user a new TOTP secret (a new one at random unless ``secret`` is given, as the
    local demo does) and forget the steps used with the old one. Returns (secret, otpauth URI).
    Codes of the previous secret stop working at once.

    Round trips: one UpdateItem (returning the user, for the email in the URI).
    """
    secret = secret or new_secret()
    user = User(PK=user_key(user_id), SK=PROFILE_SK)
    try:
        user.update(actions=[User.totp_secret.set(secret), User.totp_last_step.remove()],
                    condition=User.PK.exists())
    except UpdateError as error:
        if was_condition_failure(error):
            raise NotFound("No such account.", code=Code.ACCOUNT_NOT_FOUND) from None
        raise
    return secret, provisioning_uri(secret, user.email)


def verify_totp(user: User, code: str, *, now: float | None = None) -> bool:
    """Whether ``code`` is the user's current code (± one step) and its step was not used
    before; if so the step is spent. False for a user without a secret, a malformed code, a
    wrong code, a replayed one, and the loser of two parallel uses of one code.

    Round trips: none when the code does not match; else one conditional UpdateItem.
    """
    secret = user.totp_secret
    code = "".join((code or "").split())  # apps show "123 456"
    if not secret or len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return False
    totp = _totp(secret)
    current = step_at(time.time() if now is None else now)
    last = user.totp_last_step
    matching = [step for step in range(current - TOLERANCE_STEPS, current + TOLERANCE_STEPS + 1)
                if hmac.compare_digest(totp.generate_otp(step), code)]
    fresh = [step for step in matching if last is None or step > last]
    if not fresh:
        return False
    step = max(fresh)
    try:
        user.update(actions=[User.totp_last_step.set(step)],
                    condition=(User.totp_secret == secret)
                    & (User.totp_last_step.does_not_exist() | (User.totp_last_step < step)))
    except UpdateError as error:
        if was_condition_failure(error):
            return False  # spent meanwhile by a parallel request, or the secret was reset
        raise
    return True
