"""The customer-group terms as a checkout contributor: the first one, wired by orders itself.

A seller's group gives its members a discount in basis points off each of their lines at
that seller (seller-funded: the seller's payout is on the discounted total), and a
customer the seller marked tax-exempt pays that seller's part net of VAT. The rules are
customers' (:func:`chalicelib.customers.service.terms_from`); this reads their records
through the contributors' shared reads: the buyer's customer records in the checkout's
BatchGetItem of products and sellers, the groups they are in in one more (only when the
buyer is in one: a group's key is known only from the customer record).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from chalicelib.customers.models import Customer, CustomerGroup
from chalicelib.customers.service import customer_group_keys, customer_record_keys, terms_from
from chalicelib.orders.extensions import (
    SELLER_FUNDED,
    CheckoutContext,
    Contributor,
    Key,
    LinePrice,
    PriceAdjustment,
)


class CustomerGroupTerms(Contributor):
    name = "customer_group"
    funding = SELLER_FUNDED

    def keys(self, context: CheckoutContext) -> Sequence[Key]:
        if context.user_id is None:
            return ()
        return [Key(Customer, pk, sk) for pk, sk in customer_record_keys(context.seller_ids, context.user_id)]

    def follow_up_keys(self, context: CheckoutContext) -> Sequence[Key]:
        return [Key(CustomerGroup, pk, sk) for pk, sk in customer_group_keys(self._customers(context))]

    def adjust(self, context: CheckoutContext, lines: Sequence[LinePrice]) -> Sequence[PriceAdjustment]:
        terms = self._terms(context)
        groups = {c.seller_id: c.group_id for c in self._customers(context)}
        return [PriceAdjustment(line=line.line, amount=line.price.percent_of(terms[line.seller_id][0]),
                                source=self.name, label=groups[line.seller_id] or "", funding=self.funding)
                for line in lines if terms.get(line.seller_id, (0, False))[0]]

    def tax_exempt_sellers(self, context: CheckoutContext) -> Collection[str]:
        return {seller_id for seller_id, (_, exempt) in self._terms(context).items() if exempt}

    def _customers(self, context: CheckoutContext) -> list[Customer]:
        return context.found.all(self.keys(context))

    def _terms(self, context: CheckoutContext) -> dict[str, tuple[int, bool]]:
        customers = self._customers(context)
        groups = context.found.all(self.follow_up_keys(context))
        return terms_from(context.seller_ids, customers, groups)
