"""Request and response shapes of the sellers' customer management."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, overload

from pydantic import Field, StrictBool

from chalicelib.core.pagination import DEFAULT_LIMIT, Cursor, Limit
from chalicelib.core.schemas import (
    MoneySchema,
    PageSchema,
    PatchSchema,
    Percent,
    QuerySchema,
    RequestSchema,
    ResponseSchema,
)


class PageQuery(QuerySchema):
    cursor: Cursor | None = Field(default=None, description="`next_cursor` of the previous page.")
    limit: Limit = DEFAULT_LIMIT


class CustomerListQuery(PageQuery):
    q: str | None = Field(default=None, min_length=1, max_length=100,
                          description="Prefix of the name (case and accents ignored) or of the email. "
                                      "Results: name matches in name order, then email matches in email order.")
    group: str | None = Field(default=None, max_length=64, description="Only customers in this group.")


class ExportQuery(QuerySchema):
    cursor: Cursor | None = Field(default=None,
                                  description="`X-Next-Cursor` of the previous part, for sellers with very many "
                                           "customers.")


class ImportQuery(QuerySchema):
    mode: Literal["auto", "background"] = Field(
        default="auto", description="auto: files of up to 200 valid rows are imported within the request (201), "
                                    "larger ones through the queue (202); background: always through the queue.")


class ImportUploadRequest(RequestSchema):
    size_bytes: int = Field(ge=1, le=64 * 1024 * 1024, description="The file's exact size as you will upload it "
                                                                    "(signed into the URL: S3 refuses another).")
    gzip: StrictBool = Field(default=False, description="The file is gzip-compressed (then upload it as "
                                                  "application/gzip).")


# What the server's check (422 `invalid_vat_id`) accepts, for the schema.
VAT_ID_PATTERN = r"^[\s.-]*[A-Za-z][\s.-]*[A-Za-z]([\s.-]*[A-Za-z0-9+*]){2,12}[\s.-]*$"


class CustomerChange(RequestSchema):
    """Only the fields sent are changed."""

    group_id: str | None = Field(default=None, max_length=64, description="null removes the customer from "
                                                                          "their group.")
    tax_exempt: StrictBool | None = Field(default=None, description="false also clears the reason; the VAT id stays.")
    tax_exempt_reason: str | None = Field(default=None, max_length=500,
                                          examples=["Reverse charge, §13b UStG"])
    vat_id: str | None = Field(default=None, max_length=20, examples=["DE123456789"],
                               json_schema_extra={"pattern": VAT_ID_PATTERN},
                               description="A country code and 2 to 12 letters or digits; spaces, dots and dashes "
                                           "are dropped.")


class Customer(ResponseSchema):
    customer_id: str = Field(description="For a linked customer the buyer's user id (`usr_…`); for an imported "
                                         "contact not linked yet `ctc_…`. When a contact is linked (the buyer "
                                         "confirmed your invitation, or paid a first order with you) it becomes "
                                         "the buyer's id, and the `ctc_…` id answers 404.")
    linked: bool = Field(description="Whether the person is linked to their agora account: through a paid order "
                                     "with you or by confirming your invitation mail. An imported contact is not; "
                                     "it holds exactly what you imported.")
    name: str
    email: str
    group_id: str | None
    tax_exempt: bool
    tax_exempt_reason: str | None
    vat_id: str | None
    order_count: int
    total_spent: list[MoneySchema] = Field(description="One amount per currency the customer paid in.")
    first_order_at: datetime | None
    last_order_at: datetime | None
    source: Literal["order", "import"] = Field(description="How the person became your customer.")
    created_at: datetime


class CustomerPage(PageSchema):
    items: list[Customer]


class CustomerOrder(ResponseSchema):
    order_id: str
    amount: MoneySchema
    ordered_at: datetime


class CustomerOrderPage(PageSchema):
    items: list[CustomerOrder]


class GroupCreate(RequestSchema):
    name: str = Field(min_length=1, max_length=100, examples=["Wholesale"])
    discount_percent: Percent = Field(default=Decimal(0),
                                      description="0 to 100 with at most two decimals (12.5 = 12.5 %).")


class GroupChange(PatchSchema):
    name: str = Field(default=None, min_length=1, max_length=100)  # type: ignore[assignment]
    discount_percent: Percent = Field(default=None, description="0 to 100 with at most two decimals.")  # type: ignore[assignment]


class Group(ResponseSchema):
    group_id: str
    name: str
    discount_percent: Decimal = Field(description="As a decimal string, e.g. \"12.50\".")
    discount_basis_points: int = Field(description="The same discount in basis points (1250 = 12.5 %).")
    member_count: int
    created_at: datetime


class GroupPage(PageSchema):
    items: list[Group]


class ImportProblem(ResponseSchema):
    line: int = Field(description="Line in the file; the header is line 1.")
    code: str = Field(examples=["invalid_email", "duplicate_email", "missing_name", "wrong_column_count"])
    message: str


class IgnoredColumn(ResponseSchema):
    column: str = Field(description="The column as titled in the file.", examples=["Passwort"])
    rows_with_values: int = Field(description="Rows that had a value in it; none of the values was kept.")
    reason: str


class ImportFailure(ResponseSchema):
    code: str = Field(examples=["not_utf8", "malformed_csv", "too_many_rows", "upload_missing", "bad_gzip"])
    message: str
    line: int | None = Field(description="Where reading stopped; the rows before it were imported.")


class ImportStatus(ResponseSchema):
    import_id: str
    status: Literal["awaiting_upload", "processing", "done", "failed"] = Field(
        description="awaiting_upload: an upload URL was given, the import has not been started; processing: the "
                    "file is being read or its rows imported; done; failed: the file could not be read to its end "
                    "(see `failure`; the rows before that point were imported).")
    mode: Literal["sync", "async"] = Field(description="sync: processed within the upload request.")
    total: int = Field(description="Data rows in the file (while an uploaded file is being read: the rows read so "
                                   "far).")
    processed: int = Field(description="Rows handled so far, refused ones included.")
    imported: int = Field(description="Rows that became your customers: contacts holding what you imported. Each "
                                      "person is invited by mail; this count is the same whether or not an email "
                                      "has an agora account.")
    already_customers: int = Field(description="Rows whose email is your customer already (nothing changed).")
    error_count: int = Field(description="Rows refused; none of them was imported.")
    errors: list[ImportProblem] = Field(description="The first refused rows, in line order.")
    ignored_columns: list[IgnoredColumn] = Field(
        description="Columns that were read past. A `Passwort`/`Password` column is accepted so that shop exports "
                    "import unchanged, but never imported: one agora account spans every seller, so a seller never "
                    "sets a buyer's password.")
    failure: ImportFailure | None = Field(description="Why an uploaded file could not be read to its end.")
    created_at: datetime
    finished_at: datetime | None


class UploadTarget(ResponseSchema):
    method: Literal["PUT"]
    url: str = Field(description="Presigned S3 URL.")
    headers: dict[str, str] = Field(description="Send exactly these headers with the PUT (they are signed).")
    expires_in: int = Field(description="Seconds the URL works.")


class ImportUpload(ResponseSchema):
    import_id: str
    upload: UploadTarget
    start: str = Field(description="POST here once the file is uploaded.",
                       examples=["/v1/seller/customers/imports/imp_01J…/start"])
    status: ImportStatus


@overload
def basis_points(percent: Decimal) -> int: ...
@overload
def basis_points(percent: None) -> None: ...
def basis_points(percent: Decimal | None) -> int | None:
    """12.5 (%) -> 1250; exact, since the schema allows at most two decimals."""
    return None if percent is None else int(percent.scaleb(2))


def money_list(spent: dict[str, int]) -> list[MoneySchema]:
    return [MoneySchema(amount=amount, currency=currency) for currency, amount in sorted(spent.items())]


def customer(item: Any) -> Customer:
    return Customer(customer_id=item.customer_id, linked=item.linked, name=item.name, email=item.email,
                    group_id=item.group_id,
                    tax_exempt=bool(item.tax_exempt), tax_exempt_reason=item.tax_exempt_reason, vat_id=item.vat_id,
                    order_count=int(item.order_count), total_spent=money_list(item.spent()),
                    first_order_at=item.first_order_at, last_order_at=item.last_order_at, source=item.source,
                    created_at=item.created_at)


def customer_page(page: Any) -> CustomerPage:
    return CustomerPage(items=[customer(i) for i in page.items], next_cursor=page.next_cursor)


def customer_order_page(page: Any) -> CustomerOrderPage:
    return CustomerOrderPage(items=[
        CustomerOrder(order_id=o.order_id, amount=MoneySchema(amount=int(o.amount), currency=o.currency),
                      ordered_at=o.ordered_at)
        for o in page.items
    ], next_cursor=page.next_cursor)


def group(item: Any) -> Group:
    basis_points = int(item.discount_basis_points)
    return Group(group_id=item.group_id, name=item.name, discount_percent=Decimal(basis_points).scaleb(-2),
                 discount_basis_points=basis_points, member_count=int(item.member_count),
                 created_at=item.created_at)


def group_page(page: Any) -> GroupPage:
    return GroupPage(items=[group(i) for i in page.items], next_cursor=page.next_cursor)


def import_status(job: Any) -> ImportStatus:
    from chalicelib.customers.reading import PASSWORD_IGNORED

    ignored = [IgnoredColumn(column=job.password_column, rows_with_values=int(job.password_rows),
                             reason=PASSWORD_IGNORED)] if job.password_column else []
    failure = ImportFailure(code=job.failure_code, message=job.failure_message or "",
                            line=int(job.failure_line) if job.failure_line is not None else None) \
        if job.failure_code else None
    return ImportStatus(
        import_id=job.import_id, status=job.status, mode=job.mode, total=int(job.total),
        processed=int(job.processed), imported=job.imported_count(), already_customers=int(job.already_customers),
        error_count=int(job.error_count),
        errors=[ImportProblem(line=int(e.line), code=e.code, message=e.message) for e in job.error_sample()],
        ignored_columns=ignored, failure=failure, created_at=job.created_at, finished_at=job.finished_at,
    )


def import_upload(upload: Any) -> ImportUpload:
    job = upload.job
    return ImportUpload(import_id=job.import_id, status=import_status(job),
                        upload=UploadTarget(method="PUT", url=upload.url, headers=upload.headers,
                                            expires_in=upload.expires_in),
                        start=f"/v1/seller/customers/imports/{job.import_id}/start")
