"""Catalog items: products, their SKU claims, id pointers and public listing entries.

Keys
- ``Product``: PK=SELLER#<seller_id>, SK=PRODUCT#<product_id> (ids are ULIDs: newest last)
  - GSI3: GSI3PK=SELLER#<seller_id>#PRODUCTS#<status>, GSI3SK=<product_id> (eventually
    consistent: a status change shows in the by-status list a moment later)
- ``SkuClaim``: PK=SELLER#<seller_id>, SK=SKU#<sku> -> product_id. Written and moved in
  the same transaction as the product, with ``attribute_not_exists``: SKUs are unique per
  seller even under concurrent writes.
- ``ProductPointer``: PK=PRODUCT#<product_id>, SK=PRODUCT -> seller_id. Written once at
  creation; lets the public detail page and operators find a product by id alone. Seller
  routes never use it: they GetItem under the principal's own seller key. It also holds the
  product's rating (count, sum, 1-5 distribution of its published reviews), changed with ADD
  in the reviews' own transactions (``chalicelib.catalog.ratings``): the detail page reads it
  with the pointer, at no extra round trip.
- ``ProductListing``: PK=PRODUCT#<product_id>, SK=LIST#<scope>, one per browse scope of a
  *listed* product (status active and not hidden by an operator); none otherwise.
  Scopes: ``ALL``; ``CAT#<department>`` and ``CAT#<department/category>``;
  ``SELLER#<seller_id>``; ``WORD#<key>`` per search key, the first three letters of each
  brand and title word (see ``chalicelib.catalog.search``). Each entry holds the product's
  summary (what a browse page shows) and two index keys:
  - GSI1 (price): GSI1PK=CATALOG#<scope>#<currency>, GSI1SK=<price, 12 digits>#<product_id>
  - GSI2 (newest): GSI2PK=CATALOG#<scope>, GSI2SK=<created_at>#<product_id>
  - GSI3 (best rated): GSI3PK=CATALOG#<scope>#RATING, GSI3SK=<500 - average in hundredths,
    3 digits>#<inverted review count, 10 digits>#<product_id> (``core.keys.rated_sort_key``),
    so ascending order is best average, then most reviews, then id; unrated products last.
  Entries also copy the product's rating count and sum from its pointer. A review whose change
  moves the rating rewrites them in its own transaction, conditioned on the pointer's count and
  sum it read and on the product's version (so it updates exactly the entries that exist); a
  product change that rewrites entries reads the pointer and checks the same count and sum.
  ``Product.listed`` records which scopes exist, so a change deletes exactly those.

Write amplification: a listed product has 1 + 2 + 1 + <=8 entries (typically 7-10 for a
five-word title). Entries are rewritten only when the summary changes (title, brand,
category, price, first image, in-stock flag, status, moderation); stock counts that stay
above zero, descriptions, attributes and SKUs touch the product item only. Every change
is one TransactWriteItems of at most ~30 items (the limit is 100): product, SKU claim,
entries, outbox events.
``ALL`` and ``CAT#<department>`` are hot partitions on a very large marketplace; that is
where search moves to OpenSearch (see the README).

Access patterns and round trips
- seller: create (TransactWrite: product, pointer, SKU claim, entries, event; +1 GetItem
  of the seller when created active) -> 1-2
- seller: get own product (GetItem under the principal's key) -> 1
- seller: change / archive / delete draft / set stock (GetItem + TransactWrite, +1 GetItem
  of the seller when activating; a lost version race re-reads and retries, at most 3
  times) -> 2-3. A product that comes to name a shipping profile checks the profile exists
  with a ConditionCheck inside its transaction: no extra round trip.
- no Scan anywhere (tests/unit/catalog/test_access.py records every call)
- seller: list own products, newest first (Query PK, SK begins_with PRODUCT#) or by status
  (Query GSI3) -> 1
- seller: bulk upsert by SKU (BatchGetItem SKU claims, BatchGetItem products, per 100 rows;
  one TransactWrite per created or changed row, 8 rows at a time, and a GetItem of the
  pointer's rating before each changed row that rewrites its entries) -> 2*ceil(n/100) + up to
  2 * changed rows, in about 2*ceil(n/100) + changed/4 latencies
- seller: a change that rewrites the listing entries of a product that exists reads its
  pointer's rating first -> +1 GetItem
- public: browse (Query GSI1 for price sorts and price bounds, GSI3 for ``sort=rating`` (with
  ``min_rating`` as its key condition), GSI2 for newest, on the most selective scope of the
  filters; the other filters, ``min_rating`` included, apply to the entries read; one
  BatchGetItem of the page's unseen sellers per Query page; at most 4 Query pages) -> 2
  typically, <= 8
- public: product detail (GetItem pointer, GetItem product, BatchGetItem seller) -> 3
- storefront: count a seller's listed products (COUNT Query of GSI2 CATALOG#SELLER#<id>) -> 1
- public: category counts (COUNT Query of GSI2 CATALOG#CAT#<leaf> per leaf, 8 at a time; Query
  of the sellers who cannot sell + 1 Query of each one's CATALOG#SELLER#<id>), cached 30 s per
  container -> 26 + such sellers (see ``chalicelib.catalog.counts``)
- operator: hide / unhide (GetItem pointer, GetItem product, TransactWrite) -> 3
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)

from chalicelib.core.db import GSI1, GSI2, GSI3, TableModel

STATUSES = ("draft", "active", "archived")


class Product(TableModel):
    product_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    sku = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    category = UnicodeAttribute()
    brand = UnicodeAttribute(null=True)
    attributes = JSONAttribute(default=dict)
    images = ListAttribute(of=UnicodeAttribute, default=list)
    price = NumberAttribute()
    currency = UnicodeAttribute()
    stock = NumberAttribute(default=0)
    status = UnicodeAttribute(default="draft")
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    published_at = UnicodeAttribute(null=True)  # first time it became active; such products are never deleted
    hidden = BooleanAttribute(default=False)
    hidden_reason = UnicodeAttribute(null=True)
    hidden_at = UnicodeAttribute(null=True)
    hidden_by = UnicodeAttribute(null=True)
    shipping_profile_id = UnicodeAttribute(null=True)  # None: the seller's default profile
    # PynamoDB types a list by its attribute class; the values it reads are str
    listed: ListAttribute[str] = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]

    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    by_status = GSI3()

    @property
    def is_listed(self) -> bool:
        """Whether browse shows it (the seller's standing is checked when reading)."""
        return self.status == "active" and not self.hidden


class SkuClaim(TableModel):
    product_id = UnicodeAttribute()


class ProductPointer(TableModel):
    seller_id = UnicodeAttribute()
    # the product's rating: its published reviews, kept by chalicelib.catalog.ratings
    rating_count = NumberAttribute(default=0)
    rating_sum = NumberAttribute(default=0)
    rating_1 = NumberAttribute(default=0)
    rating_2 = NumberAttribute(default=0)
    rating_3 = NumberAttribute(default=0)
    rating_4 = NumberAttribute(default=0)
    rating_5 = NumberAttribute(default=0)


class ProductListing(TableModel):
    product_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    title = UnicodeAttribute()
    brand = UnicodeAttribute(null=True)
    category = UnicodeAttribute()
    price = NumberAttribute()
    currency = UnicodeAttribute()
    image = UnicodeAttribute(null=True)
    in_stock = BooleanAttribute()
    created_at = UnicodeAttribute()
    # PynamoDB types a list by its attribute class; the values it reads are str
    words: ListAttribute[str] = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    # the product's rating, a copy of its pointer's (chalicelib.catalog.ratings keeps them equal)
    rating_count = NumberAttribute(default=0)
    rating_sum = NumberAttribute(default=0)

    GSI1PK = UnicodeAttribute()
    GSI1SK = UnicodeAttribute()
    GSI2PK = UnicodeAttribute()
    GSI2SK = UnicodeAttribute()
    GSI3PK = UnicodeAttribute(null=True)  # null on entries written before the rating index
    GSI3SK = UnicodeAttribute(null=True)
    by_price = GSI1()
    by_newest = GSI2()
    by_rating = GSI3()
