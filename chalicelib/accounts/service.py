"""Accounts: creating people, signing them in, finding them.

One account per email across the whole marketplace. Sellers' owners, buyers and
operators are all users; what they may do comes from their roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.accounts.emails import normalise_email
from chalicelib.accounts.models import EmailClaim, User, email_key, user_key
from chalicelib.accounts.sessions import Session, start_session
from chalicelib.core.db import was_condition_failure, write_transaction
from chalicelib.core.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.passwords import hash_password, password_problems, verify_password
from chalicelib.events.service import new_event


def check_new_password(password: str, email: str) -> None:
    problems = password_problems(password, email=email)
    if problems:
        raise ValidationFailed("The password is too weak.", code="weak_password",
                               details=[{"field": "body.password", "message": f"Password {p}.", "type": "password"}
                                        for p in problems])


def new_user(email: str, *, name: str = "", password: str | None = None, roles: Iterable[str] = ("buyer",),
             seller_id: str | None = None) -> User:
    """An unsaved user; :func:`create_user` saves it."""
    user_id = new_id("usr")
    return User(PK=user_key(user_id), SK="PROFILE", user_id=user_id, email=email, name=name,
                password_hash=hash_password(password) if password else None, roles=set(roles),
                seller_id=seller_id, created_at=datetime.now(UTC).isoformat())


def create_user(user: User, *, together_with: Iterable[Any] = (), event_payload: dict[str, Any] | None = None) -> User:
    """Save ``user``, its email claim and an ``account.created`` event in one transaction,
    together with the caller's own items (e.g. the seller a new owner runs).

    Raises Conflict(email_taken) when the email already has an account.
    """
    claim = EmailClaim(PK=email_key(user.email), SK="EMAIL", user_id=user.user_id)
    event = new_event("account.created", {"user_id": user.user_id, "email": user.email, "name": user.name,
                                          "roles": sorted(user.roles), **(event_payload or {})})
    try:
        with write_transaction() as transaction:
            transaction.save(claim, condition=EmailClaim.PK.does_not_exist())
            transaction.save(user, condition=User.PK.does_not_exist())
            transaction.save(event)
            for item in together_with:
                transaction.save(item, condition=type(item).PK.does_not_exist())
    except TransactWriteError as error:
        if was_condition_failure(error):
            raise Conflict("An account with this email already exists.", code="email_taken") from None
        raise
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
        return User.get(user_key(user_id), "PROFILE")
    except User.DoesNotExist:
        raise NotFound("No such account.", code="account_not_found") from None


def register(*, email: str, password: str, name: str, newsletter: bool = False) -> Session:
    email = normalise_email(email)
    check_new_password(password, email)
    user = create_user(new_user(email, name=name, password=password),
                       event_payload={"newsletter_requested": newsletter, "method": "password"})
    return start_session(user)


def login(*, email: str, password: str) -> Session:
    """The same answer, after the same work, for a wrong password and an unknown email."""
    try:
        email = normalise_email(email)
    except ValidationFailed:
        email = ""
    user = find_user_by_email(email) if email else None
    stored = user.password_hash if user is not None and user.status == "active" else None
    if not verify_password(password, stored):
        raise Unauthorized("The email or password is wrong.", code="invalid_credentials")
    return start_session(user)


def ensure_account(email: str, *, name: str = "", password: str | None = None,
                   method: str = "passwordless") -> tuple[User, bool]:
    """The account for ``email``, created if there is none (magic-link sign-up, guest
    checkout, sellers' customer imports). ``password`` is used only for a new account —
    an existing account is linked, never changed. Returns (user, created)."""
    email = normalise_email(email)
    existing = find_user_by_email(email)
    if existing is not None:
        return existing, False
    try:
        return create_user(new_user(email, name=name, password=password), event_payload={"method": method}), True
    except Conflict:  # created concurrently by another request: use that one
        found = find_user_by_email(email)
        if found is None:  # pragma: no cover - the claim exists, so the user does
            raise
        return found, False
