"""Referrals: a buyer's code and link, a sign-up with it, both buyers' points when the new
buyer's first order completes, none when the two look like one person, the monthly cap, and
once however often the events come."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.auth import operator_headers
from tests.support.builders import ADDRESS, Buyer, Marketplace, register
from tests.support.http import call
from tests.support.mail import queued_mails

REFERRAL_POINTS = 250
PROGRAMME = {"enabled": True, "currency": "EUR", "points_per_unit": 1, "event_points": {"referral": REFERRAL_POINTS}}
VISA, MASTERCARD = "pm_card_visa", "pm_card_mastercard"  # the fake Stripe: 4242…, 5555…: two fingerprints


def set_programme(api: Any, **changes: Any) -> None:
    status, body, _ = call(api, "PUT", "/v1/admin/loyalty/programme", {**PROGRAMME, **changes},
                           headers=operator_headers())
    assert status == 200, body


def referral_of(api: Any, buyer: Buyer) -> dict[str, Any]:
    status, body, _ = call(api, "GET", "/v1/me/loyalty", headers=buyer.headers)
    assert status == 200, body
    return body["referral"]


def referral_points(api: Any, buyer: Buyer) -> int:
    status, body, _ = call(api, "GET", "/v1/me/loyalty/transactions", headers=buyer.headers)
    assert status == 200, body
    return sum(entry["points"] for entry in body["items"] if entry["reason"] == "referral")


def buy(market: Marketplace, buyer: Buyer, card: str, seller_id: str = "sel_a") -> str:
    """The buyer's paid order of one product, paid with ``card``; its order id."""
    if seller_id not in market.accounts:
        market.seller(seller_id)
    market.add(buyer.headers, market.product(seller_id, price=2_000))
    status, body, _ = market.checkout(buyer.headers, payment_method_id=card)
    assert status == 201, body
    market.pay(body)
    return body["order"]["order_id"]


def complete(market: Marketplace, order_id: str, seller_id: str = "sel_a") -> None:
    """The part is delivered and its return window ends."""
    from chalicelib.orders.lifecycle import complete_due

    market.deliver_order(seller_id, order_id)
    complete_due(datetime.now(UTC) + timedelta(days=14, minutes=1))
    market.events()


def decision_of(buyer: Buyer) -> tuple[str, str | None]:
    from chalicelib.core.keys import LOYALTY_REFERRED_BY_SK, user_key
    from chalicelib.loyalty.models import LoyaltyReferredBy

    item = LoyaltyReferredBy.get(user_key(buyer.user_id), LOYALTY_REFERRED_BY_SK)
    return item.status, item.reason


@pytest.fixture
def referrer(market: Marketplace) -> Buyer:
    set_programme(market.api)
    return register(market.api, email="referrer@example.com", name="Rita Werber")


def referred(market: Marketplace, referrer: Buyer, email: str = "newcomer@example.com") -> Buyer:
    """A new buyer signed up with the referrer's code (typed in lower case, with a hyphen)."""
    code = referral_of(market.api, referrer)["code"]
    buyer = register(market.api, email=email, name="Nina Neu", referral_code=f"{code[:4].lower()}-{code[4:]}")
    market.events()
    return buyer


def test_a_buyer_has_one_code_and_a_link_to_share(api: Any, referrer: Buyer) -> None:
    from chalicelib.core.settings import get_settings

    first, again = referral_of(api, referrer), referral_of(api, referrer)

    assert first == again
    assert len(first["code"]) == 8
    assert first["link"] == f"{get_settings().frontend_url.rstrip('/')}/?ref={first['code']}"
    assert (first["referred"], first["rewarded"]) == (0, 0)


def test_an_unknown_code_refuses_the_sign_up(api: Any, referrer: Buyer) -> None:
    status, body, _ = call(api, "POST", "/v1/auth/register", {
        "email": "newcomer@example.com", "password": "correct horse battery", "name": "Nina Neu",
        "referral_code": "NOSUCH99"})

    assert status == 422, body
    assert body["error"]["code"] == "referral_code_unknown"
    assert queued_mails("sign_up_confirm") == []  # nothing was started


def test_both_get_the_referral_points_when_the_new_buyers_first_order_completes(market: Marketplace,
                                                                                referrer: Buyer) -> None:
    newcomer = referred(market, referrer)
    assert referral_of(market.api, referrer)["referred"] == 1

    order_id = buy(market, newcomer, MASTERCARD)
    assert referral_points(market.api, newcomer) == 0  # paid is not enough: the return window must end
    complete(market, order_id)

    assert referral_points(market.api, referrer) == REFERRAL_POINTS
    assert referral_points(market.api, newcomer) == REFERRAL_POINTS
    assert {k: v for k, v in referral_of(market.api, referrer).items() if k in ("referred", "rewarded")} == {
        "referred": 1, "rewarded": 1}
    assert decision_of(newcomer) == ("rewarded", None)

    complete(market, buy(market, newcomer, MASTERCARD))  # a second order earns no second referral bonus
    assert (referral_points(market.api, referrer), referral_points(market.api, newcomer)) == (
        REFERRAL_POINTS, REFERRAL_POINTS)


def test_the_same_card_fingerprint_earns_no_referral_points(market: Marketplace, referrer: Buyer) -> None:
    referral_of(market.api, referrer)  # the code exists: the cards the referrer pays with are kept
    buy(market, referrer, VISA)
    newcomer = referred(market, referrer)

    complete(market, buy(market, newcomer, VISA))  # another PaymentMethod, the same card number

    assert (referral_points(market.api, referrer), referral_points(market.api, newcomer)) == (0, 0)
    assert decision_of(newcomer) == ("refused", "same_card")
    assert referral_of(market.api, referrer)["rewarded"] == 0


def test_the_referrers_address_earns_no_referral_points(market: Marketplace, referrer: Buyer) -> None:
    status, body, _ = call(market.api, "POST", "/v1/me/addresses",
                           {**ADDRESS, "name": "Rita Werber", "line1": "HAUPTSTRASSE 1"}, headers=referrer.headers)
    assert status == 201, body
    newcomer = referred(market, referrer)

    complete(market, buy(market, newcomer, MASTERCARD))  # shipped to ADDRESS: Hauptstraße 1, 10115, DE

    assert (referral_points(market.api, referrer), referral_points(market.api, newcomer)) == (0, 0)
    assert decision_of(newcomer) == ("refused", "same_address")


def test_a_referrer_is_rewarded_for_at_most_the_monthly_cap(market: Marketplace, referrer: Buyer) -> None:
    set_programme(market.api, referrals={"monthly_cap": 1})
    first = referred(market, referrer, "first@example.com")
    second = referred(market, referrer, "second@example.com")

    complete(market, buy(market, first, MASTERCARD))
    complete(market, buy(market, second, MASTERCARD))

    assert referral_points(market.api, referrer) == REFERRAL_POINTS
    assert (referral_points(market.api, first), referral_points(market.api, second)) == (REFERRAL_POINTS, 0)
    assert decision_of(second) == ("refused", "monthly_cap")
    view = referral_of(market.api, referrer)
    assert (view["referred"], view["rewarded"]) == (2, 1)


def test_redelivered_events_change_nothing(market: Marketplace, referrer: Buyer) -> None:
    from chalicelib.events.service import dispatch
    from tests.support.events import outbox

    newcomer = referred(market, referrer)
    complete(market, buy(market, newcomer, MASTERCARD))
    completed = [p for p in outbox("order.status_changed") if p["to"] == "completed"]
    created = [p for p in outbox("account.created") if p["user_id"] == newcomer.user_id]
    assert len(completed) == 1 and len(created) == 1

    for number, (event_type, payload) in enumerate([("order.status_changed", completed[0]),
                                                    ("account.created", created[0])] * 2):
        dispatch({"type": event_type, "payload": payload, "event_id": f"evt_again_{number}", "occurred_at": ""})

    assert (referral_points(market.api, referrer), referral_points(market.api, newcomer)) == (
        REFERRAL_POINTS, REFERRAL_POINTS)
    view = referral_of(market.api, referrer)
    assert (view["referred"], view["rewarded"]) == (1, 1)


@pytest.mark.parametrize(("theirs", "mine", "same"), [
    ("anna.berg@gmail.com", "AnnaBerg+shop@googlemail.com", True),
    ("anna@example.com", "anna+2@example.com", True),
    ("anna.berg@example.com", "annaberg@example.com", False),  # dots matter outside Gmail
    ("anna@example.com", "anna@example.org", False),
])
def test_emails_are_compared_as_one_persons(theirs: str, mine: str, same: bool) -> None:
    from chalicelib.loyalty.referrals import comparable_email

    assert (comparable_email(theirs) == comparable_email(mine)) is same


def test_a_social_login_account_with_a_referrer_is_their_referral(market: Marketplace, referrer: Buyer) -> None:
    from chalicelib.events.service import dispatch

    dispatch({"type": "account.created", "event_id": "evt_social", "occurred_at": "", "payload": {
        "user_id": "usr_social", "email": "sol@example.com", "name": "Sol", "roles": ["buyer"],
        "method": "social_login", "referred_by": referrer.user_id}})

    assert referral_of(market.api, referrer)["referred"] == 1
