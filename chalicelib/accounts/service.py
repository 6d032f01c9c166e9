"""Accounts: creating people, signing them in, finding them.

One account per email across the whole marketplace. Sellers' owners, buyers and
operators are all users; what they may do comes from their roles.

For other domains:
- guest checkout (the order issue): ``ensure_account(email, name=..., method="guest_checkout")``
  returns ``(user, created)``; the order is then keyed by ``user.user_id``, so the buyer sees
  it after signing in by link (a passwordless account is first-class). A new account gets
  the ``account.created`` event with ``method=guest_checkout`` and a welcome mail that says
  how to sign in. :func:`checkout_profile` (in ``chalicelib.accounts.profile``) gives
  checkout the buyer's default addresses and VAT id, and
  ``chalicelib.accounts.payment_methods.ensure_stripe_customer`` the Stripe customer to
  charge saved cards on.
- sellers' customer imports: ``invite_account(email, seller_id=...)`` (called by
  ``chalicelib.customers.invitations``) gives a person without an account a passwordless one
  in the ``invited`` state (no welcome mail: they did not sign up
  with agora themselves); it becomes theirs when they first use a mailed link. No seller
  ever sets or learns a buyer's credential.

The sign-in model: an address must be proven (a mailed link used) before its password
works. Registration therefore creates nothing but a pending sign-up and mails a
confirmation link; the account is created when the link is used. The first mailed-link
sign-in of an account that was never proven (an invited account, a guest checkout's
account, one from before this rule) clears any password on it and ends its sessions: only
the mailbox's owner decides what the account's credentials are.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.accounts import identity_links, magic_links, referrals
from chalicelib.accounts.emails import normalise_email
from chalicelib.accounts.events import AccountCreated, InvitationAccepted
from chalicelib.accounts.models import EmailClaim, SignUp, User
from chalicelib.accounts.sessions import Session, start_session
from chalicelib.core import clock, throttle
from chalicelib.core.db import LabelledTransaction, find_item, get_item, was_condition_failure
from chalicelib.core.errors import AgoraError, Code, Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.keys import EMAIL_SK, PROFILE_SK, SIGNUP_SK, email_key, signup_key, user_key
from chalicelib.core.logging import logger
from chalicelib.core.passwords import hash_password, needs_rehash, password_problems, verify_password
from chalicelib.events.service import new_event, record_event

# Failed sign-ins per quarter hour. The source address is the guesser's own, so it is
# blocked (households, offices and mobile carriers share addresses, hence 30); a person's
# email address is never blocked: its failures make sign-in ask for a proof of work.
LOGIN_FAILURES_PER_EMAIL = throttle.Rule("login-email", limit=0, window_seconds=15 * 60)
LOGIN_FAILURES_PER_SOURCE = throttle.Rule("login-source", limit=30, window_seconds=15 * 60)
# Sign-ups: each runs argon2 and sends a mail, so a source gets a few an hour; mails to one
# address are paced (dropped quietly), so nobody can flood a mailbox or block its owner.
SIGN_UPS_PER_SOURCE = throttle.Rule("sign-up-source", limit=10, window_seconds=3600)
SIGN_UP_MAILS = throttle.Pacing("sign-up-email", first_gap=60, max_gap=15 * 60)
SIGN_UP_SECONDS = 24 * 3600
RECENT_SIGN_IN_SECONDS = 10 * 60
SIGN_UP_PATH = "/sign-up/confirm"


def check_new_password(password: str, email: str, *, name: str = "") -> None:
    """ValidationFailed (422 weak_password) listing every rule of
    :func:`chalicelib.core.passwords.password_problems` the password breaks; ``name`` (the
    person's) makes a password built from it count as easy to guess."""
    problems = password_problems(password, email=email, name=name)
    if problems:
        raise ValidationFailed("The password is too weak.", code=Code.WEAK_PASSWORD,
                               details=[{"field": "body.password", "message": f"Password {p}.", "type": "password"}
                                        for p in problems])


def new_user(email: str, *, name: str = "", password: str | None = None, roles: Iterable[str] = ("buyer",),
             seller_id: str | None = None, password_hash: str | None = None, email_verified: bool = False,
             status: str = "active") -> User:
    """An unsaved user; :func:`create_user` saves it. A password (or its hash) belongs only
    on an account whose address is proven (``email_verified``) or that an operator makes."""
    user_id = new_id("usr")
    return User(PK=user_key(user_id), SK=PROFILE_SK, user_id=user_id, email=email, name=name,
                password_hash=hash_password(password) if password else password_hash, roles=set(roles),
                seller_id=seller_id, created_at=clock.stamp(), email_verified=email_verified,
                status=status)


class EmailTaken(Conflict):
    code = Code.EMAIL_TAKEN

    def __init__(self) -> None:
        super().__init__("An account with this email already exists.")


@dataclass(frozen=True)
class NewItem:
    """An item :func:`create_user` saves only if its key is new, and the domain error to
    raise when it is not (e.g. a seller invite that another application redeemed first)."""

    item: Any
    taken: AgoraError


def create_user(user: User, *, together_with: Iterable[Any | NewItem] = (),
                event_payload: dict[str, Any] | None = None) -> User:
    """Save ``user``, its email claim and an ``account.created`` event in one transaction,
    together with the caller's own items (e.g. the seller a new owner runs). Each of the
    caller's items is saved only if its key is new; wrap it in :class:`NewItem` to say
    what it means when it is not.

    Raises EmailTaken when the email already has an account, else the error of the first
    item whose key was taken (DynamoDB reports the failed condition per item).
    """
    claim = EmailClaim(PK=email_key(user.email), SK=EMAIL_SK, user_id=user.user_id)
    event = new_event(AccountCreated(user_id=user.user_id, email=user.email, name=user.name,
                                     roles=sorted(user.roles), **(event_payload or {})))
    # (item, error when its key exists) in the order written; None: saved unconditionally.
    writes: list[tuple[Any, AgoraError | None]] = [
        (claim, EmailTaken()),
        (user, Conflict("The account could not be created; please try again.", code=Code.ACCOUNT_ID_CLASH)),
        (event, None),
    ]
    for entry in together_with:
        if isinstance(entry, NewItem):
            writes.append((entry.item, entry.taken))
        else:
            writes.append((entry, Conflict("Something this creates was created at the same time by another "
                                           "request; please try again.", code=Code.CONCURRENT_CREATION)))
    transaction = LabelledTransaction()
    for number, (item, taken) in enumerate(writes):
        transaction.put(str(number), item, type(item).PK.does_not_exist() if taken else None)
    failed = transaction.commit()
    if failed:
        refusal = writes[min(int(label) for label in failed)][1]  # the first written of those that failed
        if refusal is None:  # only a conditional write can fail its condition
            raise RuntimeError(f"unconditional writes failed: {sorted(failed)}")
        raise refusal
    return user


def find_user_by_email(email: str) -> User | None:
    """GetItem(claim) then GetItem(user)."""
    try:
        claim = EmailClaim.get(email_key(email), EMAIL_SK)
    except EmailClaim.DoesNotExist:
        return None
    return get_user(claim.user_id)


def get_user(user_id: str) -> User:
    return get_item(User, user_key(user_id), PROFILE_SK, NotFound("No such account.", code=Code.ACCOUNT_NOT_FOUND))


def account_closed() -> Unauthorized:
    """What a still-valid access token of an erased account gets: sign out."""
    return Unauthorized("This account has been deleted.", code=Code.ACCOUNT_CLOSED)


def update_open_account(user: User, actions: list[Action], condition: Condition) -> None:
    """UpdateItem of the user under ``condition``, which says the account is still open (its
    status): one that fails it was erased meanwhile, :func:`account_closed`."""
    try:
        user.update(actions=actions, condition=condition)
    except UpdateError as error:
        if was_condition_failure(error):
            raise account_closed() from None
        raise


def get_active_user(user_id: str) -> User:
    """The signed-in buyer's user item (GetItem); erased accounts are closed for business."""
    return open_account(find_item(User, user_key(user_id), PROFILE_SK))


def open_account(user: User | None) -> User:
    """``user`` as a caller read it (checkout, in a BatchGetItem of its own): an erased or
    missing account is closed for business."""
    if user is None or not user.is_active:
        raise account_closed()
    return user


def register(*, email: str, password: str, name: str, newsletter: bool = False, source_ip: str,
             client_address: str | None = None, referral_code: str | None = None) -> None:
    """Start a sign-up: nothing is created until the address is proven. The answer is the
    same whether or not the address has an account; the mail tells its owner which it is.
    A ``referral_code`` must name a buyer (else 422 ``referral_code_unknown``, nothing is
    started); the account it creates carries the referrer in ``account.created``.

    Round trips: UpdateItem(throttle), [GetItem(code) + GetItem(referrer)], GetItem +
    UpdateItem(pacing), GetItem(claim) + GetItem(user), PutItem(sign-up) for a new address,
    SQS SendMessage(mail). The password is hashed either way, so both answers take as long."""
    email = normalise_email(email)
    check_new_password(password, email, name=name)
    throttle.hit(SIGN_UPS_PER_SOURCE, source_ip)  # before the code's check: guessing codes is throttled too
    referred_by = referrals.require_referrer(referral_code) if referral_code else None
    if not throttle.pace(SIGN_UP_MAILS, email):
        return
    password_hash = hash_password(password)
    existing = find_user_by_email(email)
    if existing is not None:
        magic_links.send_link_mail(email, template="sign_up_existing", purpose="sign_in",
                                   context={"name": existing.name or name})
        return
    signup_id = new_id("sgn")
    SignUp(PK=signup_key(signup_id), SK=SIGNUP_SK, signup_id=signup_id, email=email, name=name,
           password_hash=password_hash, newsletter=newsletter, source_ip=client_address or source_ip,
           requested_at=clock.stamp(), expires_at=int(time.time()) + SIGN_UP_SECONDS, referred_by=referred_by).save()
    magic_links.send_link_mail(email, template="sign_up_confirm", purpose="sign_up", ref=signup_id,
                               path=SIGN_UP_PATH, context={"name": name})


def complete_sign_up(signup_id: str | None, email: str) -> User:
    """The sign-up's link was used: create the account with its password, the address proven.
    If the address got an account meanwhile (a guest checkout, another sign-up), that one is
    used and the sign-up's password is not set on it: a sign-up's password belongs only on
    the account it creates.

    Round trips: GetItem(sign-up), TransactWriteItems(claim, user, event), DeleteItem(sign-up)."""
    try:
        signup = SignUp.get(signup_key(signup_id or ""), SIGNUP_SK)
    except SignUp.DoesNotExist:
        signup = None
    if signup is None or signup.email != email:
        user, _ = ensure_account(email, method="magic_link")
        return user
    payload: dict[str, Any] = {"newsletter_requested": bool(signup.newsletter), "method": "password"}
    if signup.newsletter:
        payload["source_ip"] = signup.source_ip
    if signup.referred_by:
        payload["referred_by"] = signup.referred_by
    try:
        user = create_user(new_user(email, name=signup.name, password_hash=signup.password_hash, email_verified=True),
                           event_payload=payload)
    except EmailTaken:
        user, _ = ensure_account(email, method="magic_link")
    signup.delete()
    return user


def login(*, email: str, password: str, source_ip: str, challenge: str | None = None,
          solution: str | None = None, otp: str | None = None) -> Session:
    """The same answer, after the same work, for a wrong password and an unknown email.

    Failed attempts are limited per source address (429 with Retry-After): every attempt is
    counted before the password is checked (so a burst of parallel guesses cannot slip past
    the limit) and refunded when it succeeds. Failures per email address are counted but never
    block: past a few, every sign-in for the address needs a solved proof-of-work challenge
    (:mod:`chalicelib.accounts.challenges`), which the owner's client solves in a second.

    A password works only on a proven address: the right password on an unproven one answers
    403 ``email_not_verified`` and mails a sign-in link (paced). Operators also give a TOTP
    code (``otp``; 401 ``mfa_required`` without one). A hash made with older argon2
    parameters is replaced on success.

    Round trips: UpdateItem(source counter), GetItem(email failures), [PutItem(challenge
    spent)], GetItem(claim), GetItem(user), then UpdateItem(source refund) and
    TransactWriteItems(session) on success, or UpdateItem(email failures) on failure.
    """
    from chalicelib.accounts import challenges

    try:
        email = normalise_email(email)
    except ValidationFailed:
        email = ""
    now = time.time()
    attempts = [(LOGIN_FAILURES_PER_SOURCE, source_ip)]
    throttle.hit_all(attempts, now=now)
    if email:
        bits = challenges.difficulty(throttle.failures(LOGIN_FAILURES_PER_EMAIL, email, now=now))
        if bits is not None and not challenges.redeem(challenge, solution, email, bits):
            throttle.refund_all(attempts, now=now)  # an unsolved challenge is not a guess
            raise _challenge_required(email, bits)
    user = find_user_by_email(email) if email else None
    stored = user.password_hash if user is not None and user.is_active else None
    if not verify_password(password, stored):
        raise _failed_sign_in(email, now)
    assert user is not None  # verify_password is False without a stored hash
    if "operator" in user.roles:
        _second_factor(user, otp, email, now)
    throttle.refund_all(attempts, now=now)
    if not user.email_verified:
        magic_links.mail_sign_in_link(email)
        raise Forbidden("Confirm your email address first: we have mailed you a sign-in link. Until you use it, "
                        "this account signs in by link only.", code=Code.EMAIL_NOT_VERIFIED)
    upgrade_password_hash(user, password)
    return start_session(user)


def _second_factor(user: User, otp: str | None, email: str, now: float) -> None:
    """Operators also prove a TOTP code. Asked for only after the right password, and a wrong
    code counts as a failed sign-in, like a wrong password."""
    from chalicelib.accounts import mfa

    if user.totp_secret is None:
        raise Forbidden("Operators sign in with a second factor: enrol one with `agora operators reset-mfa`.",
                        code=Code.MFA_ENROLMENT_REQUIRED)
    if not otp:
        raise Unauthorized("Enter the code from your authenticator app (field `otp`).", code=Code.MFA_REQUIRED)
    if not mfa.verify_totp(user, otp):
        raise _failed_sign_in(email, now)


def _challenge(email: str, bits: int) -> dict[str, Any]:
    """What a client needs to solve the next sign-in's proof of work."""
    from chalicelib.accounts import challenges

    return {"challenge": challenges.issue(email, bits), "difficulty": bits, "algorithm": "sha256-leading-zero-bits",
            "expires_in": challenges.CHALLENGE_SECONDS}


def _challenge_required(email: str, bits: int) -> Unauthorized:
    return Unauthorized("Too many wrong passwords for this address: solve the challenge and send it with your next "
                        "sign-in.", code=Code.CHALLENGE_REQUIRED, details=_challenge(email, bits))


def _failed_sign_in(email: str, now: float) -> Unauthorized:
    """A wrong password (or no such account): counted against the address, and, once it is
    under attack, the answer carries the challenge the next attempt needs."""
    from chalicelib.accounts import challenges

    bits = challenges.difficulty(throttle.count(LOGIN_FAILURES_PER_EMAIL, email, now=now)) if email else None
    return Unauthorized("The email or password is wrong.", code=Code.INVALID_CREDENTIALS,
                        details=_challenge(email, bits) if bits is not None else None)


def upgrade_password_hash(user: User, password: str) -> bool:
    """After a successful sign-in (``password`` verified against ``user.password_hash``):
    store a new hash when the stored one was made with other argon2 parameters than today's,
    so raising the cost reaches every active account. Returns whether it stored one.

    The write is conditional on the stored hash being the one that was verified: a password
    changed or reset meanwhile is never overwritten with the old one (False then).

    Round trips: none when the hash is current; else one UpdateItem (plus one argon2 hash).
    """
    stored = user.password_hash
    if stored is None or not needs_rehash(stored):
        return False
    try:
        user.update(actions=[User.password_hash.set(hash_password(password))],
                    condition=User.password_hash == stored)
    except UpdateError as error:
        if was_condition_failure(error):
            return False
        raise
    return True


def ensure_account(email: str, *, name: str = "", method: str = "passwordless") -> tuple[User, bool]:
    """The account for ``email``, created passwordless if there is none (a mailed-link
    sign-in, a guest checkout). An existing account is returned unchanged. Returns (user, created).

    Round trips: GetItem(claim), GetItem(user) for an existing account; GetItem(claim) and
    TransactWriteItems(claim, user, event) for a new one."""
    email = normalise_email(email)
    existing = find_user_by_email(email)
    if existing is not None:
        return existing, False
    try:
        return create_user(new_user(email, name=name), event_payload={"method": method}), True
    except EmailTaken:  # created concurrently by another request: use that one
        found = find_user_by_email(email)
        if found is None:  # pragma: no cover - the claim exists, so the account does
            raise
        return found, False


def invite_account(email: str, *, seller_id: str) -> tuple[User, bool]:
    """A seller imported ``email``: a person without an account gets a passwordless one in the
    ``invited`` state, theirs once they use a mailed link. The seller's name for the person is
    not put on it (it is the seller's own data). Returns (user, created)."""
    email = normalise_email(email)
    existing = find_user_by_email(email)
    if existing is not None:
        return existing, False
    try:
        return create_user(new_user(email, status="invited"),
                           event_payload={"method": "seller_import", "seller_id": seller_id}), True
    except EmailTaken:
        found = find_user_by_email(email)
        if found is None:  # pragma: no cover - the claim exists, so the account does
            raise
        return found, False


def confirm_mailbox(user: User) -> User:
    """The person just used a link mailed to the account's address (or a provider vouched for
    it). The first time, whatever was set on the account by somebody who never read that mail
    is undone: the password is cleared (set it again in the account), every session is ended,
    social-login identities are unlinked, and an invited account becomes the person's own.
    Later links change nothing.

    Round trips: none when the address was proven before; else UpdateItem(user) and, if it
    had a password or sessions, the revocation of every session; with identities, a Query and
    their deletion."""
    if user.email_verified and user.status == "active":
        return user
    had_password, had_identities = user.password_hash is not None, bool(user.identity_count)
    actions: list[Action] = [User.email_verified.set(True), User.status.set("active"), User.password_hash.remove(),
                             User.identity_count.remove()]
    update_open_account(user, actions, User.status.is_in("active", "invited"))
    from chalicelib.accounts.sessions import revoke_all

    revoked = revoke_all(user.user_id)
    unlinked = identity_links.forget_all(user.user_id) if had_identities else 0
    if had_password or revoked or unlinked:
        logger.info("first mailed-link sign-in cleared the account's credentials",
                    extra={"user_id": user.user_id, "had_password": had_password, "sessions_ended": revoked,
                           "identities_unlinked": unlinked})
    return user


def accept_invitation(user: User, invitation_id: str) -> None:
    """The person used a seller's invitation link: tell the seller's side (the
    ``account.invitation_accepted`` event), which links its customer record to the account.
    The link is single use and the subscriber idempotent, so this happens once."""
    record_event(InvitationAccepted(user_id=user.user_id, invitation_id=invitation_id))


def redeem_link(token: str, *, source_ip: str) -> Session:
    """Exchange a mailed link's token for a session, once: a sign-in link signs in (creating
    a passwordless account for a new address), a sign-up link creates the account it
    confirms, an invitation link claims the invited account and accepts the invitation.
    Using a link proves the mailbox (:func:`confirm_mailbox`).

    Round trips: UpdateItem(throttle), UpdateItem(link), the account (GetItem claim + GetItem
    user, or the sign-up's GetItem + TransactWriteItems), the mailbox proof the first time,
    TransactWriteItems(session)."""
    throttle.hit(magic_links.VERIFY_ATTEMPTS_PER_SOURCE, source_ip)
    link = magic_links.consume(token, ("sign_in", "sign_up", "customer_invite"))
    purpose = link.purpose or "sign_in"
    if purpose == "sign_up":
        user = complete_sign_up(link.ref, link.email)
    else:
        user, _ = ensure_account(link.email, method="magic_link")
    user = confirm_mailbox(user)
    if purpose == "customer_invite" and link.ref:
        accept_invitation(user, link.ref)
    return start_session(user)


def require_recent_sign_in(auth_time: int | None) -> None:
    """Sensitive changes (deleting the account, a password without the current one) need a
    sign-in within the last few minutes, not just a still-valid session."""
    if auth_time is None or time.time() - auth_time > RECENT_SIGN_IN_SECONDS:
        raise Forbidden(f"Sign in again (password or a mailed link) and retry within "
                        f"{RECENT_SIGN_IN_SECONDS // 60} minutes.", code=Code.REAUTHENTICATION_REQUIRED)


def change_password(user_id: str, *, new_password: str, current_password: str | None,
                    auth_time: int | None) -> Session:
    """Set a new password, proving the old one (or, for an account without one, a recent
    sign-in). Every session ends, and the caller gets a fresh one.

    Round trips: GetItem(user), UpdateItem(user), the revocation of every session,
    TransactWriteItems(session)."""
    user = get_active_user(user_id)
    if user.password_hash is not None:
        if current_password is None:
            raise ValidationFailed("Give your current password.", code=Code.CURRENT_PASSWORD_REQUIRED,
                                   details=[{"field": "body.current_password", "message": "Field required",
                                             "type": "missing"}])
        if not verify_password(current_password, user.password_hash):
            raise Unauthorized("The current password is wrong.", code=Code.INVALID_CREDENTIALS)
    else:
        require_recent_sign_in(auth_time)
    if not user.email_verified:
        raise Forbidden("Confirm your email address first (sign in with a mailed link).", code=Code.EMAIL_NOT_VERIFIED)
    check_new_password(new_password, user.email, name=user.name)
    user.update(actions=[User.password_hash.set(hash_password(new_password))],
                condition=User.status == "active")
    from chalicelib.accounts.sessions import revoke_all

    revoke_all(user_id)
    return start_session(user)


def sign_out_everywhere(user_id: str) -> int:
    from chalicelib.accounts.sessions import revoke_all

    return revoke_all(user_id)


def save_counted(item: Any, counter: Any, limit: int, *, user_actions: Iterable[Any] = ()) -> bool:
    """Save a new item of a buyer's partition and count it on their user item, in one
    transaction, while the account is active and below ``limit`` (so concurrent additions
    cannot pass it). False when a condition failed: the item exists, the limit is reached
    or the account is closed — the caller tells which."""
    transaction = LabelledTransaction()
    transaction.put("item", item, type(item).PK.does_not_exist())
    transaction.update("user", User(PK=item.PK, SK=PROFILE_SK), [counter.add(1), *user_actions],
                       (User.status == "active") & (counter.does_not_exist() | (counter < limit)))
    return not transaction.commit()


def delete_counted(item: Any, counter: Any) -> bool:
    """Delete an item counted with :func:`save_counted`; False when it was not there (or the
    account is closed)."""
    transaction = LabelledTransaction()
    transaction.delete("item", item, type(item).PK.exists())
    transaction.update("user", User(PK=item.PK, SK=PROFILE_SK), [counter.add(-1)], User.status == "active")
    return not transaction.commit()
