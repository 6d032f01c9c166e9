"""Redeeming points at checkout: a checkout contributor (registered by path from
:mod:`chalicelib.loyalty.subscriptions`, after promotions), and what happens to the points
once the order is paid, cancelled unpaid or refunded.

Rules: ``redeem_points`` are worth the programme's point value rounded *down* to the minor
unit (100 points = €1.00: 150 points are €1.50, 1 point €0.01; at 3 points = 7 cents, 10
points are 23 cents). At least ``min_redeem_points``; worth at most ``max_order_share_bp`` of
the goods after promotions (VAT included, shipping excluded). The amount is spread over every
seller's lines in proportion to their price after promotions (largest remainder, so it adds
up to the cent) as a marketplace-funded adjustment: each seller is paid as if undiscounted
(the ledger's ``marketplace_discount``), VAT is on the discounted amounts, and the buyer earns
points on what they paid after it. Signed-in buyers only, in the programme's currency.

Reads: the programme, the buyer's balance and membership, in the checkout's (and the cart's)
own BatchGetItem: no round trip of its own. The checkout's transaction takes the points out
of ``available`` on condition that it holds them (two parallel checkouts can never spend the
same points: the second is a 409 ``insufficient_points``), moves them to ``reserved`` and
puts a ``LoyaltyRedemption`` (held). The lots are not touched there (they would be up to 80
writes, and a Query to find them): once the order is paid (``order.paid``), the held points
are taken from the lots that were spendable at checkout, oldest first, in one transaction
per 80 lots with the ledger's ``loyalty_redemption`` (Dr loyalty_liability / Cr
marketplace_discounts) and the history entry; the expiry sweep leaves a buyer's lots alone
while points are held (:func:`chalicelib.loyalty.sweeps.expire_due`), so a lot that expires
in the payment window still pays for the points it held at checkout.

An unpaid order cancelled or expired gives the held points back to ``available`` in the
cancellation's transaction. A refund gives back the redeemed points in proportion to the
refunded goods (the part of the redemption's adjustment the refund reverses, half-up per
refund), as a new lot available at once, booked at the money given back (Dr
marketplace_discounts / Cr loyalty_liability): the buyer gets back money for what they paid
in money and points for what they paid in points.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import floor
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.core import clock
from chalicelib.core.db import ItemWrite, find_item, retrying
from chalicelib.core.errors import AgoraError, Code, Conflict, ValidationFailed
from chalicelib.core.keys import (
    LOYALTY_BALANCE_SK,
    LOYALTY_KEY,
    LOYALTY_PROGRAMME_SK,
    LOYALTY_STATS_SK,
    LOYALTY_TOTALS_SK,
    PROFILE_SK,
    loyalty_day_key,
    loyalty_lot_sk,
    loyalty_movement_sk,
    loyalty_redemption_sk,
    loyalty_totals_key,
    seller_key,
    user_key,
)
from chalicelib.core.logging import logger
from chalicelib.core.money import Money, divide_half_up
from chalicelib.ledger.postings import loyalty_redemption_posting, loyalty_redemption_refund_posting
from chalicelib.ledger.service import posting_items
from chalicelib.loyalty.models import (
    LoyaltyBalance,
    LoyaltyDay,
    LoyaltyLot,
    LoyaltyMember,
    LoyaltyMovement,
    LoyaltyProgramme,
    LoyaltyRedemption,
    LoyaltyTotals,
)
from chalicelib.loyalty.programme import FULL_BP, Programme, get_programme, programme_from
from chalicelib.loyalty.store import Movement, expiry_index, expiry_of, lots_of, mark_active, spendable, take_from_lot
from chalicelib.loyalty.tiers import tier_key
from chalicelib.orders.extensions import (
    CheckoutContext,
    Contributor,
    Key,
    LinePrice,
    Notice,
    PriceAdjustment,
    TransactionItem,
)
from chalicelib.orders.models import Order, Refund, SubOrder
from chalicelib.orders.pricing import MARKETPLACE_FUNDED, PricedOrder
from chalicelib.orders.tax import included_vat
from chalicelib.sellers.models import Seller

SOURCE = "loyalty"
LABEL = "points"
LOTS_PER_TRANSACTION = 80  # a lot's update each, with the movement's ~10 other writes, under 100


def redemption_key(user_id: str, order_id: str) -> tuple[str, str]:
    return user_key(user_id), loyalty_redemption_sk(order_id)


def read_redemption(user_id: str, order_id: str) -> LoyaltyRedemption | None:
    return find_item(LoyaltyRedemption, *redemption_key(user_id, order_id), consistent_read=True)


def _field_problem(message: str, code: Code, **details: Any) -> ValidationFailed:
    problem: Any = {"field": "body.redeem_points", "message": message, "type": str(code), **details}
    return ValidationFailed(message, code=code, details=[problem])


def most_points_within(programme: Programme, cap: int) -> int:
    """The most points whose (rounded-down) value is at most ``cap`` minor units."""
    return max(0, ((cap + 1) * programme.value_points - 1) // programme.value_amount) if programme.value_amount \
        else 0


class LoyaltyContributor(Contributor):
    name = SOURCE
    funding = MARKETPLACE_FUNDED

    # -- reads ----------------------------------------------------------------------------------

    @staticmethod
    def _signed_in(context: CheckoutContext) -> str | None:
        return context.user_id if context.user_id and not context.guest else None

    def keys(self, context: CheckoutContext) -> Sequence[Key]:
        keys = [Key(LoyaltyProgramme, LOYALTY_KEY, LOYALTY_PROGRAMME_SK)]
        user_id = self._signed_in(context)
        if user_id:
            keys += [Key(LoyaltyBalance, user_key(user_id), LOYALTY_BALANCE_SK),
                     Key(LoyaltyMember, *tier_key(user_id))]
        return keys

    def _programme(self, context: CheckoutContext) -> Programme:
        return programme_from(context.found.get(Key(LoyaltyProgramme, LOYALTY_KEY, LOYALTY_PROGRAMME_SK)))

    def _available(self, context: CheckoutContext, user_id: str) -> int:
        balance = context.found.get(Key(LoyaltyBalance, user_key(user_id), LOYALTY_BALANCE_SK))
        return int(balance.available or 0) if balance is not None else 0

    # -- the rules ------------------------------------------------------------------------------

    def problem(self, context: CheckoutContext, lines: Sequence[LinePrice]) -> AgoraError | None:
        """Why ``redeem_points`` cannot be redeemed on these lines (None: they can)."""
        points = context.redeem_points or 0
        programme = self._programme(context)
        user_id = self._signed_in(context)
        if user_id is None:
            return _field_problem("Sign in to redeem loyalty points.", Code.VALIDATION_FAILED)
        if not programme.enabled:
            return _field_problem("The loyalty programme is switched off.", Code.LOYALTY_DISABLED)
        if programme.currency != context.currency:
            return _field_problem(f"Points pay for orders in {programme.currency} only.", Code.VALIDATION_FAILED)
        value = programme.redemption_value(points)
        if points < programme.min_redeem_points or value.amount <= 0:
            return _field_problem(f"Redeem at least {max(programme.min_redeem_points, 1)} points worth a cent.",
                                  Code.POINTS_BELOW_MINIMUM, min_points=programme.min_redeem_points)
        cap = sum(line.price.amount for line in lines) * programme.max_order_share_bp // FULL_BP
        if value.amount > cap:
            return _field_problem("These points are worth more than points may pay of this order.",
                                  Code.POINTS_ABOVE_MAXIMUM_SHARE, max_order_share_bp=programme.max_order_share_bp,
                                  max_points=most_points_within(programme, cap))
        available = self._available(context, user_id)
        if available < points:
            return Conflict("The buyer has fewer available points than that.", code=Code.INSUFFICIENT_POINTS,
                            details={"points": points, "available": available})
        return None

    # -- pricing --------------------------------------------------------------------------------

    def adjust(self, context: CheckoutContext, lines: Sequence[LinePrice]) -> Sequence[PriceAdjustment]:
        """The points' value over every line in proportion to its price; nothing when they
        cannot be redeemed (``explain`` tells why, and checkout answers it)."""
        if not context.redeem_points or not lines or self.problem(context, lines) is not None:
            return ()
        value = self._programme(context).redemption_value(context.redeem_points)
        shares = value.allocate([line.price.amount for line in lines])
        return [PriceAdjustment(line=line.line, amount=share, source=SOURCE, label=LABEL, funding=MARKETPLACE_FUNDED)
                for line, share in zip(lines, shares, strict=True) if share.amount]

    def _points_to_earn(self, context: CheckoutContext, programme: Programme, lines: Sequence[LinePrice],
                        off: dict[int, int]) -> int:
        """What these lines would earn once paid (before bonus campaigns): per seller, the
        floor of the goods net of VAT after every discount, at the buyer's tier multiplier."""
        user_id = self._signed_in(context)
        member = context.found.get(Key(LoyaltyMember, *tier_key(user_id))) if user_id else None
        tier = programme.tier(member.tier if member is not None else None)
        multiplier = tier.multiplier_bp if tier else FULL_BP
        points = 0
        for seller_id in dict.fromkeys(line.seller_id for line in lines):
            seller = context.found.get(Key(Seller, seller_key(seller_id), PROFILE_SK))
            country = seller.country if seller is not None else ""
            goods = 0
            for line in lines:
                if line.seller_id == seller_id:
                    paid = Money(line.price.currency, line.price.amount - off.get(line.line, 0))
                    goods += paid.amount - included_vat(paid, seller_country=country, category_slug=line.category,
                                                        exempt=False).tax.amount
            points += floor(programme.base_points(goods) * multiplier / FULL_BP)
        return points

    def explain(self, context: CheckoutContext, lines: Sequence[LinePrice]) -> Sequence[Notice]:
        """The redemption (applied, or refused: checkout answers the problem), and for a
        signed-in buyer of an active programme a ``summary`` (the cart's ``loyalty``)."""
        notices: list[Notice] = []
        if not lines:
            return notices
        programme = self._programme(context)
        off: dict[int, int] = {}
        if context.redeem_points:
            problem = self.problem(context, lines)
            if problem is not None:
                notices.append(Notice(SOURCE, LABEL, "refused", {"reason": problem.code}, problem=problem))
            else:
                for adjustment in self.adjust(context, lines):
                    off[adjustment.line] = adjustment.amount.amount
                notices.append(Notice(SOURCE, LABEL, "applied", {
                    "points": context.redeem_points,
                    "discount": programme.redemption_value(context.redeem_points).to_json()}))
        user_id = self._signed_in(context)
        if user_id and programme.enabled and programme.currency == context.currency:
            goods = sum(line.price.amount for line in lines)
            fits = most_points_within(programme, goods * programme.max_order_share_bp // FULL_BP)
            redeemable = min(self._available(context, user_id), fits)
            if redeemable < programme.min_redeem_points or programme.redemption_value(redeemable).amount <= 0:
                redeemable = 0
            notices.append(Notice(SOURCE, "summary", "summary", {
                "points_to_earn": self._points_to_earn(context, programme, lines, off),
                "redeemable_points": redeemable,
                "redeemable_value": programme.redemption_value(redeemable).to_json()}))
        return notices

    # -- the checkout's transaction -------------------------------------------------------------

    def transaction_items(self, context: CheckoutContext, order: Order,
                          priced: PricedOrder) -> Sequence[TransactionItem]:
        """The points out of ``available`` (on condition it holds them) into ``reserved``, and
        the order's held ``LoyaltyRedemption``."""
        value = sum(adjustment.amount.amount for part in priced.sellers for adjustment in part.adjustments
                    if adjustment.source == SOURCE)
        points = context.redeem_points or 0
        if not value or not points:
            return ()
        refusal = Conflict("The buyer has fewer available points than that.", code=Code.INSUFFICIENT_POINTS,
                           details={"points": points})
        return [TransactionItem(write, refusal) for write in hold_writes(
            order.user_id, order.order_id, points, Money(order.currency, value), created_at=order.created_at)]

    # -- giving back ----------------------------------------------------------------------------

    def release(self, order: Order, sub_orders: Sequence[SubOrder]) -> Sequence[ItemWrite]:
        """An unpaid order cancelled or expired: the held points back to ``available`` (a
        GetItem when the order had a discount; in the cancellation's transaction, so once)."""
        if not int(order.discount or 0):
            return ()
        record = read_redemption(order.user_id, order.order_id)
        if record is None or record.state != "held":
            return ()
        return release_writes(record)

    def reverse(self, order: Order, refund: Refund, reversed: Sequence[PriceAdjustment]) -> Sequence[ItemWrite]:
        """A refund: the redeemed points on the refunded goods come back, in proportion
        (GetItem redemption and programme; in the refund's transaction, so once per refund)."""
        back_value = sum(adjustment.amount.amount for adjustment in reversed)
        if back_value <= 0:
            return ()
        record = read_redemption(order.user_id, order.order_id)
        if record is None or not int(record.value):
            return ()
        points = min(divide_half_up(int(record.points) * back_value, int(record.value)),
                     int(record.points) - int(record.returned_points or 0))
        if points <= 0:
            return ()
        return returned_points_writes(record, refund.refund_id, points, Money(record.currency, back_value),
                                      get_programme())


def hold_writes(user_id: str, order_id: str, points: int, value: Money, *, created_at: str) -> list[ItemWrite]:
    """The checkout's writes: ``points`` out of ``available`` (on condition it holds them) into
    ``reserved``, and the order's held redemption."""
    record = LoyaltyRedemption(*redemption_key(user_id, order_id), user_id=user_id, order_id=order_id, points=points,
                               currency=value.currency, value=value.amount, state="held", created_at=created_at,
                               consumed=0)
    return [ItemWrite(LoyaltyBalance(PK=user_key(user_id), SK=LOYALTY_BALANCE_SK),
                      (LoyaltyBalance.user_id.set(user_id), LoyaltyBalance.available.add(-points),
                       LoyaltyBalance.reserved.add(points), LoyaltyBalance.updated_at.set(clock.stamp())),
                      LoyaltyBalance.available >= points),
            ItemWrite(record, (), LoyaltyRedemption.PK.does_not_exist())]


def release_writes(record: LoyaltyRedemption) -> list[ItemWrite]:
    """A held redemption's points back to ``available`` (no condition: the cancellation's makes it once)."""
    points, at = int(record.points), clock.stamp()
    return [ItemWrite(LoyaltyBalance(PK=user_key(str(record.user_id)), SK=LOYALTY_BALANCE_SK),
                      (LoyaltyBalance.available.add(points), LoyaltyBalance.reserved.add(-points),
                       LoyaltyBalance.updated_at.set(at))),
            ItemWrite(LoyaltyRedemption(record.PK, record.SK),
                      (LoyaltyRedemption.state.set("released"), LoyaltyRedemption.settled_at.set(at)))]


def returned_points_writes(record: LoyaltyRedemption, refund_id: str, points: int, value: Money,
                           programme: Programme) -> list[ItemWrite]:
    """Redeemed points given back by a refund: a lot available at once, booked at ``value``,
    and everything a movement changes, as writes for the refund's transaction (none with a
    condition: the refund's own makes it once)."""
    user_id, at = str(record.user_id), clock.stamp()
    lot_id = f"redeemed_back:{refund_id}"
    lot = LoyaltyLot(PK=user_key(user_id), SK=loyalty_lot_sk(lot_id), lot_id=lot_id, user_id=user_id,
                     reason="refund", state="available", points=points, remaining=points, currency=value.currency,
                     value=value.amount, released=0, order_id=record.order_id, earned_month=at[:7], created_at=at,
                     available_at=at, expires_at=expiry_of(programme, at), version=0)
    index = expiry_index(lot, user_id, lot.expires_at)
    lot.GSI1PK, lot.GSI1SK = index["GSI1PK"], index["GSI1SK"]
    movement = LoyaltyMovement(PK=user_key(user_id), SK=loyalty_movement_sk(at, lot_id), movement_id=lot_id,
                               kind="redeemed", reason="refund", points=points, available_change=points,
                               pending_change=0, forgiven=0, order_id=record.order_id, lots=[[lot_id, points]], at=at)
    return [
        ItemWrite(lot), ItemWrite(movement),
        ItemWrite(LoyaltyBalance(PK=user_key(user_id), SK=LOYALTY_BALANCE_SK),
                  (LoyaltyBalance.user_id.set(user_id), LoyaltyBalance.available.add(points),
                   LoyaltyBalance.updated_at.set(at))),
        ItemWrite(LoyaltyRedemption(record.PK, record.SK), (LoyaltyRedemption.returned_points.add(points),)),
        ItemWrite(LoyaltyTotals(PK=loyalty_totals_key(user_id), SK=LOYALTY_TOTALS_SK),
                  (LoyaltyTotals.outstanding.add(points), LoyaltyTotals.value.add(value.amount))),
        ItemWrite(LoyaltyDay(PK=loyalty_day_key(at[:10], user_id), SK=LOYALTY_STATS_SK),
                  (LoyaltyDay.redeemed.add(-points),)),
        *posting_items(loyalty_redemption_refund_posting(lot_id, value, order_id=record.order_id,
                                                         occurred_at=clock.parse(at))),
    ]


# --- once paid -----------------------------------------------------------------------------------


def _spend_some(user_id: str, order_id: str, at: str, programme: Programme) -> tuple[int, bool]:
    """One transaction of :func:`spend_held`: (points taken from lots, whether it is done)."""
    record = read_redemption(user_id, order_id)
    if record is None or record.state != "held":
        return 0, True
    points, consumed = int(record.points), int(record.consumed or 0)
    part = f"{order_id}:{consumed}" if consumed else order_id
    movement = mark_active(Movement(user_id=user_id, movement_id=f"redeem:{part}", kind="redeemed",
                                    reason="checkout", at=at, order_id=order_id), programme)
    lots = spendable(lots_of(user_id), str(record.created_at))[:LOTS_PER_TRANSACTION]
    left = points - consumed
    for lot in lots:
        if left == 0:
            break
        take = min(left, int(lot.remaining))
        take_from_lot(movement, lot, take, release=lambda lot, value: loyalty_redemption_posting(
            f"{part}:{lot.lot_id}", value, order_id=order_id), state_when_empty="spent")
        left -= take
    taken = points - consumed - left
    done = left == 0 or len(lots) < LOTS_PER_TRANSACTION
    if left and done:  # the lots hold less than the balance said: the rest goes back to available
        logger.error("held points not found in the lots", extra={"user_id": user_id, "order_id": order_id,
                                                                   "missing": left})
    movement.settled = taken + (left if done else 0)
    released = sum(posting.entries[0].amount.amount for posting in movement.postings)
    movement.postings = [loyalty_redemption_posting(part, Money(programme.currency if not lots else lots[0].currency,
                                                                released), order_id=order_id,
                                                    occurred_at=clock.parse(at))] if released else []
    movement.count(redeemed=taken)
    actions: list[Action] = [LoyaltyRedemption.consumed.set(consumed + taken)]
    if done:
        actions += [LoyaltyRedemption.state.set("spent"), LoyaltyRedemption.settled_at.set(at)]
    movement.transaction.update("redemption", LoyaltyRedemption(record.PK, record.SK), actions,
                                (LoyaltyRedemption.state == "held") & (LoyaltyRedemption.consumed == consumed))
    return (taken, done) if movement.commit() else (0, True)


def spend_held(user_id: str, order_id: str, *, at: str) -> int:
    """The order is paid: its held points leave the lots spendable at checkout, oldest first
    (once; nothing when it redeemed none). GetItem + Query + one transaction per 80 lots.
    Returns the points taken from lots now."""
    if read_redemption(user_id, order_id) is None:
        return 0
    programme = get_programme()
    spent = 0
    while True:
        taken, done = retrying(lambda: _spend_some(user_id, order_id, at, programme), what="loyalty balance",
                               exhausted=lambda error: error)
        spent += taken
        if done:
            return spent
