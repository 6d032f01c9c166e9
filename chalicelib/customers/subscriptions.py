"""What customers does when events arrive; registered when app.py imports this module.

Each subscriber imports its domain module only when it runs (lazy, for cold start: app.py
imports this module, and ``import app`` loads no PynamoDB). ``marker`` keeps the names the
once-markers had before events were typed, so an event redelivered across that deploy is
not handled twice. ``order.paid`` is subscribed by its type's name: orders sits above
customers, so its model is not imported here (the registry parses it all the same)."""

from __future__ import annotations

from typing import Any

from chalicelib.accounts.events import AccountErased, AccountUpdated, InvitationAccepted
from chalicelib.customers.events import ContactImported
from chalicelib.events.registry import Delivered, subscribe


@subscribe("order.paid", marker="chalicelib.customers.service:on_order_paid")
def on_order_paid(paid: Delivered[Any]) -> None:
    """The buyer becomes each paid seller's customer."""
    from chalicelib.customers import service  # lazy: cold start

    service.on_order_paid(paid)


@subscribe(AccountUpdated, AccountErased, marker="chalicelib.customers.service:on_account_updated")
def on_account_updated(changed: Delivered[AccountUpdated | AccountErased]) -> None:
    """Sellers' copies of the buyer's name and email follow the account."""
    from chalicelib.customers import service  # lazy: cold start

    service.on_account_updated(changed)


@subscribe(ContactImported, marker="chalicelib.customers.invitations:on_contact_imported")
def on_contact_imported(imported: Delivered[ContactImported]) -> None:
    from chalicelib.customers import invitations  # lazy: cold start

    invitations.on_contact_imported(imported)


@subscribe(InvitationAccepted, marker="chalicelib.customers.invitations:on_invitation_accepted")
def on_invitation_accepted(accepted: Delivered[InvitationAccepted]) -> None:
    from chalicelib.customers import invitations  # lazy: cold start

    invitations.on_invitation_accepted(accepted)
