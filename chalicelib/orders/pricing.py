"""Pricing a cart server-side. Pure: the checkout reads everything first, then calls this.

Per line, in this order (each step rounds half-up to the minor unit, per line):
1. ``gross = unit_price * quantity`` (the product's current price);
2. ``discount = gross * group_discount_bp / 10000`` (the buyer's customer group at that seller);
3. VAT by :func:`chalicelib.orders.tax.included_vat` on ``gross - discount`` (tax-exempt
   buyers pay the net);
4. the marketplace fee on the line's total by :func:`chalicelib.fees.engine.line_fee`.
A sub-order's and the order's amounts are sums of their lines, so nothing is rounded twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.core.money import Money
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


@dataclass(frozen=True)
class SellerTerms:
    """What the seller grants this buyer, and where the seller taxes from."""

    country: str
    discount_bp: int = 0
    tax_exempt: bool = False


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

    @property
    def subtotal(self) -> Money:
        return self.unit_price.times(self.quantity)

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "product_id": self.product_id, "sku": self.sku, "title": self.title,
                "category": self.category, "quantity": self.quantity, "unit_price": self.unit_price.amount,
                "discount": self.discount.amount, "total": self.total.amount, "tax": self.tax.amount,
                "tax_rate_bp": self.tax_rate_bp, "fee": self.fee.amount, "refunded_quantity": 0,
                "refunded_amount": 0, "return_quantity": 0}


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


@dataclass(frozen=True)
class PricedSeller(_Sums):
    seller_id: str
    currency: str
    tax_exempt: bool
    lines: tuple[PricedLine, ...]

    def _parts(self) -> Sequence[Any]:
        return self.lines


@dataclass(frozen=True)
class PricedOrder(_Sums):
    currency: str
    sellers: tuple[PricedSeller, ...]

    def _parts(self) -> Sequence[Any]:
        return self.sellers


def price_order(lines: Sequence[LineInput], *, terms: Mapping[str, SellerTerms], policies: Mapping[str, FeePolicy],
                trailing_sales: Mapping[str, Money]) -> PricedOrder:
    """Price ``lines`` (one currency; the caller checks) into one priced part per seller,
    sellers and lines in the order given."""
    if not lines:
        raise ValueError("nothing to price")
    currency = lines[0].unit_price.currency
    by_seller: dict[str, list[PricedLine]] = {}
    for number, line in enumerate(lines, start=1):
        seller = terms[line.seller_id]
        gross = line.unit_price.times(line.quantity)
        discount = gross.percent_of(seller.discount_bp)
        taxed = included_vat(gross - discount, seller_country=seller.country, category_slug=line.category,
                             exempt=seller.tax_exempt)
        fee = line_fee(policies[line.seller_id], line_total=taxed.total, category=line.category,
                       trailing_30_day_sales=trailing_sales[line.seller_id]).fee
        by_seller.setdefault(line.seller_id, []).append(PricedLine(
            line=number, product_id=line.product_id, sku=line.sku, title=line.title, category=line.category,
            quantity=line.quantity, unit_price=line.unit_price, discount=discount, total=taxed.total,
            tax=taxed.tax, tax_rate_bp=taxed.rate_bp, fee=fee))
    return PricedOrder(currency=currency, sellers=tuple(
        PricedSeller(seller_id=seller_id, currency=currency, tax_exempt=terms[seller_id].tax_exempt,
                     lines=tuple(priced))
        for seller_id, priced in by_seller.items()))
