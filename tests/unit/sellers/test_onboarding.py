"""Stripe Connect onboarding: the link, and what account.updated does to the seller."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from chalicelib.sellers.service import selling_seller_ids
from tests.support.auth import operator_headers
from tests.support.builders import apply, own, set_mode, signed_up_headers
from tests.support.events import outbox
from tests.support.http import call
from tests.support.stripe import account_updated, deliver, onboard


def _applied(api: Any) -> tuple[dict[str, str], str, str]:
    body = apply(api)
    return signed_up_headers(body), body["seller"]["seller_id"], body["seller"]["payments"]["stripe_account_id"]


def test_the_onboarding_link_leads_through_stripe_back_to_the_marketplace(api: Any, fake_stripe: str) -> None:
    # given
    headers, _, account_id = _applied(api)

    # when
    status, link, _ = call(api, "POST", "/v1/seller/onboarding-link", headers=headers)
    followed = requests.get(link["url"], allow_redirects=False, timeout=5)

    # then
    assert status == 200
    assert link["url"].startswith(f"{fake_stripe}/_connect/onboard/{account_id}?")
    assert link["expires_at"] > time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    assert followed.status_code == 302
    assert followed.headers["Location"] == "http://127.0.0.1:3000/seller/onboarding/done"


def test_finished_onboarding_approves_the_seller_in_an_open_marketplace(api: Any, fake_stripe: str) -> None:
    # given
    headers, seller_id, account_id = _applied(api)

    # when Stripe reports the finished onboarding
    status, receipt = deliver(api, onboard(fake_stripe, account_id))

    # then
    assert (status, receipt["outcome"]) == (200, "processed")
    seller = own(api, headers)
    assert seller["payments"] == {"stripe_account_id": account_id, "charges_enabled": True, "payouts_enabled": True,
                                  "requirements_due": []}
    assert (seller["status"], seller["can_sell"]) == ("approved", True)
    assert seller["approved_at"] is not None
    assert selling_seller_ids([seller_id]) == {seller_id}
    [approved] = outbox("seller.approved")
    assert (approved["seller_id"], approved["by"], approved["previous_status"]) == (seller_id, "stripe_onboarding",
                                                                                    "pending")
    [changed] = outbox("seller.payments_changed")
    assert (changed["charges_enabled"], changed["payouts_enabled"]) == (True, True)


def test_partial_onboarding_records_what_stripe_still_needs(api: Any, fake_stripe: str) -> None:
    headers, seller_id, account_id = _applied(api)

    deliver(api, onboard(fake_stripe, account_id, charges_enabled=False))

    seller = own(api, headers)
    assert seller["payments"]["charges_enabled"] is False
    assert seller["payments"]["payouts_enabled"] is True
    assert seller["payments"]["requirements_due"] == ["individual.verification.document"]
    assert (seller["status"], seller["can_sell"]) == ("pending", False)
    assert selling_seller_ids([seller_id]) == set()


def test_invite_only_sellers_wait_for_an_operator_after_onboarding(api: Any, fake_stripe: str) -> None:
    # given
    set_mode(api, "invite_only")
    _, invite, _ = call(api, "POST", "/v1/admin/seller-invites", {}, headers=operator_headers())
    body = apply(api, invite_code=invite["code"])
    headers, seller_id = signed_up_headers(body), body["seller"]["seller_id"]

    # when
    deliver(api, onboard(fake_stripe, body["seller"]["payments"]["stripe_account_id"]))

    # then
    assert (own(api, headers)["status"], own(api, headers)["can_sell"]) == ("pending", False)
    status, approved, _ = call(api, "POST", f"/v1/admin/sellers/{seller_id}/approve", headers=operator_headers())
    assert status == 200
    assert (approved["status"], approved["can_sell"]) == ("approved", True)


def test_an_older_event_arriving_late_changes_nothing(api: Any) -> None:
    # given the newest state was applied
    headers, seller_id, account_id = _applied(api)
    now = int(time.time())
    deliver(api, account_updated(account_id, seller_id=seller_id, created=now, charges_enabled=True))

    # when an event from before arrives
    status, receipt = deliver(api, account_updated(account_id, seller_id=seller_id, created=now - 5,
                                                   charges_enabled=False, currently_due=("external_account",)))

    # then
    assert (status, receipt["outcome"]) == (200, "processed")
    seller = own(api, headers)
    assert seller["payments"]["charges_enabled"] is True
    assert seller["payments"]["requirements_due"] == []
    assert len(outbox("seller.payments_changed")) == 1


def test_a_repeated_delivery_is_processed_once(api: Any) -> None:
    _, seller_id, account_id = _applied(api)
    event = account_updated(account_id, seller_id=seller_id, created=int(time.time()))

    first, second = deliver(api, event), deliver(api, event)

    assert (first[1]["outcome"], second[1]["outcome"]) == ("processed", "duplicate")
    assert len(outbox("seller.approved")) == 1


def test_same_second_events_that_disagree_are_settled_by_the_live_account(api: Any, fake_stripe: str) -> None:
    # given the live account is fully onboarded and that state was applied
    headers, _, account_id = _applied(api)
    finished = onboard(fake_stripe, account_id)
    deliver(api, finished)

    # when an event of the same second claims charges are disabled
    stale = account_updated(account_id, created=finished["created"], charges_enabled=False, event_id="evt_stale",
                            seller_id=own(api, headers)["seller_id"])
    deliver(api, stale)

    # then Stripe's live state wins
    assert own(api, headers)["payments"]["charges_enabled"] is True


def test_stripe_disabling_charges_stops_an_approved_seller_from_selling(api: Any) -> None:
    headers, seller_id, account_id = _applied(api)
    now = int(time.time())
    deliver(api, account_updated(account_id, seller_id=seller_id, created=now))

    deliver(api, account_updated(account_id, seller_id=seller_id, created=now + 1, charges_enabled=False,
                                 currently_due=("individual.verification.document",)))

    seller = own(api, headers)
    assert (seller["status"], seller["can_sell"]) == ("approved", False)
    assert selling_seller_ids([seller_id]) == set()


def test_an_event_without_our_metadata_finds_the_seller_by_account_id(api: Any) -> None:
    headers, _, account_id = _applied(api)

    deliver(api, account_updated(account_id, created=int(time.time())))

    assert own(api, headers)["payments"]["charges_enabled"] is True


def test_events_for_accounts_of_no_seller_are_refused(api: Any) -> None:
    headers, seller_id, _ = _applied(api)

    for event in (account_updated("acct_unknown", created=int(time.time())),
                  account_updated("acct_someone_else", seller_id=seller_id, created=int(time.time()))):
        status, receipt = deliver(api, event)
        assert (status, receipt["outcome"]) == (200, "refused")

    assert own(api, headers)["payments"]["charges_enabled"] is False
    assert outbox("seller.payments_changed") == outbox("seller.approved") == []


def _unchanged(api: Any, headers: dict[str, str], account_id: str | None) -> None:
    seller = own(api, headers)
    assert seller["payments"] == {"stripe_account_id": account_id, "charges_enabled": False,
                                  "payouts_enabled": False, "requirements_due": []}
    assert seller["status"] == "pending"


@pytest.mark.parametrize("about", ["another_account", "no_account"])
def test_an_event_not_about_the_account_it_carries_changes_nothing(api: Any, about: str) -> None:
    # given two sellers; the event's object is a's account
    headers, seller_id, account_id = _applied(api)
    other_headers, _, other_account = _applied_as(api, "Zweiter Laden GmbH", "zweiter@laden.example")
    event = account_updated(account_id, seller_id=seller_id, created=int(time.time()))

    # when Stripe's envelope names another connected account (or none)
    if about == "another_account":
        event["account"] = other_account
    else:
        del event["account"]
    status, receipt = deliver(api, event)

    # then neither seller changes
    assert (status, receipt["outcome"]) == (200, "refused")
    _unchanged(api, headers, account_id)
    _unchanged(api, other_headers, other_account)
    assert outbox("seller.payments_changed") == []


def test_metadata_naming_another_seller_than_the_accounts_changes_nothing(api: Any) -> None:
    # given two sellers, each with its own account
    headers, _, account_id = _applied(api)
    other_headers, other_id, other_account = _applied_as(api, "Zweiter Laden GmbH", "zweiter@laden.example")

    # when a's account claims to be b's in its metadata
    status, receipt = deliver(api, account_updated(account_id, seller_id=other_id, created=int(time.time())))

    # then
    assert (status, receipt["outcome"]) == (200, "refused")
    _unchanged(api, headers, account_id)
    _unchanged(api, other_headers, other_account)


def test_a_seller_without_a_stored_account_does_not_adopt_one_from_metadata(api: Any) -> None:
    # given a seller whose account id is not stored (as when Stripe's answer was lost)
    from chalicelib.core.keys import seller_key
    from chalicelib.sellers.models import Seller

    headers, seller_id, account_id = _applied(api)
    Seller.get(seller_key(seller_id), "PROFILE").update(
        actions=[Seller.stripe_account_id.remove(), Seller.GSI2PK.remove(), Seller.GSI2SK.remove()])

    # when its account, whose metadata names it, is updated
    status, receipt = deliver(api, account_updated(account_id, seller_id=seller_id, created=int(time.time())))

    # then the seller keeps no account and no state from it
    assert (status, receipt["outcome"]) == (200, "refused")
    _unchanged(api, headers, None)


def _applied_as(api: Any, business_name: str, email: str) -> tuple[dict[str, str], str, str]:
    body = apply(api, business_name=business_name, email=email)
    return signed_up_headers(body), body["seller"]["seller_id"], body["seller"]["payments"]["stripe_account_id"]


def _seller_changed_meanwhile() -> Any:
    """TransactWriteItems cancelled because its condition on the seller failed, as when
    another write changed the seller between the event's read and its write."""
    import json

    from tests.support.faults import AwsFaults

    def fault(request: Any) -> Any:
        items = json.loads(request.body)["TransactItems"]
        reasons = [{"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}]
        reasons += [{"Code": "None"}] * (len(items) - 1)
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                           "message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
                                      f"[{', '.join(r['Code'] for r in reasons)}]",
                           "CancellationReasons": reasons}).encode()
        return AwsFaults.response(request, 400, body)
    return fault


def test_a_seller_changed_during_the_event_is_read_again_and_the_event_applied(api: Any, aws_faults: Any) -> None:
    headers, seller_id, account_id = _applied(api)
    aws_faults.inject("dynamodb", "TransactWriteItems", _seller_changed_meanwhile(), times=2)

    status, receipt = deliver(api, account_updated(account_id, seller_id=seller_id, created=int(time.time())))

    assert (status, receipt["outcome"]) == (200, "processed")
    assert own(api, headers)["status"] == "approved"
    assert len(outbox("seller.approved")) == 1


def test_a_seller_that_keeps_changing_is_a_409_and_stripe_may_deliver_again(api: Any, aws_faults: Any) -> None:
    # given every write of the event loses the race
    headers, seller_id, account_id = _applied(api)
    event = account_updated(account_id, seller_id=seller_id, created=int(time.time()))
    aws_faults.inject("dynamodb", "TransactWriteItems", _seller_changed_meanwhile(), times=3)

    # when
    status, body = deliver(api, event)

    # then nothing changed, and Stripe's next delivery is applied
    assert status == 409, body
    assert body["error"]["code"] == "concurrent_update"
    assert own(api, headers)["status"] == "pending"
    assert outbox("seller.approved") == []
    status, receipt = deliver(api, event)
    assert (status, receipt["outcome"]) == (200, "processed")
    assert own(api, headers)["status"] == "approved"
