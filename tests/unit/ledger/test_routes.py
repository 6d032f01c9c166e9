"""Statements (JSON and CSV), balances and revenue over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.ledger import service
from chalicelib.ledger.postings import charge_posting, seller_share_postings, transfer_posting
from tests.support.auth import operator_headers
from tests.support.builders import approved_seller_headers, eur
from tests.support.http import call

JUNE = datetime(2025, 6, 10, 9, tzinfo=UTC)
JUNE_WINDOW = "from=2025-06-01&to=2025-07-01"


def _two_sellers_paid() -> None:
    service.apply_postings(
        charge_posting("ord_1", eur(3000), occurred_at=JUNE),
        *seller_share_postings("ord_1", "sel_a", eur(2000), eur(200), occurred_at=JUNE),
        *seller_share_postings("ord_1", "sel_b", eur(1000), eur(150), occurred_at=JUNE),
        transfer_posting("ord_1", "sel_a", eur(1800), transfer_id="tr_a", occurred_at=JUNE),
    )
    service.apply_postings(*seller_share_postings("ord_0", "sel_a", eur(700), eur(70),
                                                  occurred_at=datetime(2025, 5, 30, tzinfo=UTC)))


def test_statement_json_lists_exactly_my_entries_in_the_window(api: Any) -> None:
    _two_sellers_paid()
    status, body, _ = call(api, "GET", f"/v1/seller/statements?{JUNE_WINDOW}",
                           headers=approved_seller_headers("sel_a"))
    assert status == 200, body
    assert body["seller_id"] == "sel_a"
    assert (body["from"], body["to"]) == ("2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z")
    assert [(e["order_id"], e["kind"], e["account"], e["amount"]["amount"]) for e in body["items"]] == [
        ("ord_1", "seller_payable", "seller_payable", 2000),
        ("ord_1", "fee", "seller_payable", -200),
        ("ord_1", "transfer", "transfers_out", -1800),
    ]
    assert body["items"][2]["refs"] == {"transfer": "tr_a"}
    assert body["next_cursor"] is None


def test_statement_never_shows_another_sellers_entries(api: Any) -> None:
    _two_sellers_paid()
    status, body, _ = call(api, "GET", f"/v1/seller/statements?{JUNE_WINDOW}&seller_id=sel_a",
                           headers=approved_seller_headers("sel_b"))
    assert (status, body["error"]["code"]) == (422, "validation_failed")
    status, body, _ = call(api, "GET", f"/v1/seller/statements?{JUNE_WINDOW}",
                           headers=approved_seller_headers("sel_b"))
    assert [(e["kind"], e["amount"]["amount"]) for e in body["items"]] == [("seller_payable", 1000), ("fee", -150)]


def test_statement_csv_has_the_same_entries(api: Any) -> None:
    _two_sellers_paid()
    response = api.http.get(f"/v1/seller/statements?{JUNE_WINDOW}&format=csv",
                                   headers=approved_seller_headers("sel_a"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="statement-20250601-20250701.csv"'
    at = "2025-06-10T09:00:00.000000Z"
    assert response.body.decode().split("\r\n") == [
        "occurred_at,posting_id,kind,account,order_id,currency,amount_minor,amount,stripe_reference",
        f"{at},seller_payable:ord_1:sel_a,seller_payable,seller_payable,ord_1,EUR,2000,20.00,",
        f"{at},fee:ord_1:sel_a,fee,seller_payable,ord_1,EUR,-200,-2.00,",
        f"{at},transfer:ord_1:sel_a,transfer,transfers_out,ord_1,EUR,-1800,-18.00,transfer=tr_a",
        "",
    ]


def test_statement_window_must_be_valid(api: Any) -> None:
    headers = approved_seller_headers("sel_a")
    status, body, _ = call(api, "GET", "/v1/seller/statements?from=2025-07-01&to=2025-06-01", headers=headers)
    assert (status, body["error"]["code"]) == (422, "invalid_window")
    status, body, _ = call(api, "GET", "/v1/seller/statements?to=2025-06-01", headers=headers)
    assert (status, body["error"]["details"][0]["field"]) == (422, "query.from")
    status, body, _ = call(api, "GET", f"/v1/seller/statements?{JUNE_WINDOW}&format=pdf", headers=headers)
    assert (status, body["error"]["details"][0]["field"]) == (422, "query.format")


def test_statement_needs_a_seller(api: Any) -> None:
    status, body, _ = call(api, "GET", f"/v1/seller/statements?{JUNE_WINDOW}")
    assert status == 401
    status, body, _ = call(api, "GET", f"/v1/seller/statements?{JUNE_WINDOW}", headers=operator_headers())
    assert (status, body["error"]["code"]) == (403, "seller_required")


def test_balance_route_shows_earned_transferred_and_owed(api: Any) -> None:
    _two_sellers_paid()
    status, body, _ = call(api, "GET", "/v1/seller/balance", headers=approved_seller_headers("sel_a"))
    assert status == 200
    assert body == {"seller_id": "sel_a", "balances": [{
        "currency": "EUR", "earned": {"amount": 2430, "currency": "EUR"},
        "transferred": {"amount": 1800, "currency": "EUR"}, "owed": {"amount": 630, "currency": "EUR"}}]}


def test_operator_reads_fee_revenue_per_currency(api: Any) -> None:
    _two_sellers_paid()
    status, body, _ = call(api, "GET", f"/v1/admin/revenue?{JUNE_WINDOW}", headers=operator_headers())
    assert status == 200, body
    assert body["currencies"] == [{
        "currency": "EUR", "fees": {"amount": 350, "currency": "EUR"},
        "fee_refunds": {"amount": 0, "currency": "EUR"}, "net_fees": {"amount": 350, "currency": "EUR"},
        "subscription_fees": {"amount": 0, "currency": "EUR"},
        "marketplace_discounts": {"amount": 0, "currency": "EUR"}, "total": {"amount": 350, "currency": "EUR"}}]
    status, body, _ = call(api, "GET", f"/v1/admin/revenue?{JUNE_WINDOW}", headers=approved_seller_headers("sel_a"))
    assert (status, body["error"]["code"]) == (403, "operator_required")
    status, body, _ = call(api, "GET", "/v1/admin/revenue?from=2024-01-01&to=2025-07-01",
                           headers=operator_headers())
    assert (status, body["error"]["code"]) == (422, "window_too_large")


def test_statement_refuses_a_bad_page_size_like_every_other_list(api: Any) -> None:
    for limit in ("0", "101", "ten"):
        status, body, _ = call(api, "GET", f"/v1/seller/statements?{JUNE_WINDOW}&limit={limit}",
                               headers=approved_seller_headers("sel_a"))
        assert (status, body["error"]["code"]) == (400, "invalid_limit"), limit
    status, body, _ = call(api, "GET", f"/v1/seller/statements?{JUNE_WINDOW}&cursor=not-a-cursor",
                           headers=approved_seller_headers("sel_a"))
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")
