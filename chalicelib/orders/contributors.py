"""The marketplace's checkout contributors, in the order pricing applies them.

Orders wires the contributors of the packages below it (the customer-group terms, first);
a package above orders (promotions, loyalty) registers its own from its registration module
with :func:`register_contributor`, so orders never imports it. The hooks are
:class:`chalicelib.orders.extensions.CheckoutContributor`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from chalicelib.orders.extensions import CheckoutContext, CheckoutContributor, Found, Registry, read_items
from chalicelib.orders.group_discount import CustomerGroupTerms

contributors = Registry([CustomerGroupTerms()])


def register_contributor(contributor: CheckoutContributor) -> CheckoutContributor:
    """Run ``contributor`` after those registered before it (names are unique)."""
    return contributors.register(contributor)


def checkout_context(user_id: str | None, currency: str, seller_ids: Sequence[str]) -> CheckoutContext:
    """The checkout's context with what its contributors need read: one BatchGetItem of every
    contributor's keys, a second of their follow-up keys; none when no key is named."""
    context = CheckoutContext(user_id=user_id, currency=currency, seller_ids=tuple(seller_ids), found=Found())
    for follow_up in (False, True):
        keys = [key for contributor in contributors
                for key in (contributor.follow_up_keys(context) if follow_up else contributor.keys(context))]
        if keys:
            context = replace(context, found=context.found.merged(read_items(keys)))
    return context
