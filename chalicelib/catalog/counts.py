"""How many products buyers can find in each category, for ``GET /v1/categories``.

Counted when read, not kept in counters. A product is counted where browse would show it:
listed (active, not hidden) and its seller able to sell (approved, not suspended, Stripe
charges enabled). Counters written in each product's transaction would put one hot item
under every listing change of the marketplace (concurrent transactions on it fail with
TransactionConflict, bulk uploads most of all), and would still need the whole of a
seller's counts moved whenever the seller is suspended, reinstated or loses charges. So:

- per leaf category, one COUNT Query of its listing partition (GSI2
  ``CATALOG#CAT#<leaf>``): the listed products, whatever their seller's standing; the
  tree is fixed and small (25 leaves), and departments are the sums of their leaves;
- minus the listed products of sellers who cannot sell now: the sparse ``NOT_SELLING``
  index of sellers (1 Query), then each such seller's listing partition (1 Query each,
  reading only the category).

Suspending a seller therefore takes its products out of the counts, and reinstating puts
them back, with nothing rewritten — the same rule browse applies.

Cost: 25 COUNT Queries (each one round trip per ~1 MB of entries, so one for a leaf of a
few thousand products) run ``COUNT_WORKERS`` at a time, + 1 + (sellers who cannot sell)
Queries: about 4-5 round trips of latency for a small marketplace. A COUNT still reads
(and bills) every entry it counts, so each container keeps the result for
``COUNTS_TTL_SECONDS``: counts may lag a change by that long, browse itself does not. When
the catalogue grows to millions of entries, the counts come from the search index's facets
instead (see the README on moving to OpenSearch).
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from chalicelib.catalog.models import ProductListing
from chalicelib.core.cache import Expiring
from chalicelib.core.categories import CATEGORIES, DEPARTMENTS
from chalicelib.core.keys import category_browse_scope, newest_index_key, seller_browse_scope
from chalicelib.sellers.service import not_selling_seller_ids

COUNT_WORKERS = 8
COUNTS_TTL_SECONDS = 30.0
LEAVES = tuple(slug for slug, node in CATEGORIES.items() if node.is_leaf)


def _listed_in(leaf: str) -> int:
    listed: int = ProductListing.by_newest.count(newest_index_key(category_browse_scope(leaf)))
    return listed


def _not_on_sale() -> Counter[str]:
    """Listed products per leaf category of sellers who cannot sell now."""
    hidden: Counter[str] = Counter()
    for seller_id in not_selling_seller_ids():
        for entry in ProductListing.by_newest.query(newest_index_key(seller_browse_scope(seller_id)),
                                                    attributes_to_get=["category"]):
            hidden[entry.category] += 1
    return hidden


def _count() -> dict[str, int]:
    with ThreadPoolExecutor(max_workers=COUNT_WORKERS, thread_name_prefix="counts") as pool:
        hidden = pool.submit(_not_on_sale)
        listed = dict(zip(LEAVES, pool.map(_listed_in, LEAVES), strict=True))
        not_on_sale = hidden.result()
    counts = {leaf: max(0, listed[leaf] - not_on_sale[leaf]) for leaf in LEAVES}
    counts.update({slug: sum(counts[child] for child in CATEGORIES[slug].children) for slug in DEPARTMENTS})
    return counts


_cached = Expiring(COUNTS_TTL_SECONDS, _count)


def category_counts() -> dict[str, int]:
    """Products on sale per category slug (departments and leaves); see the module docstring."""
    return _cached.get()
