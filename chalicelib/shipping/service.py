"""Sellers' shipping profiles: create, read, change, delete; and their form for the quote engine.

Every profile lives under the seller's own key, taken from the caller's principal: another
seller's profile is "not found" like a missing one. The first profile a seller creates is
its default (id ``default``), which can be changed but not deleted, so a seller with
profiles always has one that every product without a profile of its own ships with.
A seller without any profile ships everywhere for free (see :mod:`chalicelib.shipping.engine`).
Deleting a profile rewrites no product: a product naming a missing profile ships with the
default. Round trips per operation are listed in :mod:`chalicelib.shipping.models`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pynamodb.exceptions import DeleteError, PutError

from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, Stale, get_item, retrying, was_condition_failure
from chalicelib.core.errors import Code, Conflict, FieldProblem, NotFound, ValidationFailed
from chalicelib.core.ids import has_prefix, new_id
from chalicelib.core.keys import DEFAULT_SHIPPING_PROFILE, SHIPPING_PROFILE_PREFIX, seller_key, shipping_profile_sk
from chalicelib.core.money import Money
from chalicelib.sellers.service import get_seller
from chalicelib.shipping import engine
from chalicelib.shipping.models import MAX_PROFILES, ShippingProfile
from chalicelib.shipping.schemas import ProfileCreate, ProfilePatch, ZoneIn

ID_PREFIX = "shp"


def profile_not_found() -> NotFound:
    """One error for "missing" and "someone else's", so ids leak nothing."""
    return NotFound("No such shipping profile.", code=Code.SHIPPING_PROFILE_NOT_FOUND)


def is_profile_id(profile_id: str) -> bool:
    """Whether ``profile_id`` could name a profile (``default`` or a generated id)."""
    return profile_id == DEFAULT_SHIPPING_PROFILE or has_prefix(profile_id, ID_PREFIX)


# --- reading -----------------------------------------------------------------------------

def list_profiles(seller_id: str) -> list[ShippingProfile]:
    """The seller's profiles, the default first, then oldest first (1 Query: at most
    ``MAX_PROFILES``, one page)."""
    found = list(ShippingProfile.query(seller_key(seller_id), ShippingProfile.SK.startswith(SHIPPING_PROFILE_PREFIX),
                                       consistent_read=True))
    return sorted(found, key=lambda p: (p.profile_id != DEFAULT_SHIPPING_PROFILE, p.profile_id))


def get_profile(seller_id: str, profile_id: str) -> ShippingProfile:
    """A seller's own profile (GetItem under the seller's key: 1 round trip)."""
    if not is_profile_id(profile_id):
        raise profile_not_found()
    return get_item(ShippingProfile, seller_key(seller_id), shipping_profile_sk(profile_id), profile_not_found(),
                    consistent_read=True)


# --- writing -----------------------------------------------------------------------------

def _zones(seller_id: str, zones: list[ZoneIn]) -> tuple[str, list[dict[str, Any]]]:
    """The seller's currency and the zones as stored, once every rate is in that currency
    and every country in one zone (1 GetItem of the seller)."""
    currency = str(get_seller(seller_id).default_currency)
    problems: list[FieldProblem] = []
    seen: dict[str, int] = {}
    for z, zone in enumerate(zones):
        for country in zone.countries:
            if country in seen:
                problems.append({"field": f"body.zones.{z}.countries", "type": "country_in_two_zones",
                                 "message": f"{country} is already in zone {seen[country]}"})
            seen.setdefault(country, z)
    if problems:
        raise ValidationFailed("A country may be in one zone of a profile only.", code=Code.COUNTRY_IN_TWO_ZONES,
                               details=problems)
    stored = [zone.model_dump(mode="json") for zone in zones]
    wrong: list[FieldProblem] = [
        {"field": f"body.zones.{z}.{path}", "message": f"rates of this seller are in {currency}",
         "type": "shipping_currency"}
        for z, zone in enumerate(stored) for path, money in _rates(zone) if money["currency"] != currency]
    if wrong:
        raise ValidationFailed(f"Shipping rates are in your default currency, {currency}.",
                               code=Code.SHIPPING_CURRENCY, details=wrong)
    return currency, stored


def _rates(zone: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    for path in ("standard", "per_extra_item", "free_shipping_threshold"):
        if zone.get(path) is not None:
            yield path, zone[path]
    if zone.get("express") is not None:
        yield "express.rate", zone["express"]["rate"]


def create_profile(seller_id: str, data: ProfileCreate) -> ShippingProfile:
    """GetItem of the seller + Query of its profiles + a Put that creates only (a lost race
    for the default re-reads and takes a generated id)."""
    currency, zones = _zones(seller_id, data.zones)

    def attempt() -> ShippingProfile:
        existing = list_profiles(seller_id)
        if len(existing) >= MAX_PROFILES:
            raise ValidationFailed(f"A seller keeps at most {MAX_PROFILES} shipping profiles; delete one first.",
                                   code=Code.SHIPPING_PROFILES_FULL,
                                   details=[{"field": "body", "message": f"at most {MAX_PROFILES} profiles",
                                             "type": "shipping_profiles_full"}])
        has_default = any(p.profile_id == DEFAULT_SHIPPING_PROFILE for p in existing)
        profile_id, now = new_id(ID_PREFIX) if has_default else DEFAULT_SHIPPING_PROFILE, clock.stamp()
        profile = ShippingProfile(PK=seller_key(seller_id), SK=shipping_profile_sk(profile_id), seller_id=seller_id,
                                  profile_id=profile_id, name=data.name, currency=currency,
                                  handling_days=data.handling_days, zones=zones, version=1, created_at=now,
                                  updated_at=now)
        try:
            profile.save(condition=ShippingProfile.PK.does_not_exist())
        except PutError as error:
            if was_condition_failure(error):
                raise Stale from None
            raise
        return profile

    return retrying(attempt, what="shipping profiles")


def update_profile(seller_id: str, profile_id: str, patch: ProfilePatch) -> ShippingProfile:
    """(GetItem of the seller when zones change) + GetItem + a Put conditioned on the version
    read (re-read and re-applied on a lost race); no write when nothing changes."""
    changes: dict[str, Any] = patch.model_dump(exclude_unset=True, exclude={"zones"})
    if "zones" in patch.model_fields_set:
        changes["currency"], changes["zones"] = _zones(seller_id, patch.zones)

    def attempt() -> ShippingProfile:
        old = get_profile(seller_id, profile_id)
        if all(getattr(old, field) == value for field, value in changes.items()):
            return old
        new = ShippingProfile.from_raw_data(old.serialize())
        for field, value in changes.items():
            setattr(new, field, value)
        new.version, new.updated_at = int(old.version) + 1, clock.stamp()
        try:
            new.save(condition=ShippingProfile.version == old.version)
        except PutError as error:
            if was_condition_failure(error):
                raise Stale from None
            raise
        return new

    return retrying(attempt, what="shipping profile")


def delete_profile(seller_id: str, profile_id: str) -> None:
    """A Delete conditioned on existence (the default: a GetItem, then 409). Products naming
    the profile ship with the default from now on; none is rewritten."""
    if profile_id == DEFAULT_SHIPPING_PROFILE:
        get_profile(seller_id, profile_id)  # a missing default is 404 like any missing profile
        raise Conflict("The default shipping profile cannot be deleted; change it instead.",
                       code=Code.DEFAULT_SHIPPING_PROFILE)
    if not is_profile_id(profile_id):
        raise profile_not_found()
    try:
        ShippingProfile(PK=seller_key(seller_id), SK=shipping_profile_sk(profile_id)).delete(
            condition=ShippingProfile.PK.exists())
    except DeleteError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise profile_not_found() from None
        raise


def check_profile(transaction: LabelledTransaction, label: str, seller_id: str, profile_id: str) -> None:
    """Make ``transaction`` hold only while the seller has the profile (a ConditionCheck: no
    extra round trip); a failed ``label`` means it does not."""
    transaction.check(label, ShippingProfile, seller_key(seller_id), shipping_profile_sk(profile_id),
                      ShippingProfile.PK.exists())


# --- the quote engine's view -------------------------------------------------------------

def profile_keys(named: Mapping[str, Iterable[str | None]]) -> list[tuple[str, str]]:
    """The keys of the profiles ``named`` (seller id -> the products' profile ids, None for
    the default) and of each seller's default, to read with a caller's other items."""
    return sorted({(seller_key(seller_id), shipping_profile_sk(profile_id))
                   for seller_id, profile_ids in named.items()
                   for profile_id in {DEFAULT_SHIPPING_PROFILE, *(p for p in profile_ids if p is not None)}
                   if is_profile_id(profile_id)})


def profiles_from(seller_ids: Iterable[str], found: Iterable[ShippingProfile]) -> dict[str, dict[str, engine.Profile]]:
    """The profiles a read of :func:`profile_keys` ``found``, per seller (``{}``: the seller
    has none of them and ships everywhere for free)."""
    profiles: dict[str, dict[str, engine.Profile]] = {seller_id: {} for seller_id in seller_ids}
    for profile in found:
        profiles.setdefault(profile.seller_id, {})[profile.profile_id] = engine_profile(profile)
    return profiles


def profiles_for(named: Mapping[str, Iterable[str | None]]) -> dict[str, dict[str, engine.Profile]]:
    """What :func:`chalicelib.shipping.engine.quote` needs for each seller of a cart: the
    profiles its products name (``named``: seller id -> the products' profile ids, None for
    the default) and its default, read by key in one BatchGetItem (per 100 keys), never a
    Query. A seller without any of them maps to ``{}``: it ships everywhere for free."""
    keys = profile_keys(named)
    return profiles_from(named, ShippingProfile.batch_get(keys) if keys else [])


def _money(value: dict[str, Any] | None) -> Money | None:
    return None if value is None else Money(value["currency"], int(value["amount"]))


def engine_profile(profile: ShippingProfile) -> engine.Profile:
    """A stored profile as :func:`chalicelib.shipping.engine.quote` reads it."""
    zones = []
    for zone in profile.zones:
        express = zone.get("express")
        standard = _money(zone["standard"])
        assert standard is not None
        zones.append(engine.Zone(
            countries=frozenset(zone["countries"]), standard=standard,
            per_extra_item=_money(zone.get("per_extra_item")),
            express=None if express is None else engine.Express(
                rate=Money(express["rate"]["currency"], int(express["rate"]["amount"])),
                delivery_days_min=int(express["delivery_days_min"]),
                delivery_days_max=int(express["delivery_days_max"])),
            free_shipping_threshold=_money(zone.get("free_shipping_threshold")),
            delivery_days_min=zone.get("delivery_days_min"), delivery_days_max=zone.get("delivery_days_max")))
    return engine.Profile(profile_id=profile.profile_id, zones=tuple(zones), handling_days=int(profile.handling_days))
