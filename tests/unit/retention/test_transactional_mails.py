"""The order mails buyers and sellers get: what they show, in whose language, once each."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.retention.formatting import format_money
from chalicelib.retention.order_mails import tracking_link
from tests.support.builders import Marketplace
from tests.support.events import outbox
from tests.support.http import call
from tests.support.mail import deliver_mails

TIMES = "\N{MULTIPLICATION SIGN}"  # the mails write quantities as "2 <times> Boot"
# 2 x 20.00 EUR incl. 19 % VAT a seller: 33 points a part (tests/unit/loyalty/test_earning.py)
PROGRAMME = {"enabled": True, "currency": "EUR", "points_per_unit": 1, "point_value": {"points": 100, "amount": 100}}


@pytest.fixture(autouse=True)
def _stripe(fake_stripe: str) -> str:
    return fake_stripe


def mails_to(address: str, subject_start: str = "") -> list[dict[str, Any]]:
    """The mails sent to ``address`` so far (the queue sent first) whose subject starts so."""
    return [m for m in deliver_mails()
            if [a.lower() for a in m["to"]] == [address.lower()] and m["subject"].startswith(subject_start)]


def eur(amount: int, language: str = "en") -> str:
    return format_money(amount, "EUR", language)


def _two_seller_order(market: Marketplace, *, buyer_email: str, language: str | None = None) -> dict[str, Any]:
    """A paid order of 2 x 20.00 EUR from each of sel_a and sel_b, titled per seller."""
    buyer = market.buyer(buyer_email)
    if language:
        status, body, _ = call(market.api, "PATCH", "/v1/me", {"language": language}, headers=buyer)
        assert status == 200, body
    for seller_id in ("sel_a", "sel_b"):
        market.seller(seller_id)
        market.add(buyer, market.product(seller_id, price=2_000, title=f"Boot of {seller_id}"), 2)
    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")
    assert status == 201, body
    market.pay(body)
    return market.order_of_buyer(buyer, body["order"]["order_id"])


# --- money --------------------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "currency", "language", "written"), [
    (123_450, "EUR", "de", "1.234,50 €"),
    (123_450, "EUR", "en", "€1,234.50"),
    (5, "EUR", "de", "0,05 €"),
    (-2_000, "EUR", "en", "-€20.00"),
    (123_456_789, "GBP", "en", "£1,234,567.89"),
    (1_234, "JPY", "de", "1.234 ¥"),
    (9_950, "CHF", "de", "99,50 CHF"),
    (9_950, "CHF", "en", "CHF 99.50"),
    (9_950, "EUR", "fr", "€99.50"),  # a language we have no texts for reads English
])
def test_amounts_are_written_as_the_reader_writes_them(amount: int, currency: str, language: str,
                                                       written: str) -> None:
    assert format_money(amount, currency, language) == written


def test_a_float_is_not_money() -> None:
    with pytest.raises(TypeError):
        format_money(12.5, "EUR", "en")  # type: ignore[arg-type]


# --- order paid ---------------------------------------------------------------------------

def test_the_buyer_gets_one_confirmation_with_each_sellers_lines_and_the_total(market: Marketplace) -> None:
    order = _two_seller_order(market, buyer_email="anna@example.com")

    [mail] = mails_to("anna@example.com", "Your agora order")

    assert mail["subject"] == f"Your agora order {order['order_id']} is confirmed"
    assert mail["headers"]["Content-Language"] == "en"
    body = mail["body"]
    for part in order["sellers"]:
        assert f"From Shop {part['seller_id']}:\n  2 {TIMES} Boot of {part['seller_id']}: {eur(4_000)}\n" in body
        assert f"  Together: {eur(part['total']['amount'])}\n" in body
    assert f"Goods: {eur(order['subtotal']['amount'])}\n" in body
    assert f"Total paid: {eur(order['total']['amount'])} (including {eur(order['tax']['amount'])} VAT)" in body
    assert order["total"]["amount"] == 8_000
    assert "Hauptstraße 1\n  10115 Berlin" in body
    assert "loyalty points" not in body  # the programme is off: nothing earned, nothing said
    assert f"<b>{eur(8_000)}</b>" in mail["html"]


def test_the_confirmation_names_the_points_the_order_earned(market: Marketplace) -> None:
    from tests.support.auth import operator_headers

    status, body, _ = call(market.api, "PUT", "/v1/admin/loyalty/programme", PROGRAMME, headers=operator_headers())
    assert status == 200, body
    _two_seller_order(market, buyer_email="anna@example.com")

    [mail] = mails_to("anna@example.com", "Your agora order")

    assert "You earn 66 loyalty points with this order." in mail["body"]


def test_a_german_buyer_gets_the_confirmation_in_german_with_german_amounts(market: Marketplace) -> None:
    buyer = market.buyer("kaeufer@example.com")
    status, body, _ = call(market.api, "PATCH", "/v1/me", {"language": "de"}, headers=buyer)
    assert status == 200, body
    market.seller("sel_a")
    market.add(buyer, market.product("sel_a", price=61_725, title="Wanderschuh"), 2)
    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")
    assert status == 201, body
    market.pay(body)
    vat = market.order_of_buyer(buyer, body["order"]["order_id"])["tax"]["amount"]

    [mail] = mails_to("kaeufer@example.com", "Ihre agora-Bestellung")

    assert mail["headers"]["Content-Language"] == "de"
    assert f"  2 {TIMES} Wanderschuh: 1.234,50 €\n" in mail["body"]
    assert f"Bezahlt: 1.234,50 € (inkl. {eur(vat, 'de')} MwSt.)" in mail["body"]


def test_each_seller_sees_its_own_part_and_nothing_of_the_others(market: Marketplace) -> None:
    order = _two_seller_order(market, buyer_email="anna@example.com")
    parts = {part["seller_id"]: part for part in order["sellers"]}

    for seller_id, other in (("sel_a", "sel_b"), ("sel_b", "sel_a")):
        [mail] = mails_to(f"{seller_id}@example.com", "New paid order")
        seller_view = market.order_of_seller(seller_id, order["order_id"])
        payout = seller_view["total"]["amount"] + seller_view["marketplace_discount"]["amount"] \
            - seller_view["fee"]["amount"]

        assert mail["subject"] == f"New paid order {order['order_id']}: {eur(parts[seller_id]['total']['amount'])}"
        assert f"2 {TIMES} Boot of {seller_id}: {eur(4_000)}" in mail["body"]
        assert f"You receive: {eur(payout)}" in mail["body"]
        assert "Hauptstraße 1" in mail["body"]
        for text in (mail["body"], mail["html"]):
            assert f"Boot of {other}" not in text
            assert f"Shop {other}" not in text
            assert eur(order["total"]["amount"]) not in text  # the whole order's total is the buyer's


def test_a_redelivered_payment_mails_nobody_twice(market: Marketplace) -> None:
    from chalicelib.events.registry import Delivered
    from chalicelib.orders.events import OrderPaid
    from chalicelib.retention import order_mails

    _two_seller_order(market, buyer_email="anna@example.com")
    deliver_mails()
    paid = Delivered(event=OrderPaid.model_validate(outbox("order.paid")[0]), event_id="evt-again", occurred_at="")

    order_mails.on_order_paid(paid)  # the subscriber run again (a crash after queueing, a second event)
    order_mails.on_order_paid(paid)

    assert len(mails_to("anna@example.com", "Your agora order")) == 1
    assert len(mails_to("sel_a@example.com", "New paid order")) == 1
    assert len(mails_to("sel_b@example.com", "New paid order")) == 1


def test_a_mail_message_delivered_twice_is_sent_once(market: Marketplace) -> None:
    from chalicelib.retention.service import deliver
    from tests.support.mail import queued_mails

    buyer = market.buyer("anna@example.com")
    market.seller("sel_a")
    market.add(buyer, market.product("sel_a"))
    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")
    assert status == 201, body
    market.pay(body)
    [confirmation] = queued_mails("order_confirmation")

    assert deliver(confirmation) is True
    assert deliver(confirmation) is False
    assert len(mails_to("anna@example.com", "Your agora order")) == 1


def test_html_is_escaped_and_text_is_not(market: Marketplace) -> None:
    buyer = market.buyer("anna@example.com")
    market.seller("sel_a")
    market.add(buyer, market.product("sel_a", title='Tom & Jerry <b>"Deluxe"</b>'))
    status, body, _ = market.checkout(buyer, payment_method_id="pm_card_visa")
    assert status == 201, body
    market.pay(body)

    [mail] = mails_to("anna@example.com", "Your agora order")

    assert f"1 {TIMES} Tom & Jerry <b>\"Deluxe\"</b>:" in mail["body"]
    assert "Tom &amp; Jerry &lt;b&gt;&#34;Deluxe&#34;&lt;/b&gt;" in mail["html"]
    assert "<b>\"Deluxe\"" not in mail["html"]


# --- fulfilment ---------------------------------------------------------------------------

def test_shipped_names_the_carrier_and_links_its_tracking(market: Marketplace) -> None:
    placed = market.order_in_state("shipped")
    email = placed["order"]["email"]

    [mail] = mails_to(email, "Your order")

    assert mail["subject"] == f"Your order {placed['order']['order_id']} from Shop sel_a is on its way"
    assert "Carrier: DHL\nTracking number: JJD0001\n" in mail["body"]
    link = "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=JJD0001"
    assert f"Follow your parcel: {link}" in mail["body"]
    assert f'<a href="{link}">' in mail["html"]


def test_an_unknown_carrier_gets_its_number_and_no_link(market: Marketplace) -> None:
    placed = market.order_in_state("paid")
    order_id = placed["order"]["order_id"]
    assert market.act("sel_a", order_id, "accept")[0] == 200
    assert market.act("sel_a", order_id, "ship", {"carrier": "Kurier Müller", "tracking_number": "KM 7/1"})[0] == 200
    market.events()

    [mail] = mails_to(placed["order"]["email"], f"Your order {order_id}")

    assert "Carrier: Kurier Müller\nTracking number: KM 7/1\n" in mail["body"]
    assert "Follow your parcel" not in mail["body"]


@pytest.mark.parametrize(("carrier", "link"), [
    ("DHL", "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=00340434"),
    ("  dpd ", "https://tracking.dpd.de/status/de_DE/parcel/00340434"),
    ("Deutsche Post", "https://www.deutschepost.de/de/s/sendungsverfolgung.html?piececode=00340434"),
    ("Pony Express", None),
])
def test_tracking_links_of_the_known_carriers(carrier: str, link: str | None) -> None:
    assert tracking_link(carrier, "00340434") == link


def test_a_tracking_number_cannot_change_the_link() -> None:
    assert tracking_link("UPS", "1Z&x=<y>") == "https://www.ups.com/track?tracknum=1Z%26x%3D%3Cy%3E"


def test_delivered_says_how_long_a_return_is_possible(market: Marketplace) -> None:
    placed = market.order_in_state("delivered")
    order_id = placed["order"]["order_id"]

    [mail] = mails_to(placed["order"]["email"], f"Your order {order_id} from Shop sel_a has been delivered")

    assert "You can return it within 14 days" in mail["body"]
    assert len(mails_to(placed["order"]["email"], f"Your order {order_id} from Shop sel_a is on its way")) == 1


# --- returns and refunds ------------------------------------------------------------------

def test_a_return_mails_the_seller_then_the_buyer_approval_and_refund(market: Marketplace) -> None:
    placed = market.order_in_state("refunded", quantity=2)
    order = placed["order"]
    order_id, email = order["order_id"], order["email"]

    [requested] = mails_to("sel_a@example.com", "Return requested")
    [approved] = mails_to(email, "Your return")
    [refund] = mails_to(email, "Your refund")

    assert requested["subject"] == f"Return requested for order {order_id}"
    assert '\nReason: "Too small"\n' in requested["body"]
    assert f"  2 {TIMES} " in requested["body"]
    assert approved["subject"] == f"Your return for order {order_id} has been approved"
    assert order["amount_refunded"]["amount"] == 4_000
    assert refund["subject"] == f"Your refund of {eur(4_000)} for order {order_id}"
    assert "for the returned items of your order" in refund["body"]


def test_a_sellers_cancellation_mails_the_refund(market: Marketplace) -> None:
    placed = market.order_in_state("paid")
    order_id = placed["order"]["order_id"]

    assert market.act("sel_a", order_id, "cancel", {"reason": "out of stock"})[0] == 200
    market.events()

    [refund] = mails_to(placed["order"]["email"], "Your refund")
    assert refund["subject"] == f"Your refund of {eur(2_000)} for order {order_id}"
    assert "for the cancelled items of your order" in refund["body"]


def test_a_refund_not_yet_carried_out_is_not_mailed_yet(market: Marketplace) -> None:
    from chalicelib.core.keys import refund_sk, user_key
    from chalicelib.events.registry import Delivered
    from chalicelib.orders.events import RefundRequested
    from chalicelib.orders.models import Refund
    from chalicelib.retention import order_mails

    placed = market.order_in_state("paid")
    order_id = placed["order"]["order_id"]
    assert market.act("sel_a", order_id, "cancel", {"reason": "out of stock"})[0] == 200
    [payload] = outbox("order.refund_requested")  # not yet handed to orders, which carries it out
    requested = RefundRequested.model_validate(payload)
    refund = Refund.get(user_key(requested.user_id), refund_sk(order_id, requested.refund_id))
    assert refund.status == "requested"

    with pytest.raises(order_mails.RefundNotYetIssued):
        order_mails.on_refund_requested(Delivered(event=requested, event_id="evt-early", occurred_at=""))
    assert mails_to(placed["order"]["email"], "Your refund") == []
