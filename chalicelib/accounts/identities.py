"""Social-login identities (OpenID Connect) and the accounts they belong to.

An identity is a provider's issuer and subject; it belongs to one account (``IdentityClaim``,
put under ``attribute_not_exists``), and an account has at most one identity per provider
(``LinkedIdentity``, in the user's partition). The rules, in the order they apply:

- a known identity signs in to its account;
- a new identity whose email the provider marks verified joins the account with that email
  (the provider proved the mailbox, as a mailed link does: :func:`confirm_mailbox`, which the
  first time also drops identities linked before the mailbox was proven);
- a new identity whose email the provider did not verify, while an account has that email,
  is refused (409 ``sign_in_to_link``): the buyer signs in another way and links it;
- otherwise it creates a passwordless buyer account, its email verified only if the
  provider verified it (password sign-in then waits for a mailed link, as for any account).

Sellers' users sign in the same way (``role=seller`` reaches only an account that runs a
seller; new sellers apply at ``POST /v1/sellers`` first); operators never do (403): they sign
in with password and TOTP. A signed-in buyer links a provider (the same flow, the state
naming the account) and unlinks it; the last way to sign in — the only identity of an
account without a password — stays (409), held by a condition on ``identity_count``.

A sign-in that came with a return URL hands the frontend a one-time code in that URL
instead of tokens (:func:`hand_off`, :func:`redeem_handoff`): tokens never travel in a URL.
"""

from __future__ import annotations

import contextlib
import time

from chalicelib.accounts import oidc
from chalicelib.accounts.emails import normalise_email
from chalicelib.accounts.identity_links import claim_key, linked_identities
from chalicelib.accounts.models import IdentityClaim, LinkedIdentity, OidcHandoff, User
from chalicelib.accounts.service import (
    NewItem,
    confirm_mailbox,
    create_user,
    find_user_by_email,
    get_active_user,
    new_user,
    open_account,
)
from chalicelib.accounts.sessions import Session, start_session
from chalicelib.core import clock, throttle
from chalicelib.core.auth import new_secret
from chalicelib.core.db import LabelledTransaction, find_item
from chalicelib.core.errors import BadRequest, Code, Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from chalicelib.core.keys import (
    OIDC_HANDOFF_SK,
    PROFILE_SK,
    identity_sk,
    oidc_handoff_key,
    user_key,
)
from chalicelib.core.peppers import hash_secret

HANDOFF_SECONDS = 120
HANDOFF_PREFIX = "agora_oc_"
CALLBACKS_PER_SOURCE = throttle.Rule("oidc-callback-source", limit=60, window_seconds=15 * 60)


def _claim_key(identity: oidc.ProviderIdentity) -> tuple[str, str]:
    return claim_key(identity.issuer, identity.subject)


class IdentityTaken(Conflict):
    code = Code.IDENTITY_TAKEN

    def __init__(self) -> None:
        super().__init__("This account at the provider is linked to another agora account.")


def _provider_linked() -> Conflict:
    return Conflict("Another account of this provider is linked already; unlink it first.",
                    code=Code.PROVIDER_ALREADY_LINKED)


def _linked_item(user: User, identity: oidc.ProviderIdentity) -> LinkedIdentity:
    return LinkedIdentity(PK=user_key(user.user_id), SK=identity_sk(identity.provider), user_id=user.user_id,
                          provider=identity.provider, issuer=identity.issuer, subject=identity.subject,
                          email=identity.email, email_verified=identity.email_verified, linked_at=clock.stamp())


def _refuse_business(user: User, role: str) -> None:
    if "operator" in user.roles:
        raise Forbidden("Operators sign in with their password and authenticator code, not a social account.",
                        code=Code.NO_SOCIAL_LOGIN_FOR_OPERATORS)
    if role == "seller" and not user.seller_id:
        raise _not_a_seller()


def _not_a_seller() -> Forbidden:
    return Forbidden("No seller account signs in with this identity. Apply at POST /v1/sellers (then link the "
                     "provider in your account), or sign in as a buyer.", code=Code.SELLER_REQUIRED)


def _link(user: User, identity: oidc.ProviderIdentity) -> None:
    """One transaction: the claim (the identity is nobody's yet), the account's link (none of
    this provider yet) and the count that guards the last way to sign in."""
    transaction = LabelledTransaction()
    transaction.put("claim", IdentityClaim(*_claim_key(identity), user_id=user.user_id, provider=identity.provider),
                    IdentityClaim.PK.does_not_exist())
    transaction.put("linked", _linked_item(user, identity), LinkedIdentity.PK.does_not_exist())
    transaction.update("user", User(PK=user_key(user.user_id), SK=PROFILE_SK), [User.identity_count.add(1)],
                       User.status.is_in("active", "invited"))
    failed = transaction.commit()
    if "claim" in failed:
        raise IdentityTaken()
    if "linked" in failed:
        raise _provider_linked()
    if failed:
        raise Unauthorized("This account has been deleted.", code=Code.ACCOUNT_CLOSED)


def _owner(identity: oidc.ProviderIdentity) -> User | None:
    claim = find_item(IdentityClaim, *_claim_key(identity))
    if claim is None:
        return None
    return open_account(find_item(User, user_key(claim.user_id), PROFILE_SK))


def _new_account(identity: oidc.ProviderIdentity, email: str, *, referred_by: str | None = None) -> User:
    user = new_user(email, name=identity.name, email_verified=identity.email_verified)
    user.identity_count = 1
    method = "social_login" if identity.email_verified else "social_login_unverified"
    return create_user(user, together_with=[
        NewItem(IdentityClaim(*_claim_key(identity), user_id=user.user_id, provider=identity.provider),
                IdentityTaken()),
        _linked_item(user, identity),
    ], event_payload={"method": method, **({"referred_by": referred_by} if referred_by else {})})


def account_for(identity: oidc.ProviderIdentity, *, role: str, referred_by: str | None = None) -> User:
    """The account ``identity`` signs in to, by the rules of the module docstring; a new one
    is ``referred_by``'s referral when the sign-in started with their code.

    Round trips: GetItem(claim) + GetItem(user) for a known identity; else GetItem(email
    claim) + GetItem(user) and one TransactWriteItems (link, or the new account)."""
    owner = _owner(identity)
    if owner is not None:
        _refuse_business(owner, role)
        return owner
    if not identity.email:
        raise ValidationFailed("The provider did not share an email address, which an agora account needs. Allow "
                               "it at the provider, or sign in another way.", code=Code.PROVIDER_EMAIL_MISSING)
    email = normalise_email(identity.email)
    existing = find_user_by_email(email)
    if existing is not None:
        if not identity.email_verified:
            raise Conflict("An account with this email exists, and the provider has not verified the address. "
                           "Sign in with a mailed link or your password, then link the provider in your account.",
                           code=Code.SIGN_IN_TO_LINK)
        _refuse_business(existing, role)
        existing = confirm_mailbox(existing)  # first: it drops what was linked before the mailbox was proven
        _link(existing, identity)
        return existing
    if role == "seller":
        raise _not_a_seller()
    return _new_account(identity, email, referred_by=referred_by)


def link_to(user_id: str, identity: oidc.ProviderIdentity) -> User:
    """A signed-in buyer links ``identity`` (whatever its email: they proved both). Linking
    again what is already theirs changes nothing."""
    user = get_active_user(user_id)
    _refuse_business(user, "buyer")
    owner = _owner(identity)
    if owner is not None:
        if owner.user_id != user_id:
            raise IdentityTaken()
        return user
    _link(user, identity)
    return user


def sign_in(name: str, *, state: str | None, code: str | None, error: str | None = None,
            source_ip: str) -> tuple[User, str | None]:
    """The callback of provider ``name``: the account the identity signs in to (or was
    linked to), and the return URL the sign-in started with. The caller starts the session
    (:func:`chalicelib.accounts.sessions.start_session`) or hands it off (:func:`hand_off`).

    Round trips: UpdateItem(throttle), those of :func:`chalicelib.accounts.oidc.finish`, of
    :func:`account_for` (or :func:`link_to`)."""
    throttle.hit(CALLBACKS_PER_SOURCE, source_ip)
    oidc.provider(name)  # an unknown one is 404 whatever the callback carries
    if error is not None:  # the person declined, or the provider refused the request
        if state:
            with contextlib.suppress(BadRequest):
                oidc.consume_state(name, state)
        raise BadRequest("The provider did not sign you in; start again.", code=Code.OIDC_SIGN_IN_DENIED,
                         details={"error": error})
    if not state:
        raise BadRequest("The callback carries no state; start the sign-in again.", code=Code.INVALID_OIDC_STATE)
    if not code:
        raise BadRequest("The callback carries no code; start the sign-in again.", code=Code.OIDC_CODE_REJECTED)
    started, identity = oidc.finish(name, state=state, code=code)
    if started.link_user_id:
        return link_to(started.link_user_id, identity), started.return_to
    return account_for(identity, role=started.role, referred_by=started.referred_by), started.return_to


def list_identities(user_id: str) -> list[LinkedIdentity]:
    """One Query of the user's partition."""
    return linked_identities(user_id)


def unlink(user_id: str, provider: str) -> None:
    """Remove the link to ``provider``; refused (409 ``last_sign_in_method``) when it is the
    account's only identity and it has no password.

    Round trips: GetItem(link), TransactWriteItems(link, claim, user)."""
    missing = NotFound("No identity of this provider is linked to your account.", code=Code.IDENTITY_NOT_FOUND)
    linked = find_item(LinkedIdentity, user_key(user_id), identity_sk(provider))
    if linked is None:
        raise missing
    transaction = LabelledTransaction()
    transaction.delete("linked", linked, LinkedIdentity.PK.exists())
    transaction.delete("claim", IdentityClaim(*claim_key(linked.issuer, linked.subject)),
                       IdentityClaim.user_id == user_id)
    transaction.update("user", User(PK=user_key(user_id), SK=PROFILE_SK), [User.identity_count.add(-1)],
                       (User.status == "active") & (User.password_hash.exists() | (User.identity_count > 1)))
    failed = transaction.commit()
    if "linked" in failed or "claim" in failed:
        raise missing
    if failed:
        get_active_user(user_id)  # erased meanwhile: account_closed
        raise Conflict("This is the last way to sign in to your account: set a password or link another provider "
                       "first.", code=Code.LAST_SIGN_IN_METHOD)


def hand_off(user: User) -> str:
    """A one-time code (valid :data:`HANDOFF_SECONDS`) for the frontend to exchange for the
    account's tokens; only its keyed hash is stored. One PutItem."""
    code = new_secret(HANDOFF_PREFIX)
    OidcHandoff(PK=oidc_handoff_key(hash_secret(code)), SK=OIDC_HANDOFF_SK, user_id=user.user_id,
                expires_at=int(time.time()) + HANDOFF_SECONDS).save()
    return code


def redeem_handoff(code: str, *, source_ip: str) -> Session:
    """Tokens for a one-time code, once (GetItem, conditional DeleteItem, the session)."""
    throttle.hit(CALLBACKS_PER_SOURCE, source_ip)
    invalid = Unauthorized("This sign-in code is used up or has expired; sign in again.",
                           code=Code.INVALID_SIGN_IN_CODE)
    try:
        found = oidc.take_once(OidcHandoff, oidc_handoff_key, OIDC_HANDOFF_SK, code)
    except oidc.TakenBefore:
        raise invalid from None
    if found is None or found.expires_at <= int(time.time()):
        raise invalid
    return start_session(open_account(find_item(User, user_key(found.user_id), PROFILE_SK)))
