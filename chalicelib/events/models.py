"""Outbox items.

Access patterns:
- write: an ``OutboxEvent`` is put in the same TransactWriteItems as the change it
  describes (PK=EVENT#<event_id>, SK=EVENT), so no event exists without its change and
  no change without its event;
- read: never queried; the table stream carries each INSERT of a subscribed type to the
  events queue.
  Items expire by TTL after seven days.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.core.attributes import CompactJSONAttribute
from chalicelib.core.db import TableModel


class OutboxEvent(TableModel):
    event_id = UnicodeAttribute()
    type = UnicodeAttribute()
    version = NumberAttribute(null=True)  # the event model's version; items from before it have none (1)
    occurred_at = UnicodeAttribute()
    payload = CompactJSONAttribute()
    expires_at = NumberAttribute()
