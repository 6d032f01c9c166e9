"""Request and response shapes of the sellers' customer management."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from chalicelib.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from chalicelib.core.schemas import MoneySchema, PageSchema, QuerySchema, RequestSchema, ResponseSchema


class PageQuery(QuerySchema):
    cursor: str | None = Field(default=None, max_length=4000, description="`next_cursor` of the previous page.")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class CustomerListQuery(PageQuery):
    q: str | None = Field(default=None, min_length=1, max_length=100,
                          description="Prefix of the name (case and accents ignored) or of the email. "
                                      "Results: name matches in name order, then email matches in email order.")
    group: str | None = Field(default=None, max_length=64, description="Only customers in this group.")


class ExportQuery(QuerySchema):
    cursor: str | None = Field(default=None, max_length=4000,
                               description="`X-Next-Cursor` of the previous part, for sellers with very many "
                                           "customers.")


class ImportQuery(QuerySchema):
    mode: Literal["auto", "background"] = Field(
        default="auto", description="auto: files of up to 200 rows are imported within the request (201); "
                                    "background: always through the queue (202), whatever the size.")


class CustomerChange(RequestSchema):
    """Only the fields sent are changed."""

    group_id: str | None = Field(default=None, max_length=64, description="null removes the customer from "
                                                                          "their group.")
    tax_exempt: bool | None = Field(default=None, description="false also clears the reason; the VAT id stays.")
    tax_exempt_reason: str | None = Field(default=None, max_length=500,
                                          examples=["Reverse charge, §13b UStG"])
    vat_id: str | None = Field(default=None, max_length=20, examples=["DE123456789"])


class Customer(ResponseSchema):
    customer_id: str = Field(description="The buyer's user id.")
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
    source: Literal["order", "import"] = Field(description="How the buyer became your customer.")
    created_at: datetime


class CustomerPage(PageSchema[Customer]):
    pass


class CustomerOrder(ResponseSchema):
    order_id: str
    amount: MoneySchema
    ordered_at: datetime


class CustomerOrderPage(PageSchema[CustomerOrder]):
    pass


class GroupCreate(RequestSchema):
    name: str = Field(min_length=1, max_length=100, examples=["Wholesale"])
    discount_percent: Decimal = Field(default=Decimal(0), ge=0, le=100, max_digits=5, decimal_places=2,
                                      description="0 to 100 with at most two decimals (12.5 = 12.5 %).")


class GroupChange(RequestSchema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    discount_percent: Decimal | None = Field(default=None, ge=0, le=100, max_digits=5, decimal_places=2)


class Group(ResponseSchema):
    group_id: str
    name: str
    discount_percent: Decimal = Field(description="As a decimal string, e.g. \"12.50\".")
    discount_basis_points: int = Field(description="The same discount in basis points (1250 = 12.5 %).")
    member_count: int
    created_at: datetime


class GroupPage(PageSchema[Group]):
    pass


class ImportProblem(ResponseSchema):
    line: int = Field(description="Line in the file; the header is line 1.")
    code: str = Field(examples=["invalid_email", "duplicate_email", "weak_password", "missing_name"])
    message: str


class ImportStatus(ResponseSchema):
    import_id: str
    status: Literal["processing", "done"]
    mode: Literal["sync", "async"] = Field(description="sync: processed within the upload request.")
    total: int = Field(description="Data rows in the file.")
    processed: int = Field(description="Rows handled so far, refused ones included.")
    imported: int = Field(description="Rows that became your customers (accounts_created + linked).")
    accounts_created: int = Field(description="New marketplace accounts created for imported rows.")
    linked: int = Field(description="Existing marketplace accounts linked as your customers (not changed).")
    already_customers: int = Field(description="Rows that were your customers already (nothing changed).")
    error_count: int = Field(description="Rows refused; none of them was imported.")
    errors: list[ImportProblem] = Field(description="The first refused rows, in line order.")
    created_at: datetime
    finished_at: datetime | None


def basis_points(percent: Decimal | None) -> int | None:
    """12.5 (%) -> 1250; exact, since the schema allows at most two decimals."""
    return None if percent is None else int(percent.scaleb(2))


def money_list(spent: dict[str, int]) -> list[MoneySchema]:
    return [MoneySchema(amount=amount, currency=currency) for currency, amount in sorted(spent.items())]


def customer(item: Any) -> Customer:
    return Customer(customer_id=item.user_id, name=item.name, email=item.email, group_id=item.group_id,
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
    return ImportStatus(
        import_id=job.import_id, status=job.status, mode=job.mode, total=int(job.total),
        processed=int(job.processed), imported=int(job.accounts_created) + int(job.linked),
        accounts_created=int(job.accounts_created), linked=int(job.linked),
        already_customers=int(job.already_customers), error_count=int(job.error_count),
        errors=[ImportProblem(line=int(e.line), code=e.code, message=e.message) for e in job.error_sample()],
        created_at=job.created_at, finished_at=job.finished_at,
    )
