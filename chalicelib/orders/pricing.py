"""Pricing a cart server-side. Pure: the checkout reads everything first, then calls this.

Per line, in this order (each step rounds half-up to the minor unit, per line):
1. ``gross = unit_price * quantity`` (the product's current price);
2. the price adjustments of the checkout's contributors (:mod:`chalicelib.orders.extensions`),
   each contributor in its registered order on the price the previous ones left (the
   customer-group discount first); ``discount`` is their sum;
3. VAT by :func:`chalicelib.orders.tax.included_vat` on ``gross - discount`` (tax-exempt
   buyers pay the net);
4. the marketplace fee by :func:`chalicelib.fees.engine.line_fee` on the amount the seller is
   credited: the line's total plus the marketplace-funded part of its discount
   (:func:`marketplace_part`; the seller is paid as if that part were not there).
A sub-order's and the order's amounts are sums of their lines, so nothing is rounded twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.core.money import Money, divide_half_up
from chalicelib.fees.engine import FeePolicy, line_fee
from chalicelib.orders.tax import included_vat


@dataclass(frozen=True)
class LineInput:
    product_id: str
    seller_id: str
    sku: str
    title: str
    category: str
    unit_price: Money
    quantity: int
    brand: str | None = None


@dataclass(frozen=True)
class SellerTerms:
    """Where the seller taxes from, and whether it exempts this buyer."""

    country: str
    tax_exempt: bool = False


FULL_SHARE_BP = 10_000


@dataclass(frozen=True)
class Funding:
    """Who bears an adjustment: the seller's share in basis points, the marketplace the rest.
    A seller-funded one lowers the seller's payout; a marketplace-funded one is paid to the
    seller as if undiscounted (the ledger's ``marketplace_discounts``)."""

    seller_bp: int = FULL_SHARE_BP

    def __post_init__(self) -> None:
        if not 0 <= self.seller_bp <= FULL_SHARE_BP:
            raise ValueError("a seller's share is 0 to 10000 basis points")

    def to_json(self) -> dict[str, int]:
        return {"seller_bp": self.seller_bp}


SELLER_FUNDED = Funding(FULL_SHARE_BP)
MARKETPLACE_FUNDED = Funding(0)


@dataclass(frozen=True)
class LinePrice:
    """A line as a contributor sees it: ``price`` is after the adjustments before its turn."""

    line: int
    product_id: str
    seller_id: str
    category: str
    quantity: int
    unit_price: Money
    price: Money
    brand: str | None = None


@dataclass(frozen=True)
class PriceAdjustment:
    """An amount off one line (minor units, never more than the line's price at that step),
    with where it came from and who funds it."""

    line: int
    amount: Money
    source: str  # the contributor's name
    label: str  # what it is, for the seller and the buyer (a group's or promotion's id)
    funding: Funding = SELLER_FUNDED

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "amount": self.amount.amount, "source": self.source, "label": self.label,
                "funding": self.funding.to_json()}


def marketplace_part(adjustment: PriceAdjustment) -> Money:
    """The part of an adjustment the marketplace funds: the amount less the seller's share
    (rounded half-up), so the two parts always add up to the amount."""
    seller = divide_half_up(adjustment.amount.amount * adjustment.funding.seller_bp, FULL_SHARE_BP)
    return Money(adjustment.amount.currency, adjustment.amount.amount - seller)


Adjuster = Callable[[Sequence[LinePrice]], Sequence[PriceAdjustment]]


@dataclass(frozen=True)
class PricedLine:
    line: int
    product_id: str
    sku: str
    title: str
    category: str
    quantity: int
    unit_price: Money
    discount: Money
    total: Money
    tax: Money
    tax_rate_bp: int
    fee: Money
    adjustments: tuple[PriceAdjustment, ...] = ()

    @property
    def subtotal(self) -> Money:
        return self.unit_price.times(self.quantity)

    @property
    def marketplace_discount(self) -> Money:
        """The marketplace-funded part of the line's discount."""
        return _sum([marketplace_part(adjustment) for adjustment in self.adjustments], self.total.currency)

    @property
    def credited(self) -> Money:
        """What the seller is credited for the line (the fee is charged on it)."""
        return self.total + self.marketplace_discount

    def to_json(self) -> dict[str, Any]:
        found = {"line": self.line, "product_id": self.product_id, "sku": self.sku, "title": self.title,
                 "category": self.category, "quantity": self.quantity, "unit_price": self.unit_price.amount,
                 "discount": self.discount.amount, "total": self.total.amount, "tax": self.tax.amount,
                 "tax_rate_bp": self.tax_rate_bp, "fee": self.fee.amount, "refunded_quantity": 0,
                 "refunded_amount": 0, "return_quantity": 0}
        if self.marketplace_discount.amount:  # only then: a line's bytes are paid on every read
            found["marketplace_discount"] = self.marketplace_discount.amount
        return found


def _sum(amounts: Sequence[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total


class _Sums:
    """Amounts of a whole as the sums of its parts' (a sub-order of its lines, an order of
    its sub-orders), so nothing is rounded twice."""

    currency: str

    def _parts(self) -> Sequence[Any]:
        raise NotImplementedError

    def _total(self, name: str) -> Money:
        return _sum([getattr(part, name) for part in self._parts()], self.currency)

    @property
    def subtotal(self) -> Money:
        return self._total("subtotal")

    @property
    def discount(self) -> Money:
        return self._total("discount")

    @property
    def tax(self) -> Money:
        return self._total("tax")

    @property
    def total(self) -> Money:
        return self._total("total")

    @property
    def fee(self) -> Money:
        return self._total("fee")

    @property
    def marketplace_discount(self) -> Money:
        return self._total("marketplace_discount")

    @property
    def credited(self) -> Money:
        return self._total("credited")


@dataclass(frozen=True)
class PricedSeller(_Sums):
    seller_id: str
    currency: str
    tax_exempt: bool
    lines: tuple[PricedLine, ...]

    def _parts(self) -> Sequence[Any]:
        return self.lines

    @property
    def adjustments(self) -> list[PriceAdjustment]:
        return [adjustment for line in self.lines for adjustment in line.adjustments]


@dataclass(frozen=True)
class PricedOrder(_Sums):
    currency: str
    sellers: tuple[PricedSeller, ...]

    def _parts(self) -> Sequence[Any]:
        return self.sellers


def _adjusted(lines: Sequence[LineInput], adjusters: Sequence[Adjuster]) -> dict[int, list[PriceAdjustment]]:
    """Each adjuster in turn on the prices the previous ones left; a line never below zero."""
    prices = {number: line.unit_price.times(line.quantity) for number, line in enumerate(lines, start=1)}
    found: dict[int, list[PriceAdjustment]] = {number: [] for number in prices}
    for adjuster in adjusters:
        step = adjuster([LinePrice(line=number, product_id=line.product_id, seller_id=line.seller_id,
                                   category=line.category, quantity=line.quantity, unit_price=line.unit_price,
                                   price=prices[number], brand=line.brand)
                         for number, line in enumerate(lines, start=1)])
        for adjustment in step:
            if adjustment.line not in prices:
                raise ValueError(f"{adjustment.source} adjusted line {adjustment.line}, which is not in the order")
            if not 0 <= adjustment.amount.amount <= prices[adjustment.line].amount:
                raise ValueError(f"{adjustment.source} took {adjustment.amount.amount} off line {adjustment.line}, "
                                 f"priced {prices[adjustment.line].amount}")
        for adjustment in step:  # after the checks, so one adjuster sees its own step's prices
            if adjustment.amount.amount:
                prices[adjustment.line] = prices[adjustment.line] - adjustment.amount
                found[adjustment.line].append(adjustment)
    return found


def price_order(lines: Sequence[LineInput], *, terms: Mapping[str, SellerTerms], policies: Mapping[str, FeePolicy],
                trailing_sales: Mapping[str, Money], adjusters: Sequence[Adjuster] = ()) -> PricedOrder:
    """Price ``lines`` (one currency; the caller checks) into one priced part per seller,
    sellers and lines in the order given."""
    if not lines:
        raise ValueError("nothing to price")
    currency = lines[0].unit_price.currency
    adjustments = _adjusted(lines, adjusters)
    by_seller: dict[str, list[PricedLine]] = {}
    for number, line in enumerate(lines, start=1):
        seller = terms[line.seller_id]
        gross = line.unit_price.times(line.quantity)
        discount = _sum([adjustment.amount for adjustment in adjustments[number]], currency)
        taxed = included_vat(gross - discount, seller_country=seller.country, category_slug=line.category,
                             exempt=seller.tax_exempt)
        funded = _sum([marketplace_part(adjustment) for adjustment in adjustments[number]], currency)
        fee = line_fee(policies[line.seller_id], line_total=taxed.total + funded, category=line.category,
                       trailing_30_day_sales=trailing_sales[line.seller_id]).fee
        by_seller.setdefault(line.seller_id, []).append(PricedLine(
            line=number, product_id=line.product_id, sku=line.sku, title=line.title, category=line.category,
            quantity=line.quantity, unit_price=line.unit_price, discount=discount, total=taxed.total,
            tax=taxed.tax, tax_rate_bp=taxed.rate_bp, fee=fee, adjustments=tuple(adjustments[number])))
    return PricedOrder(currency=currency, sellers=tuple(
        PricedSeller(seller_id=seller_id, currency=currency, tax_exempt=terms[seller_id].tax_exempt,
                     lines=tuple(priced))
        for seller_id, priced in by_seller.items()))
