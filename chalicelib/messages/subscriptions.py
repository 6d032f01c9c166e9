"""What messages does when events arrive; registered when app.py imports this module.

Each subscriber imports its domain module only when it runs (lazy, for cold start: app.py
imports this module, and ``import app`` loads no PynamoDB). Subscribing to
``order.status_changed`` makes the stream relay queue it (it relays only subscribed types)."""

from __future__ import annotations

from chalicelib.accounts.events import AccountErased
from chalicelib.events.registry import Delivered, subscribe
from chalicelib.messages.events import DisputeOpened, DisputeResolved, MessagePosted
from chalicelib.orders.events import OrderStatusChanged
from chalicelib.reviews.events import SellerRatingCounted


@subscribe(MessagePosted)
def notify_other_side(posted: Delivered[MessagePosted]) -> None:
    """A mail to the other side, at most one per conversation per 15 minutes while unread."""
    from chalicelib.messages import conversations  # lazy: cold start

    conversations.on_message_posted(posted)


@subscribe(MessagePosted)
def count_first_response(posted: Delivered[MessagePosted]) -> None:
    from chalicelib.messages import performance  # lazy: cold start

    performance.on_message_posted(posted)


@subscribe(OrderStatusChanged)
def count_fulfilment(moved: Delivered[OrderStatusChanged]) -> None:
    """Paid, shipped (on time or not), cancelled by the seller, delivered, return requested."""
    from chalicelib.messages import performance  # lazy: cold start

    performance.on_status_changed(moved)


@subscribe(SellerRatingCounted)
def count_seller_rating(counted: Delivered[SellerRatingCounted]) -> None:
    """The seller's windowed average rating, from its seller reviews."""
    from chalicelib.messages import performance  # lazy: cold start

    performance.on_seller_rating_counted(counted)


@subscribe(DisputeOpened)
def count_dispute_opened(opened: Delivered[DisputeOpened]) -> None:
    from chalicelib.messages import performance  # lazy: cold start

    performance.on_dispute_opened(opened)


@subscribe(DisputeResolved)
def count_dispute_resolved(resolved: Delivered[DisputeResolved]) -> None:
    from chalicelib.messages import performance  # lazy: cold start

    performance.on_dispute_resolved(resolved)


@subscribe(AccountErased)
def erase_buyer_messages(erased: Delivered[AccountErased]) -> None:
    """What an erased buyer wrote, and the buyer's name on sellers' copies, replaced."""
    from chalicelib.messages import conversations  # lazy: cold start

    conversations.on_account_erased(erased)
