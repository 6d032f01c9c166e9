"""The demo sellers' default shipping profile is one the API accepts, and quotes as described."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.money import Money
from dev import demo, demo_data
from tests.support.auth import seller_headers
from tests.support.builders import put_seller
from tests.support.http import call, ok


@pytest.mark.parametrize("application", [a for a, _ in demo_data.SELLERS], ids=lambda a: a["business_name"])
def test_each_demo_sellers_profile_is_accepted_and_ships_home_and_to_the_eu(api: Any,
                                                                          application: dict[str, str]) -> None:
    from chalicelib.shipping import engine, service

    put_seller("sel_demo", currency=application["default_currency"])
    body = demo.shipping_profile(application["country"], application["default_currency"])

    created = ok(call(api, "POST", "/v1/seller/shipping-profiles", body, headers=seller_headers("sel_demo")), 201)

    assert created["profile_id"] == "default"
    profiles = {"default": service.engine_profile(service.get_profile("sel_demo", "default"))}
    goods = Money(application["default_currency"], 2_000)
    home = engine.quote(profiles, [engine.Line("prd_1", None, 2, goods)], application["country"])
    assert [(o.kind, o.price.amount) for o in home.options] == [("standard", 590), ("express", 1_090)]
    abroad = "FR" if application["country"] != "FR" else "DE"
    assert engine.quote(profiles, [engine.Line("prd_1", None, 1, goods)], abroad).options[0].price.amount == 990
    assert engine.quote(profiles, [engine.Line("prd_1", None, 1, goods)], "US").undeliverable == ("prd_1",)
