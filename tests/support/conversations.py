"""Buyer-seller conversations for tests: the buyer starts one about its order, the seller answers."""

from __future__ import annotations

from typing import Any

from tests.support.auth import seller_headers
from tests.support.http import call


def start(api: Any, buyer: dict[str, str], order: dict[str, Any], text: str = "Where is my parcel?",
          seller_id: str = "sel_a") -> dict[str, Any]:
    status, body, _ = call(api, "POST", "/v1/me/conversations",
                           {"order_id": order["order"]["order_id"], "seller_id": seller_id, "text": text},
                           headers=buyer)
    assert status == 201, body
    return body


def seller_says(api: Any, conversation_id: str, text: str, seller_id: str = "sel_a") -> dict[str, Any]:
    status, body, _ = call(api, "POST", f"/v1/seller/conversations/{conversation_id}/messages", {"text": text},
                           headers=seller_headers(seller_id))
    assert status == 201, body
    return body
