"""The people behind imported contacts: invited by one mail naming the seller, linked to their
account only by their own confirmation or a paid order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.accounts.events import InvitationAccepted
from chalicelib.accounts.service import find_user_by_email
from chalicelib.core.money import Money
from chalicelib.core.passwords import verify_password
from chalicelib.customers import invitations, service
from chalicelib.customers.models import CustomerOf, contact_id
from chalicelib.events.registry import Delivered
from tests.support.builders import buyer_account
from tests.support.customers import SELLER_A, SELLER_B, customers_by_email
from tests.support.events import pump_events
from tests.support.http import call
from tests.support.mail import deliver_mails, mailed_token

SHOP_A = "Kaffeerösterei Anders"  # SELLER_A's display name (conftest)


def _mails_to(email: str) -> list[dict[str, Any]]:
    """The mails with a one-time link sent to ``email`` (not, say, a buyer's welcome)."""
    return [m for m in deliver_mails() if email in m["to"] and "token=" in (m["body"] or "")]


def _accept(api: Any, email: str) -> None:
    """The person uses the newest link mailed to them; the events it records are handled."""
    status, body, _ = call(api, "POST", "/v1/auth/magic-link/verify", {"token": mailed_token(email)})
    assert status == 200, body
    pump_events()


def test_a_new_person_gets_an_account_ready_to_take_and_using_the_link_links_them(
        api: Any, upload: Any, seller: Any) -> None:
    # given seller A imports Anna, who has no account
    upload("Name,E-Mail\nAnna Berg,anna@example.com\n")

    # when the import's events are handled
    pump_events()

    # then an invited account without her name or any password waits for her, and one mail
    # names the seller and offers it, no password needed
    invited = find_user_by_email("anna@example.com")
    assert (invited.status, invited.name, invited.password_hash, invited.email_verified) == ("invited", "", None,
                                                                                             False)
    [mail] = _mails_to("anna@example.com")
    assert mail["subject"] == f"{SHOP_A} added you to their customers on agora"
    assert "An agora account is ready for this address: take it with this link, no password needed" in mail["body"]
    assert "The link works once and for 14 days" in mail["body"]

    # when she uses the link, then the account is hers and the seller's contact is linked to it
    _accept(api, "anna@example.com")
    account = find_user_by_email("anna@example.com")
    assert (account.user_id, account.status, account.email_verified) == (invited.user_id, "active", True)
    record = customers_by_email(seller)["anna@example.com"]
    assert (record["customer_id"], record["linked"], record["name"]) == (account.user_id, True, "Anna Berg")
    status, _, _ = seller("GET", f"/v1/seller/customers/{contact_id(SELLER_A, 'anna@example.com')}")
    assert status == 404


def test_an_existing_buyer_is_asked_to_confirm_and_linked_only_when_they_do(api: Any, upload: Any,
                                                                            seller: Any) -> None:
    # given Anna has her own account (German, with a password), and seller A imports her
    anna = buyer_account("anna@example.com", name="Anna B.", password="her-own-secret-99", language="de")
    upload("Name,E-Mail\nAnna aus der Datei,anna@example.com\n")

    # when the import's events are handled, she gets the mail for an existing account in German
    pump_events()
    [mail] = _mails_to("anna@example.com")
    assert mail["subject"] == f"{SHOP_A} hat Sie in die Kundenliste bei agora aufgenommen"
    assert f"Wenn Sie diese E-Mail ignorieren, erfährt {SHOP_A} nichts über Ihr Konto." in mail["body"]
    # and until she confirms, the seller has only its contact, and her account gives it nothing
    assert customers_by_email(seller)["anna@example.com"]["linked"] is False
    assert service.pricing_terms(SELLER_A, anna.user_id) == (0, False)

    # when she confirms, then the seller's record is linked to her account, which is unchanged
    _accept(api, "anna@example.com")
    record = customers_by_email(seller)["anna@example.com"]
    assert (record["customer_id"], record["linked"], record["name"]) == (anna.user_id, True, "Anna aus der Datei")
    account = find_user_by_email("anna@example.com")
    assert (account.name, verify_password("her-own-secret-99", account.password_hash)) == ("Anna B.", True)


def test_a_person_imported_by_two_sellers_at_once_gets_one_mail(upload: Any) -> None:
    upload("Name,E-Mail\nAnna,anna@example.com\n")
    upload("Name,E-Mail\nAnna,anna@example.com\n", as_seller=SELLER_B)

    pump_events()

    assert [m["subject"] for m in _mails_to("anna@example.com")] == [f"{SHOP_A} added you to their customers on agora"]


def test_a_paid_order_links_the_contact_keeping_what_the_seller_imported(seller: Any, upload: Any) -> None:
    # given seller A's contact for Anna is in its VIP group and tax exempt
    upload("Name,E-Mail\nAnna aus der Datei,anna@example.com\nBen,ben@example.com\n")
    contact = contact_id(SELLER_A, "anna@example.com")
    _, vip, _ = seller("POST", "/v1/seller/customer-groups", {"name": "VIP", "discount_percent": 5})
    seller("PATCH", f"/v1/seller/customers/{contact}", {"group_id": vip["group_id"], "tax_exempt": True,
                                                        "vat_id": "DE123456789"})
    anna = buyer_account("anna@example.com", name="Anna B.")

    # when Anna pays her first order with seller A
    assert service.record_order(SELLER_A, anna.user_id, "ord_1", Money("EUR", 4200),
                                datetime(2026, 6, 1, tzinfo=UTC)) is True

    # then the contact became her linked record: what the seller imported and set, her order
    status, record, _ = seller("GET", f"/v1/seller/customers/{anna.user_id}")
    assert (status, record) == (200, {
        "customer_id": anna.user_id, "linked": True, "name": "Anna aus der Datei", "email": "anna@example.com",
        "group_id": vip["group_id"], "tax_exempt": True, "tax_exempt_reason": None, "vat_id": "DE123456789",
        "order_count": 1, "total_spent": [{"amount": 4200, "currency": "EUR"}],
        "first_order_at": "2026-06-01T00:00:00Z", "last_order_at": "2026-06-01T00:00:00Z", "source": "import",
        "created_at": record["created_at"]})
    gone, _, _ = seller("GET", f"/v1/seller/customers/{contact}")
    _, members, _ = seller("GET", f"/v1/seller/customers?group={vip['group_id']}")
    _, groups, _ = seller("GET", "/v1/seller/customer-groups")
    assert gone == 404
    assert [c["customer_id"] for c in members["items"]] == [anna.user_id]
    assert groups["items"][0]["member_count"] == 1
    # and checkout gives her the seller's terms, and her record follows her account from now on
    assert service.pricing_terms(SELLER_A, anna.user_id) == (500, True)
    assert CustomerOf.get(f"USER#{anna.user_id}#SELLERS", f"SELLER#{SELLER_A}").seller_id == SELLER_A


def test_accepting_an_invitation_after_an_order_linked_the_contact_changes_nothing(seller: Any,
                                                                                   upload: Any) -> None:
    upload("Name,E-Mail\nAnna,anna@example.com\n")
    anna = buyer_account("anna@example.com")
    service.record_order(SELLER_A, anna.user_id, "ord_1", Money("EUR", 100), datetime(2026, 6, 1, tzinfo=UTC))
    before = customers_by_email(seller)

    invitations.on_invitation_accepted(Delivered(InvitationAccepted(
        user_id=anna.user_id, invitation_id=f"{SELLER_A}/{contact_id(SELLER_A, 'anna@example.com')}"), "evt_1", ""))

    assert customers_by_email(seller) == before


def test_an_invitation_links_only_the_account_of_the_address_it_went_to(seller: Any, upload: Any) -> None:
    upload("Name,E-Mail\nAnna,anna@example.com\n")
    mallory = buyer_account("mallory@example.com")

    invitations.on_invitation_accepted(Delivered(InvitationAccepted(
        user_id=mallory.user_id, invitation_id=f"{SELLER_A}/{contact_id(SELLER_A, 'anna@example.com')}"), "evt_1", ""))

    assert customers_by_email(seller)["anna@example.com"]["linked"] is False
    status, _, _ = seller("GET", f"/v1/seller/customers/{mallory.user_id}")
    assert status == 404
