"""Request and response schemas of the catalog.

Limits are part of the contract: a body that breaks one is a 422 naming the field (and a
body above the API's byte limit a 413), never a 500.
"""

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from chalicelib.core.categories import CATEGORIES, leaf_problem
from chalicelib.core.money import CURRENCY_EXPONENTS, normalise_currency
from chalicelib.core.pagination import DEFAULT_LIMIT, Cursor, Limit
from chalicelib.core.schemas import (
    HTTPS_URL_PATTERN,
    MoneySchema,
    PageSchema,
    QuerySchema,
    RequestSchema,
    ResponseSchema,
    WholeNumber,
    https_url,
)

MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_BRAND = 100
MAX_ATTRIBUTES = 30
MAX_ATTRIBUTE_NAME = 50
MAX_ATTRIBUTE_VALUE = 200
MAX_IMAGES = 10
MAX_IMAGE_URL = 2048
MAX_PRICE = 999_999_999_999  # 12 digits: the width of the price index key
MAX_STOCK = 1_000_000_000
MAX_BULK_ROWS = 500
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"

ProductStatus = Literal["draft", "active", "archived"]


def _leaf_category(slug: str) -> str:
    problem = leaf_problem(slug)
    if problem:
        raise ValueError(problem)
    return slug


def _any_category(slug: str) -> str:
    if slug not in CATEGORIES:
        raise ValueError(f"unknown category {slug!r}; GET /v1/categories lists them")
    return slug


def _currency(code: str) -> str:
    if code not in CURRENCY_EXPONENTS:  # exactly the documented codes: upper case, as ISO 4217 writes them
        raise ValueError(f"unsupported currency {code!r}; one of {', '.join(CURRENCY_EXPONENTS)}")
    return normalise_currency(code)


LEAF_SLUGS = sorted(slug for slug, node in CATEGORIES.items() if node.is_leaf)


Title = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TITLE)]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)]
Category = Annotated[str, AfterValidator(_leaf_category), Field(json_schema_extra={"enum": LEAF_SLUGS})]
AnyCategory = Annotated[str, AfterValidator(_any_category), Field(json_schema_extra={"enum": sorted(CATEGORIES)})]
Brand = Annotated[str, StringConstraints(min_length=1, max_length=MAX_BRAND)]
AttributeName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ATTRIBUTE_NAME)]
AttributeValue = Annotated[str, StringConstraints(max_length=MAX_ATTRIBUTE_VALUE)]
Attributes = Annotated[dict[AttributeName, AttributeValue], Field(max_length=MAX_ATTRIBUTES)]
ImageUrl = Annotated[str, StringConstraints(max_length=MAX_IMAGE_URL, pattern=HTTPS_URL_PATTERN),
                    AfterValidator(https_url)]
Images = Annotated[list[ImageUrl], Field(max_length=MAX_IMAGES)]
Price = Annotated[WholeNumber, Field(gt=0, le=MAX_PRICE, description="Integer minor units (cents), > 0.")]
Currency = Annotated[str, AfterValidator(_currency), Field(description="ISO 4217 code the marketplace supports.",
                                                         json_schema_extra={"enum": list(CURRENCY_EXPONENTS)})]
Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN),
                Field(description="Unique per seller: letters, digits and . _ / -, at most 64.")]
Stock = Annotated[WholeNumber, Field(ge=0, le=MAX_STOCK)]
ShippingProfileId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,40}$"), Field(
    description="One of your shipping profiles (`default`, `shp_…`); null or left out: your default profile. "
                "422 `unknown_shipping_profile` when you have no such profile.")]


class PriceIn(RequestSchema):
    """A price in the one money shape of the API, as responses carry it."""

    amount: Price
    currency: Currency


def _flat_price(fields: dict[str, Any]) -> dict[str, Any]:
    """A product stores its price as amount and currency attributes side by side."""
    price = fields.pop("price", None)
    if price is not None:
        fields["price"], fields["currency"] = price["amount"], price["currency"]
    return fields


class ProductCreate(RequestSchema):
    sku: Sku
    title: Title
    description: Description = ""
    category: Category = Field(description="A leaf slug of GET /v1/categories, e.g. `fashion/shoes`.")
    brand: Brand | None = None
    attributes: Attributes = Field(default_factory=dict, description="e.g. {\"colour\": \"red\", \"size\": \"42\"}")
    images: Images = Field(default_factory=list)
    price: PriceIn = Field(description="`{\"amount\": 1999, \"currency\": \"EUR\"}`: integer minor units.")
    stock: Stock = 0
    status: Literal["draft", "active"] = Field(
        default="draft", description="`active` needs an approved seller with Stripe charges enabled.")
    shipping_profile_id: ShippingProfileId | None = None

    def stored(self) -> dict[str, Any]:
        return _flat_price(self.model_dump())


def _omit_null_defaults(schema: dict[str, Any]) -> None:
    """Omitted fields of a patch keep their value; there is no default to document. A patch
    changes at least one field."""
    for field in schema.get("properties", {}).values():
        if "default" in field and field["default"] is None:
            del field["default"]
    schema["minProperties"] = 1


# Fields typed without None but defaulting to None: omitted means "leave as is", an
# explicit null is refused (only brand and shipping_profile_id can be cleared with null).
class ProductPatch(RequestSchema):
    model_config = ConfigDict(**RequestSchema.model_config, json_schema_extra=_omit_null_defaults)

    sku: Sku = None  # type: ignore[assignment]
    title: Title = None  # type: ignore[assignment]
    description: Description = None  # type: ignore[assignment]
    category: Category = None  # type: ignore[assignment]
    brand: Brand | None = None
    attributes: Attributes = None  # type: ignore[assignment]
    images: Images = None  # type: ignore[assignment]
    price: PriceIn = None  # type: ignore[assignment]
    stock: Stock = None  # type: ignore[assignment]
    status: ProductStatus = None  # type: ignore[assignment]
    shipping_profile_id: ShippingProfileId | None = None  # null: back to the default profile

    @model_validator(mode="after")
    def _not_empty(self) -> "ProductPatch":
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        return self

    def changes(self) -> dict[str, Any]:
        return _flat_price(self.model_dump(exclude_unset=True))


class BulkRow(ProductPatch):
    """A row of a bulk upsert: the SKU names the product; a new SKU needs the fields of a
    create, an existing one changes only the fields the row gives."""

    sku: Sku

    def changes(self) -> dict[str, Any]:
        return _flat_price(self.model_dump(exclude_unset=True, exclude={"sku"}))


class BulkUpsertRequest(RequestSchema):
    rows: list[dict[str, Any]] = Field(
        min_length=1, max_length=MAX_BULK_ROWS,
        description="Objects shaped like a product create; an existing SKU is updated with the fields given.")


class StockUpdate(RequestSchema):
    model_config = ConfigDict(**RequestSchema.model_config, json_schema_extra={
        "anyOf": [{"required": ["expected_version"], "properties": {"expected_version": {"type": "integer"}}},
                  {"required": ["expected_quantity"], "properties": {"expected_quantity": {"type": "integer"}}}]})

    quantity: Stock
    expected_version: WholeNumber | None = Field(default=None, ge=1, description="The version you last read.")
    expected_quantity: Stock | None = Field(default=None, description="The quantity you last read.")

    @model_validator(mode="after")
    def _guarded(self) -> "StockUpdate":
        if self.expected_version is None and self.expected_quantity is None:
            raise ValueError("send expected_version or expected_quantity, so that no update is lost")
        return self


class HideRequest(RequestSchema):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="Shown to the seller on their product.")


class SellerProductsQuery(QuerySchema):
    status: ProductStatus | None = None
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class BrowseQuery(QuerySchema):
    category: AnyCategory | None = Field(
        default=None, description="A department includes its categories (`fashion` matches `fashion/shoes`).")
    seller_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,64}$")] | None = None
    brand: Annotated[str, StringConstraints(max_length=MAX_BRAND)] | None = Field(
        default=None, description="Exact brand, case- and accent-insensitive.")
    q: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Words the brand or title start with, all of them (no ranking).")
    min_price: Annotated[int, Field(ge=0, le=MAX_PRICE)] | None = Field(default=None, description="Minor units.")
    max_price: Annotated[int, Field(ge=0, le=MAX_PRICE)] | None = Field(default=None, description="Minor units.")
    currency: Currency | None = Field(
        default=None, description="Only prices in this currency. Price bounds and price sorts compare within one "
                                  "currency, EUR unless given.")
    in_stock: bool | None = None
    min_rating: Annotated[float, Field(ge=1, le=5)] | None = Field(
        default=None, description="Only products whose average rating (published reviews) is at least this; "
                                  "products without reviews are left out.")
    sort: Literal["newest", "price_asc", "price_desc", "rating"] = Field(default="newest", description=(
        "`rating`: best average first (more reviews first among equals, unrated last), over the whole "
        "listing."))
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT

    @model_validator(mode="after")
    def _price_range(self) -> "BrowseQuery":
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError("min_price must not exceed max_price")
        return self


def _money(item: Any) -> MoneySchema:
    return MoneySchema(amount=int(item.price), currency=item.currency)


class Moderation(ResponseSchema):
    hidden: bool
    reason: str | None = None
    at: str | None = None


class _ProductFields(ResponseSchema):
    """What sellers and buyers both see of a product."""

    product_id: str
    seller_id: str
    title: str
    description: str
    category: str
    brand: str | None
    attributes: dict[str, str]
    images: list[str]
    price: MoneySchema
    created_at: str

    @staticmethod
    def shared(product: Any) -> dict[str, Any]:
        return {"product_id": product.product_id, "seller_id": product.seller_id, "title": product.title,
                "description": product.description, "category": product.category, "brand": product.brand,
                "attributes": product.attributes, "images": list(product.images), "price": _money(product),
                "created_at": product.created_at}


class ProductOut(_ProductFields):
    """A product as its seller (and operators) see it."""

    sku: str
    stock: int
    status: ProductStatus
    version: int = Field(description="Grows with every change; send it back as expected_version.")
    moderation: Moderation
    updated_at: str
    shipping_profile_id: str | None = Field(
        description="The shipping profile it ships with; null: your default. A deleted profile's products ship "
                    "with the default.")

    @classmethod
    def of(cls, product: Any) -> "ProductOut":
        return cls(**cls.shared(product), sku=product.sku, stock=int(product.stock), status=product.status,
                   version=int(product.version), updated_at=product.updated_at,
                   shipping_profile_id=product.shipping_profile_id,
                   moderation=Moderation(hidden=bool(product.hidden), reason=product.hidden_reason,
                                         at=product.hidden_at))


class ProductPage(PageSchema):
    items: list[ProductOut]


class ProductRemoval(ResponseSchema):
    product_id: str
    outcome: Literal["deleted", "archived"] = Field(
        description="A draft that was never active is deleted (its SKU is free again); any other product is "
                    "archived: hidden from buyers, kept for orders and reports, restorable with PATCH.")
    product: ProductOut | None = Field(description="The archived product; null when deleted.")


class RowError(ResponseSchema):
    code: str
    message: str
    details: Any = None


class RowResult(ResponseSchema):
    row: int = Field(description="0-based index of the row in the request.")
    sku: str | None
    status: Literal["created", "updated", "unchanged", "error"]
    product_id: str | None = None
    error: RowError | None = None


class BulkSummary(ResponseSchema):
    created: int
    updated: int
    unchanged: int
    error: int


class BulkResult(ResponseSchema):
    results: list[RowResult]
    summary: BulkSummary

    @classmethod
    def of(cls, results: list[RowResult]) -> "BulkResult":
        counts = {status: 0 for status in ("created", "updated", "unchanged", "error")}
        for result in results:
            counts[result.status] += 1
        return cls(results=results, summary=BulkSummary(**counts))


class RatingBrief(ResponseSchema):
    """Published reviews only; the product page adds the distribution."""

    count: int
    average: float | None = Field(description="Mean of 1-5 stars, two decimals; null without reviews.")


class ProductSummary(ResponseSchema):
    """A product on a browse page."""

    product_id: str
    seller_id: str
    seller_name: str
    title: str
    brand: str | None
    category: str
    price: MoneySchema
    image: str | None
    in_stock: bool
    created_at: str
    rating: RatingBrief

    @classmethod
    def of(cls, entry: Any, seller: Any, rating: Any) -> "ProductSummary":
        return cls(product_id=entry.product_id, seller_id=entry.seller_id, seller_name=seller.display_name,
                   title=entry.title, brand=entry.brand, category=entry.category, price=_money(entry),
                   image=entry.image, in_stock=bool(entry.in_stock), created_at=entry.created_at,
                   rating=RatingBrief(count=rating.count, average=rating.average))


class BrowsePage(PageSchema):
    """Send `next_cursor` back with the same filters. A page may hold fewer items than the limit when filters
    discard many products; keep following the cursor."""

    items: list[ProductSummary]


class RatingOut(ResponseSchema):
    """Published reviews only."""

    count: int
    average: float | None = Field(description="Mean of 1-5 stars, two decimals; null without reviews.")
    distribution: dict[str, int] = Field(description='How many reviews gave each star, "1" to "5".')

    @classmethod
    def of(cls, summary: Any) -> "RatingOut":
        return cls(count=summary.count, average=summary.average, distribution=summary.distribution)


class PublicProduct(_ProductFields):
    """A product as buyers see it."""

    seller_name: str
    category_name: str
    in_stock: bool
    rating: RatingOut

    @classmethod
    def of(cls, product: Any, seller: Any, rating: Any) -> "PublicProduct":
        return cls(**cls.shared(product), seller_name=seller.display_name,
                   category_name=CATEGORIES[product.category].name, in_stock=int(product.stock) > 0,
                   rating=RatingOut.of(rating))


class CategoryNode(ResponseSchema):
    slug: str
    name: str
    vat_class: str
    product_count: int = Field(description="Products on sale in it now (a department: in all its categories); "
                                           "may lag a change by up to 30 s.")


class Department(CategoryNode):
    categories: list[CategoryNode]


class CategoryTree(ResponseSchema):
    departments: list[Department]
    vat_classes: dict[str, str] = Field(description="VAT class key -> what it covers.")
