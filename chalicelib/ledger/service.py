"""Writing postings with the change that caused them, and reading balances, statements
and revenue. Keys and round trips: :mod:`chalicelib.ledger.models`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.pagination import ResultIterator

from chalicelib.core import clock
from chalicelib.core.db import ItemWrite, LabelledTransaction, query_shards
from chalicelib.core.errors import Code, Conflict, ValidationFailed
from chalicelib.core.keys import (
    BALANCE_PREFIX,
    POSTING_SK,
    balance_sk,
    ledger_entry_sk,
    ledger_order_index_key,
    platform_ledger_key,
    platform_ledger_keys,
    posting_key,
    seller_entry_sk,
    seller_key,
    timed_sort_key,
)
from chalicelib.core.money import CURRENCY_EXPONENTS, Money
from chalicelib.core.pagination import DEFAULT_LIMIT, Page, decode_cursor, encode_cursor
from chalicelib.ledger.models import LedgerEntry, PostingRecord, SellerBalance
from chalicelib.ledger.postings import (
    CLEARING_ACCOUNTS,
    KINDS,
    LOYALTY_BREAKAGE,
    LOYALTY_EXPENSE,
    LOYALTY_LIABILITY,
    MARKETPLACE_DISCOUNTS,
    PLATFORM_FEES,
    SELLER_PAYABLE,
    SUBSCRIPTION_FEES,
    Entry,
    Posting,
    recorded_under,
    split_account,
    utc,
)

MAX_CSV_ENTRIES = 10_000
MAX_REVENUE_MONTHS = 13


def iso(moment: datetime) -> str:
    """Fixed-width UTC time, so that string order is time order in sort keys."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


# ---------------------------------------------------------------------------- writing


def _entry_item(posting: Posting, number: int, entry: Entry) -> LedgerEntry:
    base, seller_id = split_account(entry.account)
    at = iso(posting.occurred_at)
    suffix = ledger_entry_sk(at, KINDS.index(posting.kind), posting.posting_id, number)
    if seller_id is not None:
        pk, sk = seller_key(seller_id), seller_entry_sk(suffix)
    else:
        pk, sk = platform_ledger_key(base, at[:7], posting.posting_id), suffix
    return LedgerEntry(PK=pk, SK=sk, posting_id=posting.posting_id, kind=posting.kind, account=entry.account,
                       currency=entry.amount.currency, amount=entry.amount.amount, occurred_at=at,
                       order_id=posting.order_id, refs=dict(posting.refs))


def _entries(posting: Posting) -> list[list[str | int]]:
    return [[e.account, e.amount.currency, e.amount.amount] for e in posting.entries]


def _record(posting: Posting, together: Sequence[Posting] = ()) -> PostingRecord:
    at = iso(posting.occurred_at)
    record = PostingRecord(
        PK=posting_key(posting.posting_id), SK=POSTING_SK, posting_id=posting.posting_id, kind=posting.kind,
        occurred_at=at, order_id=posting.order_id, seller_id=posting.seller_id, refs=dict(posting.refs),
        entries=_entries(posting),
    )
    if together:
        record.together = [[p.posting_id, p.kind, p.seller_id, dict(p.refs), _entries(p)] for p in together]
    if posting.order_id:
        record.GSI1PK = ledger_order_index_key(posting.order_id)
        record.GSI1SK = timed_sort_key(at, posting.posting_id)
    return record


def _postings(record: PostingRecord) -> list[Posting]:
    """The record's posting, then those recorded together with it (records written before
    ``together`` existed hold one)."""
    at = parse_iso(record.occurred_at)

    def posting(posting_id: str, kind: str, seller_id: str | None, refs: dict[str, str] | None,
                entries: list[list[Any]]) -> Posting:
        return Posting(posting_id=posting_id, kind=kind, occurred_at=at, order_id=record.order_id,
                       seller_id=seller_id, refs=dict(refs or {}),
                       entries=tuple(Entry(account, Money(currency, amount)) for account, currency, amount in entries))

    return [posting(record.posting_id, record.kind, record.seller_id, record.refs, record.entries),
            *(posting(*together) for together in record.together or [])]


def posting_items(*postings: Posting, together: bool = False) -> list[ItemWrite]:
    """Every write that records ``postings``, to add to the caller's transaction
    (``for w in posting_items(...): transaction.add("posting", w)``).

    Each posting's marker is conditional on not existing, so the transaction fails
    (and changes nothing) if any of these postings was applied before; balance changes
    are merged per (seller, currency), because a transaction may touch an item once.

    ``together``: the postings are one business event (a paid order's charge with every
    seller's share and fee, a refund with its seller's parts; same order and time): one
    record under the first posting's id holds them all — one marker and one GSI1 entry
    instead of one each. The others are only ever written with it, and found through it
    (:func:`~chalicelib.ledger.postings.recorded_under`).
    """
    ids = [p.posting_id for p in postings]
    if len(set(ids)) != len(ids):
        raise ValueError("the same posting twice in one transaction")
    if together and postings:
        first, *rest = postings
        if any((p.order_id, p.occurred_at, recorded_under(p.posting_id))
               != (first.order_id, first.occurred_at, first.posting_id) for p in rest):
            raise ValueError("postings recorded together share their order, time and record")
        records = [_record(first, rest)]
    else:
        records = [_record(posting) for posting in postings]
    writes = [ItemWrite(record, condition=PostingRecord.PK.does_not_exist()) for record in records]
    deltas: dict[tuple[str, str], dict[str, int]] = {}
    for posting in postings:
        for number, entry in enumerate(posting.entries):
            base, seller_id = split_account(entry.account)
            if base not in CLEARING_ACCOUNTS:  # a clearing account's entries are in the record only
                writes.append(ItemWrite(_entry_item(posting, number, entry)))
            if seller_id is not None:
                delta = deltas.setdefault((seller_id, entry.amount.currency), {"payable": 0, "transferred": 0})
                delta["payable" if base == SELLER_PAYABLE else "transferred"] += entry.amount.amount
    now = iso(clock.now())
    for (seller_id, currency), delta in deltas.items():
        balance = SellerBalance(PK=seller_key(seller_id), SK=balance_sk(currency))
        writes.append(ItemWrite(balance, actions=(
            SellerBalance.seller_id.set(seller_id), SellerBalance.currency.set(currency),
            SellerBalance.payable.add(delta["payable"]), SellerBalance.transferred.add(delta["transferred"]),
            SellerBalance.updated_at.set(now),
        )))
    return writes


def get_posting(posting_id: str) -> Posting | None:
    """GetItem of its own record (1 RT), then of the one it may be recorded under (+1 RT)."""
    for record_id in dict.fromkeys((posting_id, recorded_under(posting_id))):
        try:
            record = PostingRecord.get(posting_key(record_id), POSTING_SK, consistent_read=True)
        except PostingRecord.DoesNotExist:
            continue
        found = [p for p in _postings(record) if p.posting_id == posting_id]
        if found:
            return found[0]
    return None


def recorded_postings(posting_ids: Iterable[str]) -> dict[str, Posting]:
    """Those of ``posting_ids`` that are recorded, alone or together with others:
    BatchGetItem of their records (1 RT per 100)."""
    wanted = set(posting_ids)
    record_ids = sorted({record_id for pid in wanted for record_id in (pid, recorded_under(pid))})
    records = PostingRecord.batch_get([(posting_key(record_id), POSTING_SK) for record_id in record_ids])
    return {p.posting_id: p for record in records for p in _postings(record) if p.posting_id in wanted}


def _same_movement(a: Posting, b: Posting) -> bool:
    """Equal but for the time: a retry rebuilds a movement at another moment."""
    return (a.kind, sorted((e.account, e.amount) for e in a.entries)) == \
        (b.kind, sorted((e.account, e.amount) for e in b.entries))


def apply_postings(*postings: Posting) -> bool:
    """Record postings in a transaction of their own. False when all were recorded
    before (a retry: nothing changes); Conflict when only some were, or when an id was
    recorded for a different movement."""
    if not postings:
        raise ValueError("nothing to record")
    transaction = LabelledTransaction()
    for write in posting_items(*postings):
        transaction.add("posting", write)
    if transaction.commit():
        stored = {p.posting_id: get_posting(p.posting_id) for p in postings}
        if all((found := stored[p.posting_id]) is not None and _same_movement(found, p) for p in postings):
            return False
        raise Conflict("These postings were recorded before with other amounts, or only in part.",
                       code=Code.POSTING_CONFLICT, details={"posting_ids": sorted(stored)})
    return True


def order_postings(order_id: str) -> list[Posting]:
    """Every posting of an order, oldest first: Query GSI1 (1 RT per page)."""
    return [p for r in PostingRecord.by_order.query(ledger_order_index_key(order_id)) for p in _postings(r)]


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class SellerBalanceView:
    """What a seller has earned net of fees and refunds, what has been transferred, and
    what the platform still owes (negative: the seller owes the platform)."""

    seller_id: str
    earned: Money
    transferred: Money

    @property
    def owed(self) -> Money:
        return self.earned - self.transferred

    def to_json(self) -> dict[str, Any]:
        return {"currency": self.earned.currency, "earned": self.earned.to_json(),
                "transferred": self.transferred.to_json(), "owed": self.owed.to_json()}


def _balance_view(seller_id: str, currency: str, item: SellerBalance | None) -> SellerBalanceView:
    payable = int(item.payable or 0) if item else 0
    transferred = int(item.transferred or 0) if item else 0
    # Liabilities are credits (negative); the seller reads them as positive amounts.
    return SellerBalanceView(seller_id, Money(currency, -payable), Money(currency, transferred))


def seller_balance(seller_id: str, currency: str) -> SellerBalanceView:
    """O(1): GetItem of the running balance (1 RT)."""
    currency = Money.zero(currency).currency
    try:
        item = SellerBalance.get(seller_key(seller_id), balance_sk(currency), consistent_read=True)
    except SellerBalance.DoesNotExist:
        item = None
    return _balance_view(seller_id, currency, item)


def seller_balances(seller_id: str) -> list[SellerBalanceView]:
    """Every currency the seller has a balance in: Query (1 RT)."""
    items = SellerBalance.query(seller_key(seller_id), SellerBalance.SK.startswith(BALANCE_PREFIX))
    return [_balance_view(seller_id, item.currency, item) for item in items]


@dataclass(frozen=True)
class StatementEntry:
    """One entry of a seller's account, signed from the seller's point of view:
    positive raises what the platform owes the seller (a sale, a fee refund), negative
    lowers it (a fee, a refund, a transfer to the seller's Stripe account)."""

    occurred_at: str
    posting_id: str
    kind: str
    account: str  # seller_payable or transfers_out
    order_id: str | None
    amount: Money
    refs: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {"occurred_at": self.occurred_at, "posting_id": self.posting_id, "kind": self.kind,
                "account": self.account, "order_id": self.order_id, "amount": self.amount.to_json(),
                "refs": self.refs}


def _statement_entry(item: LedgerEntry) -> StatementEntry:
    return StatementEntry(occurred_at=item.occurred_at, posting_id=item.posting_id, kind=item.kind,
                          account=split_account(item.account)[0], order_id=item.order_id,
                          amount=Money(item.currency, -int(item.amount)), refs=dict(item.refs or {}))


def _check_window(from_: datetime, to: datetime) -> tuple[datetime, datetime]:
    from_, to = utc(from_), utc(to)
    if to < from_:  # an empty window (to == from) holds nothing, which is an answer too
        raise ValidationFailed("'to' must not be before 'from'.", code=Code.INVALID_WINDOW,
                               details=[{"field": "query.to", "message": "must not be before from", "type": "window"}])
    return from_, to


def _seller_window(seller_id: str, from_: datetime, to: datetime, *, cursor: str | None,
                   limit: int | None) -> tuple[ResultIterator[LedgerEntry], str]:
    from_, to = _check_window(from_, to)
    scope = f"{seller_key(seller_id)}/ledger/{iso(from_)}/{iso(to)}"
    # [from, to): an entry at exactly `to` sorts after the bare prefix LEDGER#<to>.
    condition = LedgerEntry.SK.between(seller_entry_sk(iso(from_)), seller_entry_sk(iso(to)))
    results = LedgerEntry.query(seller_key(seller_id), condition, limit=limit,
                                last_evaluated_key=decode_cursor(cursor, scope=scope))
    return results, scope


def seller_entries(seller_id: str, from_: datetime, to: datetime, cursor: str | None = None,
                   limit: int = DEFAULT_LIMIT) -> Page[StatementEntry]:
    """One page of the seller's entries in ``[from_, to)``, oldest first: Query (1 RT).
    The seller comes from the principal; the cursor is bound to seller and window."""
    results, scope = _seller_window(seller_id, from_, to, cursor=cursor, limit=limit)
    items = [_statement_entry(item) for item in results]
    last_key = results.last_evaluated_key if len(items) == limit else None
    return Page(items=items, next_cursor=encode_cursor(last_key, scope=scope))


def format_minor(money: Money) -> str:
    """``-1234 EUR`` → ``-12.34``: decimal text from integer arithmetic only."""
    exponent = CURRENCY_EXPONENTS[money.currency]
    sign = "-" if money.amount < 0 else ""
    units, fraction = divmod(abs(money.amount), 10**exponent)
    return f"{sign}{units}.{fraction:0{exponent}d}" if exponent else f"{sign}{units}"


CSV_COLUMNS = ("occurred_at", "posting_id", "kind", "account", "order_id", "currency", "amount_minor", "amount",
               "stripe_reference")


def statement_csv(seller_id: str, from_: datetime, to: datetime) -> str:
    """The whole window as CSV (Query, 1 RT per 1 MB). Refused above
    ``MAX_CSV_ENTRIES`` rows, so a response stays within Lambda's 6 MB."""
    results, _ = _seller_window(seller_id, from_, to, cursor=None, limit=MAX_CSV_ENTRIES + 1)
    entries = [_statement_entry(item) for item in results]
    if len(entries) > MAX_CSV_ENTRIES:
        raise ValidationFailed(f"More than {MAX_CSV_ENTRIES} entries: choose a shorter window.",
                               code=Code.WINDOW_TOO_LARGE,
                               details=[{"field": "query.to", "message": "window has too many entries",
                                         "type": "window"}])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        reference = " ".join(f"{k}={v}" for k, v in sorted(e.refs.items()))
        writer.writerow((e.occurred_at, e.posting_id, e.kind, e.account, e.order_id or "", e.amount.currency,
                         e.amount.amount, format_minor(e.amount), reference))
    return out.getvalue()


def _months(from_: datetime, to: datetime) -> list[str]:
    """``YYYY-MM`` of every month that ``[from_, to)`` touches."""
    last = to - timedelta(microseconds=1)
    year, month = from_.year, from_.month
    months: list[str] = []
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _platform_entries(account: str, from_: datetime, to: datetime) -> Iterable[LedgerEntry]:
    """In time order: one Query per shard of each month bucket, a month's shards in
    parallel and merged; the sort key bounds the window inside a month."""
    condition = LedgerEntry.SK.between(iso(from_), iso(to))
    for month in _months(from_, to):
        yield from query_shards(lambda partition: LedgerEntry.query(partition, condition),
                                platform_ledger_keys(account, month), order_by=lambda entry: entry.SK)


@dataclass(frozen=True)
class Revenue:
    """The platform's revenue in one currency over a window: fees charged, fees given
    back with refunds, sellers' subscription fees, and what the marketplace-funded discounts
    cost it (net of the parts refunds gave back), which ``total`` deducts."""

    fees: Money
    fee_refunds: Money
    subscription_fees: Money
    marketplace_discounts: Money

    @property
    def net_fees(self) -> Money:
        return self.fees - self.fee_refunds

    @property
    def total(self) -> Money:
        return self.net_fees + self.subscription_fees - self.marketplace_discounts

    def to_json(self) -> dict[str, Any]:
        return {"currency": self.fees.currency, "fees": self.fees.to_json(),
                "fee_refunds": self.fee_refunds.to_json(), "net_fees": self.net_fees.to_json(),
                "subscription_fees": self.subscription_fees.to_json(),
                "marketplace_discounts": self.marketplace_discounts.to_json(), "total": self.total.to_json()}


def platform_fee_revenue(from_: datetime, to: datetime) -> dict[str, Revenue]:
    """Revenue per currency in ``[from_, to)``: 3 x 9 Queries per calendar month (each
    account's shards and its unsharded key, in parallel; at most ``MAX_REVENUE_MONTHS``
    months)."""
    from_, to = _check_window(from_, to)
    if len(_months(from_, to)) > MAX_REVENUE_MONTHS:
        raise ValidationFailed(f"Ask for at most {MAX_REVENUE_MONTHS} calendar months at once.",
                               code=Code.WINDOW_TOO_LARGE,
                               details=[{"field": "query.to", "message": "window too long", "type": "window"}])
    sums: dict[str, dict[str, int]] = {}
    for account in (PLATFORM_FEES, SUBSCRIPTION_FEES, MARKETPLACE_DISCOUNTS):
        for item in _platform_entries(account, from_, to):
            bucket = sums.setdefault(item.currency, {"fees": 0, "fee_refunds": 0, "subscription_fees": 0,
                                                     "marketplace_discounts": 0})
            amount = int(item.amount)
            if account == MARKETPLACE_DISCOUNTS:  # an expense is a debit; its refunded part a credit
                bucket["marketplace_discounts"] += amount
            elif account == SUBSCRIPTION_FEES:
                bucket["subscription_fees"] -= amount
            elif amount < 0:  # a fee is a credit
                bucket["fees"] -= amount
            else:  # a fee refund is a debit
                bucket["fee_refunds"] += amount
    return {currency: Revenue(**{k: Money(currency, v) for k, v in s.items()})
            for currency, s in sorted(sums.items())}


@dataclass(frozen=True)
class LoyaltyBooks:
    """The loyalty programme's accounts in one currency over a window: points' value issued
    (liability credited) and released (reversed, expired, redeemed: debited), the
    marketplace's net expense for the points it funds, and breakage income."""

    issued: Money
    released: Money
    expense: Money
    breakage: Money

    def to_json(self) -> dict[str, Any]:
        return {"currency": self.issued.currency, "points_issued": self.issued.to_json(),
                "points_released": self.released.to_json(), "loyalty_expense": self.expense.to_json(),
                "loyalty_breakage": self.breakage.to_json()}


def loyalty_books(from_: datetime, to: datetime) -> dict[str, LoyaltyBooks]:
    """Per currency in ``[from_, to)``: 3 x 9 Queries per calendar month (as
    :func:`platform_fee_revenue`, whose window rules apply)."""
    from_, to = _check_window(from_, to)
    sums: dict[str, dict[str, int]] = {}
    for account in (LOYALTY_LIABILITY, LOYALTY_EXPENSE, LOYALTY_BREAKAGE):
        for item in _platform_entries(account, from_, to):
            bucket = sums.setdefault(item.currency, {"issued": 0, "released": 0, "expense": 0, "breakage": 0})
            amount = int(item.amount)
            if account == LOYALTY_LIABILITY:
                bucket["issued" if amount < 0 else "released"] += abs(amount)
            elif account == LOYALTY_EXPENSE:
                bucket["expense"] += amount
            else:
                bucket["breakage"] -= amount
    return {currency: LoyaltyBooks(**{k: Money(currency, v) for k, v in s.items()})
            for currency, s in sorted(sums.items())}
