"""Points are money: after any sequence of earning, availability, refunds, spending,
redemption at checkout (held, then paid or cancelled, then refunded in part) and expiry, the
ledger's loyalty_liability equals the value of the points buyers still hold, the balance
(available, held and pending) equals their lots, and the report's totals equal the ledger."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction
from chalicelib.core.keys import LOYALTY_TOTALS_SK, loyalty_totals_keys
from chalicelib.core.money import Money
from chalicelib.ledger.postings import LOYALTY_LIABILITY
from chalicelib.ledger.service import _platform_entries
from chalicelib.loyalty import earning, programme, redemption, store
from chalicelib.loyalty.models import LoyaltyTotals

_serial = itertools.count()


def ledger_liability() -> int:
    now = datetime.now(UTC)
    return -sum(int(e.amount) for e in _platform_entries(LOYALTY_LIABILITY, now - timedelta(days=2),
                                                         now + timedelta(days=2)))


def totals_value() -> int:
    return sum(int(t.value or 0) for t in LoyaltyTotals.batch_get([(k, LOYALTY_TOTALS_SK) for k in
                                                                   loyalty_totals_keys()], consistent_read=True))


class PointsAndLedger(RuleBasedStateMachine):
    """One buyer's points under random movements; the ledger is shared, so it is compared by
    how much it moved since the machine began."""

    def __init__(self) -> None:
        super().__init__()
        self.user = f"usr_prop_{next(_serial)}"
        self.rules = programme.get_programme()
        self.ledger_before, self.totals_before = ledger_liability(), totals_value()
        self.orders: list[str] = []
        self.held: list[str] = []  # orders whose checkout holds redeemed points, unpaid
        self.redeemed: list[str] = []  # paid orders that redeemed points

    def _movement(self, kind: str, **fields: Any) -> store.Movement:
        return store.Movement(user_id=self.user, movement_id=f"{kind}:{next(_serial)}", kind=kind, reason="test",
                              at=clock.stamp(), **fields)

    @rule(points=st.integers(1, 5_000), gross=st.integers(1, 100_000))
    def earn_on_an_order(self, points: int, gross: int) -> None:
        order_id = f"ord_{next(_serial)}"
        movement = self._movement("earned", order_id=order_id, seller_id="sel_a", earned=points,
                                  earned_month=clock.stamp()[:7])
        store.issue_lot(movement, self.rules, lot_id=earning.order_lot_id(order_id, "sel_a"), reason="order",
                        points=points, state="pending", goods=gross, gross=gross)
        assert movement.commit()
        self.orders.append(order_id)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.orders))
        earning.make_available(self.user, order_id, "sel_a", at=clock.stamp())

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), share=st.integers(1, 100))
    def refund(self, data: st.DataObject, share: int) -> None:
        order_id = data.draw(st.sampled_from(self.orders))
        lot = store.read_lot(self.user, earning.order_lot_id(order_id, "sel_a"))
        assert lot is not None
        amount = max(1, int(lot.gross) * share // 100)
        earning.reverse_for_refund(self.user, order_id, "sel_a", refund_id=f"rfd_{next(_serial)}", amount=amount,
                                   at=clock.stamp())

    @rule(points=st.integers(1, 3_000))
    def spend(self, points: int) -> None:
        balance = store.read_balance(self.user)
        available = int(balance.available) if balance else 0
        if available == 0:
            return
        movement = self._movement("redeemed")
        store.consume(self.user, min(points, available), movement=movement, release=store.reversal_release(movement))
        assert movement.commit()

    @rule(points=st.integers(1, 3_000))
    def redeem_at_checkout(self, points: int) -> None:
        balance = store.read_balance(self.user)
        available = int(balance.available) if balance else 0
        value = self.rules.redemption_value(min(points, available))
        if available == 0 or value.amount == 0:
            return
        order_id = f"ord_{next(_serial)}"
        transaction = LabelledTransaction()
        for write in redemption.hold_writes(self.user, order_id, min(points, available), value,
                                            created_at=clock.stamp()):
            transaction.add("hold", write)
        assert not transaction.commit()
        self.held.append(order_id)

    @precondition(lambda self: self.held)
    @rule(data=st.data(), paid=st.booleans())
    def pay_or_cancel(self, data: st.DataObject, paid: bool) -> None:
        order_id = data.draw(st.sampled_from(self.held))
        self.held.remove(order_id)
        if paid:
            assert redemption.spend_held(self.user, order_id, at=clock.stamp()) > 0
            self.redeemed.append(order_id)
            return
        record = redemption.read_redemption(self.user, order_id)
        assert record is not None
        transaction = LabelledTransaction()
        for write in redemption.release_writes(record):
            transaction.add("release", write)
        assert not transaction.commit()

    @precondition(lambda self: self.redeemed)
    @rule(data=st.data(), share=st.integers(1, 100))
    def refund_a_redeemed_order(self, data: st.DataObject, share: int) -> None:
        record = redemption.read_redemption(self.user, data.draw(st.sampled_from(self.redeemed)))
        assert record is not None
        points = min(int(record.points) * share // 100, int(record.points) - int(record.returned_points or 0))
        if points <= 0:
            return
        transaction = LabelledTransaction()
        for write in redemption.returned_points_writes(record, f"rfd_{next(_serial)}", points,
                                                       Money("EUR", max(1, int(record.value) * share // 100)),
                                                       self.rules):
            transaction.add("refund", write)
        assert not transaction.commit()

    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        balance = store.read_balance(self.user)
        lots = store.spendable(store.lots_of(self.user), clock.stamp())
        if not lots or (balance is not None and int(balance.reserved or 0)):
            return  # as the sweep: lots wait while a checkout holds points
        lot = data.draw(st.sampled_from(lots))
        movement = self._movement("expired")
        store.take_from_lot(movement, lot, int(lot.remaining), release=store.expiry_release(movement),
                            state_when_empty="expired")
        assert movement.commit()

    @invariant()
    def the_ledger_holds_what_the_points_are_worth(self) -> None:
        lots = store.lots_of(self.user)
        # each lot's points still held, at the value it was booked at (nothing of an emptied lot)
        assert all(abs(int(lot.value) - int(lot.released or 0) - int(lot.value) * int(lot.remaining)
                       / int(lot.points)) <= 0.5 for lot in lots)
        outstanding_value = sum(int(lot.value) - int(lot.released or 0) for lot in lots)
        assert all(int(lot.released or 0) == int(lot.value) for lot in lots if int(lot.remaining) == 0)
        assert ledger_liability() - self.ledger_before == outstanding_value
        assert totals_value() - self.totals_before == outstanding_value
        balance = store.read_balance(self.user)
        held = int(balance.available) + int(balance.reserved or 0) + int(balance.pending) if balance else 0
        assert held == sum(int(lot.remaining) for lot in lots)
        assert balance is None or int(balance.available) >= 0
        reserved = sum(int(record.points) for record in (redemption.read_redemption(self.user, order_id)
                                                          for order_id in self.held) if record is not None)
        assert (int(balance.reserved or 0) if balance else 0) == reserved


@pytest.mark.parametrize("point_value", [(100, 100), (3, 7)])  # 1 cent a point; 7 cents per 3 points (rounding)
def test_the_ledger_liability_always_equals_the_value_of_outstanding_points(aws: Any, point_value: tuple[int, int]
                                                                            ) -> None:
    programme.save_programme(programme.Programme(enabled=True, value_points=point_value[0],
                                                 value_amount=point_value[1]), by="usr_operator")
    machine = PointsAndLedger
    machine.TestCase.settings = settings(max_examples=8, stateful_step_count=12, deadline=None,
                                         suppress_health_check=list(HealthCheck))
    machine.TestCase().runTest()
