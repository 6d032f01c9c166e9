"""A seller's customers: becoming one by ordering, listing, searching, details, orders, tax exemption."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.accounts.service import ensure_account
from chalicelib.core.money import Money
from chalicelib.customers import service
from tests.support.auth import buyer_headers
from tests.support.customers import SELLER_A, SELLER_B, customers_by_email
from tests.support.events import pump_events
from tests.support.http import call

MAY_1 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
JUNE_1 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
JULY_1 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def _buyer(email: str, name: str = "") -> str:
    user, _ = ensure_account(email, name=name or email.split("@")[0].title())
    return user.user_id


def _ids(body: dict[str, Any]) -> list[str]:
    return [c["email"] for c in body["items"]]


@pytest.fixture
def customers(upload: Any, seller: Any) -> dict[str, str]:
    """Four imported contacts of seller A; email -> customer id."""
    _, report, _ = upload("Name,E-Mail\nAnna Berg,anna@example.com\nAndreas Müller,andreas@example.com\n"
                          "Ben Kurz,ben@example.com\nZoë Anders,zoe@anders.example\n")
    assert report["imported"] == 4
    return {email: c["customer_id"] for email, c in customers_by_email(seller).items()}


def test_a_first_order_makes_the_buyer_a_customer_with_totals(seller: Any) -> None:
    anna = _buyer("anna@example.com", "Anna Berg")

    assert service.record_order(SELLER_A, anna, "ord_1", Money("EUR", 4200), JUNE_1) is True
    assert service.record_order(SELLER_A, anna, "ord_2", Money("EUR", 1050), MAY_1) is True  # arrives late
    assert service.record_order(SELLER_A, anna, "ord_3", Money("CHF", 990), JULY_1) is True

    status, body, _ = seller("GET", f"/v1/seller/customers/{anna}")
    assert status == 200
    assert body["order_count"] == 3
    assert body["total_spent"] == [{"amount": 990, "currency": "CHF"}, {"amount": 5250, "currency": "EUR"}]
    assert (body["first_order_at"], body["last_order_at"]) == ("2026-05-01T10:00:00Z", "2026-07-01T10:00:00Z")
    assert (body["source"], body["name"], body["email"]) == ("order", "Anna Berg", "anna@example.com")


def test_recording_the_same_order_twice_counts_it_once(seller: Any) -> None:
    anna = _buyer("anna@example.com")

    assert service.record_order(SELLER_A, anna, "ord_1", Money("EUR", 4200), JUNE_1) is True
    assert service.record_order(SELLER_A, anna, "ord_1", Money("EUR", 4200), JUNE_1) is False

    _, body, _ = seller("GET", f"/v1/seller/customers/{anna}")
    assert (body["order_count"], body["total_spent"]) == (1, [{"amount": 4200, "currency": "EUR"}])


def test_the_order_paid_event_records_each_sellers_share(seller: Any) -> None:
    from chalicelib.events.service import dispatch

    anna = _buyer("anna@example.com")
    dispatch({"event_id": "evt_paid_1", "type": "order.paid", "occurred_at": "", "payload": {
        "order_id": "ord_9", "user_id": anna, "paid_at": "2026-06-01T10:00:00+00:00",
        "sellers": [{"seller_id": SELLER_A, "amount": 1000, "currency": "EUR"},
                    {"seller_id": SELLER_B, "amount": 2500, "currency": "EUR"}]}})

    _, for_a, _ = seller("GET", f"/v1/seller/customers/{anna}")
    _, for_b, _ = seller("GET", f"/v1/seller/customers/{anna}", as_seller=SELLER_B)
    assert for_a["total_spent"] == [{"amount": 1000, "currency": "EUR"}]
    assert for_b["total_spent"] == [{"amount": 2500, "currency": "EUR"}]


def test_a_customers_orders_newest_first_and_paged(seller: Any) -> None:
    anna = _buyer("anna@example.com")
    for order_id, when in (("ord_01A", MAY_1), ("ord_01B", JUNE_1), ("ord_01C", JULY_1)):
        service.record_order(SELLER_A, anna, order_id, Money("EUR", 100), when)

    _, first, _ = seller("GET", f"/v1/seller/customers/{anna}/orders?limit=2")
    _, second, _ = seller("GET", f"/v1/seller/customers/{anna}/orders?limit=2&cursor={first['next_cursor']}")

    assert [o["order_id"] for o in first["items"]] == ["ord_01C", "ord_01B"]
    assert [o["order_id"] for o in second["items"]] == ["ord_01A"]
    assert first["items"][0]["amount"] == {"amount": 100, "currency": "EUR"}


def test_an_imported_customer_has_no_orders_yet(seller: Any, customers: dict[str, str]) -> None:
    status, body, _ = seller("GET", f"/v1/seller/customers/{customers['anna@example.com']}/orders")

    assert (status, body) == (200, {"items": [], "next_cursor": None})


def test_the_list_shows_the_newest_order_first_and_never_ordered_last(seller: Any, customers: dict[str, str]) -> None:
    service.record_order(SELLER_A, _buyer("ben@example.com"), "ord_1", Money("EUR", 100), MAY_1)
    service.record_order(SELLER_A, _buyer("zoe@anders.example"), "ord_2", Money("EUR", 100), JULY_1)

    _, body, _ = seller("GET", "/v1/seller/customers")

    assert _ids(body)[:2] == ["zoe@anders.example", "ben@example.com"]
    assert sorted(_ids(body)[2:]) == ["andreas@example.com", "anna@example.com"]


def _every_page(seller: Any, path: str, pages: int = 5) -> list[str]:
    """Emails of every page, following next_cursor."""
    seen, cursor = [], ""
    for _ in range(pages):
        _, body, _ = seller("GET", f"{path}{cursor}")
        seen += _ids(body)
        if not body["next_cursor"]:
            return seen
        cursor = f"&cursor={body['next_cursor']}"
    raise AssertionError(f"more than {pages} pages")


def test_the_list_pages_with_a_cursor(seller: Any, customers: dict[str, str]) -> None:
    seen = _every_page(seller, "/v1/seller/customers?limit=2")

    assert sorted(seen) == sorted(customers)


@pytest.mark.parametrize(("q", "expected"), [
    ("an", ["andreas@example.com", "anna@example.com"]),   # names first, in name order
    ("ANNA", ["anna@example.com"]),
    ("mül", []),                                            # a prefix of the first name only
    ("andreas m", ["andreas@example.com"]),
    ("zo", ["zoe@anders.example"]),                         # "Zoë" found without the accent
    ("ben@", ["ben@example.com"]),                          # by email
    ("b", ["ben@example.com"]),
    ("z", ["zoe@anders.example"]),                          # matches name and email: listed once
    ("nobody", []),
])
def test_search_by_name_or_email_prefix(seller: Any, customers: dict[str, str], q: str, expected: list[str]) -> None:
    status, body, _ = seller("GET", f"/v1/seller/customers?q={q}")

    assert status == 200
    assert _ids(body) == expected


def test_search_pages_through_names_then_emails_without_repeating(seller: Any, upload: Any) -> None:
    upload("Name,E-Mail\nAnna,anna@example.com\nAnton,anton@example.com\nBerta,an.berta@example.com\n"
           "Carl,anke@example.com\n")

    seen = _every_page(seller, "/v1/seller/customers?q=an&limit=1")

    assert seen == ["anna@example.com", "anton@example.com", "an.berta@example.com", "anke@example.com"]


@pytest.mark.parametrize(("listing", "as_seller"), [("/v1/seller/customers?limit=1", SELLER_B),
                                                    ("/v1/seller/customers?q=a&limit=1", SELLER_A)])
def test_a_cursor_is_bound_to_its_seller_and_listing(seller: Any, customers: dict[str, str], listing: str,
                                                     as_seller: str) -> None:
    _, body, _ = seller("GET", "/v1/seller/customers?limit=1")

    status, problem, _ = seller("GET", f"{listing}&cursor={body['next_cursor']}", as_seller=as_seller)

    assert (status, problem["error"]["code"]) == (400, "invalid_cursor")


def test_marking_a_customer_tax_exempt_needs_a_reason_or_vat_id(seller: Any) -> None:
    anna = _buyer("anna@example.com")
    service.record_order(SELLER_A, anna, "ord_1", Money("EUR", 100), JUNE_1)
    path = f"/v1/seller/customers/{anna}"

    refused, problem, _ = seller("PATCH", path, {"tax_exempt": True})
    accepted, body, _ = seller("PATCH", path, {"tax_exempt": True, "vat_id": "de 123.456.789"})

    assert (refused, problem["error"]["code"]) == (422, "tax_exemption_reason_required")
    assert accepted == 200
    assert (body["tax_exempt"], body["vat_id"], body["tax_exempt_reason"]) == (True, "DE123456789", None)
    assert service.pricing_terms(SELLER_A, anna) == (0, True)


def test_a_contact_can_be_marked_tax_exempt_too(seller: Any, customers: dict[str, str]) -> None:
    status, body, _ = seller("PATCH", f"/v1/seller/customers/{customers['anna@example.com']}",
                             {"tax_exempt": True, "tax_exempt_reason": "Reverse charge"})

    assert (status, body["tax_exempt"], body["linked"]) == (200, True, False)


def test_lifting_a_tax_exemption_clears_the_reason_and_keeps_the_vat_id(seller: Any,
                                                                        customers: dict[str, str]) -> None:
    path = f"/v1/seller/customers/{customers['anna@example.com']}"
    seller("PATCH", path, {"tax_exempt": True, "tax_exempt_reason": "Reverse charge", "vat_id": "ATU12345678"})

    _, body, _ = seller("PATCH", path, {"tax_exempt": False})

    assert (body["tax_exempt"], body["tax_exempt_reason"], body["vat_id"]) == (False, None, "ATU12345678")


@pytest.mark.parametrize(("change", "code"), [
    ({"vat_id": "123"}, "invalid_vat_id"),
    ({"group_id": "cgr_missing"}, "unknown_group"),
    ({"nickname": "x"}, "validation_failed"),
])
def test_invalid_changes_are_refused(seller: Any, customers: dict[str, str], change: dict, code: str) -> None:
    status, body, _ = seller("PATCH", f"/v1/seller/customers/{customers['anna@example.com']}", change)

    assert (status, body["error"]["code"]) == (422, code)


def test_strangers_get_no_terms() -> None:
    assert service.pricing_terms(SELLER_A, "usr_nobody") == (0, False)


def test_a_profile_change_reaches_every_sellers_copy(api: Any, seller: Any) -> None:
    # given Anna is a customer of two sellers
    anna = _buyer("anna@example.com", "Anna Berg")
    service.record_order(SELLER_A, anna, "ord_1", Money("EUR", 100), JUNE_1)
    service.record_order(SELLER_B, anna, "ord_2", Money("EUR", 100), JUNE_1)

    # when she changes her name in her profile and the events worker delivers its event
    status, _, _ = call(api, "PATCH", "/v1/me", {"name": "Anna Schmidt"}, headers=buyer_headers(anna))
    assert status == 200
    pump_events()

    # then both sellers find her under the new name, and not under the old one
    for who in (SELLER_A, SELLER_B):
        _, body, _ = seller("GET", "/v1/seller/customers?q=anna%20s", as_seller=who)
        assert [c["name"] for c in body["items"]] == ["Anna Schmidt"]
        _, detail, _ = seller("GET", f"/v1/seller/customers/{anna}", as_seller=who)
        assert detail["name"] == "Anna Schmidt"
        _, old, _ = seller("GET", "/v1/seller/customers?q=berg", as_seller=who)
        assert old["items"] == []


def test_an_erased_buyer_leaves_only_an_anonymous_customer_with_its_figures(seller: Any) -> None:
    from chalicelib.accounts.models import User
    from chalicelib.events.service import dispatch

    anna = _buyer("anna@example.com", "Anna Berg")
    service.record_order(SELLER_A, anna, "ord_1", Money("EUR", 100), JUNE_1)
    User.get(f"USER#{anna}", "PROFILE").update(actions=[
        User.status.set("erased"), User.name.set(""), User.email.set(f"erased+{anna}@invalid")])

    dispatch({"event_id": "evt_erased_1", "type": "account.erased", "occurred_at": "",
              "payload": {"user_id": anna, "erased_at": "2026-06-02T00:00:00+00:00"}})

    _, body, _ = seller("GET", f"/v1/seller/customers/{anna}")
    assert (body["name"], body["email"], body["order_count"]) == ("", f"erased+{anna}@invalid", 1)
    _, found, _ = seller("GET", "/v1/seller/customers?q=anna")
    assert found["items"] == []


# -- isolation: a seller never sees another seller's customers --------------------------------------------

def test_another_sellers_customer_is_not_found(seller: Any, customers: dict[str, str]) -> None:
    anna = customers["anna@example.com"]
    missing_status, missing, _ = seller("GET", "/v1/seller/customers/usr_does_not_exist", as_seller=SELLER_B)

    for method, path, body in (("GET", f"/v1/seller/customers/{anna}", None),
                               ("GET", f"/v1/seller/customers/{anna}/orders", None),
                               ("PATCH", f"/v1/seller/customers/{anna}", {"tax_exempt": False})):
        status, answer, _ = seller(method, path, body, as_seller=SELLER_B)
        assert (status, answer) == (missing_status, missing) == (404, {"error": {
            "code": "customer_not_found", "message": "No such customer.", "details": None}})


@pytest.mark.parametrize("query", ["", "?q=a", "?q=anna@example.com", "?q=b"])
def test_another_sellers_customers_are_absent_from_list_and_search(seller: Any, customers: dict[str, str],
                                                                   query: str) -> None:
    _, body, _ = seller("GET", f"/v1/seller/customers{query}", as_seller=SELLER_B)

    assert body == {"items": [], "next_cursor": None}


def test_reading_needs_the_customers_read_scope(api: Any) -> None:
    from chalicelib.core.auth import issue_access_token

    token, _ = issue_access_token(user_id="usr_x", roles={"buyer"}, seller_id=SELLER_A)  # not a seller role
    status, body, _ = call(api, "GET", "/v1/seller/customers", headers={"Authorization": f"Bearer {token}"})

    assert (status, body["error"]["code"]) == (403, "missing_scope")
