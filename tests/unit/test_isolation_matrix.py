"""Tenant isolation, generated from the OpenAPI document: every route with an id in its path
is called with the real ids of tenant B's objects by tenant A (seller A, buyer A, A's API
key), by an API key without the route's scope, by the wrong kind of caller, and by nobody.

Another tenant's object is 404 exactly like a missing one (never 403, never 200); a missing
scope or the wrong kind of caller is 403; no credential is 401. ``ROUTES`` says, for each such
route, whose object the path names; a route the document has and the table lacks fails the
test, so a new route is covered from the day it is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.core.auth import API_KEY_SCOPES, USER_ONLY_SCOPES
from tests.support.auth import api_key_headers, buyer_headers, operator_headers, seller_headers
from tests.support.builders import ADDRESS, Marketplace
from tests.support.http import call
from tests.support.stripe import stripe_client

SELLER_A, SELLER_B = "sel_01M8A0000000000000000000AA", "sel_01M8B0000000000000000000BB"


@dataclass(frozen=True)
class Route:
    """``owner``: whose object the path names. ``seller`` and ``buyer``: a tenant's own (another
    tenant's is 404); ``operator``: operators' routes (nobody else gets in, 403); ``public``: a
    marketplace object anyone may read (no tenant to cross); ``product``: a buyer's action on a
    marketplace product, which belongs to no buyer; ``sign-in``: a step of a social sign-in, whose
    path names a provider the operator configured (tests/unit/accounts/test_social_login.py)."""

    owner: str
    body: dict[str, Any] | None = None


FEES = {"percent_bp": 500}
REASON = {"reason": "Isolation check"}
ROUTES: dict[str, Route] = {
    "PUT /v1/admin/fees/categories/{category_slug}": Route("operator", FEES),
    "DELETE /v1/admin/fees/categories/{category_slug}": Route("operator"),
    "GET /v1/admin/fees/sellers/{seller_id}": Route("operator"),
    "PUT /v1/admin/fees/sellers/{seller_id}": Route("operator", FEES),
    "DELETE /v1/admin/fees/sellers/{seller_id}": Route("operator"),
    "GET /v1/admin/disputes/{dispute_id}": Route("operator"),
    "POST /v1/admin/disputes/{dispute_id}/resolve": Route("operator", {"note": "Taken over"}),
    "POST /v1/admin/products/{product_id}/hide": Route("operator", REASON),
    "POST /v1/admin/products/{product_id}/unhide": Route("operator"),
    "POST /v1/admin/reviews/{review_id}/hide": Route("operator", REASON),
    "POST /v1/admin/questions/{question_id}/hide": Route("operator", REASON),
    "POST /v1/admin/questions/{question_id}/unhide": Route("operator"),
    "POST /v1/admin/reviews/{review_id}/unhide": Route("operator"),
    "GET /v1/admin/promotions/{marketplace_promotion_id}": Route("operator"),
    "PATCH /v1/admin/promotions/{marketplace_promotion_id}": Route("operator", {"name": "Taken over"}),
    "DELETE /v1/admin/promotions/{marketplace_promotion_id}": Route("operator"),
    "GET /v1/admin/promotions/{marketplace_promotion_id}/codes": Route("operator"),
    "POST /v1/admin/promotions/{marketplace_promotion_id}/codes": Route("operator", {"generate": 1}),
    "GET /v1/admin/promotions/{marketplace_promotion_id}/codes/export": Route("operator"),
    "DELETE /v1/admin/seller-invites/{invite_id}": Route("operator"),
    "GET /v1/admin/sellers/{seller_id}": Route("operator"),
    "POST /v1/admin/sellers/{seller_id}/approve": Route("operator"),
    "POST /v1/admin/sellers/{seller_id}/reinstate": Route("operator"),
    "POST /v1/admin/sellers/{seller_id}/reject": Route("operator", REASON),
    "POST /v1/admin/sellers/{seller_id}/suspend": Route("operator", REASON),
    "GET /v1/admin/sellers/{seller_id}/performance": Route("operator"),
    "PUT /v1/cart/items/{product_id}": Route("product", {"quantity": 1}),
    "DELETE /v1/cart/items/{product_id}": Route("product"),
    "PUT /v1/me/wishlist/{product_id}": Route("product"),
    "DELETE /v1/me/wishlist/{product_id}": Route("product"),
    "GET /v1/products/{product_id}": Route("public"),
    "GET /v1/auth/oidc/{provider}/start": Route("sign-in"),
    "GET /v1/auth/oidc/{provider}/callback": Route("sign-in"),
    "POST /v1/auth/oidc/{provider}/callback": Route("sign-in"),
    "POST /v1/me/identities/{provider}/start": Route("sign-in", {}),  # links to the caller's own account only
    "GET /v1/products/{product_id}/reviews": Route("public"),
    "GET /v1/products/{product_id}/questions": Route("public"),
    "POST /v1/products/{product_id}/questions": Route("product", {"text": "Wie groß?"}),
    "POST /v1/questions/{question_id}/answers": Route("product", {"text": "Klein"}),
    "POST /v1/reviews/{review_id}/helpful": Route("product"),
    "POST /v1/reviews/{review_id}/report": Route("product", REASON),
    "GET /v1/sellers/{seller_id}": Route("public"),
    "GET /v1/sellers/{seller_id}/reviews": Route("public"),
    "PATCH /v1/me/addresses/{address_id}": Route("buyer", {"city": "Hamburg"}),
    "DELETE /v1/me/addresses/{address_id}": Route("buyer"),
    "GET /v1/me/orders/{order_id}": Route("buyer"),
    "POST /v1/me/orders/{order_id}/cancel": Route("buyer"),
    "POST /v1/me/orders/{order_id}/returns": Route("buyer", {"seller_id": "{seller_id}", "reason": "Too small",
                                                             "lines": [{"line": 1, "quantity": 1}]}),
    "DELETE /v1/me/payment-methods/{payment_method_id}": Route("buyer"),
    "DELETE /v1/me/identities/{provider}": Route("buyer"),
    "GET /v1/me/conversations/{conversation_id}": Route("buyer"),
    "POST /v1/me/conversations/{conversation_id}/messages": Route("buyer", {"text": "Taken over"}),
    "POST /v1/me/conversations/{conversation_id}/read": Route("buyer"),
    "POST /v1/me/conversations/{conversation_id}/dispute": Route("buyer", REASON),
    "GET /v1/seller/conversations/{conversation_id}": Route("seller"),
    "POST /v1/seller/conversations/{conversation_id}/messages": Route("seller", {"text": "Taken over"}),
    "POST /v1/seller/conversations/{conversation_id}/read": Route("seller"),
    "PATCH /v1/me/reviews/{review_id}": Route("buyer", {"rating": 1}),
    "DELETE /v1/me/reviews/{review_id}": Route("buyer"),
    "DELETE /v1/seller/api-keys/{key_id}": Route("seller"),
    "PATCH /v1/seller/customer-groups/{group_id}": Route("seller", {"name": "Taken over"}),
    "DELETE /v1/seller/customer-groups/{group_id}": Route("seller"),
    "GET /v1/seller/customers/imports/{import_id}": Route("seller"),
    "POST /v1/seller/customers/imports/{import_id}/start": Route("seller"),
    "GET /v1/seller/customers/{customer_id}": Route("seller"),
    "PATCH /v1/seller/customers/{customer_id}": Route("seller", {"tax_exempt": False}),
    "GET /v1/seller/customers/{customer_id}/orders": Route("seller"),
    "GET /v1/seller/orders/{order_id}": Route("seller"),
    "POST /v1/seller/orders/{order_id}/accept": Route("seller"),
    "POST /v1/seller/orders/{order_id}/cancel": Route("seller", {"reason": "Out of stock"}),
    "POST /v1/seller/orders/{order_id}/deliver": Route("seller"),
    "POST /v1/seller/orders/{order_id}/returns/approve": Route("seller", {"restock": True}),
    "POST /v1/seller/orders/{order_id}/ship": Route("seller", {"carrier": "DHL", "tracking_number": "00340434"}),
    "GET /v1/seller/promotions/{promotion_id}": Route("seller"),
    "PATCH /v1/seller/promotions/{promotion_id}": Route("seller", {"name": "Taken over"}),
    "DELETE /v1/seller/promotions/{promotion_id}": Route("seller"),
    "GET /v1/seller/promotions/{promotion_id}/codes": Route("seller"),
    "POST /v1/seller/promotions/{promotion_id}/codes": Route("seller", {"generate": 1}),
    "GET /v1/seller/promotions/{promotion_id}/codes/export": Route("seller"),
    "GET /v1/seller/products/{product_id}": Route("seller"),
    "PATCH /v1/seller/products/{product_id}": Route("seller", {"title": "Taken over"}),
    "DELETE /v1/seller/products/{product_id}": Route("seller"),
    "PUT /v1/seller/reviews/{review_id}/reply": Route("seller", {"text": "Taken over"}),
    "PUT /v1/seller/products/{product_id}/stock": Route("seller", {"quantity": 0, "expected_version": 1}),
    "GET /v1/seller/shipping-profiles/{profile_id}": Route("seller"),
    "PATCH /v1/seller/shipping-profiles/{profile_id}": Route("seller", {"name": "Taken over"}),
    "DELETE /v1/seller/shipping-profiles/{profile_id}": Route("seller"),
    "PATCH /v1/me/payment-methods/{payment_method_id}": Route("buyer", {"default": True}),
}


def _routes_with_ids() -> dict[str, Any]:
    """Every operation of the OpenAPI document with a parameter in its path, and its view's spec."""
    import app
    from chalicelib.core.openapi import build_document

    document = build_document(app.app)
    found = {}
    for path, methods in document["paths"].items():
        for method in methods:
            if "{" in path:
                view = app.app.routes[path][method.upper()].view_function
                found[f"{method.upper()} {path}"] = view.__agora_operation__
    return found


def _ok(response: tuple[int, Any, Any], status: int = 201) -> Any:
    assert response[0] == status, response[1]
    return response[1]


def _tenant_b(api: Any, market: Marketplace, stripe_url: str) -> dict[str, str]:
    """The real ids of seller B's and buyer B's objects, by path parameter name."""
    from chalicelib.accounts.service import ensure_account

    market.seller(SELLER_A)
    market.seller(SELLER_B)
    product = market.product(SELLER_B)
    buyer, _ = ensure_account("buyer.b@example.com", name="Bea Käufer")
    headers = buyer_headers(buyer.user_id)
    market.add(headers, product)
    status, placed, _ = market.checkout(headers, payment_method_id="pm_card_visa")
    assert status == 201, placed
    market.pay(placed)
    market.deliver_order(SELLER_B, placed["order"]["order_id"])
    review = _ok(call(api, "POST", "/v1/me/reviews", {
        "order_id": placed["order"]["order_id"], "product_id": product, "rating": 5, "title": "Gut",
        "text": "Wie beschrieben.", "language": "de"}, headers=headers))
    question = _ok(call(api, "POST", f"/v1/products/{product}/questions", {"text": "Wie groß?"}, headers=headers))
    seller = seller_headers(SELLER_B)
    address = _ok(call(api, "POST", "/v1/me/addresses", ADDRESS, headers=headers))
    setup = _ok(call(api, "POST", "/v1/me/payment-methods/setup-intent", headers=headers))
    card = stripe_client(stripe_url).v1.setup_intents.confirm(setup["setup_intent_id"],
                                                             params={"payment_method": "pm_card_visa"})
    key = _ok(call(api, "POST", "/v1/seller/api-keys", {"name": "B's ERP", "scopes": ["products:read"]},
                   headers=seller))
    group = _ok(call(api, "POST", "/v1/seller/customer-groups", {"name": "Wholesale"}, headers=seller))
    imported = _ok(call(api, "POST", "/v1/seller/customers/import", raw=b"Name,E-Mail\nBert,bert@example.com\n",
                        headers={**seller, "Content-Type": "text/csv"}))
    zones = [{"countries": ["DE"], "standard": {"amount": 490, "currency": "EUR"}}]
    _ok(call(api, "POST", "/v1/seller/shipping-profiles", {"name": "Parcel", "zones": zones}, headers=seller))
    profile = _ok(call(api, "POST", "/v1/seller/shipping-profiles", {"name": "Bulky", "zones": zones}, headers=seller))
    invite = _ok(call(api, "POST", "/v1/admin/seller-invites", {"note": "For a new shop"}, headers=operator_headers()))
    _ok(call(api, "PUT", f"/v1/admin/fees/sellers/{SELLER_B}", FEES, headers=operator_headers()), 200)
    sommer = {"name": "Sommer", "kind": "percentage", "currency": "EUR", "percent_bp": 1_000}
    promotion = _ok(call(api, "POST", "/v1/seller/promotions", sommer, headers=seller))
    marketplace_promotion = _ok(call(api, "POST", "/v1/admin/promotions", sommer, headers=operator_headers()))
    conversation = _ok(call(api, "POST", "/v1/me/conversations", {
        "order_id": placed["order"]["order_id"], "seller_id": SELLER_B, "text": "Where is it?"}, headers=headers))
    conversation_id = conversation["conversation"]["conversation_id"]
    dispute = _ok(call(api, "POST", f"/v1/me/conversations/{conversation_id}/dispute", REASON, headers=headers))
    return {"seller_id": SELLER_B, "product_id": product, "order_id": placed["order"]["order_id"],
            "customer_id": buyer.user_id, "address_id": address["address_id"], "payment_method_id": card.payment_method,
            "key_id": key["key_id"], "group_id": group["group_id"], "import_id": imported["import_id"],
            "invite_id": invite["invite_id"], "profile_id": profile["profile_id"], "category_slug": "fashion--shoes",
            "promotion_id": promotion["promotion_id"],
            "marketplace_promotion_id": marketplace_promotion["promotion_id"],
            "conversation_id": conversation_id, "dispute_id": dispute["dispute_id"], "review_id": review["review_id"],
            "question_id": question["question_id"],
            "_buyer": headers, "_seller": seller}  # type: ignore[dict-item]


def _link_identity(user_id: str) -> str:
    """Buyer B's social-login identity, as a callback links it (the provider's name is the id)."""
    from chalicelib.accounts.identities import link_to
    from chalicelib.accounts.oidc import ProviderIdentity

    link_to(user_id, ProviderIdentity(provider="google", issuer="https://accounts.google.com", subject="b-1",
                                            email="buyer.b@example.com", email_verified=True, name="Bea"))
    return "google"


def _never_created(ids: dict[str, str]) -> dict[str, str]:
    """Ids of the same shape as tenant B's that name nothing: the tail of each replaced."""
    return {name: value if name.startswith("_") or name == "category_slug" else f"{value[:-6]}ZZZZZZ"
            for name, value in ids.items()}


def _callers(api: Any, spec: Any) -> dict[str, tuple[dict[str, str], int]]:
    """Who calls a route, and what each must get, by the route's owner."""
    from chalicelib.accounts.service import ensure_account

    buyer_a, _ = ensure_account("buyer.a@example.com", name="Anna Käufer")
    without_scope = set(API_KEY_SCOPES) - set(spec.scopes) - USER_ONLY_SCOPES
    with_scope = (set(API_KEY_SCOPES) - USER_ONLY_SCOPES) | (set(spec.scopes) - USER_ONLY_SCOPES)
    seller_a, buyer, nobody = seller_headers(SELLER_A), buyer_headers(buyer_a.user_id), {}
    if spec.auth == "seller":
        needs_user = bool(set(spec.scopes) & USER_ONLY_SCOPES)
        return {"seller A": (seller_a, 404),
                "seller A's key": (api_key_headers(api, SELLER_A, with_scope), 403 if needs_user else 404),
                "a key without the scope": (api_key_headers(api, SELLER_A, without_scope), 403),
                "buyer A": (buyer, 403), "anonymous": (nobody, 401)}
    if spec.auth == "buyer":
        return {"buyer A": (buyer, 404), "seller A": (seller_a, 403),
                "seller A's key": (api_key_headers(api, SELLER_A, with_scope), 403), "anonymous": (nobody, 401)}
    if spec.auth == "operator":
        return {"seller A": (seller_a, 403), "buyer A": (buyer, 403),
                "seller A's key": (api_key_headers(api, SELLER_A, with_scope), 403), "anonymous": (nobody, 401)}
    raise AssertionError(f"no isolation rule for auth={spec.auth!r}")


def test_the_table_covers_every_route_with_an_id_in_its_path() -> None:
    documented = set(_routes_with_ids())

    assert sorted(documented - set(ROUTES)) == [], "add these routes to ROUTES (whose object does the path name?)"
    assert sorted(set(ROUTES) - documented) == [], "these routes are gone: remove them from ROUTES"


def test_another_tenants_object_is_not_found_and_the_wrong_caller_is_refused(api: Any, market: Marketplace,
                                                                           fake_stripe: str) -> None:
    ids = _tenant_b(api, market, fake_stripe)
    ids["provider"] = _link_identity(ids["customer_id"])  # buyer B's
    missing_ids = _never_created(ids)
    owners = {"seller": ids["_seller"], "buyer": ids["_buyer"], "operator": operator_headers(), "public": {}}
    for name in sorted(n for n, r in ROUTES.items() if n.startswith("GET ") and r.owner != "sign-in"):
        # the ids are real: their owner reads them, so a 404 below means "not yours", not "no such thing"
        status, body, _ = call(api, "GET", name.split(" ", 1)[1].format(**ids), headers=owners[ROUTES[name].owner])
        assert status == 200, (name, body)
    seen: list[tuple[str, str, int, str]] = []
    wrong: list[str] = []
    for name, spec in sorted(_routes_with_ids().items()):
        route = ROUTES[name]
        method, template = name.split(" ", 1)
        path = template.format(**ids)
        if route.owner in ("public", "product", "sign-in"):  # a marketplace object: no tenant to cross
            continue
        for caller, (headers, expected) in _callers(api, spec).items():
            sent = {k: v.format(**ids) if isinstance(v, str) else v for k, v in (route.body or {}).items()}
            sent_body = sent if route.body is not None else None
            status, body, _ = call(api, method, path, sent_body, headers=headers)
            code = body["error"]["code"] if isinstance(body, dict) and "error" in body else "-"
            seen.append((name, caller, status, code))
            if status != expected:
                wrong.append(f"{name} as {caller}: {status} {code}, expected {expected}")
            elif expected == 404:  # the whole answer is a missing object's, so nothing tells B's object exists
                missing = call(api, method, template.format(**missing_ids), sent_body, headers=headers)
                if missing[:2] != (status, body):
                    wrong.append(f"{name} as {caller}: {body} differs from a missing one's {missing[:2]}")

    assert wrong == [], "\n".join(wrong)
    assert len(seen) >= 4 * len([r for r in ROUTES.values() if r.owner not in ("public", "product", "sign-in")])
