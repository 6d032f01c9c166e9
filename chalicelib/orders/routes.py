"""HTTP routes of carts, checkout and orders (buyers' and sellers').

The views import the service and schema modules they use; the routes name their models
(``response="CartOut"``), so a cold start imports neither (see :data:`chalicelib.core.http.ModelRef`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.accounts.personal_data import export_section
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Code, ValidationFailed
from chalicelib.core.http import current_request, operation, request_header

if TYPE_CHECKING:
    from chalicelib.orders.schemas import (
        ApproveReturnIn,
        CancelIn,
        CartOut,
        CartQuery,
        CheckoutIn,
        OrderOut,
        OrderPage,
        OrdersQuery,
        PromoCodeIn,
        QuantityIn,
        ReturnIn,
        SellerOrderOut,
        SellerOrderPage,
        SellerOrdersQuery,
        ShipIn,
    )

bp = Blueprint(__name__)

CART_TAGS = ("cart & checkout",)
TAGS = ("orders",)
READ = ("orders:read",)
WRITE = ("orders:write",)
CART_TOKEN = ("X-Cart-Token", False, "A guest's cart token (from the first cart response); "
                                     "ignored for signed-in buyers.")
IDEMPOTENCY_KEY = ("Idempotency-Key", True, "A unique id per order attempt (8-128 characters); a retry with the "
                                            "same key and body returns the same order, keys are kept 48 hours.",
                   {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,128}$"})


def _header(name: str) -> str | None:
    return request_header(name)


def _cart(principal: Principal | None, *, create: bool = False) -> Any:
    from chalicelib.orders.cart import cart_ref

    return cart_ref(principal.user_id if principal else None, _header("X-Cart-Token"), create=create)


# --- cart -----------------------------------------------------------------------------------

@bp.route("/v1/cart", methods=["GET"])
@operation("Show the cart at current prices", tags=CART_TAGS, query="CartQuery", response="CartOut",
           auth="optional_buyer", headers=(CART_TOKEN,), errors=(422,),
           description="Per seller part, its shipping options, undeliverable products and the amount left to free "
                       "shipping, for `?country=` or a signed-in buyer's default shipping address. `pricing` shows "
                       "the discounts that apply now, per line (each with who funds it) and per seller part with "
                       "its standard shipping after discounts and free-shipping promotions (`total`: what checkout "
                       "charges for standard shipping), and in `notices` the promo code's status: applied, or "
                       "refused with its `reason`. `loyalty` (a "
                       "signed-in buyer, the programme on): the points the lines earn and those checkout could "
                       "redeem.")
def get_cart(query: CartQuery, principal: Principal | None) -> CartOut:
    from chalicelib.orders import cart
    from chalicelib.orders.checkout import quote_cart
    from chalicelib.orders.schemas import cart_out

    view = cart.get_cart(_cart(principal), country=query.country)
    return cart_out(view, quote_cart(view, country=view.country))


@bp.route("/v1/cart/promo-code", methods=["POST"])
@operation("Put a promo code on the cart", tags=CART_TAGS, body="PromoCodeIn", query="CartQuery", response="CartOut",
           auth="optional_buyer", headers=(CART_TOKEN,), errors=(409, 422),
           description="At most one code per cart (a new one replaces it); automatic promotions apply besides. A "
                       "code that does not apply to the cart now is a 422 `promo_code_invalid` whose "
                       "`details[0].reason` says why (`code_unknown`, `code_expired`, `not_started`, "
                       "`minimum_not_reached` with `missing`, `not_for_these_products`, `usage_limit_reached`, "
                       "`not_your_code`, `first_order_only`, `not_in_your_country`, `not_eligible`, "
                       "`not_combinable`), and is not stored. Checkout checks the code again. 409 `cart_empty`.")
def put_promo_code(body: PromoCodeIn, query: CartQuery, principal: Principal | None) -> CartOut:
    from chalicelib.orders.checkout import apply_promo_code
    from chalicelib.orders.schemas import cart_out

    view, quote = apply_promo_code(_cart(principal), body.code, country=query.country)
    return cart_out(view, quote)


@bp.route("/v1/cart/promo-code", methods=["DELETE"])
@operation("Remove the promo code from the cart", tags=CART_TAGS, query="CartQuery", response="CartOut",
           auth="optional_buyer", headers=(CART_TOKEN,), errors=(409, 422))
def delete_promo_code(query: CartQuery, principal: Principal | None) -> CartOut:
    from chalicelib.orders import cart
    from chalicelib.orders.checkout import quote_cart
    from chalicelib.orders.schemas import cart_out

    ref = _cart(principal)
    view = cart.set_promo_code(ref, None, country=query.country) if ref is not None \
        else cart.get_cart(None, country=query.country)
    return cart_out(view, quote_cart(view, country=view.country))


@bp.route("/v1/cart/items/{product_id}", methods=["PUT"])
@operation("Put a product in the cart (or change its quantity)", tags=CART_TAGS, body="QuantityIn", query="CartQuery",
           response="CartOut",
           auth="optional_buyer", headers=(CART_TOKEN,), errors=(404, 409),
           description="A guest without a cart token gets a new cart and its `cart_token`. 409 `insufficient_stock` "
                       "names what is available; 409 `cart_full` above 50 products.")
def put_cart_item(product_id: str, body: QuantityIn, query: CartQuery, principal: Principal | None) -> CartOut:
    from chalicelib.orders import cart
    from chalicelib.orders.schemas import cart_out

    return cart_out(cart.set_quantity(_cart(principal, create=True), product_id, body.quantity,
                                      country=query.country))


@bp.route("/v1/cart/items/{product_id}", methods=["DELETE"])
@operation("Remove a product from the cart", tags=CART_TAGS, response="CartOut", auth="optional_buyer",
           query="CartQuery", headers=(CART_TOKEN,), errors=(409, 422))
def delete_cart_item(product_id: str, query: CartQuery, principal: Principal | None) -> CartOut:
    from chalicelib.orders import cart
    from chalicelib.orders.schemas import cart_out

    ref = _cart(principal)
    return cart_out(cart.remove_line(ref, product_id, country=query.country) if ref is not None
                    else cart.get_cart(None, country=query.country))


@bp.route("/v1/cart/merge", methods=["POST"])
@operation("Move a guest cart into your cart after signing in", tags=CART_TAGS, response="CartOut", auth="buyer",
           headers=(("X-Cart-Token", True, "The guest cart's token."),), errors=(409, 422),
           description="Quantities of a product in both carts add up (at most 99); the guest cart is deleted.")
def merge_cart(principal: Principal) -> CartOut:
    from chalicelib.orders import cart
    from chalicelib.orders.schemas import cart_out

    token = _header("X-Cart-Token")
    if not token:
        raise ValidationFailed("Send the guest cart's X-Cart-Token.", code=Code.CART_TOKEN_REQUIRED,
                               details=[{"field": "header.X-Cart-Token", "message": "Field required",
                                         "type": "missing"}])
    return cart_out(cart.merge_guest_cart(principal.own_user_id, token))


@bp.route("/v1/checkout", methods=["POST"])
@operation("Check out the cart: one order, split per seller, one payment", tags=CART_TAGS, body="CheckoutIn",
           response="CheckoutOut", status=201, auth="optional_buyer", headers=(IDEMPOTENCY_KEY, CART_TOKEN),
           errors=(402, 404, 409, 429, 503),
           description="Prices the cart server-side, reserves the stock of every line in one transaction (409 "
                       "`insufficient_stock` names the products and available quantities; nothing is reserved "
                       "then), creates the order with one part per seller and one PaymentIntent for the total. "
                       "The same Idempotency-Key with the same body returns the same order (header "
                       "`Idempotent-Replayed: true`); with another body it is a 422 `idempotency_key_reused`. "
                       "Unpaid orders release their stock after 30 minutes. Promotions apply as the cart shows them: "
                       "`promo_code` (or, when omitted, the cart's code) is checked again (422 `promo_code_invalid` "
                       "with `details[0].reason`), and limits are conditions in the transaction: 409 "
                       "`promo_code_used` (a single-use code used meanwhile) or `promotion_limit_reached` (uses, "
                       "budget or the buyer's uses reached meanwhile); nothing is written then. `redeem_points` "
                       "pays part of the goods with loyalty points (after promotions, marketplace-funded): 422 "
                       "`loyalty_disabled`, `points_below_minimum`, `points_above_maximum_share`; 409 "
                       "`insufficient_points` (also when a parallel checkout spent them first).")
def checkout(body: CheckoutIn, principal: Principal | None) -> Response:
    from chalicelib.core.throttle import source_ip  # lazy: PynamoDB (the throttle's table), not at cold start
    from chalicelib.orders.checkout import CheckoutInput
    from chalicelib.orders.checkout import checkout as place_order
    from chalicelib.orders.schemas import checkout_out

    raw = current_request().json_body or {}
    data = CheckoutInput(
        email=body.email, name=body.name,
        shipping_address=body.shipping_address.model_dump() if body.shipping_address else None,
        shipping_address_id=body.shipping_address_id,
        billing_address=body.billing_address.model_dump() if body.billing_address else None,
        billing_address_id=body.billing_address_id, payment_method_id=body.payment_method_id,
        payment_method_type=body.payment_method_type,
        promo_code=body.promo_code, shipping=dict(body.shipping), redeem_points=body.redeem_points,
        raw=raw)
    result = place_order(_cart(principal), _header("Idempotency-Key"), data,
                         source_ip=source_ip(current_request().context))
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(body=checkout_out(result).model_dump(mode="json"), status_code=201, headers=headers)


# --- buyer: orders ---------------------------------------------------------------------------

@bp.route("/v1/me/orders", methods=["GET"])
@operation("Your orders, newest first", tags=TAGS, query="OrdersQuery", response="OrderPage", auth="buyer",
           errors=(400,))
def my_orders(query: OrdersQuery, principal: Principal) -> OrderPage:
    from chalicelib.orders import lifecycle
    from chalicelib.orders.schemas import OrderPage, order_out

    page = lifecycle.buyer_orders(principal.own_user_id, cursor=query.cursor, limit=query.limit)
    return OrderPage(items=[order_out(o, subs) for o, subs in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/me/orders/{order_id}", methods=["GET"])
@operation("One of your orders, with each seller's payment and fulfilment status", tags=TAGS, response="OrderOut",
           auth="buyer", errors=(404,))
def my_order(order_id: str, principal: Principal) -> OrderOut:
    from chalicelib.orders import lifecycle
    from chalicelib.orders.schemas import order_out

    return order_out(*lifecycle.buyer_order(principal.own_user_id, order_id))


@bp.route("/v1/me/orders/{order_id}/cancel", methods=["POST"])
@operation("Cancel your order before it ships", tags=TAGS, response="OrderOut", auth="buyer", errors=(404, 409),
           description="Unpaid: the payment is cancelled and the stock released. Paid: every seller's part is "
                       "refunded in full. 409 `order_not_cancellable` once any part has shipped.")
def cancel_my_order(order_id: str, principal: Principal) -> OrderOut:
    from chalicelib.orders import lifecycle
    from chalicelib.orders.schemas import order_out

    return order_out(*lifecycle.buyer_cancel(principal.own_user_id, order_id))


@bp.route("/v1/me/orders/{order_id}/returns", methods=["POST"])
@operation("Ask to return lines of a delivered order", tags=TAGS, body="ReturnIn", response="OrderOut", auth="buyer",
           errors=(404, 409), description="Within the seller's return window after delivery (409 "
                                          "`return_window_closed`); the seller approves it and the refund follows.")
def return_my_order(order_id: str, body: ReturnIn, principal: Principal) -> OrderOut:
    from chalicelib.orders import lifecycle
    from chalicelib.orders.schemas import order_out

    quantities: dict[int, int] = {}
    for line in body.lines:
        quantities[line.line] = quantities.get(line.line, 0) + line.quantity
    lifecycle.request_return(principal.own_user_id, order_id, seller_id=body.seller_id, quantities=quantities,
                             reason=body.reason)
    return order_out(*lifecycle.buyer_order(principal.own_user_id, order_id))


# --- seller: orders --------------------------------------------------------------------------

@bp.route("/v1/seller/orders", methods=["GET"])
@operation("Your orders, newest first, optionally of one status", tags=TAGS, query="SellerOrdersQuery",
           response="SellerOrderPage", auth="seller", scopes=READ, errors=(400,))
def seller_orders(query: SellerOrdersQuery, principal: Principal) -> SellerOrderPage:
    from chalicelib.orders import lifecycle
    from chalicelib.orders.schemas import SellerOrderPage, seller_order

    page = lifecycle.seller_orders(principal.own_seller_id, status=query.status, cursor=query.cursor,
                                   limit=query.limit)
    return SellerOrderPage(items=[seller_order(s) for s in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/seller/orders/{order_id}", methods=["GET"])
@operation("One of your orders", tags=TAGS, response="SellerOrderOut", auth="seller", scopes=READ, errors=(404,))
def seller_order_detail(order_id: str, principal: Principal) -> SellerOrderOut:
    from chalicelib.orders import lifecycle
    from chalicelib.orders.schemas import seller_order

    return seller_order(lifecycle.get_sub_order(principal.own_seller_id, order_id))


@bp.route("/v1/seller/orders/{order_id}/accept", methods=["POST"])
@operation("Accept a paid order", tags=TAGS, response="SellerOrderOut", auth="seller", scopes=WRITE, errors=(404, 409))
def accept_order(order_id: str, principal: Principal) -> SellerOrderOut:
    from chalicelib.orders import lifecycle
    from chalicelib.orders.schemas import seller_order

    return seller_order(lifecycle.accept(principal.own_seller_id, order_id))


@bp.route("/v1/seller/orders/{order_id}/ship", methods=["POST"])
@operation("Mark an accepted order shipped", tags=TAGS, body="ShipIn", response="SellerOrderOut", auth="seller",
           scopes=WRITE, errors=(404, 409))
def ship_order(order_id: str, body: ShipIn, principal: Principal) -> SellerOrderOut:
    from chalicelib.orders import lifecycle
    from chalicelib.orders.schemas import seller_order

    return seller_order(lifecycle.ship(principal.own_seller_id, order_id, carrier=body.carrier,
                                       tracking_number=body.tracking_number))


@bp.route("/v1/seller/orders/{order_id}/deliver", methods=["POST"])
@operation("Mark a shipped order delivered", tags=TAGS, response="SellerOrderOut", auth="seller", scopes=WRITE,
           errors=(404, 409))
def deliver_order(order_id: str, principal: Principal) -> SellerOrderOut:
    from chalicelib.orders import lifecycle
    from chalicelib.orders.schemas import seller_order

    return seller_order(lifecycle.mark_delivered(principal.own_seller_id, order_id))


@bp.route("/v1/seller/orders/{order_id}/cancel", methods=["POST"])
@operation("Cancel your part of an order before shipping (restocks and refunds it)", tags=TAGS, body="CancelIn",
           response="SellerOrderOut", auth="seller", scopes=WRITE, errors=(404, 409))
def cancel_order(order_id: str, body: CancelIn, principal: Principal) -> SellerOrderOut:
    from chalicelib.orders import lifecycle
    from chalicelib.orders.schemas import seller_order

    return seller_order(lifecycle.seller_cancel(principal.own_seller_id, order_id, reason=body.reason))


@bp.route("/v1/seller/orders/{order_id}/returns/approve", methods=["POST"])
@operation("Approve a requested return: refund the returned lines", tags=TAGS, body="ApproveReturnIn",
           response="SellerOrderOut", auth="seller", scopes=WRITE, errors=(404, 409),
           description="The refund (Stripe refund, reversal of your transfer for your part, the fee refunded "
                       "proportionally) follows within seconds; the order then shows `refunded`.")
def approve_return(order_id: str, body: ApproveReturnIn, principal: Principal) -> SellerOrderOut:
    from chalicelib.orders import lifecycle
    from chalicelib.orders.schemas import seller_order

    return seller_order(lifecycle.approve_return(principal.own_seller_id, order_id, restock=body.restock,
                                                 shipping=body.shipping))


# --- the buyer's data export -------------------------------------------------------------

@export_section("orders")
def orders_in_export(user_id: str) -> list[dict[str, Any]]:
    """The buyer's orders in their data export (GET /v1/me/export), as GET /v1/me/orders/{order_id}
    shows each."""
    from chalicelib.orders.privacy import orders_for_export  # lazy: PynamoDB, not at cold start

    return orders_for_export(user_id)
