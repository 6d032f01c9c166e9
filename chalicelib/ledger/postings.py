"""Journal entries (postings) and the builders of every money movement. Pure: no I/O.

**Sign convention**: an entry's amount is positive for a debit and negative for a
credit, so every posting's entries sum to zero *per currency*; constructing one that
does not raises :class:`UnbalancedPosting`.

**Chart of accounts** (the platform's books):

===========================  ===================  =====================================================
account                      kind                 moves
===========================  ===================  =====================================================
``stripe_clearing``          asset                the platform's Stripe balance: + charges, + transfer
                                                  reversals; - transfers, - refunds
``buyer_charges``            clearing             - a buyer's charge; + each seller's gross share.
                                                  Zero once a paid order is split; anything else is
                                                  a charge not yet attributed to its sellers
``refunds``                  clearing             + a refund paid to a buyer; - each seller's part
                                                  of it. Zero once a refund is attributed
``seller_payable:<sid>``     liability            what the seller earned: - gross sales, + fees,
                                                  + refunds, - fee refunds, + subscription fees
``transfers_out:<sid>``      contra-liability     what reached the seller's Stripe account:
                                                  + transfers, - transfer reversals
``platform_fees``            revenue              - marketplace fees, + fee refunds
``subscription_fees``        revenue              - monthly seller subscription fees
``loyalty_liability``        liability            what buyers' outstanding loyalty points are worth:
                                                  - points issued; + points reversed, expired
                                                  and redeemed
``loyalty_expense``          expense              + points the marketplace funds; - their reversal
``loyalty_breakage``         revenue              - points that expired unspent
``marketplace_discounts``    expense              + the marketplace-funded part of promotions'
                                                  discounts and free shipping (the seller is
                                                  credited as if it were not there), - its part
                                                  of refunds
===========================  ===================  =====================================================

What the platform still owes a seller is ``-(seller_payable + transfers_out)`` (negative:
the seller owes the platform, e.g. after a refund and before its transfer reversal).

**Movements** (one builder each; posting ids are derived from business ids so that
rebuilding a movement after a retry yields the same id, which the store writes once):

- ``charge``            Dr stripe_clearing / Cr buyer_charges         (the order's PaymentIntent)
- ``seller_payable``    Dr buyer_charges / Cr seller_payable:<sid>     (the seller's gross share of goods)
- ``shipping``          Dr buyer_charges / Cr seller_payable:<sid>     (the part's shipping: the seller's
                        revenue, apart so that statements show it)
- ``fee``               Dr seller_payable:<sid> / Cr platform_fees     (the marketplace fee)
- ``transfer``          Dr transfers_out:<sid> / Cr stripe_clearing    (the Stripe Transfer)
- ``refund``            Dr refunds / Cr stripe_clearing                (the Stripe Refund), then per
                        seller Dr seller_payable:<sid> / Cr refunds    (the seller's part of it)
- ``shipping_refund``   Dr seller_payable:<sid> / Cr refunds           (the shipping part of a refund)
- ``fee_refund``        Dr platform_fees / Cr seller_payable:<sid>     (proportional, see below)
- ``transfer_reversal`` Dr stripe_clearing / Cr transfers_out:<sid>    (the Stripe transfer reversal)
- ``subscription_fee``  Dr seller_payable:<sid> / Cr subscription_fees (once per seller and month)
- ``loyalty_issue``     Dr loyalty_expense (or seller_payable:<sid> for a seller-funded bonus) /
                        Cr loyalty_liability                           (a lot of points, when earned)
- ``loyalty_reversal``  Dr loyalty_liability / Cr whoever funded the lot (points taken back)
- ``loyalty_expiry``    Dr loyalty_liability / Cr loyalty_breakage     (points expired unspent)
- ``loyalty_redemption`` Dr loyalty_liability / Cr marketplace_discounts (points redeemed at
                        checkout, once the order is paid: the lots' booked value settles the
                        marketplace-funded discount they paid for)
- ``loyalty_redemption_refund`` Dr marketplace_discounts / Cr loyalty_liability (a refund gives the
                        buyer the redeemed points back in proportion, booked at the programme's value)
- ``marketplace_discount`` Dr marketplace_discounts / Cr seller_payable:<sid> (with the seller's
                        share: the marketplace-funded discount on the seller's lines, paid to it)
- ``marketplace_discount_refund`` Dr seller_payable:<sid> / Cr marketplace_discounts (with a
                        refund: the part of that discount on the refunded amount, in proportion)
- ``marketplace_shipping`` Dr marketplace_discounts / Cr seller_payable:<sid> (with the seller's
                        share: the part's shipping that a marketplace-funded free-shipping
                        promotion took off, paid to the seller as if the buyer had paid it)
- ``marketplace_shipping_refund`` Dr seller_payable:<sid> / Cr marketplace_discounts (with a
                        refund of the part's shipping: that shipping's part, in proportion)

**Loyalty points** are booked when they are earned, pending or not: a lot's value at the
programme's point value, rounded half-up, is fixed then and released in proportion as its
points leave (cumulatively, like the fee refunds below, so a whole lot releases exactly its
value). ``loyalty_liability`` therefore equals the value of every buyer's pending and
available points.

**Refund policy**: the platform fee is refunded in proportion to the refunded share of
each line. Cumulatively, after refunding ``r`` of a line of total ``g`` with fee ``f``,
the fee refunded is ``f * r / g`` rounded half-up (``Money.allocate(f, [r, g - r])``),
so successive partial refunds of a whole line give back exactly ``f``, never a cent more.

**Funding**: a line's total ``g`` is what the buyer paid; the marketplace-funded part ``m`` of
its discount is the marketplace's expense, so the seller is credited ``g + m`` and the fee
is computed on ``g + m`` (the amount the seller is credited). The seller's transfer is
``g + m - fee``. A refund of ``r`` of the line gives the buyer ``r``; the seller bears
``r`` plus the discount's part ``m * r / g`` (cumulative, rounded as the fee is), which goes
back to ``marketplace_discounts``, and gets the proportional fee back. Shipping follows the same
rule, the marketplace-funded part of its discount booked apart (``marketplace_shipping``). A
line of total 0 (shipping a marketplace- or seller-funded promotion made free) is in a refund
only when it is refunded whole (a part cancelled before shipping): its fee and funded part go
back whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from chalicelib.core import clock
from chalicelib.core.errors import Code, Conflict
from chalicelib.core.money import CurrencyMismatch, Money

STRIPE_CLEARING = "stripe_clearing"
BUYER_CHARGES = "buyer_charges"
REFUNDS = "refunds"
PLATFORM_FEES = "platform_fees"
SUBSCRIPTION_FEES = "subscription_fees"
MARKETPLACE_DISCOUNTS = "marketplace_discounts"
SELLER_PAYABLE = "seller_payable"
TRANSFERS_OUT = "transfers_out"

PLATFORM_ACCOUNTS = frozenset({STRIPE_CLEARING, BUYER_CHARGES, REFUNDS, PLATFORM_FEES, SUBSCRIPTION_FEES,
                               MARKETPLACE_DISCOUNTS})
LOYALTY_LIABILITY = "loyalty_liability"
LOYALTY_EXPENSE = "loyalty_expense"
LOYALTY_BREAKAGE = "loyalty_breakage"
LOYALTY_ACCOUNTS = frozenset({LOYALTY_LIABILITY, LOYALTY_EXPENSE, LOYALTY_BREAKAGE})

PLATFORM_ACCOUNTS = PLATFORM_ACCOUNTS | LOYALTY_ACCOUNTS  # the loyalty programme's books (issue 14)
SELLER_ACCOUNTS = frozenset({SELLER_PAYABLE, TRANSFERS_OUT})
# Pass-through accounts that every order's postings bring back to zero. Nothing reads them
# by time (an order's postings, which hold every entry, show whether they are zero), so
# their entries live only in the posting record, not also in per-account entry items.
CLEARING_ACCOUNTS = frozenset({BUYER_CHARGES, REFUNDS})

# In the order a statement lists movements that happen at the same instant.
# New kinds go last: the rank is in stored entries' sort keys.
KINDS = ("charge", "seller_payable", "fee", "transfer", "refund", "fee_refund", "transfer_reversal",
         "subscription_fee", "shipping", "shipping_refund", "loyalty_issue", "loyalty_reversal", "loyalty_expiry",
         "marketplace_discount", "marketplace_discount_refund", "marketplace_shipping", "marketplace_shipping_refund",
         "loyalty_redemption", "loyalty_redemption_refund")


def recorded_under(posting_id: str) -> str:
    """The posting whose record holds ``posting_id`` when the postings of one business event
    are recorded together (``service.posting_items(..., together=True)``): a paid order's
    shares and fees are in its charge's record, a refund's seller parts (refund, fee refund,
    transfer reversal) in the refund's. Other postings have a record of their own."""
    kind, _, rest = posting_id.partition(":")
    # <kind>:<order>:<seller>
    if kind in ("seller_payable", "fee", "shipping", "marketplace_discount", "marketplace_shipping"):
        return f"charge:{rest.rpartition(':')[0]}"
    if kind in ("refund", "fee_refund", "transfer_reversal", "shipping_refund", "marketplace_discount_refund",
                "marketplace_shipping_refund") and rest.count(":") == 1:  # <kind>:<refund>:<seller>
        return f"refund:{rest.partition(':')[0]}"
    return posting_id


class UnbalancedPosting(ValueError):
    """A posting's entries do not sum to zero in some currency."""


def seller_account(base: str, seller_id: str) -> str:
    if base not in SELLER_ACCOUNTS or not seller_id or ":" in seller_id:
        raise ValueError(f"no seller account {base!r} for {seller_id!r}")
    return f"{base}:{seller_id}"


def split_account(account: str) -> tuple[str, str | None]:
    """``seller_payable:sel_1`` → (``seller_payable``, ``sel_1``); platform accounts → (name, None)."""
    base, _, seller_id = account.partition(":")
    if base in PLATFORM_ACCOUNTS and not seller_id:
        return base, None
    if base in SELLER_ACCOUNTS and seller_id and ":" not in seller_id:
        return base, seller_id
    raise ValueError(f"unknown ledger account {account!r}")


@dataclass(frozen=True)
class Entry:
    account: str
    amount: Money  # debit positive, credit negative

    def __post_init__(self) -> None:
        split_account(self.account)
        if self.amount.amount == 0:
            raise ValueError("a ledger entry cannot be zero")

    @property
    def base_account(self) -> str:
        return split_account(self.account)[0]

    @property
    def seller_id(self) -> str | None:
        return split_account(self.account)[1]


def utc(moment: datetime | None) -> datetime:
    """``moment`` (now when None) in UTC; naive datetimes are refused, not guessed."""
    if moment is None:
        return clock.now()
    if moment.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Posting:
    """One journal entry: a money movement as entries that sum to zero per currency."""

    posting_id: str
    kind: str
    entries: tuple[Entry, ...]
    occurred_at: datetime
    order_id: str | None = None
    seller_id: str | None = None
    refs: Mapping[str, str] = field(default_factory=dict)  # Stripe ids for reconciliation

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown posting kind {self.kind!r}")
        if not self.posting_id or "#" in self.posting_id:
            raise ValueError("a posting id is required and cannot contain '#'")
        if len(self.entries) < 2:
            raise UnbalancedPosting("a posting needs at least two entries")
        object.__setattr__(self, "occurred_at", utc(self.occurred_at))
        unbalanced = {currency: total for currency, total in self.totals().items() if total}
        if unbalanced:
            raise UnbalancedPosting(f"posting {self.posting_id} does not balance: {unbalanced}")

    def totals(self) -> dict[str, int]:
        """Sum of the entries per currency (all zero for a valid posting)."""
        totals: dict[str, int] = {}
        for entry in self.entries:
            totals[entry.amount.currency] = totals.get(entry.amount.currency, 0) + entry.amount.amount
        return totals


def _positive(amount: Money, what: str) -> None:
    if amount.amount <= 0:
        raise ValueError(f"{what} must be positive, got {amount.amount}")


def _transfer(kind: str, posting_id: str, *, debit: str, credit: str, amount: Money,
              occurred_at: datetime | None, order_id: str | None = None, seller_id: str | None = None,
              refs: Mapping[str, str | None] | None = None) -> Posting:
    """The common two-entry posting: ``amount`` from ``credit`` to ``debit``."""
    _positive(amount, f"a {kind} amount")
    return Posting(
        posting_id=posting_id, kind=kind, entries=(Entry(debit, amount), Entry(credit, -amount)),
        occurred_at=utc(occurred_at), order_id=order_id, seller_id=seller_id,
        refs={k: v for k, v in (refs or {}).items() if v},
    )


def charge_posting(order_id: str, amount: Money, *, payment_intent_id: str | None = None,
                   charge_id: str | None = None, occurred_at: datetime | None = None) -> Posting:
    """The buyer paid the platform for the whole order (one PaymentIntent)."""
    return _transfer("charge", f"charge:{order_id}", debit=STRIPE_CLEARING, credit=BUYER_CHARGES,
                     amount=amount, occurred_at=occurred_at, order_id=order_id,
                     refs={"payment_intent": payment_intent_id, "charge": charge_id})


def seller_share_postings(order_id: str, seller_id: str, gross: Money, fee: Money, *,
                          shipping: Money | None = None, marketplace_discount: Money | None = None,
                          marketplace_shipping: Money | None = None,
                          occurred_at: datetime | None = None) -> list[Posting]:
    """The seller earns its part's ``gross`` (what the buyer paid for its lines and
    ``shipping``; the shipping in a posting of its own) plus the ``marketplace_discount`` the
    marketplace funded on its lines and the ``marketplace_shipping`` it funded of the shipping,
    and is charged the marketplace ``fee`` on that (lines, and shipping when the fee schedule
    says so)."""
    funded = marketplace_discount.amount if marketplace_discount is not None else 0
    funded_shipping = marketplace_shipping.amount if marketplace_shipping is not None else 0
    if funded < 0 or funded_shipping < 0 or not 0 <= fee.amount <= gross.amount + funded + funded_shipping:
        raise ValueError("a fee must be between 0 and the amount it is charged on")
    shipping = shipping if shipping is not None else Money.zero(gross.currency)
    if not 0 <= shipping.amount <= gross.amount:
        raise ValueError("shipping must be between 0 and the part's gross amount")
    payable = seller_account(SELLER_PAYABLE, seller_id)
    postings = []
    if gross.amount > shipping.amount:
        postings.append(_transfer("seller_payable", f"seller_payable:{order_id}:{seller_id}", debit=BUYER_CHARGES,
                                  credit=payable, amount=gross - shipping, occurred_at=occurred_at,
                                  order_id=order_id, seller_id=seller_id))
    if shipping.amount:
        postings.append(_transfer("shipping", f"shipping:{order_id}:{seller_id}", debit=BUYER_CHARGES,
                                  credit=payable, amount=shipping, occurred_at=occurred_at, order_id=order_id,
                                  seller_id=seller_id))
    if funded:
        postings.append(_transfer("marketplace_discount", f"marketplace_discount:{order_id}:{seller_id}",
                                  debit=MARKETPLACE_DISCOUNTS, credit=payable, amount=Money(gross.currency, funded),
                                  occurred_at=occurred_at, order_id=order_id, seller_id=seller_id))
    if funded_shipping:
        postings.append(_transfer("marketplace_shipping", f"marketplace_shipping:{order_id}:{seller_id}",
                                  debit=MARKETPLACE_DISCOUNTS, credit=payable,
                                  amount=Money(gross.currency, funded_shipping), occurred_at=occurred_at,
                                  order_id=order_id, seller_id=seller_id))
    if fee.amount:
        postings.append(_transfer("fee", f"fee:{order_id}:{seller_id}", debit=payable, credit=PLATFORM_FEES,
                                  amount=fee, occurred_at=occurred_at, order_id=order_id, seller_id=seller_id))
    return postings


def transfer_posting(order_id: str, seller_id: str, amount: Money, *, transfer_id: str | None = None,
                     occurred_at: datetime | None = None) -> Posting:
    """The seller's share minus the fee moved to its connected account (one per order and seller)."""
    return _transfer("transfer", f"transfer:{order_id}:{seller_id}",
                     debit=seller_account(TRANSFERS_OUT, seller_id), credit=STRIPE_CLEARING, amount=amount,
                     occurred_at=occurred_at, order_id=order_id, seller_id=seller_id,
                     refs={"transfer": transfer_id})


def refund_posting(order_id: str, refund_id: str, amount: Money, *, stripe_refund_id: str | None = None,
                   occurred_at: datetime | None = None) -> Posting:
    """Money paid back to the buyer (one Stripe Refund); :func:`seller_refund_postings`
    attributes it to the sellers whose lines it refunds."""
    return _transfer("refund", f"refund:{refund_id}", debit=REFUNDS, credit=STRIPE_CLEARING, amount=amount,
                     occurred_at=occurred_at, order_id=order_id, refs={"refund": stripe_refund_id})


class RefundedLine(NamedTuple):
    """One order line being refunded: its total and fee as charged, what was refunded of
    it before, and what is refunded now; ``marketplace_discount`` the part of its discount
    the marketplace funded (None: none)."""

    line_total: Money
    fee: Money
    refunded_before: Money
    amount: Money
    shipping: bool = False  # the part's shipping rather than a line of goods
    marketplace_discount: Money | None = None


def proportional_fee_refund(line: RefundedLine) -> Money:
    """The part of the line's fee that goes back with this refund (see the module's policy)."""
    for money in (line.fee, line.refunded_before, line.amount):
        if money.currency != line.line_total.currency:
            raise CurrencyMismatch(f"{money.currency} in a {line.line_total.currency} line")
    refunded_after = line.refunded_before + line.amount
    if line.line_total.amount == 0 and line.amount.amount == 0 and line.refunded_before.amount == 0:
        return line.fee  # a line made free, refunded whole (see the module's policy)
    if line.amount.amount <= 0 or line.refunded_before.amount < 0:
        raise ValueError("a refund must be positive")
    if refunded_after.amount > line.line_total.amount:
        raise Conflict("A refund cannot exceed what was paid for the line.", code=Code.REFUND_EXCEEDS_CAPTURED,
                       details={"line_total": line.line_total.to_json(),
                                "refunded_before": line.refunded_before.to_json(),
                                "requested": line.amount.to_json()})

    def fee_refunded(refunded: Money) -> Money:
        return line.fee.allocate([refunded.amount, line.line_total.amount - refunded.amount])[0]

    return fee_refunded(refunded_after) - fee_refunded(line.refunded_before)


def proportional_discount_refund(line: RefundedLine) -> Money:
    """The part of the line's marketplace-funded discount that the seller gives back with
    this refund: as the fee, ``m * refunded / total`` cumulatively, so a whole line gives back ``m``."""
    funded = line.marketplace_discount
    if funded is None or not funded.amount:
        return Money.zero(line.line_total.currency)
    if line.line_total.amount <= 0:  # a line made free, refunded whole
        return funded if line.refunded_before.amount == 0 else Money.zero(line.line_total.currency)

    def given_back(refunded: Money) -> Money:
        return funded.allocate([refunded.amount, line.line_total.amount - refunded.amount])[0]

    return given_back(line.refunded_before + line.amount) - given_back(line.refunded_before)


def refund_split(lines: Sequence[RefundedLine]) -> tuple[Money, Money]:
    """(amount refunded, fee given back) for one seller's lines; the transfer reversal is
    their difference plus :func:`discount_given_back`."""
    if not lines:
        raise ValueError("a refund needs at least one line")
    refunded = Money.zero(lines[0].amount.currency)
    fee_back = Money.zero(lines[0].amount.currency)
    for line in lines:
        refunded = refunded + line.amount
        fee_back = fee_back + proportional_fee_refund(line)
    return refunded, fee_back


def discount_given_back(lines: Sequence[RefundedLine], *, shipping: bool | None = None) -> Money:
    """The marketplace-funded discount on one seller's refunded amounts (of its shipping
    only, or its goods only, when ``shipping`` says so), which the seller had been credited
    and now gives back."""
    back = Money.zero(lines[0].amount.currency)
    for line in lines:
        if shipping is None or line.shipping == shipping:
            back = back + proportional_discount_refund(line)
    return back


def seller_refund_postings(order_id: str, refund_id: str, seller_id: str, lines: Sequence[RefundedLine], *,
                           occurred_at: datetime | None = None) -> list[Posting]:
    """The seller bears its refunded lines (and shipping, in a posting of its own) and the
    marketplace-funded discount on them, and gets the proportional fee back."""
    refunded, fee_back = refund_split(lines)
    discount_back = discount_given_back(lines, shipping=False)
    shipping_back = discount_given_back(lines, shipping=True)
    shipping = sum((line.amount for line in lines if line.shipping), Money.zero(refunded.currency))
    payable = seller_account(SELLER_PAYABLE, seller_id)
    postings = []
    if refunded.amount > shipping.amount:
        postings.append(_transfer("refund", f"refund:{refund_id}:{seller_id}", debit=payable, credit=REFUNDS,
                                  amount=refunded - shipping, occurred_at=occurred_at, order_id=order_id,
                                  seller_id=seller_id))
    if shipping.amount:
        postings.append(_transfer("shipping_refund", f"shipping_refund:{refund_id}:{seller_id}", debit=payable,
                                  credit=REFUNDS, amount=shipping, occurred_at=occurred_at, order_id=order_id,
                                  seller_id=seller_id))
    if discount_back.amount:
        postings.append(_transfer("marketplace_discount_refund", f"marketplace_discount_refund:{refund_id}:{seller_id}",
                                  debit=payable, credit=MARKETPLACE_DISCOUNTS, amount=discount_back,
                                  occurred_at=occurred_at, order_id=order_id, seller_id=seller_id))
    if shipping_back.amount:
        postings.append(_transfer("marketplace_shipping_refund", f"marketplace_shipping_refund:{refund_id}:{seller_id}",
                                  debit=payable, credit=MARKETPLACE_DISCOUNTS, amount=shipping_back,
                                  occurred_at=occurred_at, order_id=order_id, seller_id=seller_id))
    if fee_back.amount:
        postings.append(_transfer("fee_refund", f"fee_refund:{refund_id}:{seller_id}", debit=PLATFORM_FEES,
                                  credit=payable, amount=fee_back, occurred_at=occurred_at, order_id=order_id,
                                  seller_id=seller_id))
    return postings


def transfer_reversal_posting(order_id: str, refund_id: str, seller_id: str, amount: Money, *,
                              reversal_id: str | None = None, occurred_at: datetime | None = None) -> Posting:
    """Money taken back from the seller's connected account for a refund."""
    return _transfer("transfer_reversal", f"transfer_reversal:{refund_id}:{seller_id}", debit=STRIPE_CLEARING,
                     credit=seller_account(TRANSFERS_OUT, seller_id), amount=amount, occurred_at=occurred_at,
                     order_id=order_id, seller_id=seller_id, refs={"transfer_reversal": reversal_id})


def subscription_fee_posting(seller_id: str, period: str, amount: Money, *,
                             occurred_at: datetime | None = None) -> Posting:
    """The seller's monthly subscription (``period`` ``YYYY-MM``): at most once a month,
    because the posting id is the seller and the month."""
    if len(period) != 7 or period[4] != "-" or not (period[:4] + period[5:]).isdigit():
        raise ValueError("period must be YYYY-MM")
    return _transfer("subscription_fee", f"subscription_fee:{seller_id}:{period}",
                     debit=seller_account(SELLER_PAYABLE, seller_id), credit=SUBSCRIPTION_FEES, amount=amount,
                     occurred_at=occurred_at, seller_id=seller_id)


def _loyalty_funder(seller_id: str | None) -> str:
    """The account that pays for a lot of points: the seller's payable for a seller-funded
    bonus, the marketplace's expense otherwise."""
    return seller_account(SELLER_PAYABLE, seller_id) if seller_id else LOYALTY_EXPENSE


def loyalty_issue_posting(lot_id: str, value: Money, *, funded_by: str | None = None, order_id: str | None = None,
                          occurred_at: datetime | None = None) -> Posting:
    """A lot of points earned: its value becomes a liability (``funded_by``: the seller
    funding a bonus lot; None: the marketplace)."""
    return _transfer("loyalty_issue", f"loyalty_issue:{lot_id}", debit=_loyalty_funder(funded_by),
                     credit=LOYALTY_LIABILITY, amount=value, occurred_at=occurred_at, order_id=order_id,
                     seller_id=funded_by)


def loyalty_reversal_posting(movement_id: str, lot_id: str, value: Money, *, funded_by: str | None = None,
                             order_id: str | None = None, occurred_at: datetime | None = None) -> Posting:
    """Points of a lot taken back (a refund, a negative adjustment): the liability goes back to
    whoever funded the lot."""
    return _transfer("loyalty_reversal", f"loyalty_reversal:{movement_id}:{lot_id}", debit=LOYALTY_LIABILITY,
                     credit=_loyalty_funder(funded_by), amount=value, occurred_at=occurred_at, order_id=order_id,
                     seller_id=funded_by)


def loyalty_expiry_posting(lot_id: str, value: Money, *, occurred_at: datetime | None = None) -> Posting:
    """A lot's unspent points expired: what is left of its value is breakage income (a
    seller-funded lot's too: the seller paid for points that were issued)."""
    return _transfer("loyalty_expiry", f"loyalty_expiry:{lot_id}", debit=LOYALTY_LIABILITY, credit=LOYALTY_BREAKAGE,
                     amount=value, occurred_at=occurred_at)


def loyalty_redemption_posting(redemption_id: str, value: Money, *, order_id: str | None = None,
                               occurred_at: datetime | None = None) -> Posting:
    """Points redeemed at checkout (one posting for all the lots they came from): their booked
    value pays for the marketplace-funded discount the seller was credited in full
    (``marketplace_discount``); a point value changed since they were earned leaves the
    difference in ``marketplace_discounts``."""
    return _transfer("loyalty_redemption", f"loyalty_redemption:{redemption_id}", debit=LOYALTY_LIABILITY,
                     credit=MARKETPLACE_DISCOUNTS, amount=value, occurred_at=occurred_at, order_id=order_id)


def loyalty_redemption_refund_posting(lot_id: str, value: Money, *, order_id: str | None = None,
                                      occurred_at: datetime | None = None) -> Posting:
    """Redeemed points given back with a refund (a new lot): the marketplace discount the
    seller gave back becomes a liability again."""
    return _transfer("loyalty_redemption_refund", f"loyalty_redemption_refund:{lot_id}", debit=MARKETPLACE_DISCOUNTS,
                     credit=LOYALTY_LIABILITY, amount=value, occurred_at=occurred_at, order_id=order_id)


def sum_by_currency(postings: Iterable[Posting]) -> dict[str, int]:
    """Every entry of ``postings`` summed per currency (zero for balanced postings)."""
    totals: dict[str, int] = {}
    for posting in postings:
        for currency, total in posting.totals().items():
            totals[currency] = totals.get(currency, 0) + total
    return totals
