"""The marker of a buyer's first paid order with the marketplace, written on ``order.paid``.

One item per buyer key (:class:`chalicelib.accounts.models.FirstPaidOrder`): the account the
order belongs to and the normalised email it was placed with, so a buyer who paid once as a
guest is known when signed in, and the other way round. Each is set only where absent, so a
redelivered event, or a later order, leaves the first one as it is. GetItem order +
TransactWriteItems of the two markers. The email's mark goes when the account is erased
(:func:`forget_emails`, from :mod:`chalicelib.orders.privacy`).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress

from chalicelib.accounts.emails import normalise_email
from chalicelib.accounts.models import FirstPaidOrder
from chalicelib.core.db import LabelledTransaction
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.core.keys import FIRST_ORDER_SK, first_order_key
from chalicelib.events.registry import Delivered
from chalicelib.orders.events import OrderPaid
from chalicelib.orders.lifecycle import get_order


def buyer_keys(user_id: str | None, email: str | None) -> list[str]:
    """Whose first order this is: the account and the normalised email (an email that is not
    valid counts by the account alone)."""
    keys = [user_id] if user_id else []
    if email:
        with suppress(ValidationFailed):
            keys.append(normalise_email(email))
    return list(dict.fromkeys(keys))


def record_first_order(paid: OrderPaid) -> None:
    try:
        order = get_order(paid.user_id, paid.order_id)
    except NotFound:  # not a checkout's order
        return
    transaction = LabelledTransaction()
    for key in buyer_keys(order.user_id, order.email):
        marker = FirstPaidOrder(first_order_key(key), FIRST_ORDER_SK)
        transaction.update(key, marker, [FirstPaidOrder.buyer_key.set(key),
                                         FirstPaidOrder.order_id.set(FirstPaidOrder.order_id | paid.order_id),
                                         FirstPaidOrder.paid_at.set(FirstPaidOrder.paid_at | paid.paid_at)])
    transaction.commit()


def forget_emails(emails: Iterable[str]) -> None:
    """An erased buyer's email marks go (the account's stays: it names no one). One
    TransactWriteItems; deleting what is gone already is no error."""
    keys = [key for email in emails for key in buyer_keys(None, email)]
    if not keys:
        return
    transaction = LabelledTransaction()
    for key in dict.fromkeys(keys):
        transaction.delete(key, FirstPaidOrder(first_order_key(key), FIRST_ORDER_SK))
    transaction.commit()


def on_order_paid(delivered: Delivered[OrderPaid]) -> None:
    record_first_order(delivered.event)
