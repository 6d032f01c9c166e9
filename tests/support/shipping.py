"""Sellers' shipping profiles for tests: a profile straight through the service, a product
naming one over HTTP, and a cart whose sellers each use two profiles."""

from __future__ import annotations

from typing import Any

from tests.support.auth import seller_headers
from tests.support.builders import Marketplace
from tests.support.http import call


def eur(amount: int) -> dict[str, Any]:
    """Money as the API writes it."""
    return {"amount": amount, "currency": "EUR"}


GERMANY = {"countries": ["DE"], "standard": eur(490), "per_extra_item": eur(100),
           "express": {"rate": eur(990), "delivery_days_min": 1, "delivery_days_max": 1},
           "free_shipping_threshold": eur(10_000), "delivery_days_min": 2, "delivery_days_max": 3}


def shipping_profile(seller_id: str, *zones: dict[str, Any], handling_days: int = 1) -> str:
    """A profile of ``seller_id`` (the first is its default); returns its id."""
    from chalicelib.shipping.schemas import ProfileCreate
    from chalicelib.shipping.service import create_profile

    data = ProfileCreate.model_validate({"name": "Parcel", "zones": list(zones or [GERMANY]),
                                         "handling_days": handling_days})
    return create_profile(seller_id, data).profile_id


def name_profile(market: Marketplace, seller_id: str, product_id: str, profile_id: str | None) -> None:
    status, body, _ = call(market.api, "PATCH", f"/v1/seller/products/{product_id}",
                           {"shipping_profile_id": profile_id}, headers=seller_headers(seller_id))
    assert status == 200, body


def two_profiles_a_seller(market: Marketplace, buyer: dict[str, str], sellers: int) -> None:
    """``sellers`` sellers in ``buyer``'s cart, each with a product on its default profile and
    one naming a second profile (the reads a quote needs whatever the sellers)."""
    for n in range(sellers):
        seller_id = market.seller(f"sel_{n}")
        shipping_profile(seller_id)
        bulky = shipping_profile(seller_id, {"countries": ["DE"], "standard": eur(1_990)})
        market.add(buyer, market.product(seller_id))
        named = market.product(seller_id)
        name_profile(market, seller_id, named, bulky)
        market.add(buyer, named)
