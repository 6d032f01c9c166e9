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
- sellers' customer imports: ``ensure_account(email, name=..., password=..., method="import")``
  (no welcome mail for imported people: they did not sign up with agora themselves).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.accounts.emails import normalise_email
from chalicelib.accounts.models import PROFILE_SK, EmailClaim, User, email_key, user_key
from chalicelib.accounts.sessions import Session, start_session
from chalicelib.core import throttle
from chalicelib.core.db import failed_conditions, was_condition_failure, write_transaction
from chalicelib.core.errors import AgoraError, Conflict, NotFound, Unauthorized, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.passwords import hash_password, needs_rehash, password_problems, verify_password
from chalicelib.events.service import new_event

# Failed sign-ins per quarter hour. The source limit is higher than the email limit:
# households, offices and mobile carriers share addresses.
LOGIN_FAILURES_PER_EMAIL = throttle.Rule("login-email", limit=5, window_seconds=15 * 60)
LOGIN_FAILURES_PER_SOURCE = throttle.Rule("login-source", limit=30, window_seconds=15 * 60)


def check_new_password(password: str, email: str, *, name: str = "") -> None:
    """ValidationFailed (422 weak_password) listing every rule of
    :func:`chalicelib.core.passwords.password_problems` the password breaks; ``name`` (the
    person's) makes a password built from it count as easy to guess."""
    problems = password_problems(password, email=email, name=name)
    if problems:
        raise ValidationFailed("The password is too weak.", code="weak_password",
                               details=[{"field": "body.password", "message": f"Password {p}.", "type": "password"}
                                        for p in problems])


def new_user(email: str, *, name: str = "", password: str | None = None, roles: Iterable[str] = ("buyer",),
             seller_id: str | None = None) -> User:
    """An unsaved user; :func:`create_user` saves it."""
    user_id = new_id("usr")
    return User(PK=user_key(user_id), SK=PROFILE_SK, user_id=user_id, email=email, name=name,
                password_hash=hash_password(password) if password else None, roles=set(roles),
                seller_id=seller_id, created_at=datetime.now(UTC).isoformat())


class EmailTaken(Conflict):
    code = "email_taken"

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
    claim = EmailClaim(PK=email_key(user.email), SK="EMAIL", user_id=user.user_id)
    event = new_event("account.created", {"user_id": user.user_id, "email": user.email, "name": user.name,
                                          "roles": sorted(user.roles), **(event_payload or {})})
    # (item, error when its key exists) in the order written; None: saved unconditionally.
    writes: list[tuple[Any, AgoraError | None]] = [
        (claim, EmailTaken()),
        (user, Conflict("The account could not be created; please try again.", code="account_id_clash")),
        (event, None),
    ]
    for entry in together_with:
        if isinstance(entry, NewItem):
            writes.append((entry.item, entry.taken))
        else:
            writes.append((entry, Conflict("Something this creates was created at the same time by another "
                                           "request; please try again.", code="concurrent_creation")))
    try:
        with write_transaction() as transaction:
            for item, taken in writes:
                transaction.save(item, condition=type(item).PK.does_not_exist() if taken else None)
    except TransactWriteError as error:
        failed = failed_conditions(error)
        if not failed:
            raise
        raise writes[failed[0]][1] from None
    return user


def find_user_by_email(email: str) -> User | None:
    """GetItem(claim) then GetItem(user)."""
    try:
        claim = EmailClaim.get(email_key(email), "EMAIL")
    except EmailClaim.DoesNotExist:
        return None
    return get_user(claim.user_id)


def get_user(user_id: str) -> User:
    try:
        return User.get(user_key(user_id), PROFILE_SK)
    except User.DoesNotExist:
        raise NotFound("No such account.", code="account_not_found") from None


def account_closed() -> Unauthorized:
    """What a still-valid access token of an erased account gets: sign out."""
    return Unauthorized("This account has been deleted.", code="account_closed")


def get_active_user(user_id: str) -> User:
    """The signed-in buyer's user item (GetItem); erased accounts are closed for business."""
    try:
        user = User.get(user_key(user_id), PROFILE_SK)
    except User.DoesNotExist:
        raise account_closed() from None
    if not user.is_active:
        raise account_closed()
    return user


def register(*, email: str, password: str, name: str, newsletter: bool = False,
             source_ip: str | None = None) -> Session:
    """Round trips: TransactWriteItems(claim, user, event), TransactWriteItems(session).
    A newsletter wish is confirmed by mail (double opt-in) by the ``account.created``
    subscriber, which logs it with the source address given here."""
    email = normalise_email(email)
    check_new_password(password, email)
    payload: dict[str, Any] = {"newsletter_requested": newsletter, "method": "password"}
    if newsletter:
        payload["source_ip"] = source_ip
    user = create_user(new_user(email, name=name, password=password), event_payload=payload)
    return start_session(user)


def login(*, email: str, password: str, source_ip: str) -> Session:
    """The same answer, after the same work, for a wrong password and an unknown email.

    Failed attempts are limited per email and per source address (429 with Retry-After).
    Every attempt is counted before the password is checked (so a burst of parallel
    guesses cannot slip past the limit) and refunded when it succeeds (so only failures
    count, and one person's success never locks out anybody else).

    Round trips: UpdateItem per counter (2), GetItem(claim), GetItem(user), then
    UpdateItem per counter (refund) and TransactWriteItems(session) on success.
    """
    try:
        email = normalise_email(email)
    except ValidationFailed:
        email = ""
    attempts = [(LOGIN_FAILURES_PER_SOURCE, source_ip)] + ([(LOGIN_FAILURES_PER_EMAIL, email)] if email else [])
    now = time.time()
    throttle.hit_all(attempts, now=now)
    user = find_user_by_email(email) if email else None
    stored = user.password_hash if user is not None and user.is_active else None
    if not verify_password(password, stored):
        raise Unauthorized("The email or password is wrong.", code="invalid_credentials")
    throttle.refund_all(attempts, now=now)
    return start_session(user)


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


def ensure_account(email: str, *, name: str = "", password: str | None = None,
                   method: str = "passwordless") -> tuple[User, bool]:
    """The account for ``email``, created if there is none (magic-link sign-up, guest
    checkout, sellers' customer imports). ``password`` is used only for a new account —
    an existing account is linked, never changed. Returns (user, created).

    Round trips: GetItem(claim), GetItem(user) for an existing account; GetItem(claim) and
    TransactWriteItems(claim, user, event) for a new one."""
    email = normalise_email(email)
    existing = find_user_by_email(email)
    if existing is not None:
        return existing, False
    try:
        return create_user(new_user(email, name=name, password=password), event_payload={"method": method}), True
    except EmailTaken:  # created concurrently by another request: use that one
        found = find_user_by_email(email)
        if found is None:  # pragma: no cover - the claim exists, so the user does
            raise
        return found, False


def mark_email_verified(user: User) -> User:
    """The person proved they read mail at this address (one UpdateItem, skipped when known)."""
    if not user.email_verified:
        user.update(actions=[User.email_verified.set(True)], condition=User.PK.exists())
    return user


def save_counted(item: Any, counter: Any, limit: int, *, user_actions: Iterable[Any] = ()) -> bool:
    """Save a new item of a buyer's partition and count it on their user item, in one
    transaction, while the account is active and below ``limit`` (so concurrent additions
    cannot pass it). False when a condition failed: the item exists, the limit is reached
    or the account is closed — the caller tells which."""
    try:
        with write_transaction() as transaction:
            transaction.save(item, condition=type(item).PK.does_not_exist())
            transaction.update(User(PK=item.PK, SK=PROFILE_SK), actions=[counter.add(1), *user_actions],
                               condition=(User.status == "active") & (counter.does_not_exist() | (counter < limit)))
    except TransactWriteError as error:
        if was_condition_failure(error):
            return False
        raise
    return True


def delete_counted(item: Any, counter: Any) -> bool:
    """Delete an item counted with :func:`save_counted`; False when it was not there (or the
    account is closed)."""
    try:
        with write_transaction() as transaction:
            transaction.delete(item, condition=type(item).PK.exists())
            transaction.update(User(PK=item.PK, SK=PROFILE_SK), actions=[counter.add(-1)],
                               condition=User.status == "active")
    except TransactWriteError as error:
        if was_condition_failure(error):
            return False
        raise
    return True
