"""What accounts do when domain events arrive (listed in ``chalicelib.events.service.SUBSCRIBERS``)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.mail import EmailMessage, enqueue_email
from chalicelib.core.settings import get_settings

# Sign-ups that get the buyer's welcome mail. Sellers' customer imports do not (those
# people did not sign up with agora themselves), nor do seller and operator accounts
# (sellers have their own onboarding mails).
WELCOME_METHODS = frozenset({"password", "magic_link", "guest_checkout"})
BUSINESS_ROLES = frozenset({"seller", "operator"})


def on_account_created(event: dict[str, Any]) -> None:
    """Welcome the new buyer and, if they asked for the newsletter at registration, mail
    the confirmation link (double opt-in), logged with the registration's source address.

    The event's id keys both, so a redelivered event sends neither twice."""
    payload = event["payload"]
    is_buyer = not payload.get("seller_id") and not BUSINESS_ROLES & set(payload.get("roles", ()))
    if is_buyer and payload.get("method") in WELCOME_METHODS:
        frontend = get_settings().frontend_url.rstrip("/")
        enqueue_email(EmailMessage(
            template="account_welcome", to=payload["email"],
            context={"name": payload.get("name") or "", "sign_in_link": f"{frontend}/sign-in",
                     "guest_checkout": payload.get("method") == "guest_checkout"},
            dedupe_key=f"account_welcome:{payload['user_id']}",
        ))
    if payload.get("newsletter_requested"):
        from chalicelib.accounts import consents
        from chalicelib.accounts.service import get_user

        user = get_user(payload["user_id"])
        if user.is_active:
            consents.request(user, "newsletter", method="registration", source_ip=payload.get("source_ip"),
                             request_id=event["event_id"], at=event.get("occurred_at") or None)
