"""Earning, availability, reversal and awards: what the programme does when the core tells it
what happened (``subscriptions.py``) and what the operator or a later feature asks.

- ``order.paid``: per sub-order a *pending* lot (:mod:`chalicelib.loyalty.programme` says how
  many points), plus a lot of the seller's bonus when a seller campaign covers its lines.
- ``order.status_changed`` to ``completed`` (the return window ended): the sub-order's lots
  become *available*, and expire ``expiry_months`` later under the per-lot policy.
- ``order.refund_requested`` (a cancellation or an approved return): the lots lose points in
  proportion to the refunded share of the sub-order's goods, cumulatively. Points a reversal
  finds already spent are forgiven, not taken from other lots (the balance never goes below
  0): the history entry shows them as ``forgiven``.
- :func:`award_event_points`: a bonus for an event (sign-up, newsletter confirmed now; first
  review, birthday and referral call it when they arrive), available at once, once per
  ``idempotency_ref``.
- :func:`adjust`: the operator's manual adjustment, audited.

When the programme is switched off nothing is earned or awarded; balances stay, points
already earned still become available, are reversed and expire.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from math import floor
from typing import Any

from chalicelib.accounts.models import User
from chalicelib.core import clock
from chalicelib.core.db import find_item, newest_first, retrying
from chalicelib.core.errors import Code, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.keys import (
    LOYALTY_ADJUSTMENT_PREFIX,
    LOYALTY_KEY,
    PROFILE_SK,
    loyalty_adjustment_sk,
    refund_sk,
    user_key,
)
from chalicelib.core.logging import logger
from chalicelib.core.money import divide_half_up
from chalicelib.core.pagination import Page
from chalicelib.loyalty.models import LoyaltyAdjustment, LoyaltyLot
from chalicelib.loyalty.programme import EVENT_REASONS, FULL_BP, Campaign, Programme, get_programme, running_campaigns
from chalicelib.loyalty.store import (
    Movement,
    consume,
    expiry_index,
    expiry_of,
    issue_lot,
    mark_active,
    new_member,
    read_balance,
    read_lot,
    read_member,
    reversal_release,
    take_from_lot,
)
from chalicelib.loyalty.tiers import upgrade
from chalicelib.orders.models import Refund
from chalicelib.orders.transitions import find_sub_order

# A refund can reach loyalty before the payment it refunds (events are not ordered): a missing
# lot of a sub-order paid this recently is retried (the event is delivered again), an older
# one was never earned (the programme was off).
LATE_EARNING_SECONDS = 3600


def order_lot_id(order_id: str, seller_id: str) -> str:
    return f"earn:{order_id}:{seller_id}"


def bonus_lot_id(order_id: str, seller_id: str) -> str:
    return f"bonus:{order_id}:{seller_id}"


def goods_of(line: Mapping[str, Any]) -> int:
    """What the buyer paid for a line net of VAT, after discounts: its total less its tax."""
    return int(line.get("total") or 0) - int(line.get("tax") or 0)


def points_for(programme: Programme, lines: Sequence[Mapping[str, Any]], seller_id: str, *, tier_bp: int,
               campaigns: Sequence[Campaign]) -> tuple[int, int]:
    """(points the marketplace funds, bonus points the seller funds) for one sub-order's lines."""
    marketplace, bonus = Fraction(0), Fraction(0)
    for line in lines:
        base = programme.base_points(goods_of(line))
        multiplier = Fraction(tier_bp, FULL_BP)
        for campaign in campaigns:
            if not campaign.covers(line, seller_id):
                continue
            if campaign.seller_id is None:
                multiplier *= Fraction(campaign.multiplier_bp, FULL_BP)
            else:
                bonus += base * Fraction(campaign.multiplier_bp - FULL_BP, FULL_BP)
        marketplace += base * multiplier
    return floor(marketplace), floor(max(bonus, Fraction(0)))


def _movement(user_id: str, movement_id: str, kind: str, reason: str, at: str, **fields: Any) -> Movement:
    return Movement(user_id=user_id, movement_id=movement_id, kind=kind, reason=reason, at=at, **fields)


def earn_for_order(user_id: str, order_id: str, seller_id: str, *, paid_at: str,
                   programme: Programme | None = None) -> bool:
    """The pending points of one paid sub-order (once). Reads the sub-order with its lines
    (BatchGetItem), the member (GetItem), the campaigns (2 Queries); one transaction; then
    the tier check. False when nothing was earned now (earned before, programme off, no
    goods)."""
    programme = programme or get_programme()
    if not programme.enabled:
        return False
    sub = find_sub_order(seller_id, order_id)
    if sub is None or sub.currency != programme.currency:
        return False  # another currency than the programme's earns nothing (README)
    lines = list(sub.lines or [])
    campaigns = running_campaigns([seller_id], paid_at)

    def attempt() -> bool:
        if read_lot(user_id, order_lot_id(order_id, seller_id)) is not None:
            return False  # earned before (a redelivery, or one that lost a race to it)
        member = read_member(user_id)
        tier = programme.tier(member.tier if member else None)
        marketplace, bonus = points_for(programme, lines, seller_id, tier_bp=tier.multiplier_bp if tier else FULL_BP,
                                        campaigns=campaigns)
        if marketplace + bonus <= 0:
            return False
        goods = sum(goods_of(line) for line in lines)
        gross = sum(int(line.get("total") or 0) for line in lines)
        movement = mark_active(_movement(user_id, order_lot_id(order_id, seller_id), "earned", "order", paid_at,
                                         order_id=order_id, seller_id=seller_id, earned=marketplace + bonus,
                                         spend=goods, earned_month=paid_at[:7],
                                         member=None if member else new_member(user_id, paid_at)), programme)
        issue_lot(movement, programme, lot_id=order_lot_id(order_id, seller_id), reason="order", points=marketplace,
                  state="pending", goods=goods, gross=gross)
        issue_lot(movement, programme, lot_id=bonus_lot_id(order_id, seller_id), reason="seller_bonus",
                  points=bonus, state="pending", funded_by=seller_id, goods=goods, gross=gross)
        movement.count(issued=marketplace + bonus)
        return movement.commit()

    earned = retrying(attempt, what="loyalty balance", exhausted=lambda error: error)
    upgrade(user_id, programme)  # also when earned before: a delivery that failed after earning
    return earned


def make_available(user_id: str, order_id: str, seller_id: str, *, at: str) -> bool:
    """The sub-order completed: its pending lots become available (once). False when there is
    nothing pending (never earned, or reversed whole)."""
    programme = get_programme()

    def attempt() -> bool:
        lots = [lot for lot in (read_lot(user_id, order_lot_id(order_id, seller_id)),
                                read_lot(user_id, bonus_lot_id(order_id, seller_id)))
                if lot is not None and lot.state == "pending"]
        if not lots:
            return False
        movement = _movement(user_id, f"available:{order_id}:{seller_id}", "available", "order_completed", at,
                             order_id=order_id, seller_id=seller_id)
        for lot in lots:
            remaining = int(lot.remaining)
            expires_at = expiry_of(programme, at)
            movement.update_lot(lot, {"state": "available", "available_at": at, "expires_at": expires_at,
                                      **(expiry_index(lot, user_id, expires_at) if remaining else {})}, 0)
            movement.pending -= remaining
            movement.available += remaining
        return movement.commit()

    return retrying(attempt, what="loyalty balance", exhausted=lambda error: error)


class EarningNotYetRecorded(Exception):
    """A refund arrived before the points it takes back were earned: deliver it again later."""


def goods_refunded(user_id: str, order_id: str, refund_id: str, amount: int) -> int:
    """Of a refund, what pays back goods: its lines without a shipping entry (a refund that
    also pays back shipping marks that part ``shipping``); ``amount`` when the refund item is
    not found. GetItem (1 RT)."""
    refund = find_item(Refund, user_key(user_id), refund_sk(order_id, refund_id), consistent_read=True)
    if refund is None or not refund.lines:
        return amount
    return sum(int(line.get("amount") or 0) for line in refund.lines if not line.get("shipping"))


def reverse_for_refund(user_id: str, order_id: str, seller_id: str, *, refund_id: str, amount: int, at: str) -> bool:
    """Take back the sub-order's points in proportion to the refunded goods (once per refund).
    Reads the refund, the lots and the balance (4 GetItems), one transaction. Available points
    a checkout holds (redeemed, not yet paid) count as spent: forgiven, not taken."""
    amount = goods_refunded(user_id, order_id, refund_id, amount)
    if amount <= 0:
        return False

    def attempt() -> bool:
        lots = [lot for lot in (read_lot(user_id, order_lot_id(order_id, seller_id)),
                                read_lot(user_id, bonus_lot_id(order_id, seller_id))) if lot is not None]
        if not lots:
            if not get_programme().enabled:
                return False  # nothing was earned while it is off
            sub = find_sub_order(seller_id, order_id)
            paid_at = sub.paid_at if sub is not None else None
            if paid_at and (clock.now() - clock.parse(paid_at)).total_seconds() < LATE_EARNING_SECONDS:
                raise EarningNotYetRecorded(f"{order_id}/{seller_id}")
            return False
        movement = _movement(user_id, f"reverse:{refund_id}", "reversed", "refund", at, order_id=order_id,
                             seller_id=seller_id)
        balance = read_balance(user_id)
        budget = [int(balance.available or 0) if balance is not None else 0]  # what is not held
        for lot in lots:
            _reverse_lot(movement, lot, amount, budget)
        if not movement.lots:
            return False
        return movement.commit()

    return retrying(attempt, what="loyalty balance", exhausted=lambda error: error)


def _reverse_lot(movement: Movement, lot: LoyaltyLot, amount: int, budget: list[int]) -> None:
    gross = int(lot.gross or 0)
    if gross <= 0 or lot.state in ("reversed",):
        return
    refunded = min(gross, int(lot.refunded or 0) + amount)
    target = divide_half_up(int(lot.points) * refunded, gross)
    due = target - int(lot.reversed or 0)
    if due <= 0:
        movement.update_lot(lot, {"refunded": refunded}, 0)
        return
    take = min(due, int(lot.remaining))
    if lot.state == "available":
        take = min(take, budget[0])
        budget[0] -= take
    forgiven = due - take
    changes: dict[str, object] = {"refunded": refunded, "reversed": int(lot.reversed or 0) + due,
                                  "forgiven": int(lot.forgiven or 0) + forgiven}
    movement.forgiven += forgiven
    movement.earned -= due
    movement.earned_month = lot.earned_month
    if lot.reason == "order":
        movement.spend -= divide_half_up(int(lot.goods or 0) * amount, gross)
    movement.count(reversed=take)
    if take:
        take_from_lot(movement, lot, take, release=reversal_release(movement), changes=changes,
                      state_when_empty="reversed")
    else:
        movement.update_lot(lot, changes, 0)


def award_event_points(user_id: str, reason: str, idempotency_ref: str, *, at: str | None = None) -> int:
    """The programme's bonus for ``reason`` (``sign_up``, ``newsletter_confirmed``, ``first_review``,
    ``birthday``, ``referral``), available at once; once per (reason, ``idempotency_ref``), so
    the caller names what earned it (the account, the review, the year, the referred buyer).
    Returns the points awarded now (0: off, no bonus for it, or awarded before)."""
    if reason not in EVENT_REASONS:
        raise ValueError(f"unknown loyalty event {reason!r}")
    programme = get_programme()
    points = int(programme.event_points.get(reason, 0))
    if not programme.enabled or points <= 0:
        return 0
    at = at or clock.stamp()
    lot_id = f"event:{reason}:{idempotency_ref}"

    def attempt() -> int:
        if read_lot(user_id, lot_id) is not None:
            return 0  # awarded before
        member = read_member(user_id)
        movement = mark_active(_movement(user_id, lot_id, "earned", reason, at, earned=points, earned_month=at[:7],
                                         member=None if member else new_member(user_id, at)), programme)
        issue_lot(movement, programme, lot_id=lot_id, reason=reason, points=points, state="available")
        movement.count(issued=points)
        return points if movement.commit() else 0

    awarded = retrying(attempt, what="loyalty balance", exhausted=lambda error: error)
    if awarded:
        upgrade(user_id, programme)
    return awarded


def adjust(user_id: str, points: int, *, reason: str, by: str) -> LoyaltyAdjustment:
    """The operator's manual adjustment: + a lot available at once (marketplace-funded), - taken
    from the available lots oldest first (``insufficient_points`` if they hold less). Kept as
    an audit item (who, when, why) and in the buyer's history. Counts as points earned for the
    tier only when positive."""
    if points == 0:
        raise ValidationFailed("An adjustment moves at least one point.", code=Code.VALIDATION_FAILED,
                               details=[{"field": "body.points", "message": "must not be 0", "type": "value_error"}])
    user = find_item(User, user_key(user_id), PROFILE_SK)
    if user is None or not user.is_active:
        raise NotFound("No such buyer.", code=Code.ACCOUNT_NOT_FOUND)
    programme = get_programme()
    at = clock.stamp()
    adjustment_id = new_id("ladj")
    movement_id = f"adjust:{adjustment_id}"

    def attempt() -> bool:
        member = read_member(user_id)
        movement = mark_active(_movement(user_id, movement_id, "adjusted", "adjustment", at, note=reason,
                                         member=None if member else new_member(user_id, at)), programme)
        if points > 0:
            movement.earned, movement.earned_month = points, at[:7]
            issue_lot(movement, programme, lot_id=movement_id, reason="adjustment", points=points, state="available")
            movement.count(adjusted_in=points)
        else:
            consume(user_id, -points, movement=movement, release=reversal_release(movement))
            movement.count(adjusted_out=-points)
        movement.transaction.put("audit", LoyaltyAdjustment(
            PK=LOYALTY_KEY, SK=loyalty_adjustment_sk(at, adjustment_id), adjustment_id=adjustment_id, user_id=user_id,
            points=points, reason=reason, by=by, at=at))
        return movement.commit()

    retrying(attempt, what="loyalty balance")
    if points > 0:
        upgrade(user_id, programme)
    logger.info("loyalty adjustment", extra={"user_id": user_id, "points": points, "by": by})
    return LoyaltyAdjustment(adjustment_id=adjustment_id, user_id=user_id, points=points, reason=reason, by=by, at=at)


def adjustments(*, cursor: str | None, limit: int) -> Page[LoyaltyAdjustment]:
    """The operator's adjustments, newest first: Query (1 RT a page)."""
    return newest_first(LoyaltyAdjustment, LOYALTY_KEY, LOYALTY_ADJUSTMENT_PREFIX, by=None, scope="loyalty/adjustments",
                        cursor=cursor, limit=limit)
