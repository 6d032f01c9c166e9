"""Movements of a buyer's points, each in one TransactWriteItems with everything it changes:
its history item (``attribute_not_exists``: a movement applies once, however often its
event is delivered), the lots, the balance (ADD; ``available`` never below 0), the month
counter, the ledger postings and the marketplace-wide statistics.

A movement's id is derived from what caused it (``earn:<order>:<seller>``,
``reverse:<refund>``, ``expire:<lot>``…) and its time from the cause too, so two deliveries
of one event name the same history item: the second finds it and changes nothing, whether it
comes later or at the same moment (the transaction that loses the race is cancelled whole).

Value: a lot's value is booked in the ledger when it is earned (pending or not) and released
in proportion as its points leave it, cumulatively, so the ledger's ``loyalty_liability``
always equals the value of every buyer's outstanding points (:func:`released_after`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pynamodb.expressions.update import Action

from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, Stale, find_item
from chalicelib.core.errors import Code, Conflict
from chalicelib.core.keys import (
    LOYALTY_BALANCE_SK,
    LOYALTY_LOT_PREFIX,
    LOYALTY_MEMBER_SK,
    LOYALTY_STATS_SK,
    LOYALTY_TOTALS_SK,
    loyalty_active_key,
    loyalty_day_key,
    loyalty_expiry_key,
    loyalty_inactive_key,
    loyalty_lot_sk,
    loyalty_month_sk,
    loyalty_movement_sk,
    loyalty_requalify_key,
    loyalty_tier_key,
    loyalty_totals_key,
    timed_sort_key,
    user_key,
)
from chalicelib.core.money import Money, divide_half_up
from chalicelib.ledger.postings import Posting, loyalty_expiry_posting, loyalty_issue_posting, loyalty_reversal_posting
from chalicelib.ledger.service import posting_items
from chalicelib.loyalty.models import (
    LoyaltyActive,
    LoyaltyBalance,
    LoyaltyDay,
    LoyaltyLot,
    LoyaltyMember,
    LoyaltyMonth,
    LoyaltyMovement,
    LoyaltyTotals,
)
from chalicelib.loyalty.programme import Programme

# Lots one movement may take points from: each costs the lot's update and a posting's three
# writes, within DynamoDB's 100 items a transaction.
MAX_LOTS_PER_MOVEMENT = 20
NO_EXPIRY = "9999-12-31T00:00:00.000000+00:00"


def released_after(lot: LoyaltyLot, remaining: int) -> int:
    """Of the lot's booked value, what is released once only ``remaining`` of its points are
    left: ``value x gone / points`` rounded half-up, so the whole lot releases exactly its value."""
    points = int(lot.points)
    if points <= 0:
        return int(lot.value)
    return divide_half_up(int(lot.value) * (points - remaining), points)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day where it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    for day in range(moment.day, 0, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError("no such month")


def expiry_of(programme: Programme, available_at: str) -> str | None:
    """When a lot that became available at ``available_at`` expires under the per-lot policy."""
    if programme.expiry_policy != "lot":
        return None
    return clock.stamp(add_months(clock.parse(available_at), programme.expiry_months))


def mark_active(movement: Movement, programme: Programme) -> Movement:
    """The buyer earned, spent or was adjusted: active this month, and under the inactivity
    policy their points now expire ``expiry_months`` after this movement."""
    movement.active = True
    if programme.expiry_policy == "inactivity":
        movement.inactive_on = add_months(clock.parse(movement.at), programme.expiry_months).date().isoformat()
    return movement


def expiry_index(lot: LoyaltyLot, user_id: str, expires_at: str | None) -> dict[str, str | None]:
    if expires_at is None:
        return {"GSI1PK": None, "GSI1SK": None}
    return {"GSI1PK": loyalty_expiry_key(expires_at[:10], user_id),
            "GSI1SK": timed_sort_key(expires_at, user_id, lot.lot_id)}


def read_member(user_id: str) -> LoyaltyMember | None:
    return find_item(LoyaltyMember, user_key(user_id), LOYALTY_MEMBER_SK, consistent_read=True)


def read_balance(user_id: str) -> LoyaltyBalance | None:
    return find_item(LoyaltyBalance, user_key(user_id), LOYALTY_BALANCE_SK, consistent_read=True)


def read_lot(user_id: str, lot_id: str) -> LoyaltyLot | None:
    return find_item(LoyaltyLot, user_key(user_id), loyalty_lot_sk(lot_id), consistent_read=True)


def lots_of(user_id: str) -> list[LoyaltyLot]:
    """Every lot of the buyer (Query, consistent; 1 RT a MB)."""
    return list(LoyaltyLot.query(user_key(user_id), LoyaltyLot.SK.startswith(LOYALTY_LOT_PREFIX),
                                 consistent_read=True))


def new_member(user_id: str, at: str) -> LoyaltyMember:
    """A buyer's membership from their first points: re-qualified a year after joining."""
    requalify_on = add_months(clock.parse(at), 12).date().isoformat()
    return LoyaltyMember(PK=user_key(user_id), SK=LOYALTY_MEMBER_SK, user_id=user_id, tier=None, joined_at=at,
                         requalify_on=requalify_on, grace=False, version=0,
                         GSI2PK=loyalty_requalify_key(requalify_on, user_id), GSI2SK=user_id,
                         GSI3PK=loyalty_tier_key(tier_label(None), user_id), GSI3SK=user_id)


def tier_label(tier: str | None) -> str:
    """A tier as the tier index spells it; members below the first tier are ``-``."""
    return tier or "-"


@dataclass
class Movement:
    """What one movement changes, collected, then written in one transaction by :meth:`commit`."""

    user_id: str
    movement_id: str
    kind: str
    reason: str
    at: str
    order_id: str | None = None
    seller_id: str | None = None
    note: str | None = None
    available: int = 0
    pending: int = 0
    earned: int = 0  # lifetime and this month's counter (``earned_month``)
    spend: int = 0
    earned_month: str | None = None
    forgiven: int = 0
    lots: list[tuple[str, int]] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    outstanding_value: int = 0
    active: bool = False  # counts the buyer as active this month (earned, spent, adjusted)
    inactive_on: str | None = None  # under the inactivity policy: the new day points expire
    member: LoyaltyMember | None = None  # a new member, put with the movement
    # of the points taken from available lots, those the checkout took out of ``available``
    # already (held in the balance's ``reserved`` until the order is paid)
    settled: int = 0
    transaction: LabelledTransaction = field(default_factory=LabelledTransaction)

    @property
    def points(self) -> int:
        return self.available + self.pending

    def put_lot(self, lot: LoyaltyLot) -> None:
        self.transaction.put(f"lot:{lot.lot_id}", lot, LoyaltyLot.PK.does_not_exist())
        self.lots.append((lot.lot_id, int(lot.points)))

    def update_lot(self, lot: LoyaltyLot, changes: dict[str, object], points: int) -> None:
        """Change a lot read before, on condition nobody changed it meanwhile."""
        actions = [getattr(LoyaltyLot, name).set(value) if value is not None else getattr(LoyaltyLot, name).remove()
                   for name, value in changes.items()]
        actions.append(LoyaltyLot.version.add(1))
        self.transaction.update(f"lot:{lot.lot_id}", LoyaltyLot(PK=lot.PK, SK=lot.SK), actions,
                                LoyaltyLot.version == int(lot.version or 0))
        self.lots.append((lot.lot_id, points))

    def count(self, **counters: int) -> None:
        for name, value in counters.items():
            self.stats[name] = self.stats.get(name, 0) + value

    def commit(self) -> bool:
        """Write it all; False when this movement was applied before (nothing changes).
        Raises :class:`Stale` when something it read changed meanwhile (read again), and
        :class:`Conflict` ``insufficient_points`` when the available points do not cover it."""
        tx, uid = self.transaction, self.user_id
        tx.put("movement", LoyaltyMovement(
            PK=user_key(uid), SK=loyalty_movement_sk(self.at, self.movement_id), movement_id=self.movement_id,
            kind=self.kind, reason=self.reason, points=self.points, available_change=self.available,
            pending_change=self.pending, forgiven=self.forgiven, order_id=self.order_id, seller_id=self.seller_id,
            lots=[list(lot) for lot in self.lots], note=self.note, at=self.at,
        ), LoyaltyMovement.PK.does_not_exist())
        if self.available or self.pending or self.earned or self.member is not None or self.inactive_on \
                or self.settled:
            available = self.available + self.settled
            actions: list[Action] = [
                LoyaltyBalance.user_id.set(uid), LoyaltyBalance.updated_at.set(clock.stamp()),
                LoyaltyBalance.available.add(available), LoyaltyBalance.pending.add(self.pending),
                LoyaltyBalance.earned.add(self.earned),
                *([LoyaltyBalance.reserved.add(-self.settled)] if self.settled else [])]
            if self.inactive_on:
                actions += [LoyaltyBalance.inactive_on.set(self.inactive_on),
                            LoyaltyBalance.GSI1PK.set(loyalty_inactive_key(self.inactive_on, uid)),
                            LoyaltyBalance.GSI1SK.set(uid)]
            condition = LoyaltyBalance.available >= -available if available < 0 else None
            tx.update("balance", LoyaltyBalance(PK=user_key(uid), SK=LOYALTY_BALANCE_SK), actions, condition)
        if self.member is not None:
            tx.put("member", self.member, LoyaltyMember.PK.does_not_exist())
            self.count(joined=1)
        if (self.earned or self.spend) and self.earned_month:
            tx.update("month", LoyaltyMonth(PK=user_key(uid), SK=loyalty_month_sk(self.earned_month)),
                      [LoyaltyMonth.month.set(self.earned_month), LoyaltyMonth.earned.add(self.earned),
                       LoyaltyMonth.spend.add(self.spend)])
        for write in posting_items(*self.postings):
            tx.add("posting", write)
        stats = {name: value for name, value in self.stats.items() if value}
        if stats:
            tx.update("day", LoyaltyDay(PK=loyalty_day_key(self.at[:10], uid), SK=LOYALTY_STATS_SK),
                      [getattr(LoyaltyDay, name).add(value) for name, value in stats.items()])
        if self.points or self.outstanding_value or self.member is not None:
            tx.update("totals", LoyaltyTotals(PK=loyalty_totals_key(uid), SK=LOYALTY_TOTALS_SK),
                      [LoyaltyTotals.outstanding.add(self.points), LoyaltyTotals.value.add(self.outstanding_value),
                       LoyaltyTotals.members.add(1 if self.member is not None else 0)])
        if self.active:
            tx.put("active", LoyaltyActive(PK=loyalty_active_key(self.at[:7], uid), SK=uid, user_id=uid))
        failed = tx.commit()
        if "movement" in failed:
            return False
        if "balance" in failed and not failed - {"balance"}:
            raise Conflict("The buyer has fewer available points than that.", code=Code.INSUFFICIENT_POINTS,
                           details={"points": -self.available})
        if failed:
            raise Stale(", ".join(sorted(failed)))
        return True


def issue_lot(movement: Movement, programme: Programme, *, lot_id: str, reason: str, points: int, state: str,
              funded_by: str | None = None, goods: int = 0, gross: int = 0) -> LoyaltyLot | None:
    """A new lot of ``points`` in ``movement``, booked at the programme's value (None for 0 points)."""
    if points <= 0:
        return None
    value = programme.value_of(points)
    at = movement.at
    lot = LoyaltyLot(PK=user_key(movement.user_id), SK=loyalty_lot_sk(lot_id), lot_id=lot_id,
                     user_id=movement.user_id, reason=reason, state=state, points=points, remaining=points,
                     currency=value.currency, value=value.amount, released=0, funded_by=funded_by,
                     order_id=movement.order_id, seller_id=movement.seller_id, goods=goods, gross=gross,
                     earned_month=at[:7], created_at=at, version=0)
    if state == "available":
        lot.available_at = at
        lot.expires_at = expiry_of(programme, at)
        index = expiry_index(lot, movement.user_id, lot.expires_at)
        lot.GSI1PK, lot.GSI1SK = index["GSI1PK"], index["GSI1SK"]
        movement.available += points
    else:
        movement.pending += points
    movement.put_lot(lot)
    movement.outstanding_value += value.amount
    if value.amount:
        movement.postings.append(loyalty_issue_posting(lot_id, value, funded_by=funded_by, order_id=movement.order_id,
                                                       occurred_at=clock.parse(at)))
    return lot


ValueRelease = Callable[[LoyaltyLot, Money], Posting]


def take_from_lot(movement: Movement, lot: LoyaltyLot, take: int, *, release: ValueRelease,
                  changes: dict[str, object] | None = None, state_when_empty: str | None = None) -> None:
    """``take`` points leave ``lot`` (0 < take <= remaining): its released value follows, the
    balance loses them from pending or available, and an emptied lot leaves the expiry index."""
    remaining = int(lot.remaining) - take
    released = released_after(lot, remaining)
    delta = released - int(lot.released or 0)
    all_changes: dict[str, object] = {"remaining": remaining, "released": released, **(changes or {})}
    if remaining == 0:
        all_changes.update({"GSI1PK": None, "GSI1SK": None})
        if state_when_empty:
            all_changes["state"] = state_when_empty
    movement.update_lot(lot, all_changes, -take)
    if lot.state == "pending":
        movement.pending -= take
    else:
        movement.available -= take
    movement.outstanding_value -= delta
    if delta:
        movement.postings.append(release(lot, Money(lot.currency, delta)))


def reversal_release(movement: Movement) -> ValueRelease:
    """Taken-back points' value goes back to whoever funded their lot."""
    def release(lot: LoyaltyLot, value: Money) -> Posting:
        return loyalty_reversal_posting(movement.movement_id, lot.lot_id, value, funded_by=lot.funded_by,
                                        order_id=movement.order_id, occurred_at=clock.parse(movement.at))
    return release


def expiry_release(movement: Movement) -> ValueRelease:
    def release(lot: LoyaltyLot, value: Money) -> Posting:
        return loyalty_expiry_posting(lot.lot_id, value, occurred_at=clock.parse(movement.at))
    return release


def spendable(lots: Sequence[LoyaltyLot], now: str) -> list[LoyaltyLot]:
    """Available lots with points left, oldest first: the first to expire, then the first
    to have become available."""
    usable = [lot for lot in lots if lot.state == "available" and int(lot.remaining) > 0
              and (lot.expires_at is None or lot.expires_at > now)]
    return sorted(usable, key=lambda lot: (lot.expires_at or NO_EXPIRY, lot.available_at or "", lot.lot_id))


def consume(user_id: str, points: int, *, movement: Movement, release: ValueRelease) -> Movement:
    """Take ``points`` from the buyer's available lots, oldest first, into ``movement`` (not yet
    committed): for a negative adjustment now, for redemption at checkout next (which passes
    its own ``release``: Dr loyalty_liability / Cr the buyer's discount). Reads the lots
    (Query); refuses with ``insufficient_points`` when they do not hold enough, or when it
    would need more than :data:`MAX_LOTS_PER_MOVEMENT` lots."""
    if points <= 0:
        raise ValueError("consume a positive number of points")
    left = points
    for lot in spendable(lots_of(user_id), movement.at):
        if left == 0:
            break
        if len(movement.lots) >= MAX_LOTS_PER_MOVEMENT:
            break
        take = min(left, int(lot.remaining))
        take_from_lot(movement, lot, take, release=release, state_when_empty="spent")
        left -= take
    if left:
        raise Conflict("The buyer has fewer available points than that.", code=Code.INSUFFICIENT_POINTS,
                       details={"points": points, "missing": left})
    return movement


def window_days(from_: datetime, to: datetime) -> list[str]:
    """Every day (``yyyy-mm-dd``) that ``[from_, to)`` touches."""
    days: list[str] = []
    day = from_.date()
    last = (to - timedelta(microseconds=1)).date()
    while day <= last:
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days
