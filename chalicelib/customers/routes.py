"""HTTP routes of the sellers' customer management (the CRM): customers, groups, import, export.

Every route is a seller route: the tenant is ``principal.seller_id``, never a parameter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.core.http import operation, request_body

if TYPE_CHECKING:
    from chalicelib.core.auth import Principal
    from chalicelib.customers import schemas

bp = Blueprint(__name__)

TAGS = ("customers",)
READ: dict[str, Any] = {"tags": TAGS, "auth": "seller", "scopes": ("customers:read",)}
WRITE: dict[str, Any] = {"tags": TAGS, "auth": "seller", "scopes": ("customers:write",)}


def _json(model: Any, status: int, **headers: str) -> Response:
    return Response(body=model.model_dump(mode="json"), status_code=status,
                    headers={"Content-Type": "application/json", **headers})


@bp.route("/v1/seller/customers", methods=["GET"])
@operation("Your customers, newest order first; search by name or email, filter by group",
           query="CustomerListQuery", response="CustomerPage", **READ)
def list_customers(query: schemas.CustomerListQuery, principal: Principal) -> schemas.CustomerPage:
    from chalicelib.customers import schemas, service

    return schemas.customer_page(service.list_customers(principal.own_seller_id, q=query.q, group_id=query.group,
                                                        cursor=query.cursor, limit=query.limit))


@bp.route("/v1/seller/customers/export", methods=["GET"])
@operation("All your customers as CSV", query="ExportQuery", response={"type": "string"},
           content_type="text/csv",
           description="Columns: customer_id, name, email, group, tax_exempt, tax_exempt_reason, vat_id, "
                       "order_count, total_spent, first_order_at, last_order_at, newsletter_consent, source, "
                       "created_at. `newsletter_consent` is a linked buyer's; an imported contact not linked yet is "
                       "`none`. More than 20,000 customers come in parts: follow `X-Next-Cursor`.",
           **READ)
def export_customers(query: schemas.ExportQuery, principal: Principal) -> Response:
    from chalicelib.customers.export import export_customers

    text, next_cursor = export_customers(principal.own_seller_id, cursor=query.cursor)
    headers: dict[str, str | list[str]] = {"Content-Type": "text/csv; charset=utf-8",
                                           "Content-Disposition": 'attachment; filename="customers.csv"'}
    if next_cursor:
        headers["X-Next-Cursor"] = next_cursor
    return Response(body=text, status_code=200, headers=headers)


@bp.route("/v1/seller/customers/import", methods=["POST"],
          content_types=["text/csv", "application/octet-stream"])
@operation("Import customers from a CSV file", query="ImportQuery", response="ImportStatus", status=201,
           errors=(400, 413, 415, 422, 429),
           description="Body: the CSV file (text/csv, or gzip-compressed as application/octet-stream), up to 1 MiB "
                       "uncompressed (413 `file_too_large` beyond: upload larger files through "
                       "`POST /v1/seller/customers/imports/uploads`). Header `Name,E-Mail,Passwort` or "
                       "`Name,Email,Password`; a password column is accepted but never imported "
                       "(`ignored_columns`). Each valid row becomes your contact and the person is invited by mail. "
                       "A file that cannot be read is refused whole (422). Up to 200 valid rows are imported at "
                       "once (201, the report); more are imported in the background (202, follow `Location` for "
                       "the progress), and so is any file with `?mode=background`. 10 imports per hour (429).",
           extra={"request_body": {"required": True, "content": {
               "text/csv": {"schema": {"type": "string", "maxLength": 1_048_576}},
               "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
           **WRITE)
def import_customers(query: schemas.ImportQuery, principal: Principal) -> Response:
    from chalicelib.customers import schemas
    from chalicelib.customers.imports import start_import

    job = start_import(principal.own_seller_id, request_body(), background=query.mode == "background")
    status = schemas.import_status(job)
    if job.mode == "sync":
        return _json(status, 201)
    return _json(status, 202, Location=f"/v1/seller/customers/imports/{job.import_id}")


@bp.route("/v1/seller/customers/imports/uploads", methods=["POST"])
@operation("Upload a large customer CSV file: get a presigned S3 URL", body="ImportUploadRequest",
           response="ImportUpload", status=201, errors=(413, 422, 429),
           description="For files of any size up to 64 MiB (and 200,000 rows): PUT the file to `upload.url` with "
                       "`upload.headers` within `upload.expires_in` seconds, then POST to `start`. The file is read "
                       "in the background; follow `GET /v1/seller/customers/imports/{import_id}`. Counts towards "
                       "the 10 imports per hour.",
           **WRITE)
def create_import_upload(body: schemas.ImportUploadRequest, principal: Principal) -> schemas.ImportUpload:
    from chalicelib.customers import schemas
    from chalicelib.customers.imports import create_upload

    return schemas.import_upload(create_upload(principal.own_seller_id, size_bytes=body.size_bytes, gzip=body.gzip))


@bp.route("/v1/seller/customers/imports/{import_id}/start", methods=["POST"])
@operation("Start importing an uploaded customer file", response="ImportStatus", status=202, errors=(404,),
           description="Queues the uploaded file; calling it again answers the progress. A file that was not "
                       "uploaded ends the import with status `failed` (`upload_missing`).",
           **WRITE)
def start_import_upload(import_id: str, principal: Principal) -> Response:
    from chalicelib.customers import schemas
    from chalicelib.customers.imports import start_upload

    job = start_upload(principal.own_seller_id, import_id)
    return _json(schemas.import_status(job), 202, Location=f"/v1/seller/customers/imports/{job.import_id}")


@bp.route("/v1/seller/customers/imports/{import_id}", methods=["GET"])
@operation("Progress and report of a customer import", response="ImportStatus", errors=(404,), **READ)
def import_progress(import_id: str, principal: Principal) -> schemas.ImportStatus:
    from chalicelib.customers import schemas
    from chalicelib.customers.imports import get_import

    return schemas.import_status(get_import(principal.own_seller_id, import_id))


@bp.route("/v1/seller/customers/{customer_id}", methods=["GET"])
@operation("One customer with order count, total spent and first/last order", response="Customer",
           errors=(404,), **READ)
def get_customer(customer_id: str, principal: Principal) -> schemas.Customer:
    from chalicelib.customers import schemas, service

    return schemas.customer(service.get_customer(principal.own_seller_id, customer_id))


@bp.route("/v1/seller/customers/{customer_id}", methods=["PATCH"])
@operation("Put a customer in a group, or mark them tax exempt", body="CustomerChange",
           response="Customer", errors=(404, 409), **WRITE)
def change_customer(customer_id: str, body: schemas.CustomerChange, principal: Principal) -> schemas.Customer:
    from chalicelib.customers import schemas, service

    changes = body.model_dump(exclude_unset=True)
    return schemas.customer(service.update_customer(principal.own_seller_id, customer_id, changes))


@bp.route("/v1/seller/customers/{customer_id}/orders", methods=["GET"])
@operation("A customer's orders with you, newest first", query="PageQuery",
           response="CustomerOrderPage", errors=(404,), **READ)
def customer_orders(customer_id: str, query: schemas.PageQuery, principal: Principal) -> schemas.CustomerOrderPage:
    from chalicelib.customers import schemas, service

    return schemas.customer_order_page(service.customer_orders(principal.own_seller_id, customer_id,
                                                               cursor=query.cursor, limit=query.limit))


@bp.route("/v1/seller/customer-groups", methods=["GET"])
@operation("Your customer groups", query="PageQuery", response="GroupPage", **READ)
def list_groups(query: schemas.PageQuery, principal: Principal) -> schemas.GroupPage:
    from chalicelib.customers import schemas, service

    return schemas.group_page(service.list_groups(principal.own_seller_id, cursor=query.cursor, limit=query.limit))


@bp.route("/v1/seller/customer-groups", methods=["POST"])
@operation("Create a customer group with a discount", body="GroupCreate", response="Group",
           status=201, errors=(409,), **WRITE)
def create_group(body: schemas.GroupCreate, principal: Principal) -> schemas.Group:
    from chalicelib.customers import schemas, service

    return schemas.group(service.create_group(principal.own_seller_id, name=body.name,
                                              discount_basis_points=schemas.basis_points(body.discount_percent)))


@bp.route("/v1/seller/customer-groups/{group_id}", methods=["PATCH"])
@operation("Rename a customer group or change its discount", body="GroupChange", response="Group",
           errors=(404, 409), **WRITE)
def change_group(group_id: str, body: schemas.GroupChange, principal: Principal) -> schemas.Group:
    from chalicelib.customers import schemas, service

    return schemas.group(service.update_group(principal.own_seller_id, group_id, name=body.name,
                                              discount_basis_points=schemas.basis_points(body.discount_percent)))


@bp.route("/v1/seller/customer-groups/{group_id}", methods=["DELETE"])
@operation("Delete an empty customer group", status=204, errors=(404, 409),
           description="A group that still has customers is not deleted (409 `group_in_use`): move them first.",
           **WRITE)
def delete_group(group_id: str, principal: Principal) -> Response:
    from chalicelib.customers import service

    service.delete_group(principal.own_seller_id, group_id)
    return Response(body="", status_code=204)
