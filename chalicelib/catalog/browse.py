"""Public browse and search: Queries on the listing entries, never a Scan.

A listing reads one index partition, chosen from the filters in this order of
selectivity: seller, search word, a word of the brand, category, everything. Price sorts and price
bounds use the price index (GSI1, bounds as a key condition); ``newest`` uses GSI2. The
filters the partition does not cover are applied to the entries read, in a bounded loop
(at most ``MAX_QUERY_PAGES`` Queries of ``QUERY_PAGE`` entries): it fills the page where it
can, and otherwise returns fewer items with a cursor that resumes right after the last
entry examined, so walking the cursor never skips or repeats a product.

``sort=rating`` uses the best-rated index (GSI3): best average first, then most reviews, then
product id, unrated products last, over the whole listing however large; ``min_rating`` is
then its key condition. With other sorts ``min_rating`` is checked on the entries read, which
carry the product's rating (count and sum, a copy of its pointer's kept by
``chalicelib.catalog.ratings``), as the page's items do: no extra read for ratings.

A seller's standing is checked when reading, not stored on the entries: one
BatchGetItem per Query page for the sellers not seen yet in this request. Suspending a
seller (or a lapse of their Stripe charges) therefore hides all their products from the
next request on, and lifting it shows them again, with nothing rewritten.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.catalog.models import ProductListing
from chalicelib.catalog.ratings import RatingSummary, hundredths, summary_of
from chalicelib.catalog.schemas import MAX_PRICE, BrowseQuery
from chalicelib.catalog.search import brand_key, lookup_key, matches, query_terms, words
from chalicelib.catalog.service import find_pointed_product, product_not_found
from chalicelib.core.errors import Code, ValidationFailed
from chalicelib.core.ids import has_prefix
from chalicelib.core.keys import (
    ALL_SCOPE,
    category_browse_scope,
    newest_index_key,
    price_index_key,
    price_sort_key,
    rated_index_key,
    rated_sort_bound,
    seller_browse_scope,
    word_browse_scope,
)
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.sellers.models import Seller
from chalicelib.sellers.service import get_seller, seller_not_found, sellers_by_id

MAX_QUERY_PAGES = 4
QUERY_PAGE = 100
PRICE_CURRENCY_DEFAULT = "EUR"


@dataclass(frozen=True)
class _Plan:
    """Which index partition to read, in which order, and what to check on each entry."""

    index: Any
    hash_key: str
    range_condition: Any
    forward: bool
    key_names: tuple[str, ...]
    keep: Callable[[ProductListing], bool]
    filtering: bool


def _plan(query: BrowseQuery) -> _Plan:
    terms = query_terms(query.q) if query.q is not None else []
    if query.q is not None and not terms:
        raise ValidationFailed("Search for at least one word of two or more letters.", code=Code.SEARCH_TOO_SHORT,
                               details=[{"field": "query.q", "message": "no word of 2+ letters",
                                         "type": "search_too_short"}])
    brand = brand_key(query.brand) if query.brand is not None else None
    brand_words = words(query.brand)
    if query.seller_id:
        scope = seller_browse_scope(query.seller_id)
    elif terms:
        scope = word_browse_scope(lookup_key(terms))
    elif brand_words:  # brand words are always searchable words of the product
        scope = word_browse_scope(lookup_key(brand_words))
    elif query.category:
        scope = category_browse_scope(query.category)
    else:
        scope = ALL_SCOPE
    by_price = query.sort in ("price_asc", "price_desc")
    priced = by_price or query.min_price is not None or query.max_price is not None
    currency = query.currency or (PRICE_CURRENCY_DEFAULT if priced else None)
    low, high = query.min_price or 0, MAX_PRICE if query.max_price is None else query.max_price

    def keep(entry: ProductListing) -> bool:
        return ((not query.category or entry.category == query.category
                 or entry.category.startswith(f"{query.category}/"))
                and (not query.seller_id or entry.seller_id == query.seller_id)
                and (query.brand is None or brand_key(entry.brand) == brand)
                and matches(terms, entry.words)
                and (currency is None or entry.currency == currency)
                and low <= int(entry.price) <= high
                and (query.in_stock is None or bool(entry.in_stock) == query.in_stock)
                and hundredths(int(entry.rating_count or 0), int(entry.rating_sum or 0)) >= least)

    # Whether entries of the partition may fail the filters (then read full Query pages).
    by_rating = query.sort == "rating"
    least = least_hundredths(query.min_rating)
    filtering = bool(
        (query.category and scope != category_browse_scope(query.category))
        or query.brand is not None or terms or query.in_stock is not None
        or (query.min_rating is not None and not by_rating)
        or (not by_price and (currency is not None or query.min_price is not None or query.max_price is not None)))
    if by_rating:
        rated = ProductListing.GSI3SK < rated_sort_bound(least) if least else None  # noqa: SIM300
        return _Plan(ProductListing.by_rating, rated_index_key(scope), rated, True,
                     ("PK", "SK", "GSI3PK", "GSI3SK"), keep, filtering)
    if by_price:
        return _Plan(ProductListing.by_price, price_index_key(scope, currency or PRICE_CURRENCY_DEFAULT),
                     ProductListing.GSI1SK.between(price_sort_key(low, ""), price_sort_key(high, "~")),
                     query.sort == "price_asc", ("PK", "SK", "GSI1PK", "GSI1SK"), keep, filtering)
    return _Plan(ProductListing.by_newest, newest_index_key(scope), None, False, ("PK", "SK", "GSI2PK", "GSI2SK"),
                 keep, filtering)


def _cursor_scope(query: BrowseQuery) -> str:
    """A cursor only resumes the very listing (filters and sort) it came from."""
    return "browse:" + json.dumps(query.model_dump(exclude={"cursor", "limit"}), sort_keys=True)


def least_hundredths(min_rating: float | None) -> int:
    """``min_rating`` in hundredths of a star, rounded up (0: no bound): an average shown with
    two decimals passes when its hundredths reach it."""
    return math.ceil(round(min_rating * 100, 6)) if min_rating is not None else 0


def browse(query: BrowseQuery, limit: int) -> Page[tuple[ProductListing, Seller]]:
    """One page of listed products of sellers who can sell, whatever the sort. Round trips:
    one Query per page of entries read plus one BatchGetItem of their unseen sellers;
    usually 2, at most ``2 * MAX_QUERY_PAGES``."""
    plan = _plan(query)
    scope = _cursor_scope(query)
    start = decode_cursor(query.cursor, scope=scope)
    page_size = QUERY_PAGE if plan.filtering else limit
    sellers: dict[str, Seller | None] = {}
    found: list[tuple[ProductListing, Seller]] = []
    for _ in range(MAX_QUERY_PAGES):
        page = next(plan.index.query(plan.hash_key, plan.range_condition, scan_index_forward=plan.forward,
                                     last_evaluated_key=start, page_size=page_size).page_iter)
        raw_items, last_key = page.get("Items", []), page.get("LastEvaluatedKey")
        candidates = [(raw, entry) for raw in raw_items if plan.keep(entry := ProductListing.from_raw_data(raw))]
        unseen = {entry.seller_id for _, entry in candidates} - sellers.keys()
        if unseen:
            known = sellers_by_id(unseen)
            sellers.update({seller_id: known.get(seller_id) for seller_id in unseen})
        for raw, entry in candidates:
            seller = sellers[entry.seller_id]
            if seller is None or not seller.can_sell:
                continue
            found.append((entry, seller))
            if len(found) == limit:
                if raw is raw_items[-1] and last_key is None:
                    return Page(found, None)
                return Page(found, encode_cursor({name: raw[name] for name in plan.key_names}, scope=scope))
        if last_key is None:
            return Page(found, None)
        start = last_key
    return Page(found, encode_cursor(start, scope=scope))


def public_product(product_id: str) -> tuple[Any, Seller]:
    """A listed product of a seller who can sell, else 404 (pointer, product, seller: 3 GetItems)."""
    product, seller, _ = rated_public_product(product_id)
    return product, seller


def rated_public_product(product_id: str) -> tuple[Any, Seller, RatingSummary]:
    """:func:`public_product` with its rating, which its pointer holds (the same 3 GetItems)."""
    pointer, product = find_pointed_product(product_id)
    if not product.is_listed:
        raise product_not_found()
    seller = sellers_by_id([product.seller_id]).get(product.seller_id)
    if seller is None or not seller.can_sell:
        raise product_not_found()
    return product, seller, summary_of(pointer)


def count_listed_products(seller_id: str) -> int:
    """How many products a seller has on sale (active, not hidden), for a storefront.
    A COUNT Query of the seller's listing partition: 1 round trip per ~1 MB of entries
    (thousands of products). It does not check the seller's own standing."""
    listed: int = ProductListing.by_newest.count(newest_index_key(seller_browse_scope(seller_id)))
    return listed


def storefront(seller_id: str) -> tuple[Seller, int]:
    """An approved seller's public face and how many products it has on sale; any other
    seller is not found. GetItem + one COUNT Query of the seller's listing partition.
    The catalog's, not the sellers': counting products is catalog knowledge, and sellers
    sit below the catalog."""
    if not has_prefix(seller_id, "sel"):
        raise seller_not_found()
    seller = get_seller(seller_id)
    if seller.status != "approved":
        raise seller_not_found()
    return seller, count_listed_products(seller_id) if seller.can_sell else 0
