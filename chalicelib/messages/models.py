"""Buyer-seller conversations, their messages, disputes and sellers' performance counters.

Keys (spelt in :mod:`chalicelib.core.keys`)
- ``Conversation``: one item per participant, under the participant's own partition:
  PK=USER#<user_id> (the buyer's copy) or PK=SELLER#<seller_id> (the seller's), SK=CONVERSATION#<id>.
  Each copy holds what its side sees: its unread count, when it read, when it was last
  notified by mail. Another buyer or seller has no copy under its key, so a GetItem under
  the caller's key answers 404 for another party's conversation exactly like a missing one.
  - GSI1: GSI1PK=<owner>#CONVERSATIONS, GSI1SK=<last_message_at>#<id> — a participant's
    conversations by latest activity.
  - GSI2 (sparse, the seller's copy only): GSI2PK=SELLER#<seller_id>#UNANSWERED,
    GSI2SK=<awaiting_since>#<id> — while a buyer waits for the seller's first answer; the
    first answer removes it (and notes ``responded_at`` on the buyer's copy too, so that a
    later buyer message does not put it back).
  The id is derived from what the conversation is about (``conversations.conversation_id``):
  one per sub-order (order id + seller id) and one per buyer and product before a sale, so
  that starting one twice finds the first.
- ``Message``: PK=CONVERSATION#<id>, SK=MESSAGE#<at>#<message_id>. Read only after the
  caller's copy (or, for the operator, an open or resolved dispute naming the conversation)
  was found by key.
- ``Dispute``: PK=DISPUTE#<dispute_id>, SK=DISPUTE; GSI1: GSI1PK=DISPUTES#<status>,
  GSI1SK=<opened_at>#<dispute_id> — the operator's queue, open ones first.
- ``PerformanceDay``: PK=SELLER#<seller_id>, SK=PERF#<yyyy-mm-dd> — a seller's counters of one
  day (UTC), kept with ADD by the performance subscribers; SK=PERF#TOTALS holds what is not
  per day (open disputes). A 90-day report is one Query: PERF#<first day> … PERF#TOTALS.
- ``PerformanceRank``: PK=PERF_RANK#<window>#<measure>#<run stamp>, SK=<value>#<seller_id> — the
  nightly ranking of every seller by one measure (TTL 3 days).
- ``PerformanceSettings``: PK=MARKETPLACE, SK=PERFORMANCE_SETTINGS — the operator's thresholds.

Round trips
- list conversations: 1 Query (GSI1); read one: GetItem + Query of a page of messages -> 2
- post a message: GetItem own copy + TransactWriteItems (message, both copies, event) -> 2
- mark read: UpdateItem conditioned on the copy existing -> 1
- start: GetItem of the order (buyer) or sub-order (seller) or product pointer and product,
  + the post's 2 -> 3-4
- performance report: 1 Query (≤ 91 items of ~200 bytes) + 1 Query of the unanswered
  conversations of the last 90 days (GSI2) -> 2
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.core.db import GSI1, GSI2, TableModel


class Conversation(TableModel):
    conversation_id = UnicodeAttribute()
    side = UnicodeAttribute()  # buyer | seller: whose copy this is
    kind = UnicodeAttribute()  # order | product
    user_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    product_id = UnicodeAttribute(null=True)
    subject = UnicodeAttribute()  # the product's title, or the order's id
    counterpart = UnicodeAttribute(default="")  # the other side's name: the seller's shop or the buyer's name
    created_at = UnicodeAttribute()
    last_message_at = UnicodeAttribute()
    last_message = UnicodeAttribute(default="")  # the first 140 characters of the latest message
    last_sender = UnicodeAttribute(null=True)  # buyer | seller
    messages = NumberAttribute(default=0)
    unread = NumberAttribute(default=0)
    read_at = UnicodeAttribute(null=True)
    notified_at = UnicodeAttribute(null=True)  # the last mail about a new message to this side
    notified_for = UnicodeAttribute(null=True)  # the message that mail was about
    dispute_id = UnicodeAttribute(null=True)
    dispute_status = UnicodeAttribute(null=True)  # open | resolved
    dispute_reason = UnicodeAttribute(null=True)
    dispute_note = UnicodeAttribute(null=True)  # the operator's resolution, for both sides to read
    # on the seller's copy: the buyer's first message waiting for the seller, and when the
    # seller first answered it (the first response time of the seller performance)
    awaiting_since = UnicodeAttribute(null=True)
    responded_at = UnicodeAttribute(null=True)

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    by_activity = GSI1()
    # the seller's copy while a buyer waits for its first answer (sparse): seller performance
    # counts these at their age in the median first response
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    unanswered = GSI2()


class Message(TableModel):
    message_id = UnicodeAttribute()
    conversation_id = UnicodeAttribute()
    sender = UnicodeAttribute()  # buyer | seller
    author_id = UnicodeAttribute()  # the user (or API key) who wrote it
    text = UnicodeAttribute()
    at = UnicodeAttribute()


class Dispute(TableModel):
    dispute_id = UnicodeAttribute()
    conversation_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    status = UnicodeAttribute()  # open | resolved
    opened_at = UnicodeAttribute()
    resolved_at = UnicodeAttribute(null=True)
    resolved_by = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    refund_amount = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    by_status = GSI1()


# Upper bounds (minutes) of the first-response-time histogram's buckets; a median is reported
# as the bound of the bucket it falls in, so it is exact to the bucket (15 min up to an hour,
# then doubling; above 72 h it is "more than 72 h").
RESPONSE_BUCKETS = (15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320)


class PerformanceDay(TableModel):
    """Counters of one seller and day; absent counters are 0. ``r<minutes>`` is the histogram
    of first response times: how many were at most that many minutes (and above the bucket
    before); ``r_more`` those above the last bound (:data:`RESPONSE_BUCKETS`)."""

    paid = NumberAttribute(null=True)  # sub-orders paid that day
    shipped = NumberAttribute(null=True)
    shipped_on_time = NumberAttribute(null=True)
    cancelled_by_seller = NumberAttribute(null=True)
    delivered = NumberAttribute(null=True)
    returns = NumberAttribute(null=True)  # return requests
    disputes_opened = NumberAttribute(null=True)
    r15 = NumberAttribute(null=True)
    r30 = NumberAttribute(null=True)
    r60 = NumberAttribute(null=True)
    r120 = NumberAttribute(null=True)
    r240 = NumberAttribute(null=True)
    r480 = NumberAttribute(null=True)
    r720 = NumberAttribute(null=True)
    r1440 = NumberAttribute(null=True)
    r2880 = NumberAttribute(null=True)
    r4320 = NumberAttribute(null=True)
    r_more = NumberAttribute(null=True)
    open_disputes = NumberAttribute(null=True)  # PERF#TOTALS only
    ratings = NumberAttribute(null=True)  # seller reviews counted, by their publication day
    rating_sum = NumberAttribute(null=True)  # their overall ratings' sum
    expires_at = NumberAttribute(null=True)


class PerformanceRank(TableModel):
    seller_id = UnicodeAttribute()
    value = NumberAttribute()
    expires_at = NumberAttribute()


class PerformanceSettings(TableModel):
    # thresholds on the 30-day figures; None: not checked
    min_on_time_rate_bp = NumberAttribute(null=True)
    max_cancellation_rate_bp = NumberAttribute(null=True)
    max_return_rate_bp = NumberAttribute(null=True)
    max_median_response_minutes = NumberAttribute(null=True)
    max_open_disputes = NumberAttribute(null=True)
    min_orders = NumberAttribute(default=10)  # rates are judged only from this many sub-orders on
    auto_suspend = UnicodeAttribute(null=True)  # "yes": suspend a seller who breaches a threshold
    handling_days = NumberAttribute(default=2)  # for sellers without a default shipping profile
    updated_at = UnicodeAttribute(null=True)
    ranked_at = UnicodeAttribute(null=True)  # the last nightly ranking's run (its partitions' key)
