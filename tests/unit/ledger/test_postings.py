"""Postings balance per currency, whatever the amounts; the refund policy loses no cent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.errors import Conflict
from chalicelib.core.money import Money
from chalicelib.ledger.postings import (
    Entry,
    Posting,
    RefundedLine,
    UnbalancedPosting,
    charge_posting,
    proportional_fee_refund,
    recorded_under,
    refund_posting,
    refund_split,
    seller_refund_postings,
    seller_share_postings,
    subscription_fee_posting,
    sum_by_currency,
    transfer_posting,
    transfer_reversal_posting,
)
from tests.support.builders import eur

AT = datetime(2025, 6, 1, 12, tzinfo=UTC)


def balances(postings: list[Posting]) -> dict[str, int]:
    """Sum per account over postings (platform view: debit positive)."""
    totals: dict[str, int] = {}
    for posting in postings:
        for entry in posting.entries:
            totals[entry.account] = totals.get(entry.account, 0) + entry.amount.amount
    return {account: total for account, total in totals.items() if total}


def test_an_unbalanced_posting_cannot_be_built() -> None:
    with pytest.raises(UnbalancedPosting):
        Posting(posting_id="p1", kind="charge", occurred_at=AT,
                entries=(Entry("stripe_clearing", eur(100)), Entry("buyer_charges", eur(-99))))


def test_a_posting_balances_per_currency_not_across_currencies() -> None:
    with pytest.raises(UnbalancedPosting):
        Posting(posting_id="p1", kind="charge", occurred_at=AT,
                entries=(Entry("stripe_clearing", eur(100)), Entry("buyer_charges", Money("USD", -100))))


@pytest.mark.parametrize("account", ["cash", "seller_payable", "platform_fees:sel_1", "seller_payable:a:b"])
def test_unknown_accounts_are_refused(account: str) -> None:
    with pytest.raises(ValueError, match="account"):
        Entry(account, eur(1))


def test_a_paid_and_transferred_order_leaves_fees_and_cash_only() -> None:
    postings = [
        charge_posting("ord_1", eur(3000), payment_intent_id="pi_1", occurred_at=AT),
        *seller_share_postings("ord_1", "sel_a", eur(2000), eur(200), occurred_at=AT),
        *seller_share_postings("ord_1", "sel_b", eur(1000), eur(150), occurred_at=AT),
        transfer_posting("ord_1", "sel_a", eur(1800), transfer_id="tr_a", occurred_at=AT),
        transfer_posting("ord_1", "sel_b", eur(850), transfer_id="tr_b", occurred_at=AT),
    ]
    assert balances(postings) == {
        "stripe_clearing": 350, "platform_fees": -350,
        "seller_payable:sel_a": -1800, "transfers_out:sel_a": 1800,
        "seller_payable:sel_b": -850, "transfers_out:sel_b": 850,
    }
    assert [p.posting_id for p in postings] == [
        "charge:ord_1", "seller_payable:ord_1:sel_a", "fee:ord_1:sel_a", "seller_payable:ord_1:sel_b",
        "fee:ord_1:sel_b", "transfer:ord_1:sel_a", "transfer:ord_1:sel_b"]
    assert postings[0].refs == {"payment_intent": "pi_1"}


def test_a_refund_with_its_reversal_gives_back_the_proportional_fee() -> None:
    # A line of 10.00 with a 1.00 fee; 2.50 of it is refunded.
    line = RefundedLine(line_total=eur(1000), fee=eur(100), refunded_before=eur(0), amount=eur(250))
    refunded, fee_back = refund_split([line])
    assert (refunded, fee_back) == (eur(250), eur(25))
    postings = [
        refund_posting("ord_1", "rfd_1", eur(250), stripe_refund_id="re_1", occurred_at=AT),
        *seller_refund_postings("ord_1", "rfd_1", "sel_a", [line], occurred_at=AT),
        transfer_reversal_posting("ord_1", "rfd_1", "sel_a", refunded - fee_back, reversal_id="trr_1",
                                  occurred_at=AT),
    ]
    assert [p.kind for p in postings] == ["refund", "refund", "fee_refund", "transfer_reversal"]
    assert balances(postings) == {"stripe_clearing": -25, "platform_fees": 25,
                                  "seller_payable:sel_a": 225, "transfers_out:sel_a": -225}


def test_zero_fee_needs_no_fee_posting() -> None:
    assert [p.kind for p in seller_share_postings("ord_1", "sel_a", eur(500), eur(0))] == ["seller_payable"]


def test_a_refund_beyond_the_line_is_a_conflict() -> None:
    with pytest.raises(Conflict) as raised:
        proportional_fee_refund(RefundedLine(eur(1000), eur(100), refunded_before=eur(900), amount=eur(101)))
    assert raised.value.code == "refund_exceeds_captured"


def test_subscription_fee_is_once_per_seller_and_month() -> None:
    posting = subscription_fee_posting("sel_a", "2025-06", eur(2900), occurred_at=AT)
    assert posting.posting_id == "subscription_fee:sel_a:2025-06"
    assert balances([posting]) == {"seller_payable:sel_a": 2900, "subscription_fees": -2900}
    with pytest.raises(ValueError, match="YYYY-MM"):
        subscription_fee_posting("sel_a", "June", eur(2900))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        charge_posting("ord_1", eur(100), occurred_at=datetime(2025, 6, 1))


# --------------------------------------------------------------------- invariants

positive = st.integers(min_value=1, max_value=10**9)
currencies = st.sampled_from(["EUR", "USD", "JPY", "GBP"])


@st.composite
def refund_lines(draw: st.DrawFn, currency: str) -> list[RefundedLine]:
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        total = draw(positive)
        fee = draw(st.integers(0, total))
        before = draw(st.integers(0, total - 1))
        amount = draw(st.integers(1, total - before))
        lines.append(RefundedLine(*(Money(currency, v) for v in (total, fee, before, amount))))
    return lines


@settings(max_examples=150)
@given(currencies, st.lists(st.tuples(positive, st.integers(0, 10_000)), min_size=1, max_size=6), st.data())
def test_every_builder_balances_per_currency(currency: str, shares: list[tuple[int, int]], data: st.DataObject) -> None:
    def money(amount: int) -> Money:
        return Money(currency, amount)

    gross_total = sum(gross for gross, _ in shares)
    postings = [charge_posting("ord_1", money(gross_total))]
    for n, (gross, fee_bp) in enumerate(shares):
        fee = money(gross).percent_of(fee_bp)
        seller = f"sel_{n}"
        postings += seller_share_postings("ord_1", seller, money(gross), fee)
        if gross - fee.amount:
            postings.append(transfer_posting("ord_1", seller, money(gross) - fee))
        lines = data.draw(refund_lines(currency))
        refunded, fee_back = refund_split(lines)
        postings.append(refund_posting("ord_1", f"rfd_{n}", refunded))
        postings += seller_refund_postings("ord_1", f"rfd_{n}", seller, lines)
        if refunded.amount - fee_back.amount:
            postings.append(transfer_reversal_posting("ord_1", f"rfd_{n}", seller, refunded - fee_back))
        postings.append(subscription_fee_posting(seller, "2025-06", money(data.draw(positive))))
    assert all(not any(p.totals().values()) for p in postings)
    assert sum_by_currency(postings) == {currency: 0}
    # The clearing accounts empty once every charge and refund is attributed to its sellers.
    assert "buyer_charges" not in balances(postings)
    assert "refunds" not in balances(postings)


@settings(max_examples=200)
@given(positive, st.data())
def test_partial_refunds_of_a_whole_line_give_back_exactly_its_fee(total: int, data: st.DataObject) -> None:
    fee = data.draw(st.integers(0, total))
    cuts = sorted(data.draw(st.sets(st.integers(1, total - 1), max_size=6))) if total > 1 else []
    steps = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    refunded_before, fee_back = 0, 0
    for step in steps:
        part = proportional_fee_refund(RefundedLine(eur(total), eur(fee), eur(refunded_before), eur(step)))
        assert 0 <= part.amount <= step
        refunded_before += step
        fee_back += part.amount
    assert fee_back == fee


@settings(max_examples=200)
@given(positive, st.data())
def test_fee_refund_is_the_half_up_proportion(total: int, data: st.DataObject) -> None:
    fee = data.draw(st.integers(0, total))
    amount = data.draw(st.integers(1, total))
    part = proportional_fee_refund(RefundedLine(eur(total), eur(fee), eur(0), eur(amount)))
    exact_twice = 2 * fee * amount  # compare 2*part*total with the exact value, no floats
    assert exact_twice - total <= 2 * part.amount * total <= exact_twice + total


@pytest.mark.parametrize(("posting_id", "record"), [
    ("charge:ord_1", "charge:ord_1"), ("seller_payable:ord_1:sel_a", "charge:ord_1"),
    ("fee:ord_1:sel_a", "charge:ord_1"),
    ("transfer:ord_1:sel_a", "transfer:ord_1:sel_a"), ("refund:rfd_1", "refund:rfd_1"),
    ("refund:ord_1-late", "refund:ord_1-late"), ("refund:rfd_1:sel_a", "refund:rfd_1"),
    ("fee_refund:rfd_1:sel_a", "refund:rfd_1"), ("transfer_reversal:rfd_1:sel_a", "refund:rfd_1"),
    ("subscription_fee:sel_a:2025-06", "subscription_fee:sel_a:2025-06"),
])
def test_a_posting_recorded_together_is_found_under_its_events_first_posting(posting_id: str, record: str) -> None:
    assert recorded_under(posting_id) == record


def test_a_parts_shipping_is_a_posting_of_its_own_recorded_with_the_charge_and_refunded_apart() -> None:
    from chalicelib.ledger.postings import (
        RefundedLine,
        recorded_under,
        seller_refund_postings,
        seller_share_postings,
        sum_by_currency,
    )

    shares = seller_share_postings("ord_1", "sel_a", eur(5_690), eur(569), shipping=eur(690))
    refunds = seller_refund_postings("ord_1", "rfd_1", "sel_a", [
        RefundedLine(eur(4_000), eur(400), eur(0), eur(2_000)),
        RefundedLine(eur(690), eur(69), eur(0), eur(345), shipping=True)])

    assert [(p.kind, p.entries[1].amount.amount) for p in shares] == [("seller_payable", -5_000),
                                                                      ("shipping", -690), ("fee", -569)]
    assert [(p.kind, p.entries[0].amount.amount) for p in refunds] == [("refund", 2_000), ("shipping_refund", 345),
                                                                       ("fee_refund", 200 + 35)]
    assert sum_by_currency([*shares, *refunds]) == {"EUR": 0}
    assert {recorded_under(p.posting_id) for p in shares} == {"charge:ord_1"}
    assert {recorded_under(p.posting_id) for p in refunds} == {"refund:rfd_1"}
