"""A seller's way into the marketplace over real HTTP: apply, onboard through the local Stripe
(whose signed account.updated reaches the Connect webhook), get approved, use an API key; an
operator created with the CLI suspends and reinstates the seller."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from tests.support.stack import LocalStack, eventually, expect_json, operator_headers


def test_a_seller_applies_onboards_is_approved_and_can_be_suspended(local_stack: LocalStack) -> None:
    api = local_stack.api
    operator = operator_headers(local_stack)
    expect_json(requests.put(f"{api}/v1/admin/settings", json={"seller_access": "open", "buyer_access": "open"},
                       headers=operator, timeout=10), 200)

    # a seller applies
    email = f"shop-{uuid.uuid4().hex[:8]}@nordwind.example"
    signed_up = local_stack.apply_as_seller({
        "business_name": "Nordwind Outdoor GmbH", "email": email, "password": "nordwind-e2e-Segel-2031",
        "country": "DE", "default_currency": "EUR", "vat_id": "DE123456789"})
    seller_id = signed_up["seller"]["seller_id"]
    seller = {"Authorization": f"Bearer {signed_up['tokens']['access_token']}"}
    assert signed_up["seller"]["status"] == "pending"
    assert signed_up["seller"]["payments"]["stripe_account_id"].startswith("acct_")

    # and finishes Stripe's onboarding in the browser
    link = expect_json(requests.post(f"{api}/v1/seller/onboarding-link", headers=seller, timeout=20), 200)
    followed = requests.get(link["url"], allow_redirects=False, timeout=10)
    assert followed.status_code == 302
    assert followed.headers["Location"].endswith("/seller/onboarding/done")

    # Stripe's account.updated arrives at the Connect webhook: in an open marketplace that approves
    def approved() -> Any:
        body = expect_json(requests.get(f"{api}/v1/seller", headers=seller, timeout=10), 200)
        return body if body["can_sell"] else None

    now = eventually(approved, what="the seller to be approved after onboarding")
    assert now["status"] == "approved"
    assert now["payments"]["charges_enabled"] is True
    storefront = expect_json(requests.get(f"{api}/v1/sellers/{seller_id}", timeout=10), 200)
    assert storefront["display_name"] == "Nordwind Outdoor GmbH"

    # an API key for the seller's ERP
    key = expect_json(requests.post(f"{api}/v1/seller/api-keys", headers=seller, timeout=10,
                              json={"name": "ERP", "scopes": ["products:write", "seller:read"]}), 201)
    integration = {"Authorization": f"Bearer {key['secret']}"}
    assert expect_json(requests.get(f"{api}/v1/seller", headers=integration, timeout=10), 200)["seller_id"] == seller_id

    # the ERP lists products through the key; a buyer finds them anonymously, page by page
    rows = [{"sku": f"E2E-{n}", "title": f"Trail shoe model {n}", "brand": "Nordwind", "category": "fashion/shoes",
             "price": {"amount": 5_000 + n * 100, "currency": "EUR"}, "stock": 3, "status": "active"} for n in range(5)]
    listed = expect_json(requests.post(f"{api}/v1/seller/products/bulk", json={"rows": rows}, headers=integration,
                                 timeout=60), 200)
    assert {r["status"] for r in listed["results"]} == {"created"}

    def browse(**params: Any) -> list[dict[str, Any]]:
        found, cursor = [], None
        while True:
            page = expect_json(requests.get(f"{api}/v1/products", timeout=10,
                                      params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})}), 200)
            found += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return found

    cheap = browse(seller_id=seller_id, category="fashion", max_price=5_250, sort="price_asc")
    assert [p["title"] for p in cheap] == ["Trail shoe model 0", "Trail shoe model 1", "Trail shoe model 2"]

    # an operator suspends the seller: storefront gone, key paused, the seller sees why
    expect_json(requests.post(f"{api}/v1/admin/sellers/{seller_id}/suspend", json={"reason": "Counterfeit reports"},
                        headers=operator, timeout=10), 200)
    assert requests.get(f"{api}/v1/sellers/{seller_id}", timeout=10).status_code == 404
    assert browse(seller_id=seller_id) == []
    paused = requests.get(f"{api}/v1/seller", headers=integration, timeout=10)
    assert (paused.status_code, paused.json()["error"]["code"]) == (403, "seller_suspended")
    assert expect_json(requests.get(f"{api}/v1/seller", headers=seller, timeout=10), 200)["status_reason"] == (
        "Counterfeit reports")

    # and reinstates it
    expect_json(requests.post(f"{api}/v1/admin/sellers/{seller_id}/reinstate", headers=operator, timeout=10), 200)
    assert expect_json(requests.get(f"{api}/v1/seller", headers=integration, timeout=10), 200)["can_sell"] is True
    assert requests.get(f"{api}/v1/sellers/{seller_id}", timeout=10).status_code == 200
    assert len(browse(seller_id=seller_id)) == 5


def test_a_forged_webhook_is_refused(local_stack: LocalStack) -> None:
    response = requests.post(f"{local_stack.api}/v1/webhooks/stripe/connect", timeout=10,
                             data=b'{"id": "evt_forged", "type": "account.updated"}',
                             headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"})

    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_signature")
