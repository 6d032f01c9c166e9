"""What accounts do when domain events arrive (registered in ``chalicelib.accounts.subscriptions``)."""

from __future__ import annotations

from chalicelib.accounts.events import AccountCreated
from chalicelib.core.mail import EmailMessage, enqueue_email
from chalicelib.core.settings import get_settings
from chalicelib.events.registry import Delivered

# Sign-ups that get the buyer's welcome mail. Sellers' customer imports do not (those
# people did not sign up with agora themselves), nor do seller and operator accounts
# (sellers have their own onboarding mails).
WELCOME_METHODS = frozenset({"password", "magic_link", "guest_checkout", "social_login"})
BUSINESS_ROLES = frozenset({"seller", "operator"})


def on_account_created(delivered: Delivered[AccountCreated]) -> None:
    """Welcome the new buyer and, if they asked for the newsletter at registration, mail
    the confirmation link (double opt-in), logged with the registration's source address.

    The event's id keys both, so a redelivered event sends neither twice."""
    created = delivered.event
    is_buyer = not created.seller_id and not BUSINESS_ROLES & set(created.roles)
    if is_buyer and created.method in WELCOME_METHODS:
        frontend = get_settings().frontend_url.rstrip("/")
        enqueue_email(EmailMessage(
            template="account_welcome", to=created.email,
            context={"name": created.name or "", "sign_in_link": f"{frontend}/sign-in",
                     "guest_checkout": created.method == "guest_checkout"},
            dedupe_key=f"account_welcome:{created.user_id}",
        ))
    if created.newsletter_requested:
        from chalicelib.accounts import consents
        from chalicelib.accounts.service import get_user

        user = get_user(created.user_id)
        if user.is_active:
            consents.request(user, "newsletter", method="registration", source_ip=created.source_ip,
                             request_id=delivered.event_id, at=delivered.occurred_at or None)
