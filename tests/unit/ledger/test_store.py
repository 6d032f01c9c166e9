"""Postings written with the change that caused them: once, balanced, readable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.core.db import LabelledTransaction
from chalicelib.core.errors import Conflict
from chalicelib.core.money import Money
from chalicelib.events.models import OutboxEvent
from chalicelib.events.service import new_event
from chalicelib.ledger import service
from chalicelib.ledger.postings import (
    RefundedLine,
    charge_posting,
    refund_posting,
    seller_refund_postings,
    seller_share_postings,
    subscription_fee_posting,
    transfer_posting,
    transfer_reversal_posting,
)
from chalicelib.orders.events import OrderPaid
from tests.support.builders import eur

JUNE = datetime(2025, 6, 10, 9, tzinfo=UTC)
PAID = OrderPaid(order_id="ord_1", user_id="usr_1", paid_at=JUNE.isoformat(), sellers=[])


def paid_order(order_id: str = "ord_1", at: datetime = JUNE) -> list:
    return [
        charge_posting(order_id, eur(3000), payment_intent_id="pi_1", occurred_at=at),
        *seller_share_postings(order_id, "sel_a", eur(2000), eur(200), occurred_at=at),
        *seller_share_postings(order_id, "sel_b", eur(1000), eur(150), occurred_at=at),
    ]


def test_postings_commit_in_the_callers_transaction() -> None:
    # given an order change (here: an outbox event) and the postings it causes
    event = new_event(PAID)
    # when both are written in one transaction
    transaction = LabelledTransaction()
    transaction.put("event", event)
    for write in service.posting_items(*paid_order()):
        transaction.add("posting", write)
    assert transaction.commit() == set()
    # then the balances and the postings are there
    assert service.seller_balance("sel_a", "EUR").to_json() == {
        "currency": "EUR", "earned": {"amount": 1800, "currency": "EUR"},
        "transferred": {"amount": 0, "currency": "EUR"}, "owed": {"amount": 1800, "currency": "EUR"}}
    assert [p.posting_id for p in service.order_postings("ord_1")] == sorted(
        ["charge:ord_1", "seller_payable:ord_1:sel_a", "fee:ord_1:sel_a", "seller_payable:ord_1:sel_b",
         "fee:ord_1:sel_b"])


def test_clearing_accounts_are_kept_in_the_posting_records_only() -> None:
    from chalicelib.ledger.models import LedgerEntry, PostingRecord, SellerBalance
    from chalicelib.ledger.postings import sum_by_currency

    # when a paid order of two sellers is recorded
    writes = service.posting_items(*paid_order())
    # then buyer_charges (in the charge and in both shares) gets no entry item of its own:
    # 5 markers, 7 entries (stripe_clearing, 2 x payable, 2 x (payable, platform_fees)), 2 balances
    kinds = [type(w.item) for w in writes]
    assert (kinds.count(PostingRecord), kinds.count(LedgerEntry), kinds.count(SellerBalance)) == (5, 7, 2)
    assert not [w for w in writes if isinstance(w.item, LedgerEntry) and w.item.account == "buyer_charges"]
    # yet the order's postings hold every entry, and buyer_charges nets to zero in them
    service.apply_postings(*paid_order())
    postings = service.order_postings("ord_1")
    assert sum(e.amount.amount for p in postings for e in p.entries if e.account == "buyer_charges") == 0
    assert sum_by_currency(postings) == {"EUR": 0}


def test_refund_clearing_entries_are_kept_in_the_posting_records_only() -> None:
    from chalicelib.ledger.models import LedgerEntry

    line = RefundedLine(eur(2000), eur(200), eur(0), eur(500))
    writes = service.posting_items(refund_posting("ord_1", "rfd_1", eur(500), occurred_at=JUNE),
                                   *seller_refund_postings("ord_1", "rfd_1", "sel_a", [line], occurred_at=JUNE))
    accounts = sorted(w.item.account for w in writes if isinstance(w.item, LedgerEntry))
    assert accounts == ["platform_fees", "seller_payable:sel_a", "seller_payable:sel_a", "stripe_clearing"]


def test_postings_recorded_together_share_one_record_and_read_as_before() -> None:
    from chalicelib.ledger.models import PostingRecord

    june, july = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
    # given the same paid order recorded as separate postings (as before) and together
    service.apply_postings(*paid_order("ord_apart"))
    writes = service.posting_items(*paid_order("ord_1"), together=True)
    transaction = LabelledTransaction()
    for write in writes:
        transaction.add("posting", write)
    assert transaction.commit() == set()
    # then one record (one marker, one GSI1 entry) holds the order's five postings
    assert [w.item.posting_id for w in writes if isinstance(w.item, PostingRecord)] == ["charge:ord_1"]
    together = service.order_postings("ord_1")
    apart = {p.posting_id.replace("ord_apart", "ord_1"): p for p in service.order_postings("ord_apart")}
    assert [p.posting_id for p in together] == ["charge:ord_1", "seller_payable:ord_1:sel_a", "fee:ord_1:sel_a",
                                                "seller_payable:ord_1:sel_b", "fee:ord_1:sel_b"]
    assert [(p.kind, p.entries, p.seller_id, p.refs, p.occurred_at) for p in together] == [
        (a.kind, a.entries, a.seller_id, a.refs, a.occurred_at) for a in (apart[p.posting_id] for p in together)]
    assert service.get_posting("charge:ord_1") == together[0]
    assert service.get_posting("fee:ord_1:sel_b") == together[4]  # through the charge's record
    assert service.get_posting("fee:ord_apart:sel_b") == apart["fee:ord_1:sel_b"]  # a record of its own
    assert service.get_posting("fee:ord_1:sel_c") is None
    found = service.recorded_postings(["seller_payable:ord_1:sel_a", "fee:ord_apart:sel_a", "charge:ord_9"])
    assert sorted(found) == ["fee:ord_apart:sel_a", "seller_payable:ord_1:sel_a"]
    # and statements, balances and revenue say what separate postings said
    for seller in ("sel_a", "sel_b"):
        statement = service.seller_entries(seller, june, july).items
        by_order = {order: [(e.occurred_at, e.kind, e.account, e.amount, e.refs, e.posting_id.replace(order, "o"))
                            for e in statement if e.order_id == order] for order in ("ord_1", "ord_apart")}
        assert len(by_order["ord_1"]) == 2 and by_order["ord_1"] == by_order["ord_apart"]
    assert service.seller_balance("sel_a", "EUR").earned == eur(2 * 1800)
    assert service.platform_fee_revenue(june, july)["EUR"].fees == eur(2 * 350)


def test_postings_recorded_together_apply_once() -> None:
    assert service.apply_postings(charge_posting("ord_0", eur(1))) is True  # another order's record
    for attempt in range(2):
        transaction = LabelledTransaction()
        for write in service.posting_items(*paid_order(), together=True):
            transaction.add("posting", write)
        assert bool(transaction.commit()) is (attempt == 1)
    assert service.seller_balance("sel_a", "EUR").earned == eur(1800)
    assert len(service.order_postings("ord_1")) == 5


def test_a_refunds_postings_recorded_together_share_the_refunds_record() -> None:
    from chalicelib.ledger.models import PostingRecord

    line = RefundedLine(eur(2000), eur(200), eur(0), eur(500))
    postings = [refund_posting("ord_1", "rfd_1", eur(500), occurred_at=JUNE),
                *seller_refund_postings("ord_1", "rfd_1", "sel_a", [line], occurred_at=JUNE),
                transfer_reversal_posting("ord_1", "rfd_1", "sel_a", eur(450), occurred_at=JUNE)]
    writes = service.posting_items(*postings, together=True)
    assert [w.item.posting_id for w in writes if isinstance(w.item, PostingRecord)] == ["refund:rfd_1"]
    transaction = LabelledTransaction()
    for write in writes:
        transaction.add("ledger", write)
    assert transaction.commit() == set()
    assert [service.get_posting(p.posting_id) for p in postings] == postings
    assert service.seller_balance("sel_a", "EUR").owed == eur(0)  # -450 earned, -450 transferred back


def test_postings_recorded_together_belong_to_one_order_time_and_record() -> None:
    with pytest.raises(ValueError, match="together"):
        service.posting_items(*paid_order("ord_1"), *seller_share_postings("ord_2", "sel_c", eur(10), eur(1),
                                                                            occurred_at=JUNE), together=True)
    with pytest.raises(ValueError, match="together"):  # a transfer has a record of its own
        service.posting_items(*paid_order("ord_1"), transfer_posting("ord_1", "sel_a", eur(1800), occurred_at=JUNE),
                              together=True)


def test_a_failed_business_change_writes_no_posting() -> None:
    # given an event that already exists, so the caller's condition fails
    event = new_event(PAID)
    event.save()
    # when the caller's transaction fails
    transaction = LabelledTransaction()
    transaction.put("event", event, OutboxEvent.PK.does_not_exist())
    for write in service.posting_items(*paid_order()):
        transaction.add("posting", write)
    assert transaction.commit() == {"event"}
    # then nothing of the ledger was written
    assert service.seller_balance("sel_a", "EUR").earned == eur(0)
    assert service.get_posting("charge:ord_1") is None


def test_the_same_postings_twice_change_balances_once() -> None:
    assert service.apply_postings(*paid_order()) is True
    # a retry rebuilds the same movements a second later: same ids
    assert service.apply_postings(*paid_order(at=datetime(2025, 6, 10, 9, 0, 1, tzinfo=UTC))) is False
    assert service.seller_balance("sel_a", "EUR").earned == eur(1800)
    assert service.seller_balance("sel_b", "EUR").earned == eur(850)
    start, end = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
    assert len(service.seller_entries("sel_a", start, end).items) == 2


def test_a_posting_id_reused_for_other_amounts_is_a_conflict() -> None:
    service.apply_postings(charge_posting("ord_1", eur(3000)))
    with pytest.raises(Conflict) as raised:
        service.apply_postings(charge_posting("ord_1", eur(3001)))
    assert raised.value.code == "posting_conflict"


def test_a_posting_may_appear_once_per_transaction() -> None:
    with pytest.raises(ValueError, match="twice"):
        service.posting_items(charge_posting("ord_1", eur(1)), charge_posting("ord_1", eur(1)))


def test_balance_follows_transfer_refund_reversal_and_subscription() -> None:
    service.apply_postings(*paid_order())
    service.apply_postings(transfer_posting("ord_1", "sel_a", eur(1800), transfer_id="tr_1", occurred_at=JUNE))
    assert service.seller_balance("sel_a", "EUR").owed == eur(0)
    # a quarter of a 20.00 line with a 2.00 fee comes back: the seller bears 5.00 - 0.50
    line = RefundedLine(eur(2000), eur(200), eur(0), eur(500))
    service.apply_postings(refund_posting("ord_1", "rfd_1", eur(500), occurred_at=JUNE),
                           *seller_refund_postings("ord_1", "rfd_1", "sel_a", [line], occurred_at=JUNE))
    assert service.seller_balance("sel_a", "EUR").owed == eur(-450)
    service.apply_postings(transfer_reversal_posting("ord_1", "rfd_1", "sel_a", eur(450), occurred_at=JUNE))
    service.apply_postings(subscription_fee_posting("sel_a", "2025-06", eur(2900), occurred_at=JUNE))
    balance = service.seller_balance("sel_a", "EUR")
    assert (balance.earned, balance.transferred, balance.owed) == (eur(-1550), eur(1350), eur(-2900))
    assert [b.to_json()["currency"] for b in service.seller_balances("sel_a")] == ["EUR"]


def test_a_statement_window_is_half_open_and_paged() -> None:
    # given sales of seller A at the edges of June and one of seller B
    may_end = datetime(2025, 5, 31, 23, 59, 59, 999999, tzinfo=UTC)
    june_start, july_start = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
    for order_id, at in (("ord_may", may_end), ("ord_june1", june_start), ("ord_june2", JUNE),
                         ("ord_july", july_start)):
        service.apply_postings(*seller_share_postings(order_id, "sel_a", eur(1000), eur(100), occurred_at=at))
    service.apply_postings(*seller_share_postings("ord_b", "sel_b", eur(1000), eur(100), occurred_at=JUNE))
    # when A reads June two entries at a time
    first = service.seller_entries("sel_a", june_start, july_start, limit=2)
    second = service.seller_entries("sel_a", june_start, july_start, cursor=first.next_cursor, limit=2)
    # then exactly June's four entries of A come back, oldest first
    entries = first.items + second.items
    assert [(e.order_id, e.kind, e.amount.amount) for e in entries] == [
        ("ord_june1", "seller_payable", 1000), ("ord_june1", "fee", -100),
        ("ord_june2", "seller_payable", 1000), ("ord_june2", "fee", -100)]
    assert second.next_cursor is None or service.seller_entries(
        "sel_a", june_start, july_start, cursor=second.next_cursor, limit=2).items == []


def test_a_cursor_is_bound_to_its_seller() -> None:
    from chalicelib.core.errors import BadRequest

    june_start, july_start = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
    for order_id in ("ord_1", "ord_2"):
        service.apply_postings(*seller_share_postings(order_id, "sel_a", eur(1000), eur(100), occurred_at=JUNE))
    page = service.seller_entries("sel_a", june_start, july_start, limit=1)
    with pytest.raises(BadRequest):
        service.seller_entries("sel_b", june_start, july_start, cursor=page.next_cursor, limit=1)


def test_revenue_sums_fees_net_of_fee_refunds_across_months() -> None:
    service.apply_postings(*paid_order("ord_may", datetime(2025, 5, 20, tzinfo=UTC)))  # fees 350
    service.apply_postings(*paid_order("ord_june", JUNE))  # fees 350
    service.apply_postings(*seller_share_postings("ord_usd", "sel_a", Money("USD", 5000), Money("USD", 400),
                                                  occurred_at=JUNE))
    line = RefundedLine(eur(2000), eur(200), eur(0), eur(1000))
    service.apply_postings(*seller_refund_postings("ord_june", "rfd_1", "sel_a", [line], occurred_at=JUNE))
    service.apply_postings(subscription_fee_posting("sel_a", "2025-06", eur(2900), occurred_at=JUNE))
    service.apply_postings(*paid_order("ord_july", datetime(2025, 7, 1, tzinfo=UTC)))  # outside the window
    revenue = service.platform_fee_revenue(datetime(2025, 5, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))
    assert {c: r.to_json() for c, r in revenue.items()} == {
        "EUR": {"currency": "EUR", "fees": eur(700).to_json(), "fee_refunds": eur(100).to_json(),
                "net_fees": eur(600).to_json(), "subscription_fees": eur(2900).to_json(),
                "marketplace_discounts": eur(0).to_json(), "total": eur(3500).to_json()},
        "USD": {"currency": "USD", "fees": Money("USD", 400).to_json(), "fee_refunds": Money("USD", 0).to_json(),
                "net_fees": Money("USD", 400).to_json(), "subscription_fees": Money("USD", 0).to_json(),
                "marketplace_discounts": Money("USD", 0).to_json(), "total": Money("USD", 400).to_json()},
    }


@pytest.mark.parametrize(("money", "text"), [(Money("EUR", -1234), "-12.34"), (Money("EUR", 5), "0.05"),
                                             (Money("JPY", 1500), "1500"), (Money("EUR", 0), "0.00")])
def test_minor_units_format_without_floats(money: Money, text: str) -> None:
    assert service.format_minor(money) == text


def test_platform_fees_of_every_shard_and_of_the_unsharded_month_are_read_in_time_order() -> None:
    from chalicelib.core.keys import PLATFORM_LEDGER_SHARDS, platform_ledger_keys
    from chalicelib.ledger.models import LedgerEntry
    from chalicelib.ledger.postings import PLATFORM_FEES

    june, july = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
    for n in range(24):  # 24 orders an hour apart, their fee postings spread over the shards
        service.apply_postings(*seller_share_postings(f"ord_{n}", "sel_a", eur(1000), eur(10 + n),
                                                      occurred_at=datetime(2025, 6, 2, n, tzinfo=UTC)))
    # an entry written before sharding, under the month's unsharded key
    LedgerEntry(PK="LEDGER#platform_fees#2025-06", SK="2025-06-01T08:00:00.000000Z#2#pst_old#00",
                posting_id="pst_old", kind="fee", account=PLATFORM_FEES, currency="EUR", amount=-5,
                occurred_at="2025-06-01T08:00:00.000000Z", order_id="ord_old", refs={}).save()

    entries = list(service._platform_entries(PLATFORM_FEES, june, july))

    assert {e.PK for e in entries} == set(platform_ledger_keys(PLATFORM_FEES, "2025-06"))
    assert len(platform_ledger_keys(PLATFORM_FEES, "2025-06")) == PLATFORM_LEDGER_SHARDS + 1
    assert [e.order_id for e in entries] == ["ord_old", *(f"ord_{n}" for n in range(24))]
    assert service.platform_fee_revenue(june, july)["EUR"].fees == eur(5 + sum(10 + n for n in range(24)))


def test_a_marketplace_funded_discount_is_an_expense_in_revenue_and_a_credit_in_the_sellers_statement() -> None:
    """The buyer paid 27.00 for a 30.00 line, 3.00 off funded by the marketplace: the seller
    is credited 30.00 and charged the fee on it; refunding a third gives 1.00 of it back."""
    service.apply_postings(charge_posting("ord_promo", eur(2700), payment_intent_id="pi_9", occurred_at=JUNE),
                           *seller_share_postings("ord_promo", "sel_a", eur(2700), eur(300),
                                                  marketplace_discount=eur(300), occurred_at=JUNE))
    line = RefundedLine(eur(2700), eur(300), eur(0), eur(900), marketplace_discount=eur(300))
    service.apply_postings(*seller_refund_postings("ord_promo", "rfd_9", "sel_a", [line], occurred_at=JUNE))

    revenue = service.platform_fee_revenue(datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))
    assert revenue["EUR"].marketplace_discounts == eur(200)
    assert revenue["EUR"].net_fees == eur(200)  # 3.00 fee, 1.00 of it refunded
    assert revenue["EUR"].total == eur(0)
    # the seller earned 30.00 - 3.00 fee, then bore 9.00 + 1.00 and got 1.00 of fee back
    assert service.seller_balance("sel_a", "EUR").owed == eur(3000 - 300 - 900 - 100 + 100)
    kinds = [entry.kind for entry in service.seller_entries("sel_a", datetime(2025, 6, 1, tzinfo=UTC),
                                                             datetime(2025, 7, 1, tzinfo=UTC)).items]
    assert "marketplace_discount" in kinds and "marketplace_discount_refund" in kinds
