"""Shipping profiles: what a seller charges for delivery, per destination zone.

Keys
- ``ShippingProfile``: PK=SELLER#<seller_id>, SK=SHIPPING_PROFILE#<profile_id>. The
  seller's default profile has the fixed id ``default`` (the first one the seller
  creates), so a checkout finds it by key, in the BatchGetItem that reads the profiles its
  products name; other profiles have generated ids (``shp_…``).

Zones are stored as the API shows them (a JSON list: countries, rates as ``{amount,
currency}``, delivery days, threshold); every rate is in the profile's ``currency``, the
seller's default currency.

Access patterns and round trips
- seller: list own profiles (Query PK, SK begins_with SHIPPING_PROFILE#; at most
  ``MAX_PROFILES``, one page) -> 1
- seller: get one (GetItem under the principal's key) -> 1
- seller: create (GetItem of the seller for its currency, the list Query for the cap and
  the default, a Put with ``attribute_not_exists``) -> 3
- seller: change (GetItem of the seller when the zones change, GetItem, Put conditioned on
  the version read) -> 2-3
- seller: delete (Delete conditioned on existence; the default: a GetItem, then 409) -> 1
- catalog: a product naming a profile (a ConditionCheck inside the product's own
  transaction) -> 0 extra
- cart/checkout (next): the profiles a cart's products name and each seller's default
  (``service.profiles_for``: one BatchGetItem by key, per 100 keys) -> 1
- no Scan anywhere
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.db import TableModel

MAX_PROFILES = 20  # per seller: a list stays one Query page, a checkout's read stays small


class ShippingProfile(TableModel):
    seller_id = UnicodeAttribute()
    profile_id = UnicodeAttribute()
    name = UnicodeAttribute()
    currency = UnicodeAttribute()
    handling_days = NumberAttribute(default=0)
    zones = JSONAttribute(default=list)
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
