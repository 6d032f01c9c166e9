"""Checkout's extension points: how pricing and the checkout's transaction take contributions
without orders importing who contributes.

A contributor (the customer-group discount, :mod:`chalicelib.orders.group_discount`; later
promotions and loyalty from their own packages) implements :class:`CheckoutContributor` and
is registered once, in order (:class:`Registry`; the marketplace's registry is
:mod:`chalicelib.orders.contributors`). Per checkout, every hook is called for every
contributor in that order:

1. ``keys`` — the items it needs, read with every other contributor's in the checkout's
   own BatchGetItem of products, sellers and fees (no round trip of their own);
   ``follow_up_keys`` — items named by what that read found (a customer record's group), in
   one more, only when one is named. So the round trips stay the same whatever the number of
   contributors (:func:`read_items`);
2. ``adjust`` — amounts off lines, each on the price the contributors before it left, with
   who funds them (:class:`~chalicelib.orders.pricing.PriceAdjustment`); ``tax_exempt_sellers``
   — the sellers whose part the buyer pays net of VAT; ``shipping_adjustments`` — amounts off
   a part's shipping (a free-shipping promotion), each on what the ones before left, never
   below 0 (:class:`~chalicelib.orders.pricing.ShippingAdjustment`);
3. ``transaction_items`` — writes for the checkout's one TransactWriteItems, each with the
   refusal (a domain error, a 409) to answer when its condition fails: nothing is written then,
   no stock is reserved;
4. ``release`` — writes that give back what an unpaid order took when it is cancelled or its
   payment window expires, in the same transaction as the cancellation (so once);
5. ``reverse`` — writes for a refund's transaction (so once per refund), given the part of the
   contributor's adjustments on the refunded amounts, its shipping adjustments' as line 0
   (:func:`reversed_adjustments`);
6. ``explain`` — what the buyer should be told about the contributor's turn (the lines as
   it saw them): the cart shows these notices, and checkout answers a notice's ``problem``
   (e.g. a promo code that does not apply: 422 with its reason) before anything is written.

An adjustment's ``funding`` says who bears it: the seller's share lowers the seller's payout,
the marketplace's is a marketplace expense and the seller is credited as if it were not
there (:func:`chalicelib.orders.pricing.marketplace_part`; the ledger's
``marketplace_discounts``).

Writes of ``release`` and ``reverse`` should carry no condition that can fail: a failed one
fails the whole cancellation or refund record. The checkout's transaction holds at most 71
items of its own (8 sellers with their lines items, 50 products), so contributors share what is left of
DynamoDB's 100 (promotions take at most 20: ``chalicelib.promotions.checkout.TRANSACTION_ITEMS``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from chalicelib.core.db import ItemWrite, TableModel
from chalicelib.core.errors import AgoraError
from chalicelib.core.money import Money, divide_half_up
from chalicelib.orders.models import Order, Refund, SubOrder
from chalicelib.orders.pricing import (
    SELLER_FUNDED,
    Funding,
    LinePrice,
    PriceAdjustment,
    PricedOrder,
    ShippingAdjustment,
    ShippingPrice,
)

__all__ = ["SELLER_FUNDED", "CheckoutContext", "CheckoutContributor", "Contributor", "Found", "Funding", "Key",
           "LinePrice", "Notice", "PriceAdjustment", "Registry", "ShippingAdjustment", "ShippingPrice",
           "TransactionItem", "read_items", "reversed_adjustments"]

BATCH_GET_KEYS = 100  # DynamoDB's limit per BatchGetItem
READ_THREADS = "batch-get"  # the threads that send the pages of one read at once


@dataclass(frozen=True)
class Key:
    """An item a contributor needs read, and the model to read it as."""

    model: type[TableModel]
    pk: str
    sk: str


@dataclass(frozen=True)
class Found:
    """What the contributors' reads found (absent keys are simply missing)."""

    items: Mapping[tuple[str, str], TableModel] = field(default_factory=dict)

    def get(self, key: Key) -> Any:
        return self.items.get((key.pk, key.sk))

    def all(self, keys: Iterable[Key]) -> list[Any]:
        return [item for item in (self.get(key) for key in keys) if item is not None]

    def merged(self, more: Mapping[tuple[str, str], TableModel]) -> Found:
        return Found({**self.items, **more})


@dataclass(frozen=True)
class CheckoutContext:
    """One checkout as contributors see it."""

    user_id: str | None  # None: a guest without an account yet (nobody's customer)
    currency: str
    seller_ids: tuple[str, ...]
    found: Found = field(default_factory=Found)
    destination_country: str | None = None  # the shipping address's, when known
    promo_code: str | None = None  # as the buyer typed it
    now: datetime | None = None
    guest: bool = False  # checked out without signing in (``user_id`` is the account the email links)
    email: str | None = None  # the buyer's; a guest's limits are counted by it
    # for ``shipping_adjustments`` only: the lines as the contributor's own ``adjust`` saw them
    lines: tuple[LinePrice, ...] = ()
    redeem_points: int | None = None  # loyalty points the buyer asked to redeem (checkout only)


@dataclass(frozen=True)
class Notice:
    """What a contributor tells the buyer about its turn: ``status`` (e.g. ``applied``,
    ``refused``) with machine-readable ``details``; ``problem`` is what checkout answers
    instead of placing the order."""

    source: str
    subject: str  # e.g. the promo code
    status: str
    details: Mapping[str, Any] = field(default_factory=dict)
    problem: AgoraError | None = None

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "subject": self.subject, "status": self.status, **self.details}


@dataclass(frozen=True)
class TransactionItem:
    """A write for the checkout's transaction and what the buyer is told when its condition
    fails (e.g. a promotion's usage cap reached)."""

    write: ItemWrite
    refusal: AgoraError


@runtime_checkable
class CheckoutContributor(Protocol):
    name: str  # unique; also the ``source`` of its adjustments
    funding: Funding  # who bears its adjustments

    def keys(self, context: CheckoutContext) -> Sequence[Key]: ...

    def follow_up_keys(self, context: CheckoutContext) -> Sequence[Key]: ...

    def adjust(self, context: CheckoutContext, lines: Sequence[LinePrice]) -> Sequence[PriceAdjustment]: ...

    def tax_exempt_sellers(self, context: CheckoutContext) -> Collection[str]: ...

    def shipping_adjustments(self, context: CheckoutContext,
                             shipping: Sequence[ShippingPrice]) -> Sequence[ShippingAdjustment]: ...

    def transaction_items(self, context: CheckoutContext, order: Order,
                          priced: PricedOrder) -> Sequence[TransactionItem]: ...

    def release(self, order: Order, sub_orders: Sequence[SubOrder]) -> Sequence[ItemWrite]: ...

    def reverse(self, order: Order, refund: Refund, reversed: Sequence[PriceAdjustment]) -> Sequence[ItemWrite]: ...

    def explain(self, context: CheckoutContext, lines: Sequence[LinePrice]) -> Sequence[Notice]: ...


class Contributor:
    """A contributor that contributes nothing: subclasses override the hooks they need."""

    name = ""
    funding = SELLER_FUNDED

    def keys(self, context: CheckoutContext) -> Sequence[Key]:
        return ()

    def follow_up_keys(self, context: CheckoutContext) -> Sequence[Key]:
        return ()

    def adjust(self, context: CheckoutContext, lines: Sequence[LinePrice]) -> Sequence[PriceAdjustment]:
        return ()

    def tax_exempt_sellers(self, context: CheckoutContext) -> Collection[str]:
        return ()

    def shipping_adjustments(self, context: CheckoutContext,
                             shipping: Sequence[ShippingPrice]) -> Sequence[ShippingAdjustment]:
        """None by default. A seller-funded one lowers the seller's shipping revenue (the
        part's shipping amount, hence its payout). A marketplace-funded one pays the seller
        its shipping as if charged (``marketplace_shipping`` in the ledger; the fee follows
        the fee schedule's shipping setting on it)."""
        return ()

    def transaction_items(self, context: CheckoutContext, order: Order,
                          priced: PricedOrder) -> Sequence[TransactionItem]:
        return ()

    def release(self, order: Order, sub_orders: Sequence[SubOrder]) -> Sequence[ItemWrite]:
        return ()

    def reverse(self, order: Order, refund: Refund, reversed: Sequence[PriceAdjustment]) -> Sequence[ItemWrite]:
        return ()

    def explain(self, context: CheckoutContext, lines: Sequence[LinePrice]) -> Sequence[Notice]:
        return ()


class Registry:
    """Contributors in the order their hooks run (pricing applies them in this order)."""

    def __init__(self, contributors: Iterable[CheckoutContributor] = ()) -> None:
        self._contributors: list[CheckoutContributor] = []
        for contributor in contributors:
            self.register(contributor)

    def register(self, contributor: CheckoutContributor) -> CheckoutContributor:
        """Add ``contributor`` after those registered before. Its adjustments may be funded by
        the seller, the marketplace or both: the ledger books the marketplace's part as
        ``marketplace_discounts`` and the seller's transfer pays it."""
        if not isinstance(contributor, CheckoutContributor):
            raise TypeError(f"{contributor!r} does not implement CheckoutContributor")
        if not contributor.name:
            raise ValueError("a checkout contributor needs a name")
        if any(c.name == contributor.name for c in self._contributors):
            raise ValueError(f"a checkout contributor named {contributor.name!r} is registered already")
        self._contributors.append(contributor)
        return contributor

    def unregister(self, name: str) -> None:
        self._contributors = [c for c in self._contributors if c.name != name]

    def __iter__(self) -> Iterator[CheckoutContributor]:
        return iter(list(self._contributors))  # a copy: registering while iterating is safe

    def names(self) -> list[str]:
        return [c.name for c in self._contributors]


class _AnyItem(TableModel):
    """Any item of the table, to read several models' items in one BatchGetItem. A class of
    its own: PynamoDB caches a connection (with the indexes of the model's schema) on the
    class it is asked for, and the models would inherit one cached on TableModel itself."""


def read_items(keys: Iterable[Key], *, consistent_read: bool = False) -> dict[tuple[str, str], TableModel]:
    """Every key in one BatchGetItem, each item read as its key's model. Past DynamoDB's 100
    keys a request, the pages are sent at once (threads), so the read still costs one round
    trip's wait; unprocessed keys are asked for again with backoff
    (:meth:`TableModel._batch_get_page`)."""
    models: dict[tuple[str, str], type[TableModel]] = {}
    for key in keys:
        if models.setdefault((key.pk, key.sk), key.model) is not key.model:
            raise ValueError(f"{key.pk}/{key.sk} is asked for as two models")
    wanted = [{"PK": {"S": pk}, "SK": {"S": sk}} for pk, sk in models]
    pages = [wanted[start:start + BATCH_GET_KEYS] for start in range(0, len(wanted), BATCH_GET_KEYS)]

    def page_of(keys: list[dict[str, Any]]) -> list[Any]:
        return _AnyItem._batch_get_page(keys, consistent_read or None, None)[0]

    if len(pages) > 1:
        # botocore does not make a client thread-safely: it is made here, once, not by each thread
        _AnyItem._get_connection().connection.client  # noqa: B018
        with ThreadPoolExecutor(max_workers=len(pages), thread_name_prefix=READ_THREADS) as pool:
            raws = [raw for page in pool.map(page_of, pages) for raw in page]
    else:
        raws = [raw for page in pages for raw in page_of(page)]
    found: dict[tuple[str, str], TableModel] = {}
    for raw in raws:
        at = (raw["PK"]["S"], raw["SK"]["S"])
        found[at] = models[at].from_raw_data(raw)
    return found


def reversed_adjustments(sub: SubOrder, refund: Refund) -> dict[str, list[PriceAdjustment]]:
    """Per contributor, the part of its adjustments on the refund's lines that this refund
    gives back: an adjustment ``A`` on a line of total ``T`` of which ``before`` was refunded
    earlier and ``amount`` now reverses ``A*(before+amount)/T - A*before/T`` (each rounded
    half-up), so refunding a line in steps reverses exactly ``A`` in the end. The part's
    shipping is line 0, with its shipping adjustments; shipping made free (``T`` = 0) is in a
    refund only when refunded whole, and reverses ``A``."""
    currency = refund.currency
    recorded: dict[int, list[dict[str, Any]]] = {0: list((sub.shipping or {}).get("adjustments") or [])}
    for adjustment in sub.adjustments or []:
        recorded.setdefault(int(adjustment["line"]), []).append(adjustment)
    found: dict[str, list[PriceAdjustment]] = {}
    for line in refund.lines:
        total, before, amount = int(line["line_total"]), int(line["refunded_before"]), int(line["amount"])
        number = 0 if line.get("shipping") else int(line["line"])
        if total < 0 or (total == 0 and before):
            continue
        for adjustment in recorded.get(number, []):
            whole = int(adjustment["amount"])
            share = whole if total == 0 else (divide_half_up(whole * (before + amount), total)
                                              - divide_half_up(whole * before, total))
            if share:
                found.setdefault(adjustment["source"], []).append(PriceAdjustment(
                    line=number, amount=Money(currency, share), source=adjustment["source"],
                    label=adjustment["label"], funding=Funding(int(adjustment["funding"]["seller_bp"]))))
    return found
