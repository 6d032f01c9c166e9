"""Reconciliation: does the ledger agree with Stripe's objects?

Every posting that moves money through ``stripe_clearing`` names the Stripe object that moved
it (``refs``), and every Stripe object agora creates names agora's ids (``metadata``). A window
``[from, to)`` is reconciled in both directions:

1. **Ledger → Stripe.** The window's ``stripe_clearing`` entries (one Query per platform month
   bucket, no Scan) give the postings; each one's Stripe object is fetched and compared:
   existence, amount, currency, state and agora's metadata (table below).
2. **Stripe → ledger.** Stripe's succeeded PaymentIntents, transfers, refunds and transfer
   reversals created in the window that carry agora metadata must each have the posting whose
   id that metadata derives (``charge:{order}``, ``transfer:{order}:{seller}``,
   ``refund:{refund}``, ``transfer_reversal:{refund}:{seller}``), in its own record or the one
   it is recorded under (``postings.recorded_under``): one BatchGetItem per 100 records.
3. **Per order and seller**, for every order touched by either side: what Stripe transferred
   net of reversals (the order's ``transfer_group``) against the ledger's ``transfers_out``
   (the order's postings, one Query of GSI1). This is a summary check: it is reported only
   when no difference of (1) or (2) already names that order and seller, so one cause shows
   as one line.

The comparison is pure (:func:`check_movement`, :func:`check_unrecorded`,
:func:`check_seller_totals` over :class:`Movement` and :class:`StripeRecord`);
:func:`reconcile` does the reading. Stripe objects are read once each per run.

Problem codes (``Difference.problem``) are listed in :data:`PROBLEMS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.money import Money
from chalicelib.ledger.postings import TRANSFERS_OUT, Posting, split_account
from chalicelib.payments import stripe_gateway
from chalicelib.sellers.service import sellers_by_id

PROBLEMS: dict[str, str] = {
    "missing_stripe_reference": "The posting names no Stripe object.",
    "stripe_object_missing": "Stripe has no object with the id the posting names.",
    "amount_mismatch": "Stripe's amount differs from the ledger's.",
    "currency_mismatch": "Stripe's currency differs from the ledger's.",
    "payment_not_succeeded": "The PaymentIntent has not succeeded, yet the ledger records a charge.",
    "charge_mismatch": "The PaymentIntent's charge is not the one the posting names.",
    "refund_not_succeeded": "The refund has not succeeded (pending, failed or canceled), yet the ledger records it.",
    "destination_mismatch": "The transfer went to another account than the seller's Stripe account.",
    "transfer_reversed_beyond_ledger": "Stripe reversed more of the transfer than the ledger's reversals.",
    "metadata_mismatch": "The Stripe object's metadata names another order, seller or refund than the posting.",
    "payment_not_in_ledger": "A succeeded PaymentIntent of an agora order has no charge posting (also a payment "
                             "agora refused because it does not match its order: see the order's payment_problems).",
    "transfer_not_in_ledger": "A transfer of an agora order has no transfer posting.",
    "refund_not_in_ledger": "A refund of an agora order has no refund posting.",
    "reversal_not_in_ledger": "A transfer reversal of an agora refund has no reversal posting.",
    "recorded_for_another_object": "The posting for this object records a different Stripe object (a duplicate?).",
    "seller_transfers_mismatch": "What Stripe transferred to the seller for the order, net of reversals, "
                                 "differs from the ledger's transfers_out.",
}

# The Stripe reference each kind of clearing posting carries (``Posting.refs`` key).
REF_OF_KIND = {"charge": "payment_intent", "transfer": "transfer", "refund": "refund",
               "transfer_reversal": "transfer_reversal"}
NOT_IN_LEDGER = {"payment_intent": "payment_not_in_ledger", "transfer": "transfer_not_in_ledger",
                 "refund": "refund_not_in_ledger", "transfer_reversal": "reversal_not_in_ledger"}
DEFAULT_TRANSFER_LOOKBACK = timedelta(days=90)


@dataclass(frozen=True)
class Movement:
    """A posting that moved money through ``stripe_clearing``, as the ledger saw it."""

    posting_id: str
    kind: str  # charge, transfer, refund, transfer_reversal
    amount: Money  # positive: how much moved
    order_id: str | None
    refs: Mapping[str, str] = field(default_factory=dict)

    @property
    def stripe_id(self) -> str | None:
        return self.refs.get(REF_OF_KIND.get(self.kind, ""))

    @property
    def seller_id(self) -> str | None:
        """From the posting id, which the builders derive (``transfer:{order}:{seller}``)."""
        return self.posting_id.rpartition(":")[2] if self.kind in ("transfer", "transfer_reversal") else None

    @property
    def refund_id(self) -> str | None:
        if self.kind == "refund":
            return self.posting_id.split(":", 1)[1]
        if self.kind == "transfer_reversal":
            return self.posting_id.split(":")[1]
        return None

    def expected_metadata(self) -> dict[str, str | None]:
        expected: dict[str, str | None] = {"order_id": self.order_id}
        if self.seller_id:
            expected["seller_id"] = self.seller_id
        if self.refund_id:
            expected["refund_id"] = self.refund_id
        return expected


@dataclass(frozen=True)
class StripeRecord:
    """The fields of a Stripe object that reconciliation reads, whatever its type."""

    object: str  # payment_intent, transfer, refund, transfer_reversal
    id: str
    amount: int  # a PaymentIntent's amount_received; the others' amount
    currency: str
    created: int
    metadata: Mapping[str, str] = field(default_factory=dict)
    status: str | None = None  # PaymentIntent, refund
    latest_charge: str | None = None  # PaymentIntent
    destination: str | None = None  # transfer
    transfer_group: str | None = None  # transfer
    amount_reversed: int = 0  # transfer
    transfer: str | None = None  # transfer reversal

    @property
    def money(self) -> Money:
        return Money(self.currency, self.amount)

    def expected_posting_id(self) -> str | None:
        """The posting this object should have, from agora's metadata; None for objects
        agora did not create (or that lack the ids to derive it)."""
        meta = self.metadata
        order, seller, refund = meta.get("order_id"), meta.get("seller_id"), meta.get("refund_id")
        if self.object == "payment_intent" and order:
            return f"charge:{order}"
        if self.object == "transfer" and order and seller:
            return f"transfer:{order}:{seller}"
        if self.object == "refund" and order and refund:
            return f"refund:{refund}"
        if self.object == "transfer_reversal" and order and refund and seller:
            return f"transfer_reversal:{refund}:{seller}"
        return None


@dataclass(frozen=True)
class Difference:
    problem: str  # a key of PROBLEMS
    posting_id: str | None
    stripe_id: str | None
    ledger_amount: Money | None
    stripe_amount: Money | None
    order_id: str | None = None
    seller_id: str | None = None
    detail: str = ""

    @property
    def message(self) -> str:
        return f"{PROBLEMS[self.problem]} {self.detail}".strip()

    def to_json(self) -> dict[str, Any]:
        return {"problem": self.problem, "posting_id": self.posting_id, "stripe_id": self.stripe_id,
                "ledger_amount": self.ledger_amount.to_json() if self.ledger_amount else None,
                "stripe_amount": self.stripe_amount.to_json() if self.stripe_amount else None,
                "order_id": self.order_id, "seller_id": self.seller_id, "message": self.message}


@dataclass(frozen=True)
class Report:
    from_: datetime
    to: datetime
    postings_checked: int
    stripe_objects_checked: int
    differences: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        from chalicelib.ledger.service import iso

        return {"from": iso(self.from_), "to": iso(self.to), "ok": self.ok,
                "postings_checked": self.postings_checked, "stripe_objects_checked": self.stripe_objects_checked,
                "differences": [d.to_json() for d in self.differences]}

    def text(self) -> str:
        from chalicelib.ledger.service import format_minor, iso

        def amount(money: Money | None) -> str:
            return f"{format_minor(money)} {money.currency}" if money else "-"

        head = (f"Ledger vs Stripe, {iso(self.from_)} to {iso(self.to)} (end excluded): "
                f"{self.postings_checked} postings and {self.stripe_objects_checked} Stripe objects checked, ")
        if self.ok:
            return head + "no differences."
        lines = [head + f"{len(self.differences)} difference{'s' if len(self.differences) != 1 else ''}:"]
        for d in self.differences:
            lines.append(f"- {d.problem}: {d.message}")
            lines.append(f"    posting {d.posting_id or '-'} | Stripe {d.stripe_id or '-'} | "
                         f"ledger {amount(d.ledger_amount)} | Stripe {amount(d.stripe_amount)} | "
                         f"order {d.order_id or '-'} | seller {d.seller_id or '-'}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ comparing


def _difference(problem: str, movement: Movement, found: StripeRecord | None, detail: str = "",
                stripe_amount: Money | None = None) -> Difference:
    return Difference(problem, movement.posting_id, found.id if found else movement.stripe_id, movement.amount,
                      stripe_amount if stripe_amount is not None else (found.money if found else None),
                      movement.order_id, movement.seller_id, detail)


def check_movement(movement: Movement, found: StripeRecord | None, *, destination: str | None = None,
                   ledger_reversed: int = 0) -> list[Difference]:
    """What differs between one posting and the Stripe object it names (``found``; None when
    Stripe has none). ``destination``: the seller's Stripe account (transfers);
    ``ledger_reversed``: the ledger's reversals of this seller's transfer for the order."""
    if movement.stripe_id is None:
        return [_difference("missing_stripe_reference", movement, None)]
    if found is None:
        return [_difference("stripe_object_missing", movement, None)]
    differences: list[Difference] = []
    if found.currency != movement.amount.currency:
        differences.append(_difference("currency_mismatch", movement, found))
    elif found.amount != movement.amount.amount:
        differences.append(_difference("amount_mismatch", movement, found))
    if movement.kind == "charge":
        if found.status != "succeeded":
            differences.append(_difference("payment_not_succeeded", movement, found, f"Its status is {found.status}."))
        recorded_charge = movement.refs.get("charge")
        if recorded_charge and found.latest_charge and recorded_charge != found.latest_charge:
            differences.append(_difference("charge_mismatch", movement, found,
                                           f"Posting: {recorded_charge}; Stripe: {found.latest_charge}."))
    elif movement.kind == "refund" and found.status != "succeeded":
        differences.append(_difference("refund_not_succeeded", movement, found, f"Its status is {found.status}."))
    elif movement.kind == "transfer":
        if found.destination != destination:
            differences.append(_difference("destination_mismatch", movement, found,
                                           f"Stripe: {found.destination}; the seller's account: {destination}."))
        if found.amount_reversed > ledger_reversed:
            differences.append(_difference(
                "transfer_reversed_beyond_ledger", movement, found,
                f"Reversed in Stripe: {found.amount_reversed}; reversals in the ledger: {ledger_reversed}.",
                stripe_amount=Money(found.currency, found.amount - found.amount_reversed)))
    wrong = {k: found.metadata.get(k) for k, v in movement.expected_metadata().items() if found.metadata.get(k) != v}
    if wrong:
        differences.append(_difference("metadata_mismatch", movement, found,
                                       "Stripe's metadata: " + ", ".join(f"{k}={v}" for k, v in sorted(wrong.items()))
                                       + "."))
    return differences


def check_unrecorded(records: Iterable[StripeRecord], recorded: Mapping[str, Mapping[str, str]]) -> list[Difference]:
    """Stripe objects with agora metadata whose posting (``recorded``: posting id → refs) is
    missing, or records another Stripe object."""
    differences: list[Difference] = []
    for record in records:
        posting_id = record.expected_posting_id()
        if posting_id is None:
            continue
        meta = record.metadata
        refs = recorded.get(posting_id)
        other = refs.get(record.object) if refs is not None else None  # the refs key is the object's type
        if refs is None:
            differences.append(Difference(NOT_IN_LEDGER[record.object], posting_id, record.id, None, record.money,
                                          meta.get("order_id"), meta.get("seller_id")))
        elif other not in (None, record.id):
            differences.append(Difference("recorded_for_another_object", posting_id, record.id, None, record.money,
                                          meta.get("order_id"), meta.get("seller_id"),
                                          f"The posting records {other}."))
    return differences


def ledger_transfers_out(postings: Iterable[Posting]) -> dict[str, Money]:
    """Per seller, the sum of an order's ``transfers_out:<seller>`` entries (transfers less reversals)."""
    totals: dict[str, Money] = {}
    for posting in postings:
        for entry in posting.entries:
            base, seller_id = split_account(entry.account)
            if base == TRANSFERS_OUT and seller_id:
                totals[seller_id] = totals.get(seller_id, Money.zero(entry.amount.currency)) + entry.amount
    return totals


def check_seller_totals(order_id: str, postings: Iterable[Posting], transfers: Iterable[StripeRecord], *,
                        already_named: AbstractSet[tuple[str | None, str | None]] = frozenset()) -> list[Difference]:
    """Per seller of the order: Stripe's transfers (``transfer_group`` = the order) net of
    reversals against the ledger's ``transfers_out``. Transfers without a seller in their
    metadata count for their destination account."""
    ledger = ledger_transfers_out(postings)
    stripe: dict[str, Money] = {}
    ids: dict[str, list[str]] = {}
    for transfer in transfers:
        seller = transfer.metadata.get("seller_id") or transfer.destination or "?"
        net = Money(transfer.currency, transfer.amount - transfer.amount_reversed)
        stripe[seller] = stripe[seller] + net if seller in stripe else net
        ids.setdefault(seller, []).append(transfer.id)
    differences: list[Difference] = []
    for seller in sorted(set(ledger) | set(stripe)):
        ours, theirs = ledger.get(seller), stripe.get(seller)
        if (order_id, seller) in already_named:
            continue
        if ours is not None and theirs is not None and ours == theirs:
            continue
        if (ours is None or ours.amount == 0) and (theirs is None or theirs.amount == 0):
            continue
        differences.append(Difference("seller_transfers_mismatch", f"transfer:{order_id}:{seller}",
                                      ",".join(sorted(ids.get(seller, []))) or None, ours, theirs, order_id, seller))
    return differences


# ------------------------------------------------------------------------------------------------ reading


def movement_of(posting_id: str, kind: str, amount: int, currency: str, order_id: str | None,
                refs: Mapping[str, str] | None) -> Movement:
    return Movement(posting_id, kind, Money(currency, abs(int(amount))), order_id, dict(refs or {}))


def record_of(obj: Any) -> StripeRecord:
    """A Stripe SDK object (PaymentIntent, Transfer, Refund or TransferReversal) as a record."""
    data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    kind = data["object"]
    latest_charge = data.get("latest_charge")
    return StripeRecord(
        object=kind, id=data["id"],
        amount=int(data.get("amount_received") or 0) if kind == "payment_intent" else int(data["amount"]),
        currency=data["currency"].upper(), created=int(data["created"]), metadata=dict(data.get("metadata") or {}),
        status=data.get("status"),
        latest_charge=latest_charge.get("id") if isinstance(latest_charge, dict) else latest_charge,
        destination=data.get("destination"), transfer_group=data.get("transfer_group"),
        amount_reversed=int(data.get("amount_reversed") or 0), transfer=data.get("transfer"),
    )


def _reversals_of(transfer: Any) -> list[Any]:
    """A transfer's reversals: embedded in the transfer (the first 10), else listed."""
    embedded = transfer.to_dict().get("reversals")
    if embedded is not None and not embedded.get("has_more"):
        return list(embedded.get("data") or [])
    return list(stripe_gateway.list_transfer_reversals(transfer.id))


def reconcile(from_: datetime, to: datetime, *,
              transfer_lookback: timedelta = DEFAULT_TRANSFER_LOOKBACK) -> Report:
    """Compare the ledger with Stripe over ``[from_, to)``. Reversals are found through their
    transfers (Stripe lists them per transfer), so transfers back to ``transfer_lookback``
    before the window are read for reversals made in it."""
    from chalicelib.ledger.postings import STRIPE_CLEARING
    from chalicelib.ledger.service import _check_window, _platform_entries, order_postings, recorded_postings

    from_, to = _check_window(from_, to)
    start, end = from_.timestamp(), to.timestamp()

    def in_window(record: StripeRecord) -> bool:
        return start <= record.created < end

    movements = [movement_of(e.posting_id, e.kind, int(e.amount), e.currency, e.order_id, e.refs)
                 for e in _platform_entries(STRIPE_CLEARING, from_, to)]

    # Stripe's objects created in the window (lists are newest first and stop at the window).
    seen: dict[str, StripeRecord] = {}
    intents = [r for r in map(record_of, stripe_gateway.list_payment_intents(created_from=int(start)))
               if in_window(r) and r.status == "succeeded"]
    refunds = [r for r in map(record_of, stripe_gateway.list_refunds(created_from=int(start)))
               if in_window(r) and r.status not in ("failed", "canceled")]
    reversals: list[StripeRecord] = []
    transfers: list[StripeRecord] = []
    for obj in stripe_gateway.list_transfers(created_from=int((from_ - transfer_lookback).timestamp())):
        record = record_of(obj)
        seen[record.id] = record
        if in_window(record):
            transfers.append(record)
        if record.amount_reversed:
            reversals += [r for r in map(record_of, _reversals_of(obj)) if in_window(r)]
    listed = [*intents, *transfers, *refunds, *reversals]
    seen.update({r.id: r for r in listed})
    agora_objects = [r for r in listed if r.expected_posting_id()]

    orders = sorted({m.order_id for m in movements if m.order_id}
                    | {r.metadata["order_id"] for r in agora_objects})
    by_order = {order_id: order_postings(order_id) for order_id in orders}
    transfer_sellers = {m.seller_id for m in movements if m.kind == "transfer" and m.seller_id}
    accounts = {sid: s.stripe_account_id for sid, s in sellers_by_id(transfer_sellers).items()}

    differences: list[Difference] = []
    for movement in movements:
        found: StripeRecord | None = None
        order = by_order.get(movement.order_id or "", [])
        stripe_id = movement.stripe_id
        if stripe_id and stripe_id in seen:
            found = seen[stripe_id]
        elif stripe_id:
            found = _fetch(movement, order)
        if found is not None:
            seen[found.id] = found
        reversed_in_ledger = sum(p.entries[0].amount.amount for p in order
                                 if p.kind == "transfer_reversal" and p.seller_id == movement.seller_id)
        differences += check_movement(movement, found, destination=accounts.get(movement.seller_id or ""),
                                      ledger_reversed=reversed_in_ledger)

    expected = sorted({pid for r in agora_objects if (pid := r.expected_posting_id()) is not None})
    recorded = {pid: dict(posting.refs) for pid, posting in recorded_postings(expected).items()}
    differences += check_unrecorded(agora_objects, recorded)

    named = {(d.order_id, d.seller_id) for d in differences}
    for order_id in orders:
        group = [record_of(t) for t in stripe_gateway.list_transfers(created_from=0, transfer_group=order_id)]
        differences += check_seller_totals(order_id, by_order[order_id], group, already_named=named)

    return Report(from_, to, len(movements), len(listed), tuple(differences))


def _fetch(movement: Movement, order: list[Posting]) -> StripeRecord | None:
    """The Stripe object a posting names; a reversal is read through the seller's transfer
    (its id is on the order's transfer posting)."""
    stripe_id = movement.stripe_id
    assert stripe_id is not None
    if movement.kind == "charge":
        obj = stripe_gateway.find_payment_intent(stripe_id)
    elif movement.kind == "transfer":
        obj = stripe_gateway.find_transfer(stripe_id)
    elif movement.kind == "refund":
        obj = stripe_gateway.find_refund(stripe_id)
    else:
        transfer_id = next((p.refs.get("transfer") for p in order
                            if p.kind == "transfer" and p.seller_id == movement.seller_id), None)
        obj = stripe_gateway.find_transfer_reversal(transfer_id, stripe_id) if transfer_id else None
    return record_of(obj) if obj is not None else None
