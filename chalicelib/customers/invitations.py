"""The account side of an imported contact, done asynchronously so that an import's work per
row is the same whether or not the email has an agora account.

``customer.contact_imported`` ({seller_id, customer_id, email}): the person gets an
account if the address has none (``invite_account``: passwordless, ``invited``, without
the seller's name for them) and one mail naming the seller, with a one-time link
(purpose ``customer_invite``, valid ``LIFETIMES["customer_invite"]``: 14 days):
- a new (still invited) account: "<seller> added you to their customers; an agora account
  is ready for this address; take it with this link, no password needed";
- an existing account: "<seller> added you to their customers; confirm to let them
  recognise you; ignore this and they learn nothing about your account".
Invitation mails to one address are paced (INVITE_MAILS: the first, then at most one an
hour, the gap doubling up to a day): a person imported by many sellers at once gets a
few mails, not one per seller; a mail dropped by the pacing leaves that seller's contact
unlinked until the person orders from the seller. Nothing is mailed for a contact that is
already gone (linked by an order meanwhile), nor for a seller that is not approved.

``account.invitation_accepted`` ({user_id, invitation_id}; the id is the link's ``ref``,
``<seller_id>/<customer_id>``): the person used the link, so the contact is linked to
their account (:func:`chalicelib.customers.service.link_contact`, idempotent).
"""

from __future__ import annotations

from chalicelib.accounts.events import InvitationAccepted
from chalicelib.accounts.magic_links import send_link_mail
from chalicelib.accounts.service import invite_account
from chalicelib.core import throttle
from chalicelib.core.errors import NotFound
from chalicelib.core.logging import logger
from chalicelib.customers import service
from chalicelib.customers.events import ContactImported
from chalicelib.customers.models import is_contact_id
from chalicelib.events.registry import Delivered
from chalicelib.sellers.service import get_seller

TEMPLATE = "customer_invite"
INVITE_MAILS = throttle.Pacing("customer-invite-email", first_gap=3600, max_gap=24 * 3600, quiet=2 * 24 * 3600)


def invitation_ref(seller_id: str, customer_id: str) -> str:
    """What the link completes (≤ 100 characters: ids are ~30 each)."""
    return f"{seller_id}/{customer_id}"


def on_contact_imported(delivered: Delivered[ContactImported]) -> None:
    """Round trips: GetItem(contact); the account (GetItem claim + GetItem user, or the
    invited account's TransactWriteItems); GetItem + UpdateItem(pacing); GetItem(seller);
    SQS SendMessage(mail)."""
    imported = delivered.event
    seller_id, customer_id, email = imported.seller_id, imported.customer_id, imported.email
    contact = service.find_customer(seller_id, customer_id)
    if contact is None or contact.linked:
        return
    user, _ = invite_account(email, seller_id=seller_id)
    if user.status not in ("active", "invited"):
        return
    if not throttle.pace(INVITE_MAILS, email):
        logger.info("invitation mail paced: the address was invited a moment ago",
                    extra={"seller_id": seller_id, "customer_id": customer_id})
        return
    try:
        seller = get_seller(seller_id)
    except NotFound:
        return
    if seller.status != "approved":
        return
    send_link_mail(email, template=TEMPLATE, purpose="customer_invite", ref=invitation_ref(seller_id, customer_id),
                   context={"seller_name": seller.display_name, "new_account": user.status == "invited"},
                   dedupe_key=f"{TEMPLATE}:{seller_id}:{customer_id}")


def on_invitation_accepted(delivered: Delivered[InvitationAccepted]) -> None:
    """Link the contact named by the invitation to the account that accepted it."""
    accepted = delivered.event
    seller_id, _, customer_id = accepted.invitation_id.partition("/")
    if not seller_id or not is_contact_id(customer_id):
        logger.warning("not a customer invitation", extra={"invitation_id": accepted.invitation_id})
        return
    service.link_contact(seller_id, customer_id, accepted.user_id)
