"""Stock held for orders: reserving it at checkout and giving it back.

Checkout reserves stock inside its own TransactWriteItems (order, sub-orders, stock), so
these functions only build the writes. Quantities are summed per product first: two cart
lines of one product are checked against the stock once, together. Each reservation is
an UpdateItem ``ADD stock -q`` under the condition ``stock >= q`` (and that the product is
still on sale at the price the order was priced at): concurrent checkouts never oversell,
and none of them needs to read-modify-write the product, so they do not conflict on a
version. The version is still bumped, so that a seller's concurrent edit (a versioned put
of the whole product) re-reads instead of writing back an old stock figure.

Browse entries carry an in-stock flag. The checkout does not rewrite them (it would need
the stock after everybody's concurrent reservations); a ``catalog.stock_changed`` event in
the same transaction makes :func:`on_stock_changed` correct the flag a moment later.

Flash sales: every reservation of one product updates one item, which DynamoDB serialises
(about 1000 writes/s per item, fewer inside transactions, and concurrent transactions on
it cancel each other with ``TransactionConflict``, which checkout retries). A product
expected to sell thousands of units per second would split its stock over N counter items
(``STOCK#<product_id>#<shard>``), reserve from a random shard with fallback to the others,
and show the sum; not built, because nothing here sells at that rate yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.catalog.events import ProductBackInStock, StockChanged, StockedProduct
from chalicelib.catalog.models import Product, ProductListing
from chalicelib.core import clock
from chalicelib.core.db import ItemWrite, LabelledTransaction, Stale, retrying
from chalicelib.core.errors import Conflict
from chalicelib.core.keys import ALL_SCOPE, listing_sk, product_pk, product_sk, seller_key
from chalicelib.events.models import OutboxEvent
from chalicelib.events.registry import Delivered
from chalicelib.events.service import new_event

MAX_REFRESH_ATTEMPTS = 3


@dataclass(frozen=True)
class StockHold:
    seller_id: str
    product_id: str
    quantity: int
    price: int | None = None  # the unit price the order was priced at; None when releasing


def summed(holds: Iterable[StockHold]) -> list[StockHold]:
    """One hold per product with the quantities added up (first-seen order)."""
    merged: dict[tuple[str, str], StockHold] = {}
    for hold in holds:
        key = (hold.seller_id, hold.product_id)
        before = merged.get(key)
        if before is not None:
            if before.price != hold.price:
                raise ValueError(f"product {hold.product_id} priced twice differently")
            hold = StockHold(hold.seller_id, hold.product_id, before.quantity + hold.quantity, hold.price)
        merged[key] = hold
    return list(merged.values())


def _product(hold: StockHold) -> Product:
    return Product(seller_key(hold.seller_id), product_sk(hold.product_id))


def reserve_writes(holds: Iterable[StockHold]) -> list[ItemWrite]:
    """The stock updates of a checkout, one per product, in the order of :func:`summed`."""
    now, writes = clock.stamp(), []
    for hold in summed(holds):
        if hold.quantity <= 0 or hold.price is None:
            raise ValueError("a reservation needs a positive quantity and the price it was priced at")
        condition = ((Product.stock >= hold.quantity) & (Product.status == "active") & (Product.hidden == False)  # noqa: E712
                     & (Product.price == hold.price))
        writes.append(ItemWrite(_product(hold), condition=condition, actions=(
            Product.stock.add(-hold.quantity), Product.version.add(1), Product.updated_at.set(now))))
    return writes


def release_writes(holds: Iterable[StockHold]) -> list[ItemWrite]:
    """Give reserved stock back (payment failed or expired, order cancelled, return restocked).
    Products are never deleted once they were on sale, so the product is there."""
    now = clock.stamp()
    return [ItemWrite(_product(hold), condition=Product.PK.exists(), actions=(
        Product.stock.add(hold.quantity), Product.version.add(1), Product.updated_at.set(now)))
        for hold in summed(StockHold(h.seller_id, h.product_id, h.quantity) for h in holds)]


def stock_changed_event(holds: Iterable[StockHold]) -> OutboxEvent:
    products = sorted({(h.seller_id, h.product_id) for h in holds})
    return new_event(StockChanged(products=[StockedProduct(seller_id=s, product_id=p) for s, p in products]))


# --- keeping browse entries' in-stock flag true --------------------------------------------

def _rewrite(product: Product) -> bool:
    """Set the in-stock flag of the browse entries of ``product`` as read; False when it changed
    meanwhile. An update, not a put: the entries' rating copy is the reviews' to change."""
    transaction = LabelledTransaction()
    transaction.check("product", Product, product.PK, product.SK, Product.version == product.version)
    for scope in product.listed:
        transaction.update("entry", ProductListing(PK=product_pk(product.product_id), SK=listing_sk(scope)),
                           [ProductListing.in_stock.set(int(product.stock) > 0)], ProductListing.PK.exists())
    if int(product.stock) > 0:
        transaction.put("event", new_event(ProductBackInStock(**_payload(product))))
    return not transaction.commit()


def refresh_listing(product: Product) -> bool:
    """Make a listed product's browse entries show its in-stock flag; True when rewritten.
    A product that changed meanwhile is read again (with its entry) and retried; one that
    keeps changing is left to the stock change that changes it (its own event)."""
    current = product

    def attempt() -> bool:
        nonlocal current
        if _rewrite(current):
            return True
        fresh = stale_listings([{"seller_id": current.seller_id, "product_id": current.product_id}])
        if not fresh:
            return False
        current = fresh[0]
        raise Stale

    try:
        return retrying(attempt, what="product", attempts=MAX_REFRESH_ATTEMPTS)
    except Conflict:
        return False


def _payload(product: Product) -> dict[str, Any]:
    return {"product_id": product.product_id, "seller_id": product.seller_id, "title": product.title,
            "price": int(product.price), "currency": product.currency, "stock": int(product.stock)}


def stale_listings(products: list[dict[str, str]]) -> list[Product]:
    """Those of these products that are listed and whose browse entries show the wrong
    in-stock flag: two BatchGetItems (products, their ``ALL`` entries) per 100 products
    (PynamoDB's ``batch_get`` pages by 100)."""
    found = {p.product_id: p for p in Product.batch_get(
        [(seller_key(p["seller_id"]), product_sk(p["product_id"])) for p in products], consistent_read=True)}
    shown = {e.product_id: e for e in ProductListing.batch_get(
        [(product_pk(p["product_id"]), listing_sk(ALL_SCOPE)) for p in products],
        consistent_read=True)}
    stale = []
    for wanted in products:
        product, entry = found.get(wanted["product_id"]), shown.get(wanted["product_id"])
        if (product is not None and product.is_listed and entry is not None
                and bool(entry.in_stock) != (int(product.stock) > 0)):
            stale.append(product)
    return stale


def on_stock_changed(delivered: Delivered[StockChanged]) -> None:
    """Subscriber of ``catalog.stock_changed``; reads in batches and rewrites only the
    entries that are stale."""
    for product in stale_listings([p.model_dump() for p in delivered.event.products]):
        refresh_listing(product)
