"""The OpenAPI document is the contract: schemathesis walks every operation of a running
local marketplace (its own: the walk changes settings and standings) over HTTP, as a seller,
a buyer and an operator, with all its checks
(examples, coverage, fuzzing, and stateful sequences along the links it infers from the
responses), and must find no server error and no answer the document does not promise.

Bounded: a fixed seed and a few examples per operation (about two minutes on two cores).
A failure prints schemathesis's own report, with a curl command per finding.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.support.stack import LocalStack, expect_json, onboarded_seller, operator_headers

SEED = 20261210
MAX_EXAMPLES = 6

pytestmark = pytest.mark.xdist_group("contract")


def _identities(local_stack: LocalStack) -> dict[str, dict[str, str]]:
    """Bearer headers of the callers the walk uses: an approved seller with products, two
    buyers (one for the operations that end its own sessions), an operator."""
    api = local_stack.api
    operator = operator_headers(local_stack)
    expect_json(requests.put(f"{api}/v1/admin/settings", json={"seller_access": "open", "buyer_access": "open"},
                       headers=operator, timeout=10), 200)
    _, seller = onboarded_seller(local_stack, 7)
    for n in range(2):
        expect_json(requests.post(f"{api}/v1/seller/products", headers=seller, timeout=10, json={
            "sku": f"CONTRACT-{n}", "title": f"Contract lamp {n}", "category": "home/decor",
            "price": {"amount": 1_500 + n, "currency": "EUR"}, "stock": 50, "status": "active"}), 201)
    buyers = []
    for name in ("Carla", "Doris"):
        tokens = local_stack.sign_up(f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com",
                                     f"{name}-Vertrag-Wolke-2031", name)
        buyers.append({"Authorization": f"Bearer {tokens['access_token']}"})
    return {"seller": seller, "operator": operator, "buyer": buyers[0], "leaving_buyer": buyers[1]}


# Refusals of well-formed requests that no JSON Schema can state, each with a status its route
# documents: the check that schema-valid requests are accepted takes these answers too.
BEYOND_SCHEMA: dict[tuple[str, str], tuple[list[str], str]] = {
    ("post", "/v1/auth/register"): (["422"], "a weak password (422 weak_password)"),
    ("post", "/v1/sellers"): (["422"], "a weak password (422 weak_password)"),
    ("put", "/v1/me/password"): (["422"], "a weak password, or no current password where one is set"),
    ("get", "/v1/seller/statements"): (["422"], "a window that ends before it starts (422 invalid_window)"),
    ("get", "/v1/admin/revenue"): (["422"], "a window that ends before it starts (422 invalid_window)"),
    ("post", "/v1/consents/confirm"): (["400"], "a token the server did not sign"),
    ("post", "/v1/consents/unsubscribe"): (["400", "422"], "a token the server did not sign, or none at all "
                                                           "(it may come in the query or the body)"),
    ("post", "/v1/cart/merge"): (["400", "422"], "a cart token the server did not sign"),
    ("patch", "/v1/me"): (["422"], "a birthday that is no date (31 April) or lies in the future"),
    ("get", "/v1/products"): (["422"], "min_price above max_price"),
    ("get", "/v1/seller/analytics/retention"): (["422"], "a breakdown whose figures are not kept yet, a window "
                                                          "of more than 366 periods or ending before it starts"),
    ("get", "/v1/admin/analytics/retention"): (["422"], "a breakdown whose figures are not kept yet, a window "
                                                         "of more than 366 periods or ending before it starts"),
    ("get", "/v1/seller/analytics/cohorts"): (["422"], "a window of more than 60 months or ending before it starts"),
    ("get", "/v1/admin/analytics/cohorts"): (["422"], "a window of more than 60 months or ending before it starts"),
    ("post", "/v1/admin/disputes/{dispute_id}/resolve"): (["422"], "a refund with both or neither of lines and amount"),
    ("post", "/v1/checkout"): (["422"], "a promo code that does not apply (422 promo_code_invalid with a reason)"),
    ("post", "/v1/cart/promo-code"): (["422"], "a code that does not apply to the cart (422 promo_code_invalid with "
                                               "a reason)"),
    ("post", "/v1/seller/customers/import"): (["422"], "a file that cannot be read as the CSV described (422)"),
    ("patch", "/v1/me/addresses/{address_id}"): (["422"], "a postal code that does not fit the saved country"),
    ("put", "/v1/admin/fees"): (["422"], "a schedule whose parts disagree (minimum above maximum, tiers)"),
    ("put", "/v1/admin/fees/categories/{category_slug}"): (["422"], "as PUT /v1/admin/fees"),
    ("put", "/v1/admin/fees/sellers/{seller_id}"): (["422"], "as PUT /v1/admin/fees"),
    ("post", "/v1/seller/promotions"): (["422"], "fields a kind needs, or that do not fit together "
                                                 "(422 invalid_promotion)"),
    ("patch", "/v1/seller/promotions/{promotion_id}"): (["422"], "as POST /v1/seller/promotions"),
    ("post", "/v1/admin/promotions"): (["422"], "as POST /v1/seller/promotions"),
    ("patch", "/v1/admin/promotions/{marketplace_promotion_id}"): (["422"], "as POST /v1/seller/promotions"),
    ("post", "/v1/webhooks/stripe"): (["400"], "a payload Stripe did not sign"),
    ("post", "/v1/seller/shipping-profiles"): (["422"], "a country in two zones, delivery days min above max, "
                                                        "rates not in the seller's currency, a 21st profile"),
    ("patch", "/v1/seller/shipping-profiles/{profile_id}"): (["422"], "as POST /v1/seller/shipping-profiles"),
    ("post", "/v1/seller/products"): (["422"], "a shipping profile the seller lacks (422 unknown_shipping_profile)"),
    ("patch", "/v1/seller/products/{product_id}"): (["422"], "as POST /v1/seller/products"),
    ("post", "/v1/webhooks/stripe/connect"): (["400"], "a payload Stripe did not sign"),
    ("get", "/v1/auth/oidc/{provider}/start"): (["422"], "a return URL off the operator's allow-list"),
    ("post", "/v1/me/identities/{provider}/start"): (["422"], "a return URL off the operator's allow-list"),
    ("get", "/v1/auth/oidc/{provider}/callback"): (["400"], "a state the server did not issue, or the provider's "
                                                            "refusal (400 invalid_oidc_state, oidc_sign_in_denied)"),
    ("post", "/v1/auth/oidc/{provider}/callback"): (["400"], "as GET /v1/auth/oidc/{provider}/callback"),
    ("put", "/v1/admin/loyalty/programme"): (["409", "422"], "tiers not by rising threshold or named twice, a "
                                                             "minimum share above the maximum (422); another "
                                                             "currency while points are outstanding (409)"),
    ("post", "/v1/admin/loyalty/campaigns"): (["422"], "a campaign that does not end after it starts"),
    ("post", "/v1/seller/loyalty/campaigns"): (["422"], "as POST /v1/admin/loyalty/campaigns"),
    ("post", "/v1/admin/loyalty/adjustments"): (["404", "409", "422"], "a buyer that does not exist (404), more "
                                                                       "points taken than available (409 "
                                                                       "insufficient_points), 0 points (422)"),
    ("get", "/v1/admin/loyalty/report"): (["422"], "a window that ends before it starts, or longer than 366 days"),
    ("post", "/v1/me/conversations"): (["422"], "both or neither of (order_id with seller_id) and product_id"),
    ("post", "/v1/me/reviews"): (["422"], "a link or e-mail address in the text (422 review_contains_link), a "
                                          "product not in the order (422 product_not_in_order)"),
    ("post", "/v1/me/seller-reviews"): (["422"], "as POST /v1/me/reviews"),
    ("patch", "/v1/me/reviews/{review_id}"): (["422"], "as POST /v1/me/reviews; delivery or communication on a "
                                                       "product review"),
    ("put", "/v1/seller/reviews/{review_id}/reply"): (["422"], "a link or e-mail address (422 review_contains_link)"),
    ("post", "/v1/products/{product_id}/questions"): (["422"], "a link or e-mail address (422 review_contains_link)"),
    ("post", "/v1/questions/{question_id}/answers"): (["422"], "as POST /v1/me/reviews"),
}


def _role(method: str, path: str) -> str:
    """Who calls an operation in the walk: its own kind of caller."""
    if path.startswith("/v1/seller/"):
        return "seller"
    if path.startswith("/v1/admin/"):
        return "operator"
    if (method, path) in (("delete", "/v1/me"), ("post", "/v1/me/sign-out-everywhere")):
        return "leaving_buyer"  # ending its own sessions must not sign the walk's buyer out
    return "buyer"


def _config(document: dict[str, Any], identities: dict[str, dict[str, str]]) -> Any:
    """One entry per operation: its caller, and the refusals ``BEYOND_SCHEMA`` names.

    A cursor is signed by the server, so no generator can make a valid one: for operations
    that take one, a 400 (documented as ``invalid_cursor``) is an accepted answer to a
    well-formed request too."""
    from schemathesis.config import SchemathesisConfig
    from schemathesis.config._checks import POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES

    operations = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            entry: dict[str, Any] = {"include-operation-id": op["operationId"],
                                     "headers": identities[_role(method, path)]}
            beyond = list(BEYOND_SCHEMA.get((method, path), ([], ""))[0])
            if any(p["name"] == "cursor" for p in op.get("parameters", [])):
                beyond.append("400")
            if beyond:
                entry["checks"] = {"positive_data_acceptance": {
                    "expected-statuses": [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, *beyond]}}
            operations.append(entry)
    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "color": False,
        "workers": 1,
        "checks": {"enabled": True},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "operations": operations,
    })


def _findings(schema: Any) -> tuple[list[str], dict[str, int]]:
    """Each distinct failure, readable, and how many scenarios each phase ran."""
    from schemathesis.engine import Status, events, from_schema

    findings: dict[str, str] = {}
    scenarios: dict[str, int] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            phase = str(getattr(event, "phase", "fuzzing"))
            scenarios[phase] = scenarios.get(phase, 0) + 1
            recorder = event.recorder
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.status != Status.FAILURE or check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    case = recorder.cases[case_id].value
                    interaction = recorder.interactions.get(case_id)
                    answer = interaction.response if interaction else None
                    got = f"{answer.status_code} {(answer.content or b'')[:300]!r}" if answer else "no response"
                    key = f"{case.operation.label}: {failure.title}"
                    findings.setdefault(key, f"{key}\n    {failure.message.splitlines()[0] if failure.message else ''}"
                                             f"\n    {check.failure_info.code_sample}\n    got {got}")
        elif isinstance(event, events.NonFatalError):
            findings.setdefault(f"error {event.label}", f"error in {event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return sorted(findings.values()), scenarios


def test_the_api_keeps_every_promise_of_its_openapi_document(private_stack: LocalStack) -> None:
    import schemathesis

    document = requests.get(f"{private_stack.api}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document, config=_config(document, _identities(private_stack)))
    schema.config.update(base_url=private_stack.api)
    findings, scenarios = _findings(schema)
    assert findings == [], "\n\n".join(findings)
    assert scenarios.get("coverage", 0) >= len(schema), scenarios  # every operation
    assert scenarios.get("stateful", 0) >= 1, scenarios  # sequences along links, not only single calls
