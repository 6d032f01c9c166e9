"""Ledger items. A posting is written in the same TransactWriteItems as the business change
that caused it (``service.posting_items`` returns the writes; the caller commits them).

Keys and access patterns (RT = DynamoDB round trips):

- ``PostingRecord``: PK=POSTING#<posting_id>, SK=POSTING — the whole posting (kind, refs,
  entries). Put with ``attribute_not_exists(PK)`` in the posting's transaction: this
  marker is what makes a posting apply once, however often a retry rebuilds it. The
  postings of one business event share one record (``together``, under the first one's
  id, ``postings.recorded_under``): a paid order's charge holds every seller's share and
  fee, a refund its seller's refund, fee refund and transfer reversal.
  - get a posting: GetItem (1 RT; one recorded under another's id: 2); many: BatchGetItem
    of their records (1 RT per 100)
  - GSI1: GSI1PK=LEDGER_ORDER#<order_id>, GSI1SK=<occurred_at>#<posting_id> — every posting
    of an order, for reconciliation against its Stripe objects: Query (1 RT per page)
- ``LedgerEntry``: one item per entry, keyed by its account — except entries of the clearing
  accounts ``buyer_charges`` and ``refunds`` (``postings.CLEARING_ACCOUNTS``), which are
  only in the posting record: nothing reads those accounts by time, and an order's
  postings show whether they net to zero (their items written before stay, unread):
  - seller accounts: PK=SELLER#<sid>, SK=LEDGER#<occurred_at>#<k>#<posting_id>#<nn> — a seller's
    statement for ``[from, to)``: Query ``SK BETWEEN LEDGER#<from> AND LEDGER#<to>``
    (1 RT per page; tenant isolation is the partition key)
  - platform accounts: PK=LEDGER#<account>#<yyyy-mm>#<n>, SK=<occurred_at>#<k>#<posting_id>#<nn>
    (``n``: the posting's shard, so every order's fee entries do not land on one key) —
    platform fee (or subscription) revenue for ``[from, to)``: per calendar month
    touched, one Query per shard and one of the unsharded key of entries written before
    sharding, in parallel, merged in time order. Month buckets keep partitions bounded; a
    base-table key rather than a GSI costs no index writes and reads consistently.
- ``SellerBalance``: PK=SELLER#<sid>, SK=LEDGER_BALANCE#<currency> — running sums of the
  seller's two accounts, ADDed in the posting's transaction: balance in O(1), GetItem
  (1 RT); all currencies: Query ``begins_with(SK, LEDGER_BALANCE#)`` (1 RT).
  There is deliberately no balance item for platform accounts: every order would
  update the same item, a hot key that makes concurrent transactions conflict.

``<k>`` is the posting kind's rank (charge, sale, fee, transfer, refund, ...), so that
movements of one instant list in causal order. Times are UTC ISO-8601 with microseconds
(``2025-06-01T10:00:00.000000Z``): fixed width, so string order is time order.

Writes per record: 1 marker + 1 per entry outside the clearing accounts; per transaction,
plus 1 balance update per (seller, currency) touched. A paid order: the webhook writes
2 + 4 per seller (one record for the charge, shares and fees and the stripe_clearing
entry; per seller: the share's and the fee's payable entries, the platform_fees entry,
the balance); each seller's transfer 4 (marker, transfers_out, stripe_clearing, balance);
a refund up to 8 (one record; stripe_clearing twice, payable twice, platform_fees,
transfers_out; the balance). Each write is 2 WRU per started KB inside
TransactWriteItems, each record also a GSI1 entry. Records written before hold one
posting each and read as they did. The webhook's transaction (with the order, a
sub-order and a sales item per seller and the event: 4 + 6 per seller items) stays
within DynamoDB's 100 items up to 16 sellers; checkout allows 8.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.core.attributes import CompactJSONAttribute
from chalicelib.core.db import GSI1, TableModel


class PostingRecord(TableModel):
    posting_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    seller_id = UnicodeAttribute(null=True)
    refs = CompactJSONAttribute(default=dict)
    entries = CompactJSONAttribute()  # [[account, currency, amount], …]
    # The postings recorded together with this one (one business event: same order and
    # time): [[posting_id, kind, seller_id, refs, entries], …]; absent on records of one.
    together = CompactJSONAttribute(null=True)

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    by_order = GSI1()


class LedgerEntry(TableModel):
    posting_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    account = UnicodeAttribute()
    currency = UnicodeAttribute()
    amount = NumberAttribute()  # minor units; debit positive, credit negative
    occurred_at = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    refs = CompactJSONAttribute(default=dict)


class SellerBalance(TableModel):
    seller_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    payable = NumberAttribute(default=0)  # sum of seller_payable:<sid> entries
    transferred = NumberAttribute(default=0)  # sum of transfers_out:<sid> entries
    updated_at = UnicodeAttribute(null=True)
