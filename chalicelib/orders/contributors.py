"""The marketplace's checkout contributors, in the order pricing applies them.

Orders wires the contributors of the packages below it (the customer-group terms, first);
a package above orders (promotions, loyalty) registers its own from its registration module
with :func:`register_contributor`, so orders never imports it. The hooks are
:class:`chalicelib.orders.extensions.CheckoutContributor`'s.
"""

from __future__ import annotations

from chalicelib.orders.extensions import CheckoutContext, CheckoutContributor, Key, Registry
from chalicelib.orders.group_discount import CustomerGroupTerms

contributors = Registry([CustomerGroupTerms()])


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
