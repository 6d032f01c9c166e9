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

Then per seller part, its shipping (when the caller passes the part's
:class:`ShippingChoice`):

5. the quote of :func:`chalicelib.shipping.engine.quote` for the part's lines, whose goods
   value is the lines' price *after* step 2 (so the free-shipping threshold compares the
   discounted goods); a part that cannot go to the destination gets no price
   (``undeliverable``: checkout refuses it);
6. the contributors' shipping adjustments (:class:`ShippingAdjustment`, e.g. a free-shipping
   promotion), in registered order, each on what the ones before left, never below 0;
7. VAT by :func:`chalicelib.shipping.engine.shipping_vat`: the shipping price (VAT
   included, like product prices) split over the part's VAT rates in proportion to its
   goods after discounts, each share taxed at its rate; a tax-exempt buyer pays each share
   net (``share * 10000 / (10000 + rate)``, half-up) and no VAT;
8. the marketplace fee on shipping by :func:`chalicelib.fees.engine.shipping_fee`: 0 unless
   the seller's fee schedule sets ``fee_on_shipping``; on the shipping the seller is
   credited: what the buyer pays plus the marketplace-funded part of the shipping adjustments
   (the seller is paid that shipping as if the buyer had).

A sub-order's amounts are its lines' sums plus its shipping (``total``, ``tax`` and ``fee``
include it; ``subtotal`` and ``discount`` are the goods'), the order's are its parts' sums,
so nothing is rounded twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.core.money import CurrencyMismatch, Money, divide_half_up
from chalicelib.fees.engine import FeePolicy, line_fee, shipping_fee
from chalicelib.orders.tax import included_vat, vat_rate
from chalicelib.shipping import engine as shipping_engine


@dataclass(frozen=True)
class LineInput:
    product_id: str
    seller_id: str
    sku: str
    title: str
    category: str
    unit_price: Money
    quantity: int
    shipping_profile_id: str | None = None  # the product's; None: the seller's default
    brand: str | None = None


@dataclass(frozen=True)
class ShippingChoice:
    """How one seller's part ships: the seller's profiles (by id, as
    :func:`chalicelib.shipping.service.profiles_from` reads them; none: free everywhere), the
    destination country and the option the buyer chose."""

    profiles: Mapping[str, shipping_engine.Profile]
    country: str
    option: shipping_engine.OptionKind = "standard"


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


def marketplace_part(adjustment: PriceAdjustment | ShippingAdjustment) -> Money:
    """The part of an adjustment the marketplace funds: the amount less the seller's share
    (rounded half-up), so the two parts always add up to the amount."""
    seller = divide_half_up(adjustment.amount.amount * adjustment.funding.seller_bp, FULL_SHARE_BP)
    return Money(adjustment.amount.currency, adjustment.amount.amount - seller)


Adjuster = Callable[[Sequence[LinePrice]], Sequence[PriceAdjustment]]


@dataclass(frozen=True)
class ShippingPrice:
    """A part's shipping as a contributor sees it: ``price`` is after the shipping adjustments
    before its turn; ``goods`` the part's goods value after discounts."""

    seller_id: str
    option: str
    price: Money
    goods: Money


@dataclass(frozen=True)
class ShippingAdjustment:
    """An amount off one part's shipping (a free-shipping promotion), with who funds it.
    Pricing takes at most what is left of the part's shipping: never below 0."""

    seller_id: str
    amount: Money
    source: str
    label: str
    funding: Funding = SELLER_FUNDED

    def to_json(self) -> dict[str, Any]:
        return {"amount": self.amount.amount, "source": self.source, "label": self.label,
                "funding": self.funding.to_json()}


ShippingAdjuster = Callable[[Sequence[ShippingPrice]], Sequence[ShippingAdjustment]]


@dataclass(frozen=True)
class PricedShipping:
    """A part's shipping as charged. ``amount`` is what the buyer pays for it (VAT included;
    net for a tax-exempt buyer), ``vat`` its split per VAT rate (gross share and the VAT in it)."""

    option: str
    price: Money  # the quote's, before shipping adjustments
    discount: Money  # the shipping adjustments' sum
    amount: Money
    tax: Money
    vat: tuple[shipping_engine.ShippingVat, ...]
    fee: Money
    handling_days: int
    delivery_days_min: int | None
    delivery_days_max: int | None
    adjustments: tuple[ShippingAdjustment, ...] = ()
    # the thresholds on the goods after discounts, for the cart to show (not kept on the order)
    free_shipping: tuple[shipping_engine.FreeShipping, ...] = ()

    @property
    def marketplace_discount(self) -> Money:
        """The marketplace-funded part of the shipping adjustments: paid to the seller."""
        return _sum([marketplace_part(adjustment) for adjustment in self.adjustments], self.amount.currency)

    def to_json(self) -> dict[str, Any]:
        """As the sub-order's lines item keeps it (fixed at checkout)."""
        data: dict[str, Any] = {
            "option": self.option, "price": self.price.amount, "discount": self.discount.amount,
            "amount": self.amount.amount, "tax": self.tax.amount,
            "vat": [[share.rate_bp, share.gross.amount, share.tax.amount] for share in self.vat if share.gross.amount],
            "fee": self.fee.amount, "handling_days": self.handling_days,
            "delivery_days_min": self.delivery_days_min, "delivery_days_max": self.delivery_days_max}
        if self.adjustments:
            data["adjustments"] = [adjustment.to_json() for adjustment in self.adjustments]
        if self.marketplace_discount.amount:
            data["marketplace_discount"] = self.marketplace_discount.amount
        return data


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
    shipping: PricedShipping | None = None  # None: no shipping asked for, or undeliverable
    undeliverable: tuple[str, ...] = ()  # product ids that cannot go to the destination

    def _parts(self) -> Sequence[Any]:
        return self.lines

    def _with_shipping(self, name: str) -> Money:
        own = self._total(name)
        return own if self.shipping is None else own + getattr(self.shipping, name)

    @property
    def goods_total(self) -> Money:
        return self._total("total")

    @property
    def shipping_amount(self) -> Money:
        return self.shipping.amount if self.shipping is not None else Money.zero(self.currency)

    @property
    def total(self) -> Money:
        return self.goods_total + self.shipping_amount

    @property
    def tax(self) -> Money:
        return self._with_shipping("tax")

    @property
    def fee(self) -> Money:
        return self._with_shipping("fee")

    @property
    def marketplace_discount(self) -> Money:
        """The marketplace-funded discount on its lines and its shipping."""
        return self._with_shipping("marketplace_discount")

    @property
    def credited(self) -> Money:
        """What the seller is credited: its goods and shipping plus the marketplace-funded
        discount on its lines and shipping."""
        return self.total + self.marketplace_discount

    @property
    def adjustments(self) -> list[PriceAdjustment]:
        return [adjustment for line in self.lines for adjustment in line.adjustments]


@dataclass(frozen=True)
class PricedOrder(_Sums):
    currency: str
    sellers: tuple[PricedSeller, ...]

    def _parts(self) -> Sequence[Any]:
        return self.sellers

    @property
    def shipping(self) -> Money:
        return self._total("shipping_amount")

    @property
    def undeliverable(self) -> dict[str, tuple[str, ...]]:
        """Seller id -> its products that cannot go to the destination (empty: all can)."""
        return {seller.seller_id: seller.undeliverable for seller in self.sellers if seller.undeliverable}


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
                trailing_sales: Mapping[str, Money], adjusters: Sequence[Adjuster] = (),
                shipping: Mapping[str, ShippingChoice] | None = None,
                shipping_adjusters: Sequence[ShippingAdjuster] = ()) -> PricedOrder:
    """Price ``lines`` (one currency; the caller checks) into one priced part per seller,
    sellers and lines in the order given; with ``shipping`` (every seller's), each part's
    shipping too. Raises :class:`UnavailableOption` for an option a part does not offer."""
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
    parts = [PricedSeller(seller_id=seller_id, currency=currency, tax_exempt=terms[seller_id].tax_exempt,
                          lines=tuple(priced))
             for seller_id, priced in by_seller.items()]
    if shipping is not None:
        parts = _shipped(parts, lines, adjustments, terms=terms, policies=policies, trailing_sales=trailing_sales,
                         shipping=shipping, adjusters=shipping_adjusters)
    return PricedOrder(currency=currency, sellers=tuple(parts))


def _shipped(parts: Sequence[PricedSeller], lines: Sequence[LineInput],
             adjustments: Mapping[int, Sequence[PriceAdjustment]], *, terms: Mapping[str, SellerTerms],
             policies: Mapping[str, FeePolicy], trailing_sales: Mapping[str, Money],
             shipping: Mapping[str, ShippingChoice], adjusters: Sequence[ShippingAdjuster]) -> list[PricedSeller]:
    """Steps 5-8 of the module docstring for every part."""
    quotes: dict[str, shipping_engine.Option] = {}
    thresholds: dict[str, tuple[shipping_engine.FreeShipping, ...]] = {}
    goods: dict[str, Money] = {}
    by_rate: dict[str, dict[int, Money]] = {}
    undeliverable: dict[str, tuple[str, ...]] = {}
    for part in parts:
        choice = shipping[part.seller_id]
        given = {priced.line: lines[priced.line - 1] for priced in part.lines}
        # the goods after discounts, VAT included even for an exempt buyer: what thresholds are in
        values = {number: line.unit_price.times(line.quantity) - _sum([a.amount for a in adjustments[number]],
                                                                       part.currency)
                  for number, line in given.items()}
        try:
            quote = shipping_engine.quote(choice.profiles, [
                shipping_engine.Line(product_id=line.product_id, profile_id=line.shipping_profile_id,
                                     quantity=line.quantity, goods_value=values[number])
                for number, line in given.items()], choice.country)
        except CurrencyMismatch:  # goods in another currency than the seller's rates: no rate applies
            quote = shipping_engine.Quote(undeliverable=tuple(line.product_id for line in given.values()),
                                          options=(), free_shipping=())
        if not quote.deliverable:
            undeliverable[part.seller_id] = quote.undeliverable
            continue
        option = quote.option(choice.option)
        if option is None:
            raise UnavailableOption(part.seller_id, choice.option)
        quotes[part.seller_id] = option
        thresholds[part.seller_id] = quote.free_shipping
        goods[part.seller_id] = _sum(list(values.values()), part.currency)
        rates: dict[int, Money] = {}
        for number, line in given.items():
            rate = vat_rate(terms[part.seller_id].country, line.category)
            rates[rate] = rates.get(rate, Money.zero(part.currency)) + values[number]
        by_rate[part.seller_id] = rates
    prices = {seller_id: option.price for seller_id, option in quotes.items()}
    taken: dict[str, list[ShippingAdjustment]] = {seller_id: [] for seller_id in quotes}
    for adjuster in adjusters:
        step = adjuster([ShippingPrice(seller_id=seller_id, option=option.kind, price=prices[seller_id],
                                       goods=goods[seller_id]) for seller_id, option in quotes.items()])
        for adjustment in step:
            if adjustment.seller_id not in prices or adjustment.amount.amount < 0:
                raise ValueError(f"{adjustment.source} adjusted shipping of {adjustment.seller_id} by "
                                 f"{adjustment.amount.amount}")
            amount = min(adjustment.amount, prices[adjustment.seller_id])  # never below 0
            if amount.amount:
                prices[adjustment.seller_id] = prices[adjustment.seller_id] - amount
                taken[adjustment.seller_id].append(replace(adjustment, amount=amount))
    shipped = []
    for part in parts:
        if part.seller_id in undeliverable:
            shipped.append(replace(part, undeliverable=undeliverable[part.seller_id]))
            continue
        option, price = quotes[part.seller_id], prices[part.seller_id]
        vat = shipping_engine.shipping_vat(price, by_rate[part.seller_id])
        if terms[part.seller_id].tax_exempt:
            vat = [replace(share, gross=Money(part.currency, divide_half_up(share.gross.amount * 10_000,
                                                                             10_000 + share.rate_bp)),
                           tax=Money.zero(part.currency)) for share in vat]
        amount = _sum([share.gross for share in vat], part.currency)
        funded = _sum([marketplace_part(adjustment) for adjustment in taken[part.seller_id]], part.currency)
        fee = shipping_fee(policies[part.seller_id], shipping=amount + funded,
                           trailing_30_day_sales=trailing_sales[part.seller_id])
        shipped.append(replace(part, shipping=PricedShipping(
            option=option.kind, price=option.price, discount=option.price - price, amount=amount,
            tax=_sum([share.tax for share in vat], part.currency), vat=tuple(vat), fee=fee,
            handling_days=option.handling_days, delivery_days_min=option.delivery_days_min,
            delivery_days_max=option.delivery_days_max, adjustments=tuple(taken[part.seller_id]),
            free_shipping=thresholds[part.seller_id])))
    return shipped


class UnavailableOption(ValueError):
    """The buyer chose an option (express) that the seller does not offer for this part."""

    def __init__(self, seller_id: str, option: str) -> None:
        super().__init__(f"{seller_id} offers no {option} shipping here")
        self.seller_id, self.option = seller_id, option
