"""Pricing a part's shipping (pure): the quote on the discounted goods, shipping adjustments,
the proportional VAT split, the tax-exempt net, the fee on shipping, and the totals."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.money import Money
from chalicelib.fees.engine import FeePolicy, FeeSchedule
from chalicelib.orders.pricing import (
    LineInput,
    LinePrice,
    PriceAdjustment,
    SellerTerms,
    ShippingAdjustment,
    ShippingChoice,
    ShippingPrice,
    UnavailableOption,
    price_order,
)
from chalicelib.orders.tax import vat_rate
from chalicelib.shipping.engine import Profile, Zone


def eur(amount: int) -> Money:
    return Money("EUR", amount)


DEFAULT = Profile("default", (Zone(frozenset({"DE"}), standard=eur(490), per_extra_item=eur(100),
                                   free_shipping_threshold=eur(10_000)),), handling_days=1)
CATEGORIES = ("fashion/shoes", "books/fiction", "food/groceries")


def line(n: int, price: int, quantity: int = 1, category: str = "fashion/shoes", seller: str = "sel_a") -> LineInput:
    return LineInput(product_id=f"prd_{n}", seller_id=seller, sku=f"S{n}", title=f"P{n}", category=category,
                     unit_price=eur(price), quantity=quantity)


def priced(lines: Sequence[LineInput], *, exempt: bool = False, fee_on_shipping: bool = False,
           option: str = "standard", adjusters: Sequence[object] = (), shipping_adjusters: Sequence[object] = (),
           profiles: dict[str, Profile] | None = None, country: str = "DE"):  # type: ignore[no-untyped-def]
    sellers = {item.seller_id for item in lines}
    policy = FeePolicy(default=FeeSchedule(percent_bp=1_000, fee_on_shipping=fee_on_shipping))
    return price_order(
        lines, terms={s: SellerTerms(country="DE", tax_exempt=exempt) for s in sellers},
        policies={s: policy for s in sellers}, trailing_sales={s: eur(0) for s in sellers},
        adjusters=adjusters,  # type: ignore[arg-type]
        shipping={s: ShippingChoice(profiles={"default": DEFAULT} if profiles is None else profiles, country=country,
                                    option=option) for s in sellers},  # type: ignore[arg-type]
        shipping_adjusters=shipping_adjusters)  # type: ignore[arg-type]


def test_shipping_is_split_over_the_goods_rates_in_proportion_and_included_in_the_totals() -> None:
    order = priced([line(1, 2_000, 2), line(2, 1_000, category="books/fiction")])

    [part] = order.sellers
    assert part.shipping is not None
    assert part.shipping.amount == eur(690)
    assert [(s.rate_bp, s.gross.amount, s.tax.amount) for s in part.shipping.vat] == [(700, 138, 9), (1900, 552, 88)]
    assert (part.total, part.tax, part.fee) == (eur(5_690), eur(639 + 65 + 97), eur(500))
    assert (order.total, order.shipping, order.subtotal) == (eur(5_690), eur(690), eur(5_000))


def test_the_free_shipping_threshold_is_compared_with_the_goods_after_discounts() -> None:
    def ten_percent(lines: Sequence[LinePrice]) -> list[PriceAdjustment]:
        return [PriceAdjustment(line=item.line, amount=item.price.percent_of(1_000), source="group", label="g")
                for item in lines]

    full = priced([line(1, 10_000)])
    discounted = priced([line(1, 10_000)], adjusters=[ten_percent])

    assert full.sellers[0].shipping is not None and full.sellers[0].shipping.amount == eur(0)
    assert discounted.sellers[0].shipping is not None and discounted.sellers[0].shipping.amount == eur(490)
    assert discounted.total == eur(9_000 + 490)


def test_a_tax_exempt_buyer_pays_shipping_net_like_the_goods() -> None:
    [part] = priced([line(1, 2_000, 2), line(2, 1_000, category="books/fiction")], exempt=True).sellers

    assert part.shipping is not None
    # 1.38 at 7 % -> 1.29 net; 5.52 at 19 % -> 4.64 net
    assert (part.shipping.amount, part.shipping.tax) == (eur(129 + 464), eur(0))
    assert part.tax == eur(0)


def test_the_fee_on_shipping_is_charged_only_when_the_schedule_says_so() -> None:
    without = priced([line(1, 2_000)]).sellers[0]
    with_fee = priced([line(1, 2_000)], fee_on_shipping=True).sellers[0]

    assert without.shipping is not None and without.shipping.fee == eur(0)
    assert with_fee.shipping is not None and with_fee.shipping.fee == eur(49)
    assert with_fee.fee == eur(200 + 49)


def test_shipping_adjustments_apply_in_turn_never_below_zero() -> None:
    calls: list[int] = []

    def half_off(shipping: Sequence[ShippingPrice]) -> list[ShippingAdjustment]:
        calls.append(shipping[0].price.amount)
        return [ShippingAdjustment(seller_id=s.seller_id, amount=Money("EUR", s.price.amount // 2), source="a",
                                   label="half") for s in shipping]

    def everything_and_more(shipping: Sequence[ShippingPrice]) -> list[ShippingAdjustment]:
        calls.append(shipping[0].price.amount)
        return [ShippingAdjustment(seller_id=s.seller_id, amount=eur(10_000), source="b", label="free")
                for s in shipping]

    [part] = priced([line(1, 2_000)], shipping_adjusters=[half_off, everything_and_more]).sellers

    assert calls == [490, 245]
    assert part.shipping is not None
    assert (part.shipping.price, part.shipping.discount, part.shipping.amount) == (eur(490), eur(490), eur(0))
    assert [a.amount for a in part.shipping.adjustments] == [eur(245), eur(245)]
    assert part.total == eur(2_000)


def test_undeliverable_parts_and_missing_options_are_reported() -> None:
    abroad = priced([line(1, 2_000)], country="US")

    assert abroad.undeliverable == {"sel_a": ("prd_1",)}
    assert abroad.sellers[0].shipping is None
    with pytest.raises(UnavailableOption):
        priced([line(1, 2_000)], option="express")


def test_a_seller_without_profiles_ships_free() -> None:
    order = priced([line(1, 2_000)], profiles={})

    assert order.shipping == eur(0) and order.total == eur(2_000)


_lines = st.lists(st.tuples(st.integers(min_value=1, max_value=50_000), st.integers(min_value=1, max_value=5),
                            st.sampled_from(CATEGORIES), st.sampled_from(("sel_a", "sel_b"))),
                  min_size=1, max_size=8)


@given(drawn=_lines, standard=st.integers(min_value=0, max_value=5_000), extra=st.integers(min_value=0, max_value=900),
       exempt=st.booleans())
def test_shipping_vat_adds_up_and_totals_are_the_sums_of_their_parts(
        drawn: list[tuple[int, int, str, str]], standard: int, extra: int, exempt: bool) -> None:
    profile = Profile("default", (Zone(frozenset({"DE"}), standard=eur(standard), per_extra_item=eur(extra)),))
    order = priced([line(n, price, quantity, category, seller) for n, (price, quantity, category, seller)
                    in enumerate(drawn, start=1)], profiles={"default": profile}, exempt=exempt)

    for part in order.sellers:
        shipping = part.shipping
        assert shipping is not None
        items = sum(item.quantity for item in part.lines)
        assert shipping.price == eur(standard + extra * (items - 1))
        assert sum(s.gross.amount for s in shipping.vat) == shipping.amount.amount
        assert sum(s.tax.amount for s in shipping.vat) == shipping.tax.amount
        goods_rates = {vat_rate("DE", item.category) for item in part.lines}
        assert {s.rate_bp for s in shipping.vat} <= goods_rates
        if exempt:
            assert shipping.tax == eur(0) and shipping.amount.amount <= shipping.price.amount
        else:
            assert shipping.amount == shipping.price
            for share in shipping.vat:  # each share holds VAT at its rate, rounded half-up
                assert abs(share.tax.amount * (10_000 + share.rate_bp) - share.gross.amount * share.rate_bp) \
                    <= (10_000 + share.rate_bp) // 2
        assert part.total == sum((item.total for item in part.lines), eur(0)) + shipping.amount
        assert part.tax == sum((item.tax for item in part.lines), eur(0)) + shipping.tax
    assert order.total == sum((part.total for part in order.sellers), eur(0))
    assert order.shipping == sum((part.shipping_amount for part in order.sellers), eur(0))
    assert order.tax == sum((part.tax for part in order.sellers), eur(0))


def test_goods_in_another_currency_than_the_sellers_rates_cannot_be_shipped() -> None:
    dollars = LineInput(product_id="prd_1", seller_id="sel_a", sku="S1", title="P1", category="fashion/shoes",
                        unit_price=Money("USD", 2_000), quantity=1)

    order = price_order([dollars], terms={"sel_a": SellerTerms(country="DE")}, policies={"sel_a": FeePolicy()},
                        trailing_sales={"sel_a": Money("USD", 0)},
                        shipping={"sel_a": ShippingChoice(profiles={"default": DEFAULT}, country="DE")})

    assert order.undeliverable == {"sel_a": ("prd_1",)}
