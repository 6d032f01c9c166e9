"""Authorization headers of each kind of caller, as agora itself issues their credentials."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from tests.support.http import call

_serial = itertools.count(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def seller_headers(seller_id: str, *, user_id: str | None = None,
                   roles: Iterable[str] = ("seller",)) -> dict[str, str]:
    """A signed-in user of the seller (a token only: the seller's standing is the builder's job)."""
    from chalicelib.core.auth import issue_access_token

    token, _ = issue_access_token(user_id=user_id or f"usr_{seller_id}", roles=set(roles), seller_id=seller_id)
    return bearer(token)


def buyer_headers(user_id: str) -> dict[str, str]:
    from chalicelib.core.auth import issue_access_token

    token, _ = issue_access_token(user_id=user_id, roles={"buyer"})
    return bearer(token)


def operator_headers(user_id: str = "usr_operator") -> dict[str, str]:
    from chalicelib.core.auth import issue_access_token

    token, _ = issue_access_token(user_id=user_id, roles={"operator"})
    return bearer(token)


def api_key_headers(api: Any, seller_id: str, scopes: Iterable[str] = ("products:read", "seller:read"),
                    *, name: str | None = None) -> dict[str, str]:
    """A key the seller created through the API with these scopes, as its ERP sends it."""
    status, body, _ = call(api, "POST", "/v1/seller/api-keys",
                           {"name": name or f"ERP {next(_serial)}", "scopes": sorted(scopes)},
                           headers=seller_headers(seller_id))
    assert status == 201, body
    return bearer(body["secret"])
