"""What happens to sellers' customer records.

Consumer: customers itself invites each imported contact's person (one mail naming the
seller) from ``customer.contact_imported``, outside the import's own request."""

from chalicelib.events.registry import DomainEvent


class ContactImported(DomainEvent):
    """A seller's import added a contact that no account is linked to yet."""

    event_type = "customer.contact_imported"

    seller_id: str
    customer_id: str
    email: str
