"""HTTP routes of promotions: a seller's own (``/v1/seller/promotions…``, the tenant is
``principal.own_seller_id``, never a parameter) and the operator's marketplace-wide ones
(``/v1/admin/promotions…``). Both call the same service functions, the seller's with its id
and the operator's with None, so neither can reach the other's promotions.

Routes name their models and views import the schemas module, so a cold start imports none
(see :data:`chalicelib.core.http.ModelRef`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.core.http import operation

if TYPE_CHECKING:
    from chalicelib.core.auth import Principal
    from chalicelib.promotions import schemas

bp = Blueprint(__name__)

TAGS = ("promotions",)
READ: dict[str, Any] = {"tags": TAGS, "auth": "seller", "scopes": ("promotions:read",)}
WRITE: dict[str, Any] = {"tags": TAGS, "auth": "seller", "scopes": ("promotions:write",)}
ADMIN: dict[str, Any] = {"tags": TAGS, "auth": "operator"}

_RULES = ("Promotions apply in `priority` order (lowest first), each to the prices the ones before it left, after "
          "the customer-group discount and never below zero; an `exclusive` one that applies stops the ones after "
          "it. A seller's promotion covers only the seller's items and is funded by the seller; the operator's is "
          "funded by the marketplace unless `seller_share_bp` makes the sellers bear a share. At most 10 automatic "
          "promotions are active per seller and for the marketplace (409 `too_many_automatic_promotions`), and at "
          "most 8 of them apply to one order (the first by priority; a code still applies).")
_CODES = ("Either `{\"code\": \"SOMMER10\"}`, a public code of your choosing (case-insensitive, spaces dropped; "
          "409 `promo_code_taken` when any promotion has it), or `{\"generate\": N}`, N ≤ 10,000 random single-use "
          "codes. An automatic promotion takes no codes (409 `promotion_is_automatic`).")
_EXPORT = ("Columns: code, kind, account_id, valid_until, used_by_order, created_at. More than 20,000 codes come in "
           "parts: follow `X-Next-Cursor`.")


def _csv(text: str, next_cursor: str | None) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": "text/csv; charset=utf-8",
                                           "Content-Disposition": 'attachment; filename="promo-codes.csv"'}
    if next_cursor:
        headers["X-Next-Cursor"] = next_cursor
    return Response(body=text, status_code=200, headers=headers)


def _list(seller_id: str | None, query: schemas.PageQuery) -> schemas.PromotionPage:
    from chalicelib.promotions import schemas, service

    return schemas.promotion_page(service.list_promotions(seller_id, cursor=query.cursor, limit=query.limit))


def _create(seller_id: str | None, body: schemas.PromotionCreate) -> schemas.Promotion:
    from chalicelib.promotions import schemas, service

    return schemas.promotion(service.create_promotion(seller_id, schemas.promotion_fields(body)))


def _get(seller_id: str | None, promotion_id: str) -> schemas.Promotion:
    from chalicelib.promotions import schemas, service

    return schemas.promotion(service.get_promotion(seller_id, promotion_id))


def _change(seller_id: str | None, promotion_id: str, body: schemas.PromotionChange) -> schemas.Promotion:
    from chalicelib.promotions import schemas, service

    return schemas.promotion(service.update_promotion(seller_id, promotion_id, schemas.promotion_fields(body)))


def _delete(seller_id: str | None, promotion_id: str) -> Response:
    from chalicelib.promotions import service

    service.delete_promotion(seller_id, promotion_id)
    return Response(body="", status_code=204)


def _add_codes(seller_id: str | None, promotion_id: str, body: schemas.CodesCreate) -> schemas.CodesCreated:
    from chalicelib.promotions import schemas, service

    if body.code is not None:
        return schemas.codes_created([service.add_public_code(seller_id, promotion_id, body.code)])
    return schemas.codes_created(service.generate_codes(seller_id, promotion_id, body.generate or 0))


def _codes(seller_id: str | None, promotion_id: str, query: schemas.PageQuery) -> schemas.PromoCodePage:
    from chalicelib.promotions import schemas, service

    return schemas.promo_code_page(service.list_codes(seller_id, promotion_id, cursor=query.cursor,
                                                      limit=query.limit))


def _export(seller_id: str | None, promotion_id: str, query: schemas.ExportQuery) -> Response:
    from chalicelib.promotions import service

    return _csv(*service.export_codes(seller_id, promotion_id, cursor=query.cursor))


# -- a seller's own -------------------------------------------------------------------------------

@bp.route("/v1/seller/promotions", methods=["GET"])
@operation("Your promotions, newest first, with their uses and discount given", query="PageQuery",
           response="PromotionPage", **READ)
def list_promotions(query: schemas.PageQuery, principal: Principal) -> schemas.PromotionPage:
    return _list(principal.own_seller_id, query)


@bp.route("/v1/seller/promotions", methods=["POST"])
@operation("Create a promotion on your products", body="PromotionCreate", response="Promotion", status=201,
           errors=(409, 422), description=_RULES, **WRITE)
def create_promotion(body: schemas.PromotionCreate, principal: Principal) -> schemas.Promotion:
    return _create(principal.own_seller_id, body)


@bp.route("/v1/seller/promotions/{promotion_id}", methods=["GET"])
@operation("One of your promotions with its uses and discount given", response="Promotion", errors=(404,), **READ)
def get_promotion(promotion_id: str, principal: Principal) -> schemas.Promotion:
    return _get(principal.own_seller_id, promotion_id)


@bp.route("/v1/seller/promotions/{promotion_id}", methods=["PATCH"])
@operation("Change a promotion (its kind, currency and being automatic stay)", body="PromotionChange",
           response="Promotion", errors=(404, 409, 422), **WRITE)
def change_promotion(promotion_id: str, body: schemas.PromotionChange, principal: Principal) -> schemas.Promotion:
    return _change(principal.own_seller_id, promotion_id, body)


@bp.route("/v1/seller/promotions/{promotion_id}", methods=["DELETE"])
@operation("Delete a promotion; its codes stop working", status=204, errors=(404,), **WRITE)
def delete_promotion(promotion_id: str, principal: Principal) -> Response:
    return _delete(principal.own_seller_id, promotion_id)


@bp.route("/v1/seller/promotions/{promotion_id}/codes", methods=["POST"])
@operation("Add a public code, or generate single-use codes", body="CodesCreate", response="CodesCreated",
           status=201, errors=(404, 409), description=_CODES, **WRITE)
def add_codes(promotion_id: str, body: schemas.CodesCreate, principal: Principal) -> schemas.CodesCreated:
    return _add_codes(principal.own_seller_id, promotion_id, body)


@bp.route("/v1/seller/promotions/{promotion_id}/codes", methods=["GET"])
@operation("A promotion's codes in the order made", query="PageQuery", response="PromoCodePage", errors=(404,),
           **READ)
def list_codes(promotion_id: str, query: schemas.PageQuery, principal: Principal) -> schemas.PromoCodePage:
    return _codes(principal.own_seller_id, promotion_id, query)


@bp.route("/v1/seller/promotions/{promotion_id}/codes/export", methods=["GET"])
@operation("A promotion's codes as CSV", query="ExportQuery", response={"type": "string"}, content_type="text/csv",
           errors=(404,), description=_EXPORT, **READ)
def export_codes(promotion_id: str, query: schemas.ExportQuery, principal: Principal) -> Response:
    return _export(principal.own_seller_id, promotion_id, query)


# -- the operator's, marketplace-wide -------------------------------------------------------------

@bp.route("/v1/admin/promotions", methods=["GET"])
@operation("The marketplace's promotions, newest first, with their uses and discount given", query="PageQuery",
           response="PromotionPage", **ADMIN)
def list_marketplace_promotions(query: schemas.PageQuery, principal: Principal) -> schemas.PromotionPage:
    return _list(None, query)


@bp.route("/v1/admin/promotions", methods=["POST"])
@operation("Create a marketplace-wide promotion", body="PromotionCreate", response="Promotion", status=201,
           errors=(409, 422), description=_RULES, **ADMIN)
def create_marketplace_promotion(body: schemas.PromotionCreate, principal: Principal) -> schemas.Promotion:
    return _create(None, body)


@bp.route("/v1/admin/promotions/{marketplace_promotion_id}", methods=["GET"])
@operation("One marketplace promotion with its uses and discount given", response="Promotion", errors=(404,),
           **ADMIN)
def get_marketplace_promotion(marketplace_promotion_id: str, principal: Principal) -> schemas.Promotion:
    return _get(None, marketplace_promotion_id)


@bp.route("/v1/admin/promotions/{marketplace_promotion_id}", methods=["PATCH"])
@operation("Change a marketplace promotion (its kind, currency and being automatic stay)", body="PromotionChange",
           response="Promotion", errors=(404, 409, 422), **ADMIN)
def change_marketplace_promotion(marketplace_promotion_id: str, body: schemas.PromotionChange,
                                 principal: Principal) -> schemas.Promotion:
    return _change(None, marketplace_promotion_id, body)


@bp.route("/v1/admin/promotions/{marketplace_promotion_id}", methods=["DELETE"])
@operation("Delete a marketplace promotion; its codes stop working", status=204, errors=(404,), **ADMIN)
def delete_marketplace_promotion(marketplace_promotion_id: str, principal: Principal) -> Response:
    return _delete(None, marketplace_promotion_id)


@bp.route("/v1/admin/promotions/{marketplace_promotion_id}/codes", methods=["POST"])
@operation("Add a public code, or generate single-use codes", body="CodesCreate", response="CodesCreated",
           status=201, errors=(404, 409), description=_CODES, **ADMIN)
def add_marketplace_codes(marketplace_promotion_id: str, body: schemas.CodesCreate,
                          principal: Principal) -> schemas.CodesCreated:
    return _add_codes(None, marketplace_promotion_id, body)


@bp.route("/v1/admin/promotions/{marketplace_promotion_id}/codes", methods=["GET"])
@operation("A marketplace promotion's codes in the order made", query="PageQuery", response="PromoCodePage",
           errors=(404,), **ADMIN)
def list_marketplace_codes(marketplace_promotion_id: str, query: schemas.PageQuery,
                           principal: Principal) -> schemas.PromoCodePage:
    return _codes(None, marketplace_promotion_id, query)


@bp.route("/v1/admin/promotions/{marketplace_promotion_id}/codes/export", methods=["GET"])
@operation("A marketplace promotion's codes as CSV", query="ExportQuery", response={"type": "string"},
           content_type="text/csv", errors=(404,), description=_EXPORT, **ADMIN)
def export_marketplace_codes(marketplace_promotion_id: str, query: schemas.ExportQuery,
                             principal: Principal) -> Response:
    return _export(None, marketplace_promotion_id, query)
