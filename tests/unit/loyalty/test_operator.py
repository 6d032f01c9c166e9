"""The operator's programme, adjustments, campaigns and report; the sign-up and newsletter
bonuses; a seller's funded bonus."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.auth import operator_headers, seller_headers
from tests.support.builders import Buyer, Marketplace, put_seller, register
from tests.support.events import pump_events
from tests.support.http import call
from tests.support.mail import link_token, queued_mails

PROGRAMME = {"enabled": True, "currency": "EUR", "points_per_unit": 1,
             "point_value": {"points": 100, "amount": 100},
             "event_points": {"sign_up": 500, "newsletter_confirmed": 200},
             "tiers": [{"name": "Silver", "threshold": 1_000, "earn_multiplier_bp": 15_000, "perks": ["Gratisversand"]},
                       {"name": "Gold", "threshold": 5_000, "earn_multiplier_bp": 20_000}]}


def operator(api: Any, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    status, answer, _ = call(api, method, path, body, headers=operator_headers())
    return status, answer


def loyalty_of(api: Any, headers: dict[str, str]) -> dict[str, Any]:
    status, body, _ = call(api, "GET", "/v1/me/loyalty", headers=headers)
    assert status == 200, body
    return body


@pytest.fixture
def programme(api: Any) -> dict[str, Any]:
    status, body = operator(api, "PUT", "/v1/admin/loyalty/programme", PROGRAMME)
    assert status == 200, body
    return body


def test_the_operator_sets_and_reads_the_programme(api: Any, programme: dict[str, Any]) -> None:
    status, body = operator(api, "GET", "/v1/admin/loyalty/programme")

    assert status == 200
    assert body == programme
    assert body["event_points"] == {"sign_up": 500, "newsletter_confirmed": 200, "first_review": 0, "birthday": 0,
                                    "referral": 0}
    assert [t["name"] for t in body["tiers"]] == ["Silver", "Gold"]
    assert (body["enabled"], body["version"], body["expiry"]) == (True, 1, {"policy": "lot", "months": 12})


@pytest.mark.parametrize("change", [
    {"tiers": [{"name": "Gold", "threshold": 5_000}, {"name": "Silver", "threshold": 1_000}]},
    {"tiers": [{"name": "Gold", "threshold": 1}, {"name": "Gold", "threshold": 2}]},
    {"redemption": {"min_order_share_bp": 6_000, "max_order_share_bp": 5_000}},
    {"points_per_unit": -1},
])
def test_a_programme_that_cannot_work_is_refused(api: Any, change: dict[str, Any]) -> None:
    status, body = operator(api, "PUT", "/v1/admin/loyalty/programme", {**PROGRAMME, **change})

    assert status == 422, body


def test_only_the_operator_reaches_the_programme(api: Any, buyer: Buyer) -> None:
    status, _, _ = call(api, "GET", "/v1/admin/loyalty/programme", headers=buyer.headers)
    assert status == 403


def test_a_new_buyer_gets_the_sign_up_bonus_and_the_newsletter_bonus_once_confirmed(
        api: Any, aws: dict[str, str], programme: dict[str, Any]) -> None:
    buyer = register(api, email="lena@example.com", name="Lena Kurz")
    pump_events()
    assert loyalty_of(api, buyer.headers)["available"] == 500

    call(api, "PUT", "/v1/me/consents", {"newsletter": True}, headers=buyer.headers)
    [mail] = queued_mails("newsletter_confirm")
    token = link_token(mail["context"]["link"])
    for _ in range(2):  # confirming twice gives one bonus
        status, body, _ = call(api, "POST", "/v1/consents/confirm", {"token": token})
        assert status == 200, body
    pump_events()

    view = loyalty_of(api, buyer.headers)
    assert (view["available"], view["available_value"]) == (700, {"amount": 700, "currency": "EUR"})
    status, body, _ = call(api, "GET", "/v1/me/loyalty/transactions", headers=buyer.headers)
    assert [(t["reason"], t["points"]) for t in body["items"]] == [("newsletter_confirmed", 200), ("sign_up", 500)]


def test_manual_adjustments_move_points_and_are_audited(api: Any, buyer: Buyer, programme: dict[str, Any]) -> None:
    status, given = operator(api, "POST", "/v1/admin/loyalty/adjustments",
                             {"user_id": buyer.user_id, "points": 1_200, "reason": "Kulanz: late delivery"})
    assert status == 201, given
    status, taken = operator(api, "POST", "/v1/admin/loyalty/adjustments",
                             {"user_id": buyer.user_id, "points": -200, "reason": "Booked twice"})
    assert status == 201, taken
    status, refused = operator(api, "POST", "/v1/admin/loyalty/adjustments",
                               {"user_id": buyer.user_id, "points": -1_001, "reason": "Too much"})
    assert (status, refused["error"]["code"]) == (409, "insufficient_points")

    view = loyalty_of(api, buyer.headers)
    assert view["available"] == 1_000
    assert view["tier"]["name"] == "Silver"  # 1,200 earned reaches Silver; spending does not undo it
    status, listed = operator(api, "GET", "/v1/admin/loyalty/adjustments")
    assert [(a["user_id"], a["points"], a["reason"], a["by"]) for a in listed["items"]] == [
        (buyer.user_id, -200, "Booked twice", "usr_operator"), (buyer.user_id, 1_200, "Kulanz: late delivery",
                                                                 "usr_operator")]
    status, body, _ = call(api, "GET", "/v1/me/loyalty/transactions", headers=buyer.headers)
    assert [(t["kind"], t["points"], t["note"]) for t in body["items"]][:2] == [
        ("adjusted", -200, "Booked twice"), ("adjusted", 1_200, "Kulanz: late delivery")]
    status, export, _ = call(api, "GET", "/v1/me/export", headers=buyer.headers)
    assert status == 200, export
    assert export["loyalty"] == body["items"]  # the data export holds the same history


def test_an_adjustment_for_an_unknown_buyer_is_a_404(api: Any, programme: dict[str, Any]) -> None:
    status, body = operator(api, "POST", "/v1/admin/loyalty/adjustments",
                            {"user_id": "usr_nobody", "points": 10, "reason": "?"})
    assert (status, body["error"]["code"]) == (404, "account_not_found")


def test_the_report_counts_members_points_liability_and_tiers(api: Any, buyer: Buyer, other_buyer: Buyer,
                                                              programme: dict[str, Any]) -> None:
    pump_events()  # both sign-up bonuses: 2 x 500
    operator(api, "POST", "/v1/admin/loyalty/adjustments", {"user_id": buyer.user_id, "points": 600, "reason": "x"})
    operator(api, "POST", "/v1/admin/loyalty/adjustments", {"user_id": other_buyer.user_id, "points": -100,
                                                            "reason": "y"})
    today = datetime.now(UTC).date()
    window = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"

    status, report = operator(api, "GET", f"/v1/admin/loyalty/report?{window}")

    assert status == 200, report
    assert (report["members"], report["active_members"], report["members_joined"]) == (2, 2, 2)
    assert report["points"] == {"issued": 1_000, "reversed": 0, "redeemed": 0, "expired": 0, "adjusted_in": 600,
                                "adjusted_out": 100}
    assert (report["outstanding_points"], report["outstanding_liability"]) == (1_500, {"amount": 1_500,
                                                                                       "currency": "EUR"})
    assert report["redemption_rate"] == "0.00"
    assert report["tiers"] == [{"tier": None, "members": 1}, {"tier": "Silver", "members": 1},
                               {"tier": "Gold", "members": 0}]

    status, text, headers = call(api, "GET", f"/v1/admin/loyalty/report?{window}&format=csv",
                                 headers=operator_headers())
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = dict(csv.reader(io.StringIO(text)))
    assert (rows["members"], rows["points_issued"], rows["outstanding_liability_minor"], rows["tier:Silver"]) == (
        "2", "1000", "1500", "1")


def test_a_report_window_must_be_forward_and_at_most_a_year(api: Any) -> None:
    status, body = operator(api, "GET", "/v1/admin/loyalty/report?from=2026-02-01&to=2026-01-01")
    assert status == 422
    status, body = operator(api, "GET", "/v1/admin/loyalty/report?from=2025-01-01&to=2026-02-01")
    assert (status, body["error"]["code"]) == (422, "window_too_large")


def test_a_seller_funded_bonus_is_charged_to_the_seller_when_earned(market: Marketplace) -> None:
    from chalicelib.ledger.service import seller_balance

    status, body = operator(market.api, "PUT", "/v1/admin/loyalty/programme", {**PROGRAMME, "event_points": {}})
    assert status == 200, body
    market.seller("sel_a")
    now = datetime.now(UTC)
    status, campaign, _ = call(market.api, "POST", "/v1/seller/loyalty/campaigns", {
        "name": "Doppelte Punkte", "multiplier_bp": 20_000, "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=7)).isoformat()}, headers=seller_headers("sel_a"))
    assert status == 201, campaign
    assert campaign["funded_by"] == "seller"
    put_seller("sel_b")
    status, listed, _ = call(market.api, "GET", "/v1/seller/loyalty/campaigns", headers=seller_headers("sel_b"))
    assert (status, listed["items"]) == (200, [])  # another seller's campaigns are not listed
    before = seller_balance("sel_a", "EUR").earned.amount

    paid = market.paid_order(("sel_a",), price=2_000, quantity=2)  # 33.61 net: 33 points and 33 bonus points

    assert loyalty_of(market.api, paid["buyer"])["pending"] == 66
    charged = before + 4_000 - seller_balance("sel_a", "EUR").earned.amount
    from chalicelib.ledger.service import order_postings

    fees = sum(e.amount.amount for p in order_postings(paid["order"]["order_id"]) if p.kind == "fee"
               for e in p.entries if e.amount.amount > 0)
    assert charged - fees == 33  # the bonus, at 1 cent a point
    today = datetime.now(UTC).date()
    status, statement, _ = call(market.api, "GET", f"/v1/seller/statements?from={today - timedelta(days=1)}"
                                f"&to={today + timedelta(days=1)}", headers=seller_headers("sel_a"))
    assert status == 200, statement
    assert [(e["kind"], e["amount"]["amount"]) for e in statement["items"] if e["kind"].startswith("loyalty")] == [
        ("loyalty_issue", -33)]


def test_the_buyer_sees_no_points_before_any(api: Any, buyer: Buyer) -> None:
    view = loyalty_of(api, buyer.headers)

    assert (view["enabled"], view["available"], view["pending"]) == (False, 0, 0)
    assert (view["referral"]["referred"], view["referral"]["rewarded"]) == (0, 0)
    assert view["tier"]["requalify_on"] is None


def test_an_operator_campaign_multiplies_the_points_of_the_lines_it_covers(market: Marketplace) -> None:
    status, body = operator(market.api, "PUT", "/v1/admin/loyalty/programme", {**PROGRAMME, "event_points": {}})
    assert status == 200, body
    now = datetime.now(UTC)
    window = {"starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=7)).isoformat()}
    status, campaign = operator(market.api, "POST", "/v1/admin/loyalty/campaigns", {
        "name": "Doppelte Punkte auf Schuhe", "multiplier_bp": 20_000, "target": "categories",
        "values": ["fashion"], **window})
    assert status == 201, campaign
    status, ended = operator(market.api, "POST", "/v1/admin/loyalty/campaigns", {
        "name": "Vorbei", "multiplier_bp": 30_000, "starts_at": (now - timedelta(days=9)).isoformat(),
        "ends_at": (now - timedelta(days=2)).isoformat()})
    assert status == 201, ended
    status, listed = operator(market.api, "GET", "/v1/admin/loyalty/campaigns")
    assert [(c["name"], c["funded_by"]) for c in listed["items"]] == [("Vorbei", "marketplace"),
                                                                      ("Doppelte Punkte auf Schuhe", "marketplace")]

    paid = market.paid_order(("sel_a",), price=2_000, quantity=2)  # fashion/shoes: 33.61 net

    assert loyalty_of(market.api, paid["buyer"])["pending"] == 67  # 33.61 x 2, rounded down once per part


def test_a_campaign_must_end_after_it_starts(api: Any) -> None:
    now = datetime.now(UTC).isoformat()
    status, body = operator(api, "POST", "/v1/admin/loyalty/campaigns",
                            {"name": "x", "multiplier_bp": 20_000, "starts_at": now, "ends_at": now})
    assert status == 422, body


def test_a_campaign_time_is_a_date_time_string_not_a_number(api: Any) -> None:
    # a number would have been read as seconds since 1970, which the OpenAPI document does not allow
    status, body = operator(api, "POST", "/v1/admin/loyalty/campaigns",
                            {"name": "x", "multiplier_bp": 20_000, "starts_at": 0, "ends_at": "2030-01-01T00:00:00Z"})
    assert status == 422, body
    assert body["error"]["details"][0]["field"] == "body.starts_at"
