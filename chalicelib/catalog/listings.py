"""The public listing entries a product should have, derived from the product and its rating.

Browse reads only these entries (see the key design in ``chalicelib.catalog.models``);
``service`` writes them in the same transaction as the product, so browse never shows a
price, title or status the product no longer has; a review changes their rating copy in its
own transaction (``chalicelib.catalog.ratings``).
"""

from __future__ import annotations

from typing import Any

from chalicelib.catalog.models import Product, ProductListing
from chalicelib.catalog.ratings import listing_rating
from chalicelib.catalog.search import index_keys, product_words
from chalicelib.core.categories import lineage
from chalicelib.core.keys import (
    ALL_SCOPE,
    category_browse_scope,
    listing_sk,
    newest_index_key,
    price_index_key,
    price_sort_key,
    product_pk,
    seller_browse_scope,
    timed_sort_key,
    word_browse_scope,
)


def scopes(product: Product) -> list[str]:
    """Every listing a listed product appears in; none for drafts, archived or hidden ones."""
    if not product.is_listed:
        return []
    return [ALL_SCOPE, *(category_browse_scope(slug) for slug in lineage(product.category)),
            seller_browse_scope(product.seller_id),
            *(word_browse_scope(key) for key in index_keys(product_words(product.title, product.brand)))]


def summary(product: Product | None) -> dict[str, Any] | None:
    """What a browse page shows of a listed product (None when it is not listed)."""
    if product is None or not product.is_listed:
        return None
    return {
        "product_id": product.product_id, "seller_id": product.seller_id, "title": product.title,
        "brand": product.brand, "category": product.category, "price": int(product.price),
        "currency": product.currency, "image": product.images[0] if product.images else None,
        "in_stock": int(product.stock) > 0, "created_at": product.created_at,
        "words": product_words(product.title, product.brand),
    }


def entries(product: Product, rating_count: int = 0, rating_sum: int = 0) -> list[ProductListing]:
    """With the product's rating as its pointer holds it (a new product has none)."""
    shown = summary(product)
    if shown is None:
        return []
    return [
        ProductListing(
            PK=product_pk(product.product_id), SK=listing_sk(scope),
            GSI1PK=price_index_key(scope, product.currency),
            GSI1SK=price_sort_key(int(product.price), product.product_id),
            GSI2PK=newest_index_key(scope), GSI2SK=timed_sort_key(product.created_at, product.product_id),
            **listing_rating(scope, product.product_id, rating_count, rating_sum), **shown,
        )
        for scope in scopes(product)
    ]


def entry_key(product_id: str, scope: str) -> ProductListing:
    """A listing entry addressed by key only, for deletion."""
    return ProductListing(PK=product_pk(product_id), SK=listing_sk(scope))
