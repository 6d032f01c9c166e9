"""What happens to sellers and to the marketplace's admission of them.

Consumers: sellers itself approves waiting sellers when the marketplace opens
(``marketplace.settings_changed``, then ``sellers.approval_sweep`` step by step); the
others are an audit trail for the operator and for the retention packages to come."""

from typing import Any

from chalicelib.events.registry import DomainEvent


class SellerApplied(DomainEvent):
    """A business confirmed its application; it waits for approval."""

    event_type = "seller.applied"

    seller_id: str
    business_name: str
    contact_email: str
    country: str
    owner_user_id: str


class SellerStandingChanged(DomainEvent):
    """A seller's standing moved (by an operator, or by Stripe onboarding in an open marketplace)."""

    seller_id: str
    status: str
    previous_status: str
    by: str | None  # the operator, or what moved it (``stripe_onboarding``, ``marketplace_opened``)
    reason: str | None
    contact_email: str  # where the seller hears about it


class SellerApproved(SellerStandingChanged):
    event_type = "seller.approved"


class SellerRejected(SellerStandingChanged):
    event_type = "seller.rejected"


class SellerSuspended(SellerStandingChanged):
    event_type = "seller.suspended"


class SellerReinstated(SellerStandingChanged):
    event_type = "seller.reinstated"


class SellerPaymentsChanged(DomainEvent):
    """Stripe enabled or disabled charges or payouts on the seller's connected account."""

    event_type = "seller.payments_changed"

    seller_id: str
    charges_enabled: bool
    payouts_enabled: bool
    requirements_due: list[str]


class ApiKeyCreated(DomainEvent):
    """A seller user created an API key (the audit trail of the seller's keys)."""

    event_type = "seller.api_key_created"

    seller_id: str
    key_id: str
    name: str
    scopes: list[str]
    by: str | None  # the user who created it


class ApiKeyRevoked(DomainEvent):
    event_type = "seller.api_key_revoked"

    seller_id: str
    key_id: str
    by: str | None


class MarketplaceSettingsChanged(DomainEvent):
    """The operator changed who may join and who may browse; opening the marketplace to
    sellers starts the approval of those waiting (sellers' own subscriber)."""

    event_type = "marketplace.settings_changed"

    seller_access: str
    buyer_access: str
    by: str | None
    previous_seller_access: str
    previous_buyer_access: str
    payment_methods: list[str] | None = None  # the methods checkout offers (absent on events before them)


class ApprovalSweep(DomainEvent):
    """The next step of approving waiting sellers, each in a fresh invocation (sellers' own)."""

    event_type = "sellers.approval_sweep"

    start: dict[str, Any] | None  # where the previous step stopped (a LastEvaluatedKey)
