"""Referrals: a buyer shares their code (``<frontend>/?ref=<code>``); a new buyer who signs up
with it is their referral, and both get the programme's ``referral`` points when the new
buyer's first order completes (a part's return window ended: ``order.status_changed`` to
``completed``, the event that makes order points available).

No points when the two are plausibly one person: the same email once normalised (case,
``+tags``, Gmail's dots), the same address (the new buyer's saved ones and the completed
order's shipping and billing address against the referrer's saved ones; street, postcode and
country, compared without case, spaces or punctuation), or the same card (Stripe's
``card.fingerprint`` of the card that paid the completed order against the cards the referrer
saved and those they paid with since they had a code). A referrer is rewarded for at most
``referral_monthly_cap`` referrals per calendar month; a referral over the cap is refused for
good. Each referral is decided once (its status moves under a condition), and the awards are
idempotent, so a redelivered event changes nothing; a decision whose awards did not finish is
finished by the redelivery.

While the programme is off or sets no ``referral`` points, nothing is decided: the referral
waits for a later completion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.accounts import referrals as codes
from chalicelib.accounts.models import Address, ReferralCode, User
from chalicelib.core.db import LabelledTransaction, find_item, retrying
from chalicelib.core.keys import (
    ADDRESS_PREFIX,
    LOYALTY_REFERRALS_SK,
    LOYALTY_REFERRED_BY_SK,
    PROFILE_SK,
    REFERRAL_CODE_SK,
    loyalty_card_sk,
    loyalty_referral_sk,
    loyalty_referrals_month_sk,
    order_sk,
    user_key,
)
from chalicelib.core.settings import get_settings
from chalicelib.loyalty.earning import award_event_points
from chalicelib.loyalty.models import LoyaltyCard, LoyaltyReferral, LoyaltyReferrals, LoyaltyReferredBy
from chalicelib.loyalty.programme import Programme, get_programme
from chalicelib.orders.models import Order
from chalicelib.payments import stripe_gateway

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class ReferralView:
    code: str
    link: str
    referred: int  # buyers who signed up with the code
    rewarded: int  # of them, referrals that earned points


def link_to(code: str) -> str:
    """The marketplace frontend (``AGORA_FRONTEND_URL``) with the code as ``ref``."""
    return f"{get_settings().frontend_url.rstrip('/')}/?ref={code}"


def view(user_id: str) -> ReferralView:
    """The buyer's code (made now the first time), link and counts: GetItem (code) + GetItem
    (counts)."""
    code = codes.code_of(user_id)
    counts = find_item(LoyaltyReferrals, user_key(user_id), LOYALTY_REFERRALS_SK)
    return ReferralView(code=code, link=link_to(code), referred=int(counts.referred or 0) if counts else 0,
                        rewarded=int(counts.rewarded or 0) if counts else 0)


def record(referred_id: str, referrer_id: str, *, at: str) -> bool:
    """A new account signed up with ``referrer_id``'s code (``account.created``): the referral,
    pending, under both buyers, and the referrer's count; once. One transaction."""
    if referred_id == referrer_id:
        return False
    transaction = LabelledTransaction()
    transaction.put("referred", LoyaltyReferredBy(PK=user_key(referred_id), SK=LOYALTY_REFERRED_BY_SK,
                                                  user_id=referred_id, referrer_id=referrer_id, status="pending",
                                                  joined_at=at), LoyaltyReferredBy.PK.does_not_exist())
    transaction.put("referral", LoyaltyReferral(PK=user_key(referrer_id), SK=loyalty_referral_sk(referred_id),
                                                referrer_id=referrer_id, referred_id=referred_id, status="pending",
                                                joined_at=at))
    transaction.update("counts", LoyaltyReferrals(PK=user_key(referrer_id), SK=LOYALTY_REFERRALS_SK),
                       [LoyaltyReferrals.referred.add(1)])
    return not transaction.commit()


def _awards_referrals(programme: Programme) -> bool:
    return programme.enabled and int(programme.event_points.get("referral", 0)) > 0


def record_paying_card(user_id: str, order_id: str, *, at: str, programme: Programme | None = None) -> bool:
    """``order.paid`` of a buyer with a referral code (a possible referrer): keep the paying
    card's fingerprint, for the fraud check of their referrals. Only while referrals earn
    points. GetItem (code, order), Stripe (2 calls), PutItem."""
    if not _awards_referrals(programme or get_programme()):
        return False
    if find_item(ReferralCode, user_key(user_id), REFERRAL_CODE_SK) is None:
        return False
    order = find_item(Order, user_key(user_id), order_sk(order_id))
    if order is None or not order.payment_intent_id:
        return False
    fingerprint = stripe_gateway.paying_card_fingerprint(order.payment_intent_id)
    if not fingerprint:
        return False
    LoyaltyCard(PK=user_key(user_id), SK=loyalty_card_sk(fingerprint), fingerprint=fingerprint, order_id=order_id,
                seen_at=at).save()
    return True


# ----------------------------------------------------------------------------- the fraud rules


def comparable_email(email: str) -> str:
    """An email as one person's addresses compare: lower case, without a ``+tag``, and
    Gmail's local part without dots (Gmail ignores them)."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def address_key(address: Any) -> str | None:
    """Street, postcode and country without case, spaces or punctuation (ß as ss); the name
    and the second line do not count (one household, many names and flat numbers)."""
    fields = address if isinstance(address, dict) else \
        {name: getattr(address, name, None) for name in ("line1", "postal_code", "country")}
    line1, postal_code, country = fields.get("line1"), fields.get("postal_code"), fields.get("country")
    if not line1 or not country:
        return None
    return "|".join(_NOT_ALNUM.sub("", str(part).casefold()) for part in (line1, postal_code or "", country))


def _saved_addresses(user_id: str) -> list[Address]:
    return list(Address.query(user_key(user_id), Address.SK.startswith(ADDRESS_PREFIX)))


def fraud_reason(referred: User, referrer: User, order: Order | None) -> str | None:
    """Why the referral earns nothing (``same_email``, ``same_address``, ``same_card``), or
    None. Query (both address books), GetItem (the card), Stripe (the paying card: 2 calls;
    the referrer's saved cards: 1)."""
    if comparable_email(referred.email) == comparable_email(referrer.email):
        return "same_email"
    theirs = {key for address in _saved_addresses(referrer.user_id) if (key := address_key(address))}
    mine = [*_saved_addresses(referred.user_id), *((order.shipping_address, order.billing_address) if order else ())]
    if any(address_key(address) in theirs for address in mine if address):
        return "same_address"
    fingerprint = stripe_gateway.paying_card_fingerprint(order.payment_intent_id) \
        if order is not None and order.payment_intent_id else None
    if fingerprint:
        if find_item(LoyaltyCard, user_key(referrer.user_id), loyalty_card_sk(fingerprint)) is not None:
            return "same_card"
        if referrer.stripe_customer_id and fingerprint in stripe_gateway.saved_card_fingerprints(
                referrer.stripe_customer_id):
            return "same_card"
    return None


# ----------------------------------------------------------------------------- the decision


def _decide(referred: LoyaltyReferredBy, status: str, *, reason: str | None, order_id: str, at: str,
            programme: Programme) -> str | None:
    """Move the referral from pending to ``status`` in one transaction (a reward also counts
    against the referrer's month, on condition the cap is not reached). The status it has
    now: ``status``, what another delivery decided meanwhile, or ``monthly_cap`` refused."""
    month = at[:7]
    decided: list[Action] = [LoyaltyReferredBy.status.set(status), LoyaltyReferredBy.order_id.set(order_id),
               LoyaltyReferredBy.decided_at.set(at)]
    copy: list[Action] = [LoyaltyReferral.status.set(status), LoyaltyReferral.decided_at.set(at)]
    if reason:
        decided.append(LoyaltyReferredBy.reason.set(reason))
        copy.append(LoyaltyReferral.reason.set(reason))
    transaction = LabelledTransaction()
    transaction.update("referred", LoyaltyReferredBy(PK=referred.PK, SK=referred.SK), decided,
                       LoyaltyReferredBy.status == "pending")
    transaction.update("referral", LoyaltyReferral(PK=user_key(referred.referrer_id),
                                                   SK=loyalty_referral_sk(referred.user_id)), copy)
    if status == "rewarded":
        cap = programme.referral_monthly_cap
        transaction.update("month", LoyaltyReferrals(PK=user_key(referred.referrer_id),
                                                     SK=loyalty_referrals_month_sk(month)),
                           [LoyaltyReferrals.rewarded.add(1)],
                           LoyaltyReferrals.rewarded.does_not_exist() | (LoyaltyReferrals.rewarded < cap))
        transaction.update("counts", LoyaltyReferrals(PK=user_key(referred.referrer_id), SK=LOYALTY_REFERRALS_SK),
                           [LoyaltyReferrals.rewarded.add(1)])
    failed = transaction.commit()
    if not failed:
        return status
    if "referred" in failed:
        now = find_item(LoyaltyReferredBy, referred.PK, referred.SK, consistent_read=True)
        return now.status if now is not None else None
    if failed == {"month"}:
        return _decide(referred, "refused", reason="monthly_cap", order_id=order_id, at=at, programme=programme)
    raise RuntimeError(f"referral decision failed: {sorted(failed)}")


def _award(referred: LoyaltyReferredBy, at: str) -> int:
    """Both buyers' ``referral`` points, each once. Both lots are named by the referred buyer,
    differently: a lot's id also names its ledger posting, which is unique marketplace-wide."""
    return (award_event_points(referred.referrer_id, "referral", referred.user_id, at=at)
            + award_event_points(referred.user_id, "referral", f"joined:{referred.user_id}", at=at))


def on_part_completed(user_id: str, order_id: str, *, at: str) -> str | None:
    """One of the buyer's parts completed: if the buyer is a pending referral, decide it (the
    first completion decides) and award the points. The referral's status after this, or None
    when the buyer was not referred. GetItem (referral); deciding: GetItem (programme, both
    users, the order), the fraud rules, one transaction, the awards."""
    referred = find_item(LoyaltyReferredBy, user_key(user_id), LOYALTY_REFERRED_BY_SK, consistent_read=True)
    if referred is None:
        return None
    if referred.status == "rewarded":  # decided by an earlier delivery that may not have awarded both
        _award(referred, referred.decided_at or at)
        return referred.status
    if referred.status != "pending":
        return referred.status
    programme = get_programme()
    if not _awards_referrals(programme):
        return referred.status
    buyer = find_item(User, user_key(user_id), PROFILE_SK)
    referrer = find_item(User, user_key(referred.referrer_id), PROFILE_SK)
    if buyer is None or referrer is None or not referrer.is_active or not buyer.is_active:
        return referred.status
    order = find_item(Order, user_key(user_id), order_sk(order_id), consistent_read=True)
    reason = fraud_reason(buyer, referrer, order)
    status = retrying(lambda: _decide(referred, "refused" if reason else "rewarded", reason=reason,
                                      order_id=order_id, at=at, programme=programme), what="referral")
    if status == "rewarded":
        _award(referred, at)
    return status

