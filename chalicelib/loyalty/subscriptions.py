"""What loyalty does when the core's events arrive; registered when app.py imports this module.

Each subscriber imports the domain module only when it runs (lazy, for cold start). A
subscriber that fails is retried by the queue; every movement is idempotent by its id, so a
redelivery (or two deliveries at once) changes the points once."""

from __future__ import annotations

from chalicelib.accounts.events import AccountCreated, ConsentGranted
from chalicelib.events.registry import Delivered, subscribe
from chalicelib.orders.contributor_paths import POINTS, register_contributor_later
from chalicelib.orders.events import OrderPaid, OrderStatusChanged, RefundRequested

# points redeemed at checkout, priced after promotions (by path: the cold start loads nothing of it)
register_contributor_later("chalicelib.loyalty.redemption:LoyaltyContributor", POINTS)

# How an account was made by the person themselves: a sign-up bonus is for them, not for a
# guest checkout's account or a seller's imported contact.
SIGN_UP_METHODS = frozenset({"password", "magic_link", "passwordless"})


@subscribe(OrderPaid)
def on_order_paid(paid: Delivered[OrderPaid]) -> None:
    """The points redeemed at its checkout leave their lots (also with the programme off:
    they were taken then); pending points for each seller's part of the order; the order in
    the members' or the non-members' monthly counts (whether the programme is on or not); a
    possible referrer's paying card, for the referral fraud check."""
    from chalicelib.core import clock
    from chalicelib.loyalty import earning, programme, purchases, redemption, referrals  # lazy: cold start

    event = paid.event
    at = clock.stamp(clock.parse(event.paid_at))
    redemption.spend_held(event.user_id, event.order_id, at=at)
    rules = programme.get_programme()
    if rules.enabled:
        for share in event.sellers:
            earning.earn_for_order(event.user_id, event.order_id, share.seller_id, paid_at=at, programme=rules)
    purchases.count_paid(event.user_id, event.order_id, paid_at=at,
                         amounts=[(share.amount, share.currency) for share in event.sellers])
    referrals.record_paying_card(event.user_id, event.order_id, at=at, programme=rules)


@subscribe(OrderStatusChanged)
def on_order_status_changed(changed: Delivered[OrderStatusChanged]) -> None:
    """A completed part (its return window ended): its points become available, and a referred
    buyer's first completion decides their referral."""
    event = changed.event
    if event.to != "completed":
        return
    from chalicelib.core import clock
    from chalicelib.loyalty import earning, referrals  # lazy: cold start

    at = clock.stamp(clock.parse(event.at))
    earning.make_available(event.user_id, event.order_id, event.seller_id, at=at)
    referrals.on_part_completed(event.user_id, event.order_id, at=at)


@subscribe(RefundRequested)
def on_refund_requested(requested: Delivered[RefundRequested]) -> None:
    """A cancellation or an approved return: the part's points go back in proportion, and the
    refund counts against its order's month in the report's member comparison."""
    from chalicelib.core import clock
    from chalicelib.loyalty import earning, purchases  # lazy: cold start

    event = requested.event
    at = clock.stamp(clock.parse(requested.occurred_at)) if requested.occurred_at else clock.stamp()
    earning.reverse_for_refund(event.user_id, event.order_id, event.seller_id, refund_id=event.refund_id,
                               amount=event.amount, at=at)
    purchases.count_refund(event.user_id, event.order_id, event.refund_id, event.amount)


@subscribe(AccountCreated)
def on_account_created(created: Delivered[AccountCreated]) -> None:
    """The sign-up bonus (Startguthaben), once per account; a sign-up (or social login) with a
    referral code becomes the referrer's pending referral."""
    event = created.event
    if "buyer" not in event.roles or (event.method not in SIGN_UP_METHODS and not event.referred_by):
        return
    from chalicelib.core import clock
    from chalicelib.loyalty import earning, referrals  # lazy: cold start

    if event.method in SIGN_UP_METHODS:
        earning.award_event_points(event.user_id, "sign_up", event.user_id)
    if event.referred_by:
        at = clock.stamp(clock.parse(created.occurred_at)) if created.occurred_at else clock.stamp()
        referrals.record(event.user_id, event.referred_by, at=at)


@subscribe(ConsentGranted)
def on_consent_granted(granted: Delivered[ConsentGranted]) -> None:
    """The newsletter bonus once the opt-in is confirmed, once per account whatever the
    later withdrawals and confirmations."""
    event = granted.event
    if event.topic != "newsletter":
        return
    from chalicelib.loyalty import earning  # lazy: cold start

    earning.award_event_points(event.user_id, "newsletter_confirmed", event.user_id)
