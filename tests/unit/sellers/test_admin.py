"""The operator's seller admin: listing, approval, suspension, settings and invites."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.sellers.service import selling_seller_ids
from tests.support.auth import bearer, buyer_headers, operator_headers
from tests.support.builders import APPLICATION, api_key, apply, own, set_mode, signed_up_headers
from tests.support.events import outbox
from tests.support.http import call
from tests.support.stripe import account_updated, deliver

ADMIN_ROUTES = [
    ("GET", "/v1/admin/sellers", None),
    ("GET", "/v1/admin/sellers/{seller_id}", None),
    ("POST", "/v1/admin/sellers/{seller_id}/approve", None),
    ("POST", "/v1/admin/sellers/{seller_id}/reject", {"reason": "x"}),
    ("POST", "/v1/admin/sellers/{seller_id}/suspend", {"reason": "x"}),
    ("POST", "/v1/admin/sellers/{seller_id}/reinstate", None),
    ("GET", "/v1/admin/settings", None),
    ("PUT", "/v1/admin/settings", {"seller_access": "open", "buyer_access": "open"}),
    ("POST", "/v1/admin/seller-invites", {}),
    ("GET", "/v1/admin/seller-invites", None),
    ("DELETE", "/v1/admin/seller-invites/inv_x", None),
]


def _selling(api: Any, email: str = "shop@nordwind.example") -> tuple[dict[str, str], str]:
    """An approved seller whose charges are enabled."""
    body = apply(api, email=email)
    seller = body["seller"]
    deliver(api, account_updated(seller["payments"]["stripe_account_id"], seller_id=seller["seller_id"],
                                 created=int(time.time())))
    return signed_up_headers(body), seller["seller_id"]


@pytest.mark.parametrize("caller", ["seller", "api_key", "buyer"])
def test_only_operators_reach_admin_routes(api: Any, caller: str) -> None:
    signed_up = apply(api)
    headers = {
        "seller": signed_up_headers(signed_up),
        "api_key": bearer(api_key(api, signed_up)["secret"]),
        "buyer": buyer_headers("usr_buyer"),
    }[caller]
    status_before = own(api, signed_up_headers(signed_up))["status"]

    answers = {}
    for method, path, body in ADMIN_ROUTES:
        status, answer, _ = call(api, method, path.format(seller_id=signed_up["seller"]["seller_id"]), body,
                                 headers=headers)
        answers[f"{method} {path}"] = (status, answer["error"]["code"])

    assert answers == {f"{method} {path}": (403, "operator_required") for method, path, _ in ADMIN_ROUTES}
    assert own(api, signed_up_headers(signed_up))["status"] == status_before


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_routes_need_a_signed_in_operator(api: Any, method: str, path: str, body: Any) -> None:
    status, answer, _ = call(api, method, path.format(seller_id="sel_x"), body)

    assert (status, answer["error"]["code"]) == (401, "not_authenticated")


def test_operators_page_through_pending_sellers_oldest_first(api: Any) -> None:
    ids = [apply(api, email=f"shop{i}@example.com")["seller"]["seller_id"] for i in range(3)]

    status, first, _ = call(api, "GET", "/v1/admin/sellers?status=pending&limit=2", headers=operator_headers())
    _, second, _ = call(api, "GET", f"/v1/admin/sellers?status=pending&limit=2&cursor={first['next_cursor']}",
                        headers=operator_headers())

    assert status == 200
    assert [s["seller_id"] for s in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None
    assert first["items"][0]["contact_email"] == "shop0@example.com"


def test_a_cursor_of_one_status_does_not_page_another(api: Any) -> None:
    for i in range(2):
        apply(api, email=f"shop{i}@example.com")
    _, first, _ = call(api, "GET", "/v1/admin/sellers?status=pending&limit=1", headers=operator_headers())

    status, body, _ = call(api, "GET", f"/v1/admin/sellers?status=approved&cursor={first['next_cursor']}",
                           headers=operator_headers())

    assert (status, body["error"]["code"]) == (400, "invalid_cursor")


def test_an_unknown_status_is_refused(api: Any) -> None:
    status, body, _ = call(api, "GET", "/v1/admin/sellers?status=everyone", headers=operator_headers())

    assert (status, body["error"]["details"][0]["field"]) == (422, "query.status")


def test_approving_a_pending_seller_lets_it_sell_once_charges_are_enabled(api: Any) -> None:
    # given invitation-only, so Stripe's onboarding alone does not approve
    set_mode(api, "invite_only")
    _, invite, _ = call(api, "POST", "/v1/admin/seller-invites", {}, headers=operator_headers())
    body = apply(api, invite_code=invite["code"])
    seller_id = body["seller"]["seller_id"]

    # when
    status, approved, _ = call(api, "POST", f"/v1/admin/sellers/{seller_id}/approve", headers=operator_headers())

    # then approved, but no charges yet
    assert status == 200
    assert (approved["status"], approved["can_sell"]) == ("approved", False)
    deliver(api, account_updated(body["seller"]["payments"]["stripe_account_id"], seller_id=seller_id,
                                 created=int(time.time())))
    assert own(api, signed_up_headers(body))["can_sell"] is True
    [event] = outbox("seller.approved")
    assert (event["by"], event["previous_status"]) == ("usr_operator", "pending")


def test_suspension_stops_selling_keeps_everything_and_reinstating_restores_it(api: Any) -> None:
    # given
    headers, seller_id = _selling(api)
    call(api, "PATCH", "/v1/seller", {"description": "Outdoor gear"}, headers=headers)

    # when suspended
    status, suspended, _ = call(api, "POST", f"/v1/admin/sellers/{seller_id}/suspend",
                                {"reason": "Counterfeit goods reported"}, headers=operator_headers())

    # then
    assert status == 200
    assert (suspended["status"], suspended["can_sell"]) == ("suspended", False)
    assert selling_seller_ids([seller_id]) == set()
    seen_by_seller = own(api, headers)
    assert (seen_by_seller["status_reason"], seen_by_seller["description"]) == ("Counterfeit goods reported",
                                                                                 "Outdoor gear")
    _, listed, _ = call(api, "GET", "/v1/admin/sellers?status=suspended", headers=operator_headers())
    assert [s["seller_id"] for s in listed["items"]] == [seller_id]

    # when reinstated
    status, reinstated, _ = call(api, "POST", f"/v1/admin/sellers/{seller_id}/reinstate", headers=operator_headers())

    # then
    assert status == 200
    assert (reinstated["status"], reinstated["status_reason"], reinstated["can_sell"]) == ("approved", None, True)
    assert selling_seller_ids([seller_id]) == {seller_id}
    assert [e["reason"] for e in outbox("seller.suspended")] == ["Counterfeit goods reported"]
    assert len(outbox("seller.reinstated")) == 1


@pytest.mark.parametrize(("action", "body"), [("approve", None), ("reinstate", None)])
def test_asking_for_the_status_a_seller_has_changes_nothing(api: Any, action: str, body: Any) -> None:
    _, seller_id = _selling(api)

    status, seller, _ = call(api, "POST", f"/v1/admin/sellers/{seller_id}/{action}", body, headers=operator_headers())

    assert (status, seller["status"]) == (200, "approved")
    assert len(outbox("seller.approved")) == 1
    assert outbox("seller.reinstated") == []


@pytest.mark.parametrize(("setup", "action", "status_before"), [
    ("suspend", "approve", "suspended"),
    ("pending", "reinstate", "pending"),
    ("suspend", "reject", "suspended"),
    ("reject", "approve", "rejected"),
    ("reject", "suspend", "rejected"),
])
def test_impossible_transitions_are_a_409(api: Any, setup: str, action: str, status_before: str) -> None:
    seller_id = apply(api)["seller"]["seller_id"]
    if setup != "pending":
        call(api, "POST", f"/v1/admin/sellers/{seller_id}/{setup}", {"reason": "Checks"}, headers=operator_headers())

    status, body, _ = call(api, "POST", f"/v1/admin/sellers/{seller_id}/{action}", {"reason": "Again"},
                           headers=operator_headers())

    assert (status, body["error"]["code"], body["error"]["details"]) == (409, "invalid_status_transition",
                                                                          {"status": status_before})


def test_a_rejected_seller_sees_the_status_and_reason(api: Any) -> None:
    # given
    body = apply(api)
    seller_id = body["seller"]["seller_id"]

    # when
    status, rejected, _ = call(api, "POST", f"/v1/admin/sellers/{seller_id}/reject",
                               {"reason": "We could not verify your business address."}, headers=operator_headers())

    # then
    assert status == 200
    seen = own(api, signed_up_headers(body))
    assert (seen["status"], seen["status_reason"], seen["can_sell"]) == (
        "rejected", "We could not verify your business address.", False)
    assert rejected == seen
    _, listed, _ = call(api, "GET", "/v1/admin/sellers?status=rejected", headers=operator_headers())
    assert [s["seller_id"] for s in listed["items"]] == [seller_id]
    [event] = outbox("seller.rejected")
    assert (event["by"], event["previous_status"], event["reason"]) == (
        "usr_operator", "pending", "We could not verify your business address.")


@pytest.mark.parametrize(("action", "status"), [("reject", "rejected"), ("suspend", "suspended")])
def test_stripe_onboarding_does_not_approve_a_rejected_or_suspended_applicant(api: Any, action: str,
                                                                             status: str) -> None:
    body = apply(api)
    seller_id = body["seller"]["seller_id"]
    call(api, "POST", f"/v1/admin/sellers/{seller_id}/{action}", {"reason": "Checks"}, headers=operator_headers())

    deliver(api, account_updated(body["seller"]["payments"]["stripe_account_id"], seller_id=seller_id,
                                 created=int(time.time())))

    seen = own(api, signed_up_headers(body))
    assert (seen["status"], seen["can_sell"]) == (status, False)


@pytest.mark.parametrize("action", ["reject", "suspend"])
def test_rejecting_or_suspending_needs_a_reason(api: Any, action: str) -> None:
    seller_id = apply(api)["seller"]["seller_id"]

    status, body, _ = call(api, "POST", f"/v1/admin/sellers/{seller_id}/{action}", {}, headers=operator_headers())

    assert (status, body["error"]["details"][0]["field"]) == (422, "body.reason")


@pytest.mark.parametrize("seller_id", ["sel_01JD000000000000000000000Z", "garbage"])
@pytest.mark.parametrize("action", ["", "/approve", "/reject", "/reinstate"])
def test_unknown_sellers_are_a_404(api: Any, seller_id: str, action: str) -> None:
    method = "POST" if action else "GET"

    status, body, _ = call(api, method, f"/v1/admin/sellers/{seller_id}{action}",
                           {"reason": "x"} if action == "/reject" else None, headers=operator_headers())

    assert (status, body["error"]["code"]) == (404, "seller_not_found")


# --- settings and invites ----------------------------------------------------------------------

def test_the_marketplace_is_open_until_an_operator_says_otherwise(api: Any) -> None:
    status, body, _ = call(api, "GET", "/v1/admin/settings", headers=operator_headers())

    assert status == 200
    assert body == {"seller_access": "open", "buyer_access": "open", "payment_methods": ["card"], "updated_at": None,
                    "updated_by": None}


def test_operators_change_who_may_join(api: Any) -> None:
    status, saved, _ = call(api, "PUT", "/v1/admin/settings", {"seller_access": "invite_only",
                                                                "buyer_access": "members_only"},
                            headers=operator_headers())

    assert status == 200
    _, body, _ = call(api, "GET", "/v1/admin/settings", headers=operator_headers())
    assert body == saved
    assert (body["seller_access"], body["buyer_access"], body["updated_by"]) == ("invite_only", "members_only",
                                                                                 "usr_operator")


@pytest.mark.parametrize("body", [
    {"seller_access": "closed", "buyer_access": "open"},
    {"seller_access": "open"},
])
def test_invalid_settings_are_refused(api: Any, body: dict[str, str]) -> None:
    status, answer, _ = call(api, "PUT", "/v1/admin/settings", body, headers=operator_headers())

    assert (status, answer["error"]["code"]) == (422, "validation_failed")


def test_an_invite_is_a_secret_shown_once_that_expires(api: Any) -> None:
    status, body, _ = call(api, "POST", "/v1/admin/seller-invites", {"expires_in_days": 3}, headers=operator_headers())

    assert status == 201
    assert body["code"].startswith("agora_inv_")
    assert len(body["code"]) > 40
    assert body["expires_at"][:10] == time.strftime("%Y-%m-%d", time.gmtime(time.time() + 3 * 86400))


def _issue(api: Any, note: str) -> dict[str, Any]:
    status, body, _ = call(api, "POST", "/v1/admin/seller-invites", {"note": note}, headers=operator_headers())
    assert status == 201, body
    return body


def _invites(api: Any, query: str = "") -> dict[str, Any]:
    status, body, _ = call(api, "GET", f"/v1/admin/seller-invites{query}", headers=operator_headers())
    assert status == 200, body
    return body


def test_operators_list_invites_newest_first_with_what_became_of_each(api: Any) -> None:
    # given three invites: one used, one revoked, one still open
    set_mode(api, "invite_only")
    used, revoked, unused = (_issue(api, note) for note in ("for Nordwind", "for Südwind", "for Ostwind"))
    seller_id = apply(api, invite_code=used["code"])["seller"]["seller_id"]
    status, revocation, _ = call(api, "DELETE", f"/v1/admin/seller-invites/{revoked['invite_id']}",
                                 headers=operator_headers())
    assert (status, revocation["state"]) == (200, "revoked")

    # when
    listed = _invites(api)

    # then
    assert [(i["invite_id"], i["note"], i["state"], i["seller_id"]) for i in listed["items"]] == [
        (unused["invite_id"], "for Ostwind", "open", None),
        (revoked["invite_id"], "for Südwind", "revoked", None),
        (used["invite_id"], "for Nordwind", "used", seller_id),
    ]
    assert listed["items"][0]["expires_at"] == unused["expires_at"]
    assert listed["items"][0]["created_by"] == "usr_operator"
    assert all("code" not in i for i in listed["items"])


def test_invites_page_with_a_cursor(api: Any) -> None:
    ids = [_issue(api, f"invite {i}")["invite_id"] for i in range(3)]

    first = _invites(api, "?limit=2")
    second = _invites(api, f"?limit=2&cursor={first['next_cursor']}")

    assert [i["invite_id"] for i in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None


def test_a_revoked_code_no_longer_admits_a_seller(api: Any) -> None:
    set_mode(api, "invite_only")
    invite = _issue(api, "for Nordwind")
    call(api, "DELETE", f"/v1/admin/seller-invites/{invite['invite_id']}", headers=operator_headers())

    status, body, _ = call(api, "POST", "/v1/sellers", {**APPLICATION, "invite_code": invite["code"]})

    assert (status, body["error"]["code"]) == (422, "invite_revoked")
    assert _invites(api)["items"][0]["state"] == "revoked"


def test_revoking_twice_changes_nothing(api: Any) -> None:
    invite = _issue(api, "for Nordwind")
    _, first, _ = call(api, "DELETE", f"/v1/admin/seller-invites/{invite['invite_id']}", headers=operator_headers())

    status, second, _ = call(api, "DELETE", f"/v1/admin/seller-invites/{invite['invite_id']}",
                             headers=operator_headers())

    assert (status, second) == (200, first)


def test_a_used_code_cannot_be_revoked(api: Any) -> None:
    set_mode(api, "invite_only")
    invite = _issue(api, "for Nordwind")
    seller_id = apply(api, invite_code=invite["code"])["seller"]["seller_id"]

    status, body, _ = call(api, "DELETE", f"/v1/admin/seller-invites/{invite['invite_id']}", headers=operator_headers())

    assert (status, body["error"]["code"], body["error"]["details"]) == (409, "invite_used", {"seller_id": seller_id})


@pytest.mark.parametrize("invite_id", ["inv_01JD000000000000000000000Z", "garbage"])
def test_revoking_an_unknown_invite_is_a_404(api: Any, invite_id: str) -> None:
    status, body, _ = call(api, "DELETE", f"/v1/admin/seller-invites/{invite_id}", headers=operator_headers())

    assert (status, body["error"]["code"]) == (404, "invite_not_found")
