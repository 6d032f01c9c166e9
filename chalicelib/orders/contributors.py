"""The marketplace's checkout contributors, in the order pricing applies them.

Orders wires the contributors of the packages below it (the customer-group terms, first);
a package above orders (promotions, loyalty) names its own from its registration module with
:func:`chalicelib.orders.contributor_paths.register_contributor_later` (light: app.py imports
it), and they are registered here, in that order, when the registry is first iterated; or
directly with :func:`register_contributor`. So orders never imports them. The hooks are
:class:`chalicelib.orders.extensions.CheckoutContributor`'s.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

from chalicelib.core.money import Money
from chalicelib.fees.engine import FeePolicy
from chalicelib.orders import contributor_paths
from chalicelib.orders.extensions import CheckoutContext, CheckoutContributor, Key, LinePrice, Notice, Registry
from chalicelib.orders.group_discount import CustomerGroupTerms
from chalicelib.orders.pricing import (
    Adjuster,
    LineInput,
    PriceAdjustment,
    PricedOrder,
    SellerTerms,
    ShippingAdjuster,
    ShippingAdjustment,
    ShippingChoice,
    ShippingPrice,
    price_order,
)


class _Contributors(Registry):
    """The marketplace's registry: contributors named by path are registered on first use."""

    _lock = threading.Lock()
    _loaded: set[str] = set()

    def __iter__(self) -> Iterator[CheckoutContributor]:
        if len(self._loaded) < len(contributor_paths.PENDING):
            with self._lock:
                for path in list(contributor_paths.PENDING):
                    if path not in self._loaded:
                        module, _, name = path.partition(":")
                        contributor = getattr(importlib.import_module(module), name)()
                        if contributor.name not in self.names():
                            self.register(contributor)
                        self._loaded.add(path)
        return super().__iter__()


contributors = _Contributors([CustomerGroupTerms()])


def register_contributor(contributor: CheckoutContributor) -> CheckoutContributor:
    """Run ``contributor`` after those registered before it (names are unique)."""
    return contributors.register(contributor)


def contributor_keys(context: CheckoutContext) -> list[Key]:
    """Every contributor's keys, for checkout to read with its own in one BatchGetItem."""
    return [key for contributor in contributors for key in contributor.keys(context)]


def follow_up_keys(context: CheckoutContext) -> list[Key]:
    """Every contributor's follow-up keys, named by what the first read found (the buyer's
    customer groups): read in one more BatchGetItem, only when one is named."""
    return [key for contributor in contributors for key in contributor.follow_up_keys(context)]


def price_with_contributors(context: CheckoutContext, lines: Sequence[LineInput], *, countries: Mapping[str, str],
                            policies: Mapping[str, FeePolicy], trailing_sales: Mapping[str, Money],
                            shipping: Mapping[str, ShippingChoice] | None = None
                            ) -> tuple[PricedOrder, list[Notice]]:
    """The lines priced with every contributor's adjustments (and, with ``shipping``, each
    part's shipping with the contributors' shipping adjustments), and what each contributor
    tells the buyer about its turn (given the lines as that turn saw them). Cart and checkout
    both price through this, so they show and charge the same."""
    exempt = {seller_id for contributor in contributors for seller_id in contributor.tax_exempt_sellers(context)}
    turns: dict[str, Sequence[LinePrice]] = {}

    def adjuster(contributor: CheckoutContributor) -> Adjuster:
        def adjust(seen: Sequence[LinePrice]) -> Sequence[PriceAdjustment]:
            turns[contributor.name] = seen
            return contributor.adjust(context, seen)
        return adjust

    def shipping_adjuster(contributor: CheckoutContributor) -> ShippingAdjuster:
        def adjust(shipping: Sequence[ShippingPrice]) -> Sequence[ShippingAdjustment]:
            seen = replace(context, lines=tuple(turns.get(contributor.name, ())))
            return contributor.shipping_adjustments(seen, shipping)
        return adjust

    priced = price_order(lines, terms={sid: SellerTerms(country=country, tax_exempt=sid in exempt)
                                       for sid, country in countries.items()},
                         policies=policies, trailing_sales=trailing_sales,
                         adjusters=[adjuster(contributor) for contributor in contributors], shipping=shipping,
                         shipping_adjusters=[shipping_adjuster(contributor) for contributor in contributors]
                         if shipping is not None else ())
    notices = [notice for contributor in contributors
               for notice in contributor.explain(context, turns.get(contributor.name, ()))]
    return priced, notices
