"""What happens to buyers' loyalty: for mails (the expiry reminder) and for promotions' tier
condition. Consumers arrive with them; only subscribed types are queued."""

from chalicelib.events.registry import DomainEvent


class TierChanged(DomainEvent):
    """A member moved to another tier: up at once when they qualify, down only at their
    yearly re-qualification (after one grace year)."""

    event_type = "loyalty.tier_changed"

    user_id: str
    from_tier: str | None
    to_tier: str | None
    direction: str  # up | down
    at: str


class PointsExpiring(DomainEvent):
    """Points expire in 30 days: a lot's (once per lot), or, under the inactivity policy, all
    the buyer's available points (``lot_id`` None; once per inactivity day). For the reminder
    mail."""

    event_type = "loyalty.points_expiring"

    user_id: str
    lot_id: str | None
    points: int
    expires_at: str
