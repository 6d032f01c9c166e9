"""VAT on order lines. Pure: no I/O.

**The rule** (one function, :func:`included_vat`, replaceable as a whole): prices are
gross, VAT included, as B2C prices in the EU are shown. The rate is the one of the
*seller's* country (the origin) for the product category's VAT class
(:mod:`chalicelib.core.categories`). Per line, after the customer-group discount:

- ``tax = total * rate / (10000 + rate)``, rounded half-up (rates in basis points);
- a buyer the seller marked tax-exempt pays the net: ``total = total * 10000 / (10000 +
  rate)`` rounded half-up, and ``tax = 0``.

A country missing from the table is charged no VAT (rate 0) — the operator adds its
rates before sellers from it can be taxed. Destination-based rules (EU OSS for
cross-border B2C above the threshold, reverse charge for B2B with a valid VAT id) would
replace this function and the table, not the callers.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core.categories import category
from chalicelib.core.money import Money, divide_half_up

# country -> VAT class -> rate in basis points (19 % = 1900)
VAT_RATES: dict[str, dict[str, int]] = {
    "DE": {"standard": 1900, "food": 700, "books": 700, "children_clothing": 1900, "medical": 700},
    "AT": {"standard": 2000, "food": 1000, "books": 1000, "children_clothing": 2000, "medical": 1000},
    "CH": {"standard": 810, "food": 260, "books": 260, "children_clothing": 810, "medical": 260},
    "FR": {"standard": 2000, "food": 550, "books": 550, "children_clothing": 2000, "medical": 550},
    "NL": {"standard": 2100, "food": 900, "books": 900, "children_clothing": 2100, "medical": 900},
    "IT": {"standard": 2200, "food": 400, "books": 400, "children_clothing": 2200, "medical": 400},
    "ES": {"standard": 2100, "food": 1000, "books": 400, "children_clothing": 2100, "medical": 1000},
    "GB": {"standard": 2000, "food": 0, "books": 0, "children_clothing": 0, "medical": 0},
}


@dataclass(frozen=True)
class TaxedLine:
    total: Money  # what the buyer pays for the line
    tax: Money  # the VAT included in it
    rate_bp: int


def vat_rate(seller_country: str, category_slug: str) -> int:
    return VAT_RATES.get(seller_country.upper(), {}).get(category(category_slug).vat_class, 0)


def included_vat(gross: Money, *, seller_country: str, category_slug: str, exempt: bool) -> TaxedLine:
    """The VAT of a line priced ``gross`` (after discounts), by the rule above."""
    rate = vat_rate(seller_country, category_slug)
    if exempt:
        net = Money(gross.currency, divide_half_up(gross.amount * 10_000, 10_000 + rate))
        return TaxedLine(total=net, tax=Money.zero(gross.currency), rate_bp=0)
    tax = Money(gross.currency, divide_half_up(gross.amount * rate, 10_000 + rate))
    return TaxedLine(total=gross, tax=tax, rate_bp=rate)
