"""What happens to products and their stock.

Consumers: catalog itself keeps browse entries' in-stock flag true (``stock_changed``); the
product events are for the retention packages (wishlist alerts on a price drop or stock
again, recommendations) and for search indexes."""

from pydantic import BaseModel, ConfigDict

from chalicelib.events.registry import DomainEvent


class ProductEvent(DomainEvent):
    """The product as it is after the change (price in minor units)."""

    product_id: str
    seller_id: str
    sku: str
    title: str
    status: str
    price: int
    currency: str
    stock: int
    version: int


class ProductCreated(ProductEvent):
    event_type = "catalog.product_created"


class ProductUpdated(ProductEvent):
    event_type = "catalog.product_updated"

    changed: list[str]  # the product fields that changed


class ProductPriceDropped(ProductEvent):
    """A listed product got cheaper (same currency): for wishlists waiting for it."""

    event_type = "catalog.product_price_dropped"

    old_price: int
    new_price: int


class ProductBackInStock(DomainEvent):
    """A listed product that was sold out has stock again: for wishlists waiting for it.
    Told by a seller's edit (the whole product) or by stock given back to a listed product
    (catalog's browse entries: without ``sku``, ``status`` and ``version``)."""

    event_type = "catalog.product_back_in_stock"

    product_id: str
    seller_id: str
    title: str
    price: int
    currency: str
    stock: int
    sku: str | None = None
    status: str | None = None
    version: int | None = None


class ProductDeleted(ProductEvent):
    event_type = "catalog.product_deleted"


class ProductHidden(ProductEvent):
    """An operator took the product off browse and search."""

    event_type = "catalog.product_hidden"

    reason: str
    operator_id: str


class ProductUnhidden(ProductEvent):
    event_type = "catalog.product_unhidden"

    operator_id: str


class StockedProduct(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    seller_id: str
    product_id: str


class StockChanged(DomainEvent):
    """Checkout reserved, or a cancellation gave back, stock of these products: for catalog's
    browse entries, whose in-stock flag follows."""

    event_type = "catalog.stock_changed"

    products: list[StockedProduct]
