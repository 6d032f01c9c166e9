"""The buyer's data rights (GDPR Art. 15, 17, 20): export everything, erase the account.

Erasure removes or anonymises the personal data and keeps what the law requires:
- removed: name, phone, birthday (and its index entry), language, VAT id, marketing
  preferences, password hash, addresses, wishlist, sessions, linked social-login identities; the cards are detached and
  the customer deleted at Stripe; the email claim is released, so the address can sign
  up again (as a new, unrelated account);
- anonymised: the user item stays as a tombstone (``status=erased``, a pseudonymous email
  ``erased+<user_id>@invalid``, created/erased dates, roles), because orders and ledger
  entries refer to the user id;
- kept for proof: the consent log (what was agreed or withdrawn, when, how, from which
  address, which text), with a keyed hash of the old email so that consent for that
  address can still be proven (Art. 7(1), 17(3)(e));
- kept by other domains: orders, invoices and ledger entries (10 years under § 147 AO /
  § 257 HGB). They subscribe to ``account.erased`` and replace the personal fields in
  their copies (name, addresses, email) while keeping amounts, dates and ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.accounts import consents, identity_links, payment_methods, personal_data
from chalicelib.accounts.events import AccountErased
from chalicelib.accounts.models import (
    PERSONAL_USER_ATTRIBUTES,
    Address,
    Consent,
    ConsentLogEntry,
    EmailClaim,
    SessionFamily,
    User,
    WishlistItem,
)
from chalicelib.accounts.service import get_active_user, get_user
from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction
from chalicelib.core.errors import Code, Conflict
from chalicelib.core.keys import ADDRESS_PREFIX, EMAIL_SK, SESSION_PREFIX, WISH_PREFIX, email_key, user_key
from chalicelib.core.peppers import hash_secret
from chalicelib.events.service import new_event
from chalicelib.payments import stripe_gateway


@dataclass(frozen=True)
class AccountData:
    """Everything agora stores about a buyer."""

    user: User
    addresses: list[Address]
    consents: list[Consent]
    consent_log: list[ConsentLogEntry]
    sessions: list[SessionFamily]
    cards: list[payment_methods.Card]
    # Kept by packages above accounts (chalicelib.accounts.personal_data):
    wishes: list[Any] = field(default_factory=list)  # the catalog's wishlist entries (Wish)
    orders: list[Any] = field(default_factory=list)  # as GET /v1/me/orders shows them
    identities: list[Any] = field(default_factory=list)  # linked social-login identities (LinkedIdentity)
    loyalty: list[Any] = field(default_factory=list)  # the points history, as GET /v1/me/loyalty/transactions
    reviews: list[Any] = field(default_factory=list)  # as GET /v1/me/reviews shows them
    questions: list[Any] = field(default_factory=list)  # asked and answered on products
    conversations: list[Any] = field(default_factory=list)  # with the sellers, with every message


def _partition(user_id: str, model: type[Any], prefix: str) -> list[Any]:
    return list(model.query(user_key(user_id), model.SK.startswith(prefix)))


def export(user_id: str) -> AccountData:
    """Round trips: GetItem(user), Query(addresses), Query(consents), Query(consent log),
    Query(sessions), Query(identities), Stripe list cards, and the sections other packages keep
    (:mod:`chalicelib.accounts.personal_data`): Query(orders) + BatchGetItem(their sellers'
    parts), GetItem(user) + Query(wishlist) + BatchGetItem(wished products), Query(points history),
    Query(review markers) + BatchGetItem(reviews) per 100, 2 Queries(question markers) +
    BatchGetItem(questions) per 100, Query(conversations) + a Query of messages per conversation."""
    user = get_active_user(user_id)
    sections = personal_data.read_sections(user_id)
    return AccountData(
        user=user,
        addresses=_partition(user_id, Address, ADDRESS_PREFIX),
        consents=list(consents.current_consents(user_id).values()),
        consent_log=consents.all_log_entries(user_id),
        sessions=_partition(user_id, SessionFamily, SESSION_PREFIX),
        cards=payment_methods.cards_of(user),
        wishes=sections["wishlist"],
        orders=sections["orders"],
        identities=identity_links.linked_identities(user_id),
        loyalty=sections["loyalty"],
        reviews=sections["reviews"],
        questions=sections["questions"],
        conversations=sections["conversations"],
    )


def erase(user_id: str) -> None:
    """Erase the buyer's personal data (see the module docstring for what stays). Erasing
    an erased account again finishes any leftover clean-up and is not an error.

    Round trips: GetItem(user), Stripe (list cards, detach each, delete customer),
    Query(consents), TransactWriteItems(user tombstone, email claim, consents + log,
    ``account.erased`` event), Query(addresses, wishlist, sessions, social-login identities),
    BatchWriteItem deletes (per 25)."""
    user = get_user(user_id)
    if user.is_active:
        if user.seller_id or "operator" in user.roles:
            raise Conflict("This account runs a seller or operates the marketplace; hand that over before "
                           "deleting it.", code=Code.ACCOUNT_HAS_BUSINESS_ROLE)
        _erase_at_stripe(user)
        _anonymise(user)
    for model, prefix in ((Address, ADDRESS_PREFIX), (WishlistItem, WISH_PREFIX), (SessionFamily, SESSION_PREFIX)):
        leftovers = _partition(user_id, model, prefix)
        with model.batch_write() as batch:
            for item in leftovers:
                batch.delete(item)
    identity_links.forget_all(user_id)


def _erase_at_stripe(user: User) -> None:
    if not user.stripe_customer_id:
        return
    for card in payment_methods.cards_of(user):
        stripe_gateway.detach_payment_method(card.payment_method_id)
    stripe_gateway.delete_customer(user.stripe_customer_id)


def _anonymise(user: User) -> None:
    """One transaction: after it the account is closed and the email free, whatever
    clean-up follows."""
    now = clock.stamp()
    withdrawals = [c for c in consents.current_consents(user.user_id).values() if c.status in ("pending", "granted")]
    transaction = LabelledTransaction()
    transaction.update("user", user, [
        User.status.set("erased"), User.email.set(f"erased+{user.user_id}@invalid"), User.name.set(""),
        User.email_verified.set(False), User.erased_at.set(now),
        User.erased_email_hash.set(hash_secret(f"email:{user.email}")),
        *(getattr(User, name).remove() for name in PERSONAL_USER_ATTRIBUTES),
    ], User.status == "active")
    transaction.delete("email_claim", EmailClaim(PK=email_key(user.email), SK=EMAIL_SK),
                       EmailClaim.user_id == user.user_id)
    for consent in withdrawals:
        transaction.update("consent", consent, [Consent.status.set("withdrawn"), Consent.request_id.remove(),
                                                Consent.updated_at.set(now)])
        transaction.put("consent_log", consents.log_entry(user.user_id, consent.topic, "withdrawn",
                                                          method="account_erasure", source_ip=None, at=now))
    transaction.put("event", new_event(AccountErased(user_id=user.user_id, erased_at=now)))
    transaction.commit()  # a failed condition: erased concurrently, and the clean-up still runs
