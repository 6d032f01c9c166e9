"""Scheduled work of the fee domain (bound in app.py): the monthly seller subscription fee."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import Conflict
from chalicelib.core.keys import POSTING_SK, posting_key
from chalicelib.core.logging import logger
from chalicelib.core.money import Money
from chalicelib.ledger.models import PostingRecord
from chalicelib.ledger.postings import subscription_fee_posting
from chalicelib.ledger.service import apply_postings
from chalicelib.sellers.service import list_sellers

SELLERS_PER_PAGE = 99  # + the default schedule = 100 keys: one BatchGetItem of fee policies per page


@dataclass
class SubscriptionRun:
    """What one run did, per seller of the status index."""

    period: str
    sellers: int = 0
    charged: int = 0
    already_charged: int = 0
    no_fee: int = 0  # neither the seller's override nor the default sets one in its currency
    not_yet_due: int = 0  # approved after the month began: the first month is free

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def period_of(moment: datetime) -> str:
    """``YYYY-MM`` of a UTC moment: the month a run charges."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def _month_start(period: str) -> datetime:
    return datetime.strptime(period, "%Y-%m").replace(tzinfo=UTC)


def charge_subscription_fees(period: str, *, page_size: int = SELLERS_PER_PAGE) -> SubscriptionRun:
    """Charge every approved seller the monthly subscription fee of ``period`` (``YYYY-MM``);
    pending, rejected and suspended sellers pay nothing.

    **Which month**: the schedule fires on the 1st (01:00 UTC) and charges the month that is
    starting, in advance, dated 00:00 UTC on the 1st; the fee is the seller's base schedule's
    (its override, else the marketplace default) in the seller's default currency, as it stands
    when the job runs. A seller approved after the month began is first charged the next month.

    **Idempotent per seller and month**: the posting id is ``subscription_fee:<seller>:<period>``
    and the ledger writes a posting id once, so a rerun, a retried Lambda or ``make sweep``
    charges nobody twice (a fee changed between two runs of one month keeps the first amount).

    **Cost and scale**: per page of ``page_size`` approved sellers, one Query of the sellers'
    status index (GSI1, no Scan), one BatchGetItem of their fee schedules, one BatchGetItem of
    the month's posting markers (so a rerun costs reads only), and one TransactWriteItems per
    seller charged (marker + 2 entries + balance). That is ~20 ms per seller: one 15-minute
    Lambda covers some 30,000 sellers. **Fan-out** for very many: the schedule handler would
    only walk the index and send one SQS message per page (seller ids + period) to a queue
    whose handler charges that page with this same logic; redelivered messages are harmless
    because every charge is idempotent, and the queue's concurrency bounds the write rate.
    """
    from chalicelib.fees.service import fee_policies

    run = SubscriptionRun(period=period)
    starts = _month_start(period)
    cursor: str | None = None
    while True:
        page = list_sellers("approved", cursor=cursor, limit=page_size)
        if page.items:
            policies = fee_policies([s.seller_id for s in page.items], [])
            _charge_page(run, page.items, policies, starts)
        cursor = page.next_cursor
        if not cursor:
            break
    logger.info("seller subscription fees", extra=run.to_json())
    return run


def scheduled_run(event_time: str) -> dict[str, Any]:
    """The schedule's entry point: charges the month of the event's ``time`` (when the rule
    fired), so that a retry delivered later still charges the month it was meant for."""
    fired = datetime.strptime(event_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return charge_subscription_fees(period_of(fired)).to_json()


def _charge_page(run: SubscriptionRun, sellers: list[Any], policies: dict[str, Any], starts: datetime) -> None:
    due = []
    for seller in sellers:
        run.sellers += 1
        if seller.approved_at and clock.parse(seller.approved_at) > starts:
            run.not_yet_due += 1
            continue
        currency = Money.zero(seller.default_currency).currency
        fee = policies[seller.seller_id].base_schedule.subscription_fee(currency)
        if fee is None or fee.amount <= 0:
            run.no_fee += 1
            continue
        due.append(subscription_fee_posting(seller.seller_id, period_of(starts), fee, occurred_at=starts))
    charged_before = {r.posting_id for r in PostingRecord.batch_get([(posting_key(p.posting_id), POSTING_SK)
                                                                     for p in due])}
    for posting in due:
        if posting.posting_id in charged_before:
            run.already_charged += 1
            continue
        try:
            applied = apply_postings(posting)
        except Conflict:  # charged meanwhile with another amount (the fee changed): the first charge stands
            logger.warning("subscription fee charged before with another amount",
                           extra={"posting_id": posting.posting_id})
            applied = False
        if applied:
            run.charged += 1
        else:
            run.already_charged += 1
