"""What happens to buyers' and sellers' accounts, told to the domains above accounts.

Consumers: customers keeps sellers' copies of a buyer's name and email, orders anonymises
an erased buyer's orders, customers links imported contacts to the accounts that accept
their invitations, accounts itself welcomes new buyers, and loyalty awards its sign-up and
newsletter bonuses."""

from chalicelib.events.registry import DomainEvent


class AccountCreated(DomainEvent):
    """A new account (sign-up, passwordless sign-in, guest checkout, a seller's import or
    application). For the welcome mail and the newsletter's double opt-in."""

    event_type = "account.created"

    user_id: str
    email: str
    name: str
    roles: list[str]
    # How it was created: password, magic_link, passwordless, guest_checkout, seller_import, social_login
    # (social_login_unverified: the provider did not verify the email; no welcome mail to it).
    method: str | None = None
    seller_id: str | None = None  # the seller that imported the person, or that the owner runs
    newsletter_requested: bool = False
    source_ip: str | None = None  # where the newsletter was requested, kept as consent's proof
    referred_by: str | None = None  # the buyer whose referral code the sign-up gave (loyalty rewards it)


class AccountUpdated(DomainEvent):
    """The buyer changed their profile; for the sellers' copies of name and email."""

    event_type = "account.updated"

    user_id: str
    changed: list[str]  # the profile fields that changed


class AccountErased(DomainEvent):
    """The buyer's personal data was erased; for everyone who keeps a copy of it."""

    event_type = "account.erased"

    user_id: str
    erased_at: str  # ISO 8601


class InvitationAccepted(DomainEvent):
    """A person used a seller's invitation link; for customers, which links the contact."""

    event_type = "account.invitation_accepted"

    user_id: str
    invitation_id: str  # "<seller_id>/<customer_id>" for a seller's customer invitation


class ConsentGranted(DomainEvent):
    """The person confirmed a consent by the mailed link (double opt-in): for loyalty's
    newsletter bonus."""

    event_type = "account.consent_granted"

    user_id: str
    topic: str  # newsletter
    at: str
