"""The shipping quote of a seller's part and the VAT its price carries: pure, no AWS."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.money import Money
from chalicelib.shipping.engine import Express, Line, Profile, Zone, quote, shipping_vat, split_proportionally


def eur(amount: int) -> Money:
    return Money("EUR", amount)


GERMANY = Zone(countries=frozenset({"DE"}), standard=eur(490), per_extra_item=eur(100),
               express=Express(rate=eur(990), delivery_days_min=1, delivery_days_max=1),
               free_shipping_threshold=eur(5_000), delivery_days_min=2, delivery_days_max=3)
EU = Zone(countries=frozenset({"AT", "FR", "NL"}), standard=eur(990))
DEFAULT = Profile("default", (GERMANY, EU), handling_days=1)
BULKY = Profile("shp_bulky", (Zone(countries=frozenset({"DE"}), standard=eur(1_990), per_extra_item=eur(500),
                                   express=Express(rate=eur(2_990), delivery_days_min=1, delivery_days_max=2),
                                   free_shipping_threshold=eur(50_000), delivery_days_min=3, delivery_days_max=5),),
                handling_days=3)
PROFILES = {"default": DEFAULT, "shp_bulky": BULKY}


def line(product_id: str, value: int, quantity: int = 1, profile_id: str | None = None) -> Line:
    return Line(product_id=product_id, profile_id=profile_id, quantity=quantity, goods_value=eur(value))


def test_one_item_pays_the_standard_rate_and_express_is_offered() -> None:
    shipped = quote(PROFILES, [line("prd_shoe", 2_000)], "DE")

    assert shipped.undeliverable == ()
    standard, express = shipped.options
    assert (standard.kind, standard.price, standard.handling_days) == ("standard", eur(490), 1)
    assert (standard.delivery_days_min, standard.delivery_days_max) == (2, 3)
    assert (express.kind, express.price, express.delivery_days_min, express.delivery_days_max) == (
        "express", eur(990), 1, 1)
    [free] = shipped.free_shipping
    assert (free.profile_id, free.threshold, free.left, free.reached) == ("default", eur(5_000), eur(3_000), False)


def test_further_items_pay_the_extra_item_rate_for_standard_and_express() -> None:
    shipped = quote(PROFILES, [line("prd_shoe", 1_000, quantity=2), line("prd_sock", 500)], "DE")

    assert shipped.option("standard").price == eur(490 + 2 * 100)  # type: ignore[union-attr]
    assert shipped.option("express").price == eur(990 + 2 * 100)  # type: ignore[union-attr]


def test_reaching_the_threshold_makes_standard_free_but_not_express() -> None:
    shipped = quote(PROFILES, [line("prd_jacket", 5_000)], "DE")

    assert shipped.option("standard").price == eur(0)  # type: ignore[union-attr]
    assert shipped.option("express").price == eur(990)  # type: ignore[union-attr]
    assert shipped.free_shipping[0].left == eur(0)


def test_a_zone_without_express_or_threshold_offers_standard_only() -> None:
    shipped = quote(PROFILES, [line("prd_shoe", 9_000, quantity=3)], "AT")

    assert [o.kind for o in shipped.options] == ["standard"]
    assert shipped.option("standard").price == eur(990)  # type: ignore[union-attr]  # no per_extra_item: 0
    assert shipped.option("standard").delivery_days_min is None  # type: ignore[union-attr]
    assert shipped.free_shipping == ()


def test_a_country_in_no_zone_makes_the_part_undeliverable_naming_the_products() -> None:
    shipped = quote(PROFILES, [line("prd_shoe", 2_000), line("prd_sofa", 90_000, profile_id="shp_bulky")], "AT")

    assert shipped.undeliverable == ("prd_sofa",)
    assert not shipped.deliverable
    assert shipped.options == ()


def test_groups_of_several_profiles_add_up_and_keep_their_own_thresholds() -> None:
    lines = [line("prd_shoe", 6_000), line("prd_sofa", 40_000, quantity=2, profile_id="shp_bulky")]

    shipped = quote(PROFILES, lines, "de")

    # default: 60 EUR reaches its 50 EUR threshold (free); bulky: 1,990 + 500 for the second sofa
    assert shipped.option("standard").price == eur(2_490)  # type: ignore[union-attr]
    assert shipped.option("express").price == eur(990 + 2_990 + 500)  # type: ignore[union-attr]
    assert [(f.profile_id, f.left) for f in shipped.free_shipping] == [("default", eur(0)), ("shp_bulky", eur(10_000))]
    standard = shipped.option("standard")
    assert (standard.handling_days, standard.delivery_days_min, standard.delivery_days_max) == (3, 3, 5)  # type: ignore[union-attr]


def test_express_needs_every_group_to_offer_it() -> None:
    plain = Profile("shp_plain", (Zone(countries=frozenset({"DE"}), standard=eur(300)),))

    lines = [line("prd_shoe", 100), line("prd_mug", 100, profile_id="shp_plain")]

    shipped = quote({**PROFILES, "shp_plain": plain}, lines, "DE")

    assert [o.kind for o in shipped.options] == ["standard"]
    assert shipped.option("standard").price == eur(490 + 300)  # type: ignore[union-attr]


def test_a_product_naming_a_deleted_profile_ships_with_the_default() -> None:
    shipped = quote(PROFILES, [line("prd_shoe", 1_000, profile_id="shp_gone")], "DE")

    assert shipped.option("standard").price == eur(490)  # type: ignore[union-attr]


def test_a_seller_without_profiles_ships_everywhere_for_free() -> None:
    shipped = quote({}, [line("prd_shoe", 1_000, profile_id="shp_gone"), line("prd_sock", 200)], "JP")

    assert shipped.undeliverable == ()
    assert [(o.kind, o.price, o.handling_days) for o in shipped.options] == [("standard", eur(0), 0)]
    assert shipped.free_shipping == ()


def test_without_a_default_only_products_naming_a_profile_pay_for_shipping() -> None:
    shipped = quote({"shp_bulky": BULKY}, [line("prd_shoe", 1_000), line("prd_sofa", 1_000, profile_id="shp_bulky")],
                    "DE")

    assert shipped.option("standard").price == eur(1_990)  # type: ignore[union-attr]


def test_a_part_without_lines_is_refused() -> None:
    with pytest.raises(ValueError):
        quote(PROFILES, [], "DE")


# --- VAT of shipping -------------------------------------------------------------------------

def test_shipping_of_one_rate_carries_that_rate() -> None:
    [vat] = shipping_vat(eur(490), {1_900: eur(2_000)})

    assert (vat.rate_bp, vat.gross, vat.tax) == (1_900, eur(490), eur(78))  # 490 * 19 / 119 = 78.2


def test_mixed_rates_split_shipping_by_goods_value() -> None:
    # 30 EUR of books at 7 % and 10 EUR of shoes at 19 %: three quarters of the shipping is at 7 %
    low, high = shipping_vat(eur(490), {1_900: eur(1_000), 700: eur(3_000)})

    # 367.5 and 122.5: the remainders tie, the cent goes to the lower rate
    assert (low.rate_bp, low.gross, low.tax) == (700, eur(368), eur(24))
    assert (high.rate_bp, high.gross, high.tax) == (1_900, eur(122), eur(19))


def test_equal_remainders_give_the_cent_to_the_lower_rate() -> None:
    low, high = shipping_vat(eur(1), {700: eur(500), 1_900: eur(500)})

    assert (low.gross, high.gross) == (eur(1), eur(0))


def test_free_shipping_carries_no_vat() -> None:
    assert [(v.gross, v.tax) for v in shipping_vat(eur(0), {700: eur(1), 1_900: eur(2)})] == [(eur(0), eur(0))] * 2


def test_goods_worth_nothing_put_shipping_on_the_first_rate() -> None:
    assert [v.gross for v in shipping_vat(eur(490), {700: eur(0), 1_900: eur(0)})] == [eur(490), eur(0)]


@given(price=st.integers(min_value=0, max_value=10**9),
       weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8))
def test_a_split_adds_up_to_the_price_and_no_part_is_negative(price: int, weights: list[int]) -> None:
    parts = split_proportionally(eur(price), weights)

    assert sum(p.amount for p in parts) == price
    assert all(p.amount >= 0 for p in parts)
    assert len(parts) == len(weights)


@given(price=st.integers(min_value=0, max_value=10**7),
       weights=st.lists(st.integers(min_value=1, max_value=10**7), min_size=1, max_size=8))
def test_each_part_is_its_exact_share_to_within_a_cent(price: int, weights: list[int]) -> None:
    parts = split_proportionally(eur(price), weights)

    for part, weight in zip(parts, weights, strict=True):
        assert abs(part.amount * sum(weights) - price * weight) < sum(weights)


@given(price=st.integers(min_value=0, max_value=10**7),
       goods=st.dictionaries(st.sampled_from([0, 260, 550, 700, 1_000, 1_900, 2_000, 2_100]),
                             st.integers(min_value=0, max_value=10**7), min_size=1, max_size=5))
def test_shipping_vat_adds_up_and_never_exceeds_its_share(price: int, goods: dict[int, int]) -> None:
    split = shipping_vat(eur(price), {rate: eur(value) for rate, value in goods.items()})

    assert sum(v.gross.amount for v in split) == price
    assert [v.rate_bp for v in split] == sorted(goods)
    assert all(0 <= v.tax.amount <= v.gross.amount for v in split)


_lines = st.lists(st.tuples(st.sampled_from([None, "shp_bulky", "shp_gone"]), st.integers(min_value=1, max_value=5),
                            st.integers(min_value=0, max_value=100_000)), min_size=1, max_size=6)


def _part(drawn: list[tuple[str | None, int, int]]) -> list[Line]:
    return [line(f"prd_{n}", value, quantity, profile) for n, (profile, quantity, value) in enumerate(drawn)]


@given(drawn=_lines, extra=st.integers(min_value=0, max_value=100_000), at=st.integers(min_value=0, max_value=5))
def test_more_goods_value_never_makes_shipping_dearer(drawn: list[tuple[str | None, int, int]], extra: int,
                                                      at: int) -> None:
    lines = _part(drawn)
    richer = list(lines)
    i = at % len(lines)
    richer[i] = Line(lines[i].product_id, lines[i].profile_id, lines[i].quantity, lines[i].goods_value + eur(extra))

    before, after = quote(PROFILES, lines, "DE"), quote(PROFILES, richer, "DE")

    assert after.option("standard").price <= before.option("standard").price  # type: ignore[union-attr]
    assert after.option("express").price == before.option("express").price  # type: ignore[union-attr]
    assert all(a.left <= b.left for a, b in zip(after.free_shipping, before.free_shipping, strict=True))


@given(drawn=_lines)
def test_a_quote_depends_on_each_groups_items_and_value_not_on_how_lines_are_cut(
        drawn: list[tuple[str | None, int, int]]) -> None:
    lines = _part(drawn)
    one_by_one = [Line(f"{item.product_id}_{k}", item.profile_id, 1,
                       eur(item.goods_value.amount if k == 0 else 0)) for item in lines for k in range(item.quantity)]

    assert quote(PROFILES, one_by_one, "DE").options == quote(PROFILES, lines, "DE").options
    assert all(o.price.amount >= 0 for o in quote(PROFILES, lines, "DE").options)
