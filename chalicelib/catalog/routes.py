"""HTTP routes of the catalog: sellers' products, public browse and storefronts, operator moderation.

The service modules are imported inside the views: they load PynamoDB, which a cold
start must not pay for on routes that do not need it. So are the schema modules, which the
routes name (``response="ProductOut"``): creating their model classes would make every cold
start grow with the API (see :data:`chalicelib.core.http.ModelRef`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.accounts.personal_data import export_section
from chalicelib.core.auth import Principal
from chalicelib.core.categories import CATEGORIES, DEPARTMENTS, VAT_CLASSES
from chalicelib.core.http import operation

if TYPE_CHECKING:
    from chalicelib.accounts.schemas import Wishlist, WishOut
    from chalicelib.catalog.schemas import (
        BrowsePage,
        BrowseQuery,
        BulkResult,
        BulkUpsertRequest,
        CategoryTree,
        HideRequest,
        ProductCreate,
        ProductOut,
        ProductPage,
        ProductPatch,
        ProductRemoval,
        PublicProduct,
        SellerProductsQuery,
        StockUpdate,
    )
    from chalicelib.sellers.schemas import Storefront

bp = Blueprint(__name__)

TAGS = ("catalog",)
READ = ("products:read",)
WRITE = ("products:write",)


# --- seller: own products ----------------------------------------------------------------

@bp.route("/v1/seller/products", methods=["POST"])
@operation("Create a product", tags=TAGS, body="ProductCreate", response="ProductOut", status=201, auth="seller",
           scopes=WRITE, errors=(401, 403, 409, 413, 422),
           description="409 `duplicate_sku` when the SKU is taken; 409 `seller_cannot_sell` for `active` before "
                       "the seller is approved with Stripe charges enabled (drafts are always allowed).")
def create_product(body: ProductCreate, principal: Principal) -> ProductOut:
    from chalicelib.catalog import service
    from chalicelib.catalog.schemas import ProductOut

    return ProductOut.of(service.create_product(principal.own_seller_id, body))


@bp.route("/v1/seller/products", methods=["GET"])
@operation("List your products, newest first", tags=TAGS, query="SellerProductsQuery", response="ProductPage",
           auth="seller", scopes=READ, errors=(400, 401, 403, 422))
def list_products(query: SellerProductsQuery, principal: Principal) -> ProductPage:
    from chalicelib.catalog import service
    from chalicelib.catalog.schemas import ProductOut, ProductPage

    page = service.list_seller_products(principal.own_seller_id, status=query.status, cursor=query.cursor,
                                        limit=query.limit)
    return ProductPage(items=[ProductOut.of(p) for p in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/seller/products/bulk", methods=["POST"])
@operation("Create or update up to 500 products by SKU", tags=TAGS, body="BulkUpsertRequest", response="BulkResult",
           auth="seller", scopes=WRITE, errors=(401, 403, 413, 422),
           description="Each row stands alone: valid rows are written even when others are refused, and each "
                       "row's result says created, updated, unchanged or error. Running the same upload again "
                       "changes nothing.")
def bulk_upsert(body: BulkUpsertRequest, principal: Principal) -> BulkResult:
    from chalicelib.catalog import service
    from chalicelib.catalog.schemas import BulkResult

    return BulkResult.of(service.bulk_upsert(principal.own_seller_id, body.rows))


@bp.route("/v1/seller/products/{product_id}", methods=["GET"])
@operation("One of your products", tags=TAGS, response="ProductOut", auth="seller", scopes=READ,
           errors=(401, 403, 404))
def get_product(product_id: str, principal: Principal) -> ProductOut:
    from chalicelib.catalog import service
    from chalicelib.catalog.schemas import ProductOut

    return ProductOut.of(service.get_seller_product(principal.own_seller_id, product_id))


@bp.route("/v1/seller/products/{product_id}", methods=["PATCH"])
@operation("Change fields of one of your products", tags=TAGS, body="ProductPatch", response="ProductOut",
           auth="seller", scopes=WRITE, errors=(401, 403, 404, 409, 413, 422))
def patch_product(product_id: str, body: ProductPatch, principal: Principal) -> ProductOut:
    from chalicelib.catalog import service
    from chalicelib.catalog.schemas import ProductOut

    return ProductOut.of(service.update_product(principal.own_seller_id, product_id, body))


@bp.route("/v1/seller/products/{product_id}", methods=["DELETE"])
@operation("Delete a draft, archive anything else", tags=TAGS, response="ProductRemoval", auth="seller",
           scopes=WRITE, errors=(401, 403, 404, 409))
def delete_product(product_id: str, principal: Principal) -> ProductRemoval:
    from chalicelib.catalog import service
    from chalicelib.catalog.schemas import ProductOut, ProductRemoval

    outcome, product = service.remove_product(principal.own_seller_id, product_id)
    return ProductRemoval(product_id=product_id, outcome=outcome,
                          product=ProductOut.of(product) if product is not None else None)


@bp.route("/v1/seller/products/{product_id}/stock", methods=["PUT"])
@operation("Set the stock, if it is still what you last read", tags=TAGS, body="StockUpdate", response="ProductOut",
           auth="seller", scopes=WRITE, errors=(401, 403, 404, 409, 422),
           description="409 `stock_conflict` (with the current version and quantity) when expected_version or "
                       "expected_quantity no longer holds; nothing is written then.")
def put_stock(product_id: str, body: StockUpdate, principal: Principal) -> ProductOut:
    from chalicelib.catalog import service
    from chalicelib.catalog.schemas import ProductOut

    return ProductOut.of(service.set_stock(principal.own_seller_id, product_id, quantity=body.quantity,
                                           expected_version=body.expected_version,
                                           expected_quantity=body.expected_quantity))


# --- public browse -----------------------------------------------------------------------

@bp.route("/v1/products", methods=["GET"])
@operation("Browse and search products", tags=TAGS, query="BrowseQuery", response="BrowsePage", auth="member",
           errors=(400, 422))
def browse_products(query: BrowseQuery) -> BrowsePage:
    from chalicelib.catalog import browse
    from chalicelib.catalog.ratings import summary_of
    from chalicelib.catalog.schemas import BrowsePage, ProductSummary

    page = browse.browse(query, query.limit)
    return BrowsePage(items=[ProductSummary.of(entry, seller, summary_of(entry)) for entry, seller in page.items],
                      next_cursor=page.next_cursor)


@bp.route("/v1/products/{product_id}", methods=["GET"])
@operation("A product", tags=TAGS, response="PublicProduct", auth="member", errors=(404,))
def public_product(product_id: str) -> PublicProduct:
    from chalicelib.catalog import browse
    from chalicelib.catalog.schemas import PublicProduct

    return PublicProduct.of(*browse.rated_public_product(product_id))


@bp.route("/v1/categories", methods=["GET"])
@operation("The category tree, with how many products are on sale in each category", tags=TAGS,
           response="CategoryTree", auth="member")
def category_tree() -> CategoryTree:
    from chalicelib.catalog.counts import category_counts
    from chalicelib.catalog.schemas import CategoryNode, CategoryTree, Department

    counts = category_counts()

    def node(slug: str) -> CategoryNode:
        found = CATEGORIES[slug]
        return CategoryNode(slug=slug, name=found.name, vat_class=found.vat_class, product_count=counts[slug])

    return CategoryTree(
        departments=[Department(**node(slug).model_dump(), categories=[node(c) for c in CATEGORIES[slug].children])
                     for slug in DEPARTMENTS],
        vat_classes=VAT_CLASSES)


# --- storefronts ------------------------------------------------------------------------------

@bp.route("/v1/sellers/{seller_id}", methods=["GET"])
@operation("A seller's public storefront profile", tags=("sellers",),
           response="chalicelib.sellers.schemas:Storefront", auth="member", errors=(404,))
def storefront(seller_id: str) -> Storefront:
    from chalicelib.catalog import browse
    from chalicelib.sellers.schemas import Storefront  # lazy: schemas, not at cold start

    seller, product_count = browse.storefront(seller_id)
    return Storefront.of(seller, product_count)


# --- wishlist -------------------------------------------------------------------------------------------------

@bp.route("/v1/me/wishlist", methods=["GET"])
@operation("Your wishlist with today's prices and stock", tags=("me",),
           response="chalicelib.accounts.schemas:Wishlist", auth="buyer")
def get_wishlist(principal: Principal) -> Wishlist:
    from chalicelib.accounts.schemas import Wishlist, wish  # lazy: schemas, not at cold start
    from chalicelib.catalog import wishlist

    return Wishlist(items=[wish(w) for w in wishlist.list_wishes(principal.own_user_id)])


@bp.route("/v1/me/wishlist/{product_id}", methods=["PUT"])
@operation("Put a product on your wishlist (again is fine)", tags=("me",),
           response="chalicelib.accounts.schemas:WishOut", auth="buyer", errors=(404, 409))
def put_wish(product_id: str, principal: Principal) -> WishOut:
    from chalicelib.accounts.schemas import wish  # lazy: schemas, not at cold start
    from chalicelib.catalog import wishlist

    return wish(wishlist.add(principal.own_user_id, product_id))


@bp.route("/v1/me/wishlist/{product_id}", methods=["DELETE"])
@operation("Take a product off your wishlist", tags=("me",), status=204, auth="buyer", errors=(404,))
def delete_wish(product_id: str, principal: Principal) -> Response:
    from chalicelib.catalog import wishlist

    wishlist.remove(principal.own_user_id, product_id)
    return Response(body="", status_code=204)


@export_section("wishlist")
def wishes_in_export(user_id: str) -> list[Any]:
    """The buyer's wishlist in their data export (GET /v1/me/export), as GET /v1/me/wishlist shows it."""
    from chalicelib.catalog import wishlist  # lazy: PynamoDB, not at cold start

    return wishlist.list_wishes(user_id)


# --- operator moderation -----------------------------------------------------------------

@bp.route("/v1/admin/products/{product_id}/hide", methods=["POST"])
@operation("Hide a product from buyers", tags=TAGS, body="HideRequest", response="ProductOut", auth="operator",
           errors=(401, 403, 404, 422))
def hide_product(product_id: str, body: HideRequest, principal: Principal) -> ProductOut:
    from chalicelib.catalog import service
    from chalicelib.catalog.schemas import ProductOut

    return ProductOut.of(service.hide_product(principal.own_user_id, product_id, body.reason))


@bp.route("/v1/admin/products/{product_id}/unhide", methods=["POST"])
@operation("Show a hidden product again", tags=TAGS, response="ProductOut", auth="operator", errors=(401, 403, 404))
def unhide_product(product_id: str, principal: Principal) -> ProductOut:
    from chalicelib.catalog import service
    from chalicelib.catalog.schemas import ProductOut

    return ProductOut.of(service.unhide_product(principal.own_user_id, product_id))
