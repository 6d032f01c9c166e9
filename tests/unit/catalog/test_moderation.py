"""Operators hide products from buyers; sellers see why; nothing is lost."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.auth import buyer_headers, operator_headers, seller_headers
from tests.support.builders import put_seller
from tests.support.events import outbox
from tests.support.http import call


def hide(api: Any, product_id: str, reason: str = "Counterfeit goods", headers: dict[str, str] | None = None
         ) -> tuple[int, Any]:
    status, body, _ = call(api, "POST", f"/v1/admin/products/{product_id}/hide", {"reason": reason},
                           headers=operator_headers() if headers is None else headers)
    return status, body


def listed_ids(api: Any, query: str = "") -> list[str]:
    return [item["product_id"] for item in call(api, "GET", f"/v1/products?{query}")[1]["items"]]


def test_a_hidden_product_vanishes_from_browse_search_and_its_page(api: Any, create: Any) -> None:
    product, other = create(title="Fake watch"), create(title="Real watch")

    status, hidden = hide(api, product["product_id"])

    assert status == 200
    assert hidden["moderation"]["hidden"] is True
    assert hidden["moderation"]["reason"] == "Counterfeit goods"
    assert listed_ids(api) == [other["product_id"]]
    assert listed_ids(api, "q=watch") == [other["product_id"]]
    assert listed_ids(api, "seller_id=sel_a&sort=price_asc") == [other["product_id"]]
    assert call(api, "GET", f"/v1/products/{product['product_id']}")[0] == 404


def test_the_seller_sees_the_moderation_and_may_still_edit_but_not_unhide(api: Any, headers: dict[str, str],
                                                                        create: Any) -> None:
    product = create()
    _, hidden = hide(api, product["product_id"], "Misleading photos")
    path = f"/v1/seller/products/{product['product_id']}"

    _, seen, _ = call(api, "GET", path, headers=headers)
    status, edited, _ = call(api, "PATCH", path, {"images": ["https://img.example.com/honest.jpg"]},
                             headers=headers)
    unhide, _, _ = call(api, "POST", f"/v1/admin/products/{product['product_id']}/unhide", headers=headers)

    assert seen["moderation"] == {"hidden": True, "reason": "Misleading photos", "at": hidden["moderation"]["at"]}
    assert status == 200
    assert edited["moderation"]["hidden"] is True
    assert unhide == 403
    assert listed_ids(api) == []


def test_unhiding_brings_the_product_back_unchanged(api: Any, aws: dict[str, str], create: Any) -> None:
    product = create()
    hide(api, product["product_id"])

    status, body, _ = call(api, "POST", f"/v1/admin/products/{product['product_id']}/unhide",
                           headers=operator_headers())

    assert status == 200
    assert body["moderation"] == {"hidden": False, "reason": None, "at": None}
    assert (body["title"], body["price"], body["version"]) == (product["title"], product["price"], 3)
    assert listed_ids(api) == [product["product_id"]]
    [hidden_event] = outbox("catalog.product_hidden")
    assert (hidden_event["reason"], hidden_event["operator_id"]) == ("Counterfeit goods", "usr_operator")
    assert len(outbox("catalog.product_unhidden")) == 1


def test_unhiding_a_visible_product_changes_nothing(api: Any, create: Any) -> None:
    product = create()

    status, body, _ = call(api, "POST", f"/v1/admin/products/{product['product_id']}/unhide",
                           headers=operator_headers())

    assert (status, body["version"]) == (200, 1)


def test_a_hidden_draft_stays_hidden_when_activated(api: Any, headers: dict[str, str], create: Any) -> None:
    draft = create(status="draft")
    hide(api, draft["product_id"])

    call(api, "PATCH", f"/v1/seller/products/{draft['product_id']}", {"status": "active"}, headers=headers)

    assert listed_ids(api) == []


@pytest.mark.parametrize("who", ["seller", "buyer", "nobody"])
def test_only_operators_moderate(api: Any, create: Any, who: str) -> None:
    product = create()
    headers = {"seller": seller_headers("sel_a"), "nobody": {}}.get(who)
    if who == "buyer":
        headers = buyer_headers("usr_b")

    status, body = hide(api, product["product_id"], headers=headers)

    assert (status, body["error"]["code"]) == ((401, "not_authenticated") if who == "nobody"
                                               else (403, "operator_required"))
    assert listed_ids(api) == [product["product_id"]]


@pytest.mark.parametrize("product_id", ["prd_01JD0000000000000000000000", "nope"])
def test_moderating_an_unknown_product_is_a_404(api: Any, product_id: str) -> None:
    put_seller("sel_a")

    status, body = hide(api, product_id)

    assert status == 404
    assert body["error"]["code"] == "product_not_found"


def test_a_hide_needs_a_reason(api: Any, create: Any) -> None:
    product = create()

    status, body = hide(api, product["product_id"], reason="")

    assert status == 422
    assert body["error"]["details"][0]["field"] == "body.reason"
