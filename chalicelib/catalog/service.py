"""Sellers' products: create, change, archive, stock, bulk upsert; operators' moderation.

Every change is one TransactWriteItems holding the product (conditioned on the version
that was read), its SKU claim, its public listing entries and its outbox events, so a
change is all-or-nothing and never lost to a concurrent one. A lost race is re-read and
re-applied (PATCH, bulk, moderation) or reported (stock with an expectation). The seller
id always comes from the caller's principal; another seller's product is "not found".
Round trips per operation are listed in ``chalicelib.catalog.models``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Lock
from typing import Any, Literal

from pydantic import ValidationError

from chalicelib.catalog import listings, ratings
from chalicelib.catalog.events import (
    ProductBackInStock,
    ProductCreated,
    ProductDeleted,
    ProductHidden,
    ProductPriceDropped,
    ProductUnhidden,
    ProductUpdated,
)
from chalicelib.catalog.models import Product, ProductPointer, SkuClaim
from chalicelib.catalog.schemas import BulkRow, ProductCreate, ProductPatch, RowError, RowResult
from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, Stale, TableModel, find_item, get_item, newest_first, retrying
from chalicelib.core.errors import AgoraError, Code, Conflict, FieldProblem, NotFound, ValidationFailed
from chalicelib.core.ids import has_prefix, new_id
from chalicelib.core.keys import (
    LISTING_PREFIX,
    POINTER_SK,
    PRODUCT_PREFIX,
    SKU_PREFIX,
    product_pk,
    product_sk,
    product_status_index_key,
    seller_key,
    sku_sk,
)
from chalicelib.core.pagination import Page
from chalicelib.events.models import OutboxEvent
from chalicelib.events.service import new_event
from chalicelib.sellers.models import Seller
from chalicelib.sellers.service import get_seller
from chalicelib.shipping.service import check_profile, is_profile_id

MAX_WRITE_ATTEMPTS = 3
# Bulk rows written at once. Each row is its own transaction on its own items (a SKU is in
# one row only), so rows never contend; the bound keeps a 500-row upload from opening
# hundreds of connections (botocore's default pool holds 10) or tripping DynamoDB's
# per-partition write limit on the seller's partition.
BULK_WORKERS = 8
# Changes to these fields are reported in catalog.product_updated events.
TRACKED_FIELDS = ("sku", "title", "description", "category", "brand", "attributes", "images", "price", "currency",
                  "stock", "status", "shipping_profile_id")


def product_not_found() -> NotFound:
    """One error for "missing" and "someone else's", so ids leak nothing."""
    return NotFound("No such product.", code=Code.PRODUCT_NOT_FOUND)


# --- reading -----------------------------------------------------------------------------

def get_seller_product(seller_id: str, product_id: str) -> Product:
    """A seller's own product (GetItem under the seller's key: 1 round trip)."""
    if not has_prefix(product_id, "prd"):
        raise product_not_found()
    return get_item(Product, seller_key(seller_id), product_sk(product_id), product_not_found(),
                    consistent_read=True)


def find_product(product_id: str) -> Product:
    """Any seller's product by id, through its pointer (2 GetItems). Not for seller routes."""
    return find_pointed_product(product_id)[1]


def find_pointed_product(product_id: str) -> tuple[ProductPointer, Product]:
    """:func:`find_product` with its pointer, which holds the product's rating (2 GetItems)."""
    if not has_prefix(product_id, "prd"):
        raise product_not_found()
    try:
        pointer = ProductPointer.get(product_pk(product_id), POINTER_SK)
        return pointer, Product.get(seller_key(pointer.seller_id), product_sk(product_id), consistent_read=True)
    except (ProductPointer.DoesNotExist, Product.DoesNotExist):
        raise product_not_found() from None


def list_seller_products(seller_id: str, *, status: str | None, cursor: str | None, limit: int) -> Page[Product]:
    """The seller's products, newest first, optionally of one status (1 Query)."""
    return newest_first(Product, seller_key(seller_id), PRODUCT_PREFIX,
                        by=(Product.by_status, product_status_index_key(seller_id, status)) if status else None,
                        scope=f"{seller_key(seller_id)}/products/{status or 'all'}", cursor=cursor, limit=limit)


# --- the one write path ------------------------------------------------------------------

class _Raced(Stale):
    """The product changed between our read and our write."""


def _index(product: Product) -> None:
    product.GSI3PK = product_status_index_key(product.seller_id, product.status)
    product.GSI3SK = product.product_id


def _rating(product_id: str) -> tuple[int, int]:
    """The count and sum of the product's rating, from its pointer (GetItem, consistent)."""
    pointer = find_item(ProductPointer, product_pk(product_id), POINTER_SK, consistent_read=True)
    return (int(pointer.rating_count or 0), int(pointer.rating_sum or 0)) if pointer is not None else (0, 0)


def _commit(old: Product | None, new: Product | None, events: list[OutboxEvent]) -> None:
    """Make the table hold ``new`` (None: delete ``old``) with its SKU claim, pointer and
    listing entries, provided it still holds ``old``. Raises _Raced or Conflict."""
    transaction = LabelledTransaction()
    product_id = (new or old).product_id  # type: ignore[union-attr]  # a commit has old, new or both
    wanted = listings.entries(new) if new is not None else []
    wanted_scopes = [entry.SK.removeprefix(LISTING_PREFIX) for entry in wanted]
    had_scopes = list(old.listed) if old is not None else []
    if (wanted_scopes, listings.summary(new)) != (had_scopes, listings.summary(old)):
        if new is not None and wanted and old is not None:  # they copy the rating: read it, check it holds
            count, total = _rating(product_id)
            wanted = listings.entries(new, count, total)
            ratings.product_rating_check(transaction, product_id, count, total)
        for scope in sorted(set(had_scopes) - set(wanted_scopes)):
            transaction.delete("listing", listings.entry_key(product_id, scope))
        for entry in wanted:
            transaction.put("listing", entry)
    if new is not None:
        new.listed = wanted_scopes
        _index(new)
        if old is None:
            transaction.put("product", new, Product.PK.does_not_exist())
            transaction.put("pointer", ProductPointer(PK=product_pk(product_id), SK=POINTER_SK,
                                                      seller_id=new.seller_id), ProductPointer.PK.does_not_exist())
        else:
            transaction.put("product", new, Product.version == old.version)
        if old is None or old.sku != new.sku:
            transaction.put("sku", SkuClaim(PK=seller_key(new.seller_id), SK=sku_sk(new.sku), product_id=product_id),
                            SkuClaim.PK.does_not_exist())
    if old is not None and new is None:
        transaction.delete("product", old, Product.version == old.version)
        transaction.delete("pointer", ProductPointer(PK=product_pk(product_id), SK=POINTER_SK))
    if old is not None and (new is None or old.sku != new.sku):
        transaction.delete("old_sku", SkuClaim(PK=seller_key(old.seller_id), SK=sku_sk(old.sku)),
                           SkuClaim.product_id == product_id)
    profile_id = new.shipping_profile_id if new is not None else None
    if new is not None and profile_id is not None and (old is None or old.shipping_profile_id != profile_id):
        if not is_profile_id(profile_id):
            raise _unknown_profile(profile_id)
        check_profile(transaction, "shipping_profile", new.seller_id, profile_id)
    for event in events:
        transaction.put("event", event)
    failed = transaction.commit()  # TransactionContention: retried like a lost race
    if "shipping_profile" in failed:
        raise _unknown_profile(profile_id)
    if "sku" in failed and new is not None:  # only a new product's SKU is claimed
        raise _duplicate_sku(new.seller_id, new.sku)
    if failed:
        raise _Raced


def _unknown_profile(profile_id: str | None) -> ValidationFailed:
    return ValidationFailed("You have no shipping profile with this id; GET /v1/seller/shipping-profiles lists "
                            "yours.", code=Code.UNKNOWN_SHIPPING_PROFILE,
                            details=[{"field": "body.shipping_profile_id", "message": f"no profile {profile_id!r}",
                                      "type": "unknown_shipping_profile"}])


def _duplicate_sku(seller_id: str, sku: str) -> Conflict:
    try:
        holder: str | None = SkuClaim.get(seller_key(seller_id), sku_sk(sku)).product_id
    except SkuClaim.DoesNotExist:
        holder = None
    return Conflict(f"You already have a product with SKU {sku!r}.", code=Code.DUPLICATE_SKU,
                    details={"sku": sku, "product_id": holder})


# --- products as values ------------------------------------------------------------------

def _copy(product: Product) -> Product:
    return Product.from_raw_data(product.serialize())


def _changed(old: Product, changes: dict[str, Any]) -> Product | None:
    """``old`` with ``changes`` applied and its version bumped; None when nothing changes."""
    if all(getattr(old, field) == value for field, value in changes.items()):
        return None
    new = _copy(old)
    for field, value in changes.items():
        setattr(new, field, value)
    new.version = int(old.version) + 1
    new.updated_at = clock.stamp()
    if new.status == "active" and not new.published_at:
        new.published_at = new.updated_at
    return new


def _payload(product: Product) -> dict[str, Any]:
    return {"product_id": product.product_id, "seller_id": product.seller_id, "sku": product.sku,
            "title": product.title, "status": product.status, "price": int(product.price),
            "currency": product.currency, "stock": int(product.stock), "version": int(product.version)}


def _events(old: Product | None, new: Product) -> list[OutboxEvent]:
    """created / updated, plus what wishlists wait for: a lower price, stock again."""
    if old is None:
        return [new_event(ProductCreated(**_payload(new)))]
    changed = [field for field in TRACKED_FIELDS if getattr(old, field) != getattr(new, field)]
    events = [new_event(ProductUpdated(**_payload(new), changed=changed))]
    if new.is_listed and new.currency == old.currency and new.price < old.price:
        events.append(new_event(ProductPriceDropped(**_payload(new), old_price=int(old.price),
                                                    new_price=int(new.price))))
    if new.is_listed and int(old.stock) == 0 and int(new.stock) > 0:
        events.append(new_event(ProductBackInStock(**_payload(new))))
    return events


class _Standing:
    """Whether the seller may publish, read at most once per request (bulk rows ask from
    several threads, hence the lock)."""

    def __init__(self, seller_id: str) -> None:
        self.seller_id = seller_id
        self._seller: Seller | Literal[False] | None = False  # False: not read yet
        self._lock = Lock()

    def check(self, old: Product | None, new: Product) -> None:
        if new.status != "active" or (old is not None and old.status == "active"):
            return
        with self._lock:
            if self._seller is False:
                try:
                    self._seller = get_seller(self.seller_id)
                except NotFound:
                    self._seller = None
        seller = self._seller
        if not seller or not seller.can_sell:
            raise Conflict(
                "Your seller account cannot sell yet: it needs the operator's approval and Stripe charges enabled. "
                "Save the product as a draft until then.", code=Code.SELLER_CANNOT_SELL,
                details={"seller_status": getattr(seller, "status", None),
                         "charges_enabled": bool(getattr(seller, "charges_enabled", False))})


# --- seller operations -------------------------------------------------------------------

def _create(seller_id: str, data: ProductCreate, standing: _Standing) -> Product:
    product_id, now = new_id("prd"), clock.stamp()
    product = Product(PK=seller_key(seller_id), SK=product_sk(product_id), product_id=product_id,
                      seller_id=seller_id, version=1, created_at=now, updated_at=now, hidden=False,
                      published_at=now if data.status == "active" else None, **data.stored())
    standing.check(None, product)
    try:
        _commit(None, product, _events(None, product))
    except _Raced:  # the new id already exists: a ULID collision, practically impossible
        raise Conflict("Could not create the product; try again.", code=Code.CONCURRENT_UPDATE) from None
    return product


def create_product(seller_id: str, data: ProductCreate) -> Product:
    """1 TransactWrite (+1 GetItem of the seller when created active)."""
    return _create(seller_id, data, _Standing(seller_id))


def _update(seller_id: str, product_id: str, changes: dict[str, Any], standing: _Standing,
            first: Product | None = None) -> tuple[Product, bool]:
    """Apply ``changes`` (re-read and re-applied on a lost race); returns (product, changed)."""
    reads = iter([first] if first is not None else [])

    def attempt() -> tuple[Product, bool]:
        old = next(reads, None) or get_seller_product(seller_id, product_id)
        new = _changed(old, changes)
        if new is None:
            return old, False
        standing.check(old, new)
        _commit(old, new, _events(old, new))
        return new, True

    return retrying(attempt, what="product", attempts=MAX_WRITE_ATTEMPTS)


def update_product(seller_id: str, product_id: str, patch: ProductPatch) -> Product:
    """GetItem + TransactWrite (+1 GetItem of the seller when activating); no write when
    nothing changes."""
    return _update(seller_id, product_id, patch.changes(), _Standing(seller_id))[0]


def remove_product(seller_id: str, product_id: str) -> tuple[str, Product | None]:
    """DELETE: a draft that was never active is deleted with its SKU claim; anything else is
    archived (orders and reports still point at it). GetItem + TransactWrite."""

    def attempt() -> tuple[str, Product | None]:
        old = get_seller_product(seller_id, product_id)
        if old.status == "draft" and not old.published_at:
            _commit(old, None, [new_event(ProductDeleted(**_payload(old)))])
            return "deleted", None
        new = _changed(old, {"status": "archived"})
        if new is None:
            return "archived", old
        _commit(old, new, _events(old, new))
        return "archived", new

    return retrying(attempt, what="product", attempts=MAX_WRITE_ATTEMPTS)


def set_stock(seller_id: str, product_id: str, *, quantity: int, expected_version: int | None,
              expected_quantity: int | None) -> Product:
    """Compare-and-set of the stock: GetItem + TransactWrite conditioned on the version read.
    A stale expectation is a 409 carrying the current version and quantity."""

    def attempt() -> Product:
        old = get_seller_product(seller_id, product_id)
        if ((expected_version is not None and int(old.version) != expected_version)
                or (expected_quantity is not None and int(old.stock) != expected_quantity)):
            raise Conflict("The stock changed since you read it; read it again and decide.", code=Code.STOCK_CONFLICT,
                           details={"current_version": int(old.version), "current_quantity": int(old.stock)})
        new = _changed(old, {"stock": quantity})
        if new is None:
            return old
        _commit(old, new, _events(old, new))
        return new

    return retrying(attempt, what="product", attempts=MAX_WRITE_ATTEMPTS)


def _row_error(row: int, sku: str | None, error: AgoraError) -> RowResult:
    return RowResult(row=row, sku=sku, status="error",
                     error=RowError(code=error.code, message=error.message, details=error.details))


def _invalid(exc: ValidationError, row: int) -> ValidationFailed:
    details: list[FieldProblem] = [{"field": ".".join(["rows", str(row), *(str(p) for p in problem["loc"])]),
                "message": problem["msg"], "type": problem["type"]}
               for problem in exc.errors(include_url=False, include_context=False, include_input=False)]
    return ValidationFailed("The row has invalid fields.", details=details)


def _batch_get(model: type[TableModel], keys: list[tuple[str, str]]) -> list[Any]:
    return list(model.batch_get(keys, consistent_read=True))  # PynamoDB pages by 100


def bulk_upsert(seller_id: str, rows: list[dict[str, Any]]) -> list[RowResult]:
    """Create or update products by SKU; each row stands alone (a bad row fails only itself).

    Round trips: BatchGetItem of the SKU claims and of the claimed products (per 100 rows
    each), then one TransactWrite per created or changed row (unchanged rows write
    nothing), +1 GetItem of the seller when a row activates a product, +2 per lost race.
    The row transactions run ``BULK_WORKERS`` at a time, so a 500-row upload takes about
    500 / 8 transaction latencies instead of 500 (``bench/bulk_upsert.py``). Each row
    is still all-or-nothing and reports its own result; results keep the rows' order.
    PynamoDB's connections are safe to share: botocore clients are thread-safe and
    PynamoDB keeps its botocore sessions per thread.
    """
    standing = _Standing(seller_id)
    results: dict[int, RowResult] = {}
    valid: dict[int, BulkRow] = {}
    first_row_of: dict[str, int] = {}
    for i, raw in enumerate(rows):
        sku = raw.get("sku") if isinstance(raw.get("sku"), str) else None
        try:
            row = BulkRow.model_validate(raw)
        except ValidationError as exc:
            results[i] = _row_error(i, sku, _invalid(exc, i))
            continue
        if row.sku in first_row_of:
            results[i] = _row_error(i, row.sku, Conflict(
                f"SKU {row.sku!r} appears twice in this upload; only row {first_row_of[row.sku]} was used.",
                code=Code.DUPLICATE_SKU_IN_REQUEST, details={"sku": row.sku, "first_row": first_row_of[row.sku]}))
            continue
        first_row_of[row.sku] = i
        valid[i] = row

    claims = {claim.SK.removeprefix(SKU_PREFIX): claim.product_id for claim in _batch_get(
        SkuClaim, [(seller_key(seller_id), sku_sk(row.sku)) for row in valid.values()])}
    existing = {product.product_id: product for product in _batch_get(
        Product, [(seller_key(seller_id), product_sk(pid)) for pid in claims.values()])}

    def write(i: int) -> RowResult:
        row = valid[i]
        current = existing.get(claims.get(row.sku, ""))
        try:
            if current is None:
                return _bulk_create(i, seller_id, row, raw=rows[i], standing=standing)
            product, changed = _update(seller_id, current.product_id, row.changes(), standing, first=current)
            return RowResult(row=i, sku=row.sku, status="updated" if changed else "unchanged",
                             product_id=product.product_id)
        except AgoraError as error:
            return _row_error(i, row.sku, error)

    if valid:
        with ThreadPoolExecutor(max_workers=min(BULK_WORKERS, len(valid)), thread_name_prefix="bulk") as pool:
            results.update(zip(valid, pool.map(write, valid), strict=True))
    return [results[i] for i in range(len(rows))]


def _bulk_create(i: int, seller_id: str, row: BulkRow, *, raw: dict[str, Any], standing: _Standing) -> RowResult:
    try:
        data = ProductCreate.model_validate(raw)
    except ValidationError as exc:
        raise _invalid(exc, i) from None
    product = _create(seller_id, data, standing)
    return RowResult(row=i, sku=row.sku, status="created", product_id=product.product_id)


# --- operator moderation -----------------------------------------------------------------

def _moderate(product_id: str, changes: Callable[[Product], dict[str, Any] | None],
              event: type[ProductHidden | ProductUnhidden], extra: dict[str, Any]) -> Product:
    """Pointer GetItem + product GetItem + TransactWrite (re-read on a lost race)."""

    def attempt() -> Product:
        old = find_product(product_id)
        wanted = changes(old)
        new = _changed(old, wanted) if wanted else None
        if new is None:
            return old
        _commit(old, new, [new_event(event(**_payload(new), **extra))])
        return new

    return retrying(attempt, what="product", attempts=MAX_WRITE_ATTEMPTS)


def hide_product(operator_id: str, product_id: str, reason: str) -> Product:
    """Take a product off browse and search at once; the seller sees why. Hiding a hidden
    product again replaces the reason."""
    return _moderate(product_id, lambda _: {"hidden": True, "hidden_reason": reason, "hidden_at": clock.stamp(),
                                            "hidden_by": operator_id},
                     ProductHidden, {"reason": reason, "operator_id": operator_id})


def unhide_product(operator_id: str, product_id: str) -> Product:
    return _moderate(product_id, lambda old: {"hidden": False, "hidden_reason": None, "hidden_at": None,
                                              "hidden_by": None} if old.hidden else None,
                     ProductUnhidden, {"operator_id": operator_id})
