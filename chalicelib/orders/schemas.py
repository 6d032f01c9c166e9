"""Request and response schemas of carts, checkout and orders."""

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, StrictBool

from chalicelib.accounts.schemas import AddressFields
from chalicelib.core.money import Money
from chalicelib.core.pagination import DEFAULT_LIMIT, Cursor, Limit
from chalicelib.core.schemas import (
    MoneySchema,
    PageSchema,
    QuerySchema,
    RequestSchema,
    ResponseSchema,
    WholeNumber,
)
from chalicelib.orders.states import (
    MAX_LINE_QUANTITY,
    PAYMENT_STATUSES,
    STATUSES,
    order_payment_status,
    part_payment_status,
)
from chalicelib.shipping.schemas import Country

if TYPE_CHECKING:  # mypy cannot read a Literal built from a tuple at run time
    OrderStatus = str
    PaymentStatus = str
else:
    OrderStatus = Literal[STATUSES]
    PaymentStatus = Literal[PAYMENT_STATUSES]


def money(amount: int, currency: str) -> MoneySchema:
    return MoneySchema(**Money(currency, int(amount)).to_json())


# --- cart -----------------------------------------------------------------------------------

class QuantityIn(RequestSchema):
    quantity: WholeNumber = Field(ge=1, le=MAX_LINE_QUANTITY)


class CartLineOut(ResponseSchema):
    product_id: str
    seller_id: str
    quantity: int
    title: str | None = Field(description="Null when the product no longer exists.")
    image: str | None
    unit_price: MoneySchema | None = Field(description="The product's current price.")
    line_total: MoneySchema | None
    available: bool = Field(description="On sale and in stock for this quantity.")
    in_stock: int | None = Field(description="Units in stock now.")


class PromoCodeIn(RequestSchema):
    code: str = Field(min_length=1, max_length=64, description="As the buyer typed it; case and spaces do not count.")


class CartQuery(QuerySchema):
    country: Country | None = Field(default=None, description="Where to quote shipping to (ISO 3166-1 alpha-2). "
                                    "Default: a signed-in buyer's default shipping address's country. Promotions "
                                    "are checked against it too; checkout uses the shipping address's.")


class ShippingOptionOut(ResponseSchema):
    option: Literal["standard", "express"]
    price: MoneySchema
    handling_days: int = Field(description="Days before the seller hands the parcel over.")
    delivery_days_min: int | None = Field(description="The delivery promise, in days after handling; null: "
                                                      "the seller does not say.")
    delivery_days_max: int | None


class FreeShippingOut(ResponseSchema):
    threshold: MoneySchema = Field(description="Standard shipping is free from this goods value (after discounts).")
    amount_left: MoneySchema = Field(description="What the goods lack to reach it; 0 once reached.")


class CartShippingOut(ResponseSchema):
    country: str | None = Field(description="The destination quoted; null when none is known (send `?country=`): "
                                            "then no option is shown.")
    options: list[ShippingOptionOut] = Field(description="`standard`, and `express` where offered; empty when "
                                                         "the destination is unknown or a product is undeliverable.")
    undeliverable: list[str] = Field(description="Product ids this seller does not ship to the country: the part "
                                                 "cannot be ordered there.")
    free_shipping: list[FreeShippingOut] = Field(description="Per shipping profile of the part with a free-shipping "
                                                             "threshold for the country (usually one).")


class CartPartOut(ResponseSchema):
    seller_id: str
    shipping: CartShippingOut


class CartAdjustmentOut(ResponseSchema):
    source: str = Field(description="Who made it: `customer_group` or `promotions`.")
    label: str = Field(description="The customer group's or the promotion's id.")
    amount: MoneySchema
    marketplace_funded: MoneySchema = Field(description="The part the marketplace pays (the seller is credited "
                                                        "as if it were not there); the rest is the seller's.")


class CartPricedLineOut(ResponseSchema):
    product_id: str
    seller_id: str
    subtotal: MoneySchema
    discount: MoneySchema
    total: MoneySchema
    tax: MoneySchema
    adjustments: list[CartAdjustmentOut] = Field(description="In the order they applied.")


class CartPricedShippingOut(ResponseSchema):
    """A part's standard shipping as checkout would charge it now."""

    option: Literal["standard", "express"]
    price: MoneySchema = Field(description="The seller's rate for the goods after discounts (0 once a "
                                           "free-shipping threshold is reached), before shipping discounts.")
    discount: MoneySchema = Field(description="Shipping discounts (a free-shipping promotion).")
    amount: MoneySchema = Field(description="What the buyer pays for shipping (in the part's `total`).")
    tax: MoneySchema = Field(description="The VAT in `amount`.")
    free_shipping: list[FreeShippingOut] = Field(description="Per shipping profile with a threshold: the amount "
                                                             "left measured on the goods after discounts.")


class CartSellerPartOut(ResponseSchema):
    seller_id: str
    subtotal: MoneySchema
    discount: MoneySchema
    shipping: CartPricedShippingOut | None = Field(description="Standard shipping to the cart's destination; null "
                                                               "when none is known or the part cannot go there.")
    total: MoneySchema = Field(description="The part's goods after discounts and its shipping.")
    tax: MoneySchema


class CartNoticeOut(ResponseSchema):
    source: str
    subject: str = Field(description="The promo code, or `automatic` for a promotion without one.")
    status: Literal["applied", "refused"]
    reason: str | None = Field(default=None, description=(
        "Why the code does not apply: code_unknown, code_expired, not_started, minimum_not_reached (with `missing` "
        "or `missing_quantity`), not_for_these_products, usage_limit_reached, not_your_code, first_order_only, "
        "not_in_your_country, not_eligible (a customer group or loyalty tier), not_combinable (an exclusive "
        "promotion applied before it)."))
    missing: MoneySchema | None = None
    missing_quantity: int | None = None
    promotion_id: str | None = None
    discount: MoneySchema | None = None


class CartPricingOut(ResponseSchema):
    subtotal: MoneySchema
    discount: MoneySchema
    tax: MoneySchema
    shipping: MoneySchema = Field(description="The parts' standard shipping after shipping discounts, in "
                                              "`total`; 0 when no destination is known.")
    total: MoneySchema = Field(description="What checkout would charge now for the available lines with the "
                                           "cart's code and standard shipping to the cart's destination (without "
                                           "a destination: the goods only).")
    lines: list[CartPricedLineOut]
    sellers: list[CartSellerPartOut]
    notices: list[CartNoticeOut]


class CartLoyaltyOut(ResponseSchema):
    points_to_earn: int = Field(description="What the priced lines earn once paid, before bonus campaigns: per "
                                            "seller, the goods net of VAT after discounts x points per unit x the "
                                            "buyer's tier multiplier, rounded down.")
    redeemable_points: int = Field(description="The most of the buyer's available points checkout would take for "
                                               "these lines (the programme's maximum share; 0 below its minimum).")
    redeemable_value: MoneySchema = Field(description="Their value, rounded down to the cent.")


class CartOut(ResponseSchema):
    cart_token: str | None = Field(default=None, description="Only for a new guest cart: send it back as "
                                                             "X-Cart-Token with every cart and checkout request.")
    lines: list[CartLineOut]
    totals: list[MoneySchema] = Field(description="Sum of the available lines, per currency (without shipping).")
    parts: list[CartPartOut] = Field(description="Per seller of the lines, its shipping to the destination, at "
                                                 "the lines' current prices (`pricing` has it after discounts, "
                                                 "as checkout charges it).")
    updated_at: str | None
    promo_code: str | None = Field(default=None, description="The code stored on the cart; checkout uses it "
                                                             "unless given another.")
    pricing: CartPricingOut | None = Field(default=None, description=(
        "The available lines priced as checkout would now: customer-group discount, then promotions in priority "
        "order, then each part's standard shipping with shipping promotions; null when they cannot be (several "
        "currencies, more than 8 sellers)."))
    loyalty: CartLoyaltyOut | None = Field(default=None, description=(
        "For a signed-in buyer while the loyalty programme is on (and the cart is in its currency): the points "
        "these lines earn and those checkout's `redeem_points` could take; null for guests."))


def _cart_shipping(view: Any, part: Any) -> CartShippingOut:
    quote = part.quote
    if quote is None:
        return CartShippingOut(country=view.country, options=[], undeliverable=[], free_shipping=[])
    return CartShippingOut(
        country=view.country,
        options=[ShippingOptionOut(option=o.kind, price=MoneySchema(**o.price.to_json()), handling_days=o.handling_days,
                                   delivery_days_min=o.delivery_days_min, delivery_days_max=o.delivery_days_max)
                 for o in quote.options],
        undeliverable=list(quote.undeliverable),
        free_shipping=[FreeShippingOut(threshold=MoneySchema(**f.threshold.to_json()),
                                       amount_left=MoneySchema(**f.left.to_json())) for f in quote.free_shipping])


def _m(value: Money) -> MoneySchema:
    return MoneySchema(**value.to_json())


def _priced_shipping(shipping: Any) -> CartPricedShippingOut | None:
    if shipping is None:
        return None
    return CartPricedShippingOut(
        option=shipping.option, price=_m(shipping.price), discount=_m(shipping.discount), amount=_m(shipping.amount),
        tax=_m(shipping.tax), free_shipping=[FreeShippingOut(threshold=_m(f.threshold), amount_left=_m(f.left))
                                             for f in shipping.free_shipping])


def pricing_out(quote: Any) -> CartPricingOut | None:
    from chalicelib.orders.pricing import marketplace_part

    if quote is None:
        return None
    priced = quote.priced
    lines = [CartPricedLineOut(
        product_id=line.product_id, seller_id=part.seller_id, subtotal=_m(line.subtotal), discount=_m(line.discount),
        total=_m(line.total), tax=_m(line.tax),
        adjustments=[CartAdjustmentOut(source=a.source, label=a.label, amount=_m(a.amount),
                                       marketplace_funded=_m(marketplace_part(a))) for a in line.adjustments])
        for part in priced.sellers for line in part.lines]
    sellers = [CartSellerPartOut(seller_id=part.seller_id, subtotal=_m(part.subtotal), discount=_m(part.discount),
                                 shipping=_priced_shipping(part.shipping), total=_m(part.total), tax=_m(part.tax))
               for part in priced.sellers]
    return CartPricingOut(subtotal=_m(priced.subtotal), discount=_m(priced.discount), shipping=_m(priced.shipping),
                          tax=_m(priced.tax), total=_m(priced.total), lines=lines, sellers=sellers,
                          notices=[CartNoticeOut(**notice.to_json()) for notice in quote.notices
                                   if notice.status != "summary"])


def loyalty_out(quote: Any) -> CartLoyaltyOut | None:
    """The loyalty contributor's summary notice, when it gave one."""
    summary = next((notice for notice in quote.notices if notice.status == "summary" and notice.source == "loyalty"),
                   None) if quote is not None else None
    return CartLoyaltyOut(**summary.details) if summary is not None else None


def cart_out(view: Any, quote: Any = None) -> CartOut:
    lines = []
    for line in view.lines:
        product = line.product
        lines.append(CartLineOut(
            product_id=line.product_id, seller_id=line.seller_id, quantity=line.quantity,
            title=product.title if product else None, image=(product.images[0] if product and product.images else None),
            unit_price=money(product.price, product.currency) if product else None,
            line_total=MoneySchema(**line.line_total.to_json()) if line.line_total else None,
            available=line.available, in_stock=int(product.stock) if product else None))
    token = view.ref.token if view.ref is not None and view.ref.new_token else None
    return CartOut(cart_token=token, lines=lines, totals=[MoneySchema(**m.to_json()) for m in view.totals()],
                   parts=[CartPartOut(seller_id=part.seller_id, shipping=_cart_shipping(view, part))
                          for part in view.shipping],
                   updated_at=view.updated_at, promo_code=view.promo_code, pricing=pricing_out(quote),
                   loyalty=loyalty_out(quote))


# --- checkout -------------------------------------------------------------------------------

class CheckoutAddress(AddressFields):
    is_default_shipping: StrictBool = Field(default=False, exclude=True)
    is_default_billing: StrictBool = Field(default=False, exclude=True)


class CheckoutIn(RequestSchema):
    email: str | None = Field(default=None, max_length=254, description="Guests only: where the order mails go; "
                                                                        "an account is created or linked for it.")
    name: str | None = Field(default=None, max_length=200, description="Guests only.")
    shipping_address: CheckoutAddress | None = None
    shipping_address_id: str | None = Field(default=None, description="A saved address (signed-in buyers); "
                                                                      "default: the default shipping address.")
    billing_address: CheckoutAddress | None = None
    billing_address_id: str | None = Field(default=None, description="Default: the default billing address, "
                                                                     "else the shipping address.")
    payment_method_id: str | None = Field(default=None, max_length=255,
                                          description="A saved card or SEPA account (pm_…): the payment is "
                                                      "confirmed at once. Without it (and without "
                                                      "`payment_method_type`) the saved default is used; with "
                                                      "none, confirm the PaymentIntent with its client secret.")
    payment_method_type: Literal["card", "sepa_debit", "paypal", "klarna"] | None = Field(
        default=None, description="How to pay, among the methods the marketplace enables (422 "
                                  "`payment_method_not_enabled` otherwise; SEPA in EUR only). Default: the saved "
                                  "method's type, else `card`. A SEPA debit confirms late: the order's "
                                  "`payment_status` is `processing` until the bank's verdict.")
    promo_code: str | None = Field(default=None, max_length=50, description=(
        "A promo code (case and spaces do not count), checked again here: one that does not apply is a 422 "
        "`promo_code_invalid` with `details[0].reason`. Omitted: the code stored on the cart; \"\": none."))
    redeem_points: int | None = Field(default=None, ge=1, le=100_000_000, description=(
        "Loyalty points to pay part of the goods with (signed-in buyers), after promotions: worth the programme's "
        "point value, rounded down to the cent, spread over every seller's lines and funded by the marketplace "
        "(sellers are paid as if undiscounted). 422 `loyalty_disabled` (programme off), `points_below_minimum`, "
        "`points_above_maximum_share` (worth more than the programme's share of the goods after promotions; "
        "details say the most that fits); 409 `insufficient_points` when the available points do not cover them, "
        "also when a parallel checkout spent them first."))
    shipping: dict[str, Literal["standard", "express"]] = Field(
        default_factory=dict, max_length=8,
        description="The shipping option per seller id of the cart (default `standard`), as the cart offers them "
                    "for the shipping address's country. 422 `shipping_option_unavailable` for an option the "
                    "seller does not offer there; 422 `undeliverable` (details: `seller_id`, `products`) when a "
                    "seller does not ship some products there.")


class OrderLineOut(ResponseSchema):
    line: int
    product_id: str
    sku: str
    title: str
    quantity: int
    unit_price: MoneySchema
    discount: MoneySchema
    total: MoneySchema
    tax: MoneySchema
    tax_rate_bp: int = Field(description="VAT rate in basis points (1900 = 19 %), included in total.")
    refunded_quantity: int
    refunded_amount: MoneySchema
    return_quantity: int


class ShippingOut(ResponseSchema):
    """A seller's part's shipping as charged at checkout."""

    option: Literal["standard", "express"]
    price: MoneySchema = Field(description="The seller's rate for this part, before shipping discounts.")
    discount: MoneySchema = Field(description="Shipping discounts (e.g. free-shipping promotions).")
    amount: MoneySchema = Field(description="What the buyer pays for shipping (in the part's total); VAT "
                                            "included, net for a tax-exempt buyer.")
    tax: MoneySchema = Field(description="The VAT in `amount`: split over the goods' VAT rates in proportion "
                                         "to the goods' value at each rate.")
    refunded: MoneySchema
    handling_days: int
    delivery_days_min: int | None
    delivery_days_max: int | None


class SellerPartOut(ResponseSchema):
    """One seller's part of an order: its lines, payment and fulfilment status."""

    order_id: str
    seller_id: str
    status: OrderStatus
    payment_status: PaymentStatus = Field(description="What happened to the money of this part: `pending` until "
                                                      "paid, `cancelled` if it never was, then `paid`, "
                                                      "`partially_refunded` or `refunded`.")
    lines: list[OrderLineOut]
    subtotal: MoneySchema = Field(description="The goods at their prices, before discounts.")
    discount: MoneySchema
    shipping: ShippingOut | None = Field(description="Null when the part was charged no shipping (a seller "
                                                     "without shipping profiles, free shipping reached).")
    tax: MoneySchema = Field(description="The VAT of the lines and the shipping.")
    total: MoneySchema = Field(description="The lines' totals and the shipping: what the buyer pays for this part.")
    refunded: MoneySchema
    tax_exempt: bool
    carrier: str | None
    tracking_number: str | None
    cancel_reason: str | None
    return_reason: str | None
    history: list[dict[str, str]]
    created_at: str
    updated_at: str


class SellerOrderOut(SellerPartOut):
    """The seller's view adds the buyer, the address to ship to, the fee and the payout."""

    buyer_name: str
    buyer_email: str
    shipping_address: dict[str, Any]
    fee: MoneySchema = Field(description="The marketplace fee on what you are credited (`total` + "
                                         "`marketplace_discount`), on the shipping only where the fee schedule "
                                         "charges it.")
    shipping_fee: MoneySchema = Field(description="The part of `fee` charged on shipping.")
    marketplace_discount: MoneySchema = Field(description=(
        "The part of `discount` the marketplace funds, and of the shipping's discount (a marketplace-funded free "
        "shipping): paid to you as if undiscounted and charged (the rest of `discount` is yours)."))
    transferred: MoneySchema


class OrderOut(ResponseSchema):
    order_id: str
    status: Literal["pending_payment", "paid", "cancelled"] = Field(
        description="Checkout's outcome: `pending_payment` until the payment arrives, `paid` once captured, "
                    "`cancelled` when it ended unpaid. What happened to the money later is `payment_status`; "
                    "each seller's part has its own `status`.")
    payment_status: PaymentStatus = Field(
        description="Follows the parts: `pending` (awaiting payment), `processing` (a SEPA debit awaits the "
                    "bank: the stock stays reserved beyond the 30 minutes, and a failure cancels), `paid`, "
                    "`partially_refunded` (some of the "
                    "captured amount is refunded or being refunded), `refunded` (all of it: every part cancelled "
                    "or returned after payment), `cancelled` (ended before any payment was captured).")
    currency: str
    subtotal: MoneySchema
    discount: MoneySchema
    shipping: MoneySchema = Field(description="The parts' shipping, in `total`.")
    tax: MoneySchema
    total: MoneySchema = Field(description="Goods and shipping: what the buyer is charged.")
    amount_refunded: MoneySchema
    email: str
    vat_id: str | None
    shipping_address: dict[str, Any]
    billing_address: dict[str, Any]
    payment_due_at: str
    created_at: str
    paid_at: str | None
    cancel_reason: str | None
    sellers: list[SellerPartOut]


class PaymentOut(ResponseSchema):
    payment_intent_id: str | None
    client_secret: str | None = Field(description="Confirm the payment with it in Stripe.js; null once settled.")
    status: str | None


class CheckoutOut(ResponseSchema):
    order: OrderOut
    payment: PaymentOut


def _line(line: dict[str, Any], currency: str) -> OrderLineOut:
    return OrderLineOut(
        line=line["line"], product_id=line["product_id"], sku=line["sku"], title=line["title"],
        quantity=line["quantity"], unit_price=money(line["unit_price"], currency),
        discount=money(line["discount"], currency), total=money(line["total"], currency),
        tax=money(line["tax"], currency), tax_rate_bp=line["tax_rate_bp"],
        refunded_quantity=line.get("refunded_quantity", 0),
        refunded_amount=money(line.get("refunded_amount", 0), currency),
        return_quantity=line.get("return_quantity", 0))


def _shipping(sub: Any) -> ShippingOut | None:
    shipping, c = sub.shipping, sub.currency
    if not shipping:
        return None
    return ShippingOut(option=shipping["option"], price=money(shipping["price"], c),
                       discount=money(shipping["discount"], c), amount=money(shipping["amount"], c),
                       tax=money(shipping["tax"], c), refunded=money(sub.shipping_refunded or 0, c),
                       handling_days=shipping["handling_days"], delivery_days_min=shipping["delivery_days_min"],
                       delivery_days_max=shipping["delivery_days_max"])


def _part_fields(sub: Any) -> dict[str, Any]:
    c = sub.currency
    return dict(order_id=sub.order_id, seller_id=sub.seller_id, status=sub.status,
                payment_status=part_payment_status(sub),
                lines=[_line(line, c) for line in sub.lines], subtotal=money(sub.subtotal, c),
                discount=money(sub.discount, c), shipping=_shipping(sub), tax=money(sub.tax, c),
                total=money(sub.total, c),
                refunded=money(sub.refunded, c), tax_exempt=bool(sub.tax_exempt), carrier=sub.carrier,
                tracking_number=sub.tracking_number, cancel_reason=sub.cancel_reason, return_reason=sub.return_reason,
                history=list(sub.history), created_at=sub.created_at or sub.history[0]["at"],
                updated_at=sub.updated_at or sub.history[-1]["at"])


def seller_part(sub: Any) -> SellerPartOut:
    return SellerPartOut(**_part_fields(sub))


def seller_order(sub: Any) -> SellerOrderOut:
    c = sub.currency
    return SellerOrderOut(**_part_fields(sub), buyer_name=sub.buyer_name, buyer_email=sub.buyer_email,
                          shipping_address=dict(sub.shipping_address), fee=money(sub.fee, c),
                          shipping_fee=money((sub.shipping or {}).get("fee", 0), c),
                          marketplace_discount=money(sub.marketplace_discount or 0, c),
                          transferred=money(sub.transferred, c))


def order_out(order: Any, subs: list[Any]) -> OrderOut:
    c = order.currency
    return OrderOut(order_id=order.order_id, status=order.status, payment_status=order_payment_status(order),
                    currency=c, subtotal=money(order.subtotal, c),
                    discount=money(order.discount, c), shipping=money(order.shipping or 0, c),
                    tax=money(order.tax, c), total=money(order.total, c),
                    amount_refunded=money(order.amount_refunded, c), email=order.email, vat_id=order.vat_id,
                    shipping_address=dict(order.shipping_address), billing_address=dict(order.billing_address),
                    payment_due_at=order.payment_due_at, created_at=order.created_at, paid_at=order.paid_at,
                    cancel_reason=order.cancel_reason, sellers=[seller_part(s) for s in subs])


def checkout_out(result: Any) -> CheckoutOut:
    return CheckoutOut(order=order_out(result.order, result.sub_orders),
                       payment=PaymentOut(payment_intent_id=result.order.payment_intent_id,
                                          client_secret=result.client_secret, status=result.payment_status))


# --- orders ---------------------------------------------------------------------------------

class OrdersQuery(QuerySchema):
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class SellerOrdersQuery(OrdersQuery):
    status: OrderStatus | None = None


class OrderPage(PageSchema):
    items: list[OrderOut]


class SellerOrderPage(PageSchema):
    items: list[SellerOrderOut]


class ShipIn(RequestSchema):
    carrier: str = Field(min_length=1, max_length=100)
    tracking_number: str = Field(min_length=1, max_length=100)


class CancelIn(RequestSchema):
    reason: str = Field(default="cancelled_by_seller", min_length=1, max_length=500)


class ReturnLine(RequestSchema):
    line: WholeNumber = Field(ge=1)
    quantity: WholeNumber = Field(ge=1, le=MAX_LINE_QUANTITY)


class ReturnIn(RequestSchema):
    seller_id: str = Field(description="Whose part of the order goes back.")
    lines: list[ReturnLine] = Field(min_length=1, max_length=50)
    reason: str = Field(min_length=1, max_length=1000)


class ApproveReturnIn(RequestSchema):
    restock: StrictBool = Field(default=True, description="Put the returned units back in stock.")
    shipping: WholeNumber = Field(default=0, ge=0, description="Minor units of the part's shipping to refund "
                                  "with the return (its VAT and fee go back in proportion); at most what was paid "
                                  "and not yet refunded (422 `shipping_refund_exceeds_paid`). Cancelling a whole "
                                  "part before shipping always refunds its shipping.")
