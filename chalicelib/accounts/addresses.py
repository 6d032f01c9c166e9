"""The buyer's address book: several shipping and billing addresses, one default of each.

The defaults are pointers on the user item (``default_shipping_address_id``,
``default_billing_address_id``): setting a new default overwrites the pointer in the same
transaction as the address write, which clears the old default and can never leave two.
The number of addresses is counted on the user item under a condition on the limit, so
concurrent additions cannot exceed it either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.accounts import validation
from chalicelib.accounts.models import Address, User
from chalicelib.accounts.profile import problem, refuse
from chalicelib.accounts.service import delete_counted, get_active_user, save_counted
from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction
from chalicelib.core.errors import Code, Conflict, FieldProblem, NotFound
from chalicelib.core.ids import has_prefix, new_id
from chalicelib.core.keys import ADDRESS_PREFIX, address_sk, user_key

MAX_ADDRESSES = 20
REQUIRED = ("name", "line1", "postal_code", "city", "country")
OPTIONAL = ("company", "line2", "region", "phone")
KINDS = {"shipping": User.default_shipping_address_id, "billing": User.default_billing_address_id}


@dataclass(frozen=True)
class AddressView:
    address: Address
    default_shipping: bool
    default_billing: bool


def _not_found() -> NotFound:
    return NotFound("No such address.", code=Code.ADDRESS_NOT_FOUND)


def _address_key(user_id: str, address_id: str) -> tuple[str, str]:
    return user_key(user_id), address_sk(address_id)


def _validated(fields: dict[str, Any]) -> dict[str, Any]:
    """Country, postal code (its format depends on the country) and phone, normalised."""
    problems: list[FieldProblem] = []
    cleaned = dict(fields)
    for name in REQUIRED:
        if not cleaned.get(name):
            problems.append(problem(name, "Field required", "missing"))
    try:
        cleaned["country"] = validation.normalise_country(cleaned.get("country") or "")
    except ValueError as error:
        problems.append(problem("country", str(error)))
    else:
        try:
            cleaned["postal_code"] = validation.normalise_postal_code(cleaned.get("postal_code") or "",
                                                                      cleaned["country"])
        except ValueError as error:
            problems.append(problem("postal_code", str(error)))
    if cleaned.get("phone"):
        try:
            cleaned["phone"] = validation.normalise_phone(cleaned["phone"])
        except ValueError as error:
            problems.append(problem("phone", str(error)))
    refuse(problems)
    return {name: cleaned.get(name) or None for name in REQUIRED + OPTIONAL}


def _pointer_changes(address_id: str, defaults: dict[str, bool | None], user: User | None) -> dict[str, str | None]:
    """Default pointers to write: True points the kind here; False clears it if it pointed here."""
    changes: dict[str, str | None] = {}
    for kind, wanted in defaults.items():
        name = KINDS[kind].attr_name
        if wanted:
            changes[name] = address_id
        elif wanted is False and user is not None and getattr(user, name) == address_id:
            changes[name] = None
    return changes


def _pointer_actions(changes: dict[str, str | None]) -> list[Any]:
    return [getattr(User, name).set(value) if value else getattr(User, name).remove()
            for name, value in changes.items()]


def _view(address: Address, user: User) -> AddressView:
    return AddressView(address=address, default_shipping=user.default_shipping_address_id == address.address_id,
                       default_billing=user.default_billing_address_id == address.address_id)


def list_addresses(user_id: str) -> list[AddressView]:
    """Oldest first. Round trips: GetItem(user), Query(addresses)."""
    user = get_active_user(user_id)
    return [_view(a, user) for a in Address.query(user_key(user_id), Address.SK.startswith(ADDRESS_PREFIX))]


def add_address(user_id: str, fields: dict[str, Any], *, default_shipping: bool = False,
                default_billing: bool = False) -> AddressView:
    """Round trips: TransactWriteItems(address, user: count and defaults) (+ GetItem(user)
    only to explain a refusal)."""
    values = _validated(fields)
    address_id = new_id("adr")
    now = clock.stamp()
    pk, sk = _address_key(user_id, address_id)
    address = Address(PK=pk, SK=sk, address_id=address_id, user_id=user_id, created_at=now, updated_at=now,
                      **values)
    pointers = _pointer_changes(address_id, {"shipping": default_shipping, "billing": default_billing}, None)
    if not save_counted(address, User.address_count, MAX_ADDRESSES, user_actions=_pointer_actions(pointers)):
        get_active_user(user_id)  # an erased account is closed; otherwise the book is full
        raise Conflict(f"The address book is full ({MAX_ADDRESSES} addresses); delete one first.",
                       code=Code.ADDRESS_BOOK_FULL)
    return AddressView(address=address, default_shipping=default_shipping, default_billing=default_billing)


def change_address(user_id: str, address_id: str, changes: dict[str, Any], *,
                   default_shipping: bool | None = None, default_billing: bool | None = None) -> AddressView:
    """Change the given fields and defaults; the result is checked as a whole (a new
    country re-checks the postal code).

    Round trips: GetItem(user), GetItem(address), TransactWriteItems(address, user)."""
    user = get_active_user(user_id)
    address = _get(user_id, address_id)
    values = _validated({**{name: getattr(address, name) for name in REQUIRED + OPTIONAL}, **changes})
    now = clock.stamp()
    address_actions = [getattr(Address, name).set(value) if value is not None else getattr(Address, name).remove()
                       for name, value in values.items()] + [Address.updated_at.set(now)]
    pointers = _pointer_changes(address_id, {"shipping": default_shipping, "billing": default_billing}, user)
    transaction = LabelledTransaction()
    transaction.update("address", address, address_actions, Address.PK.exists())
    if pointers:
        transaction.update("defaults", user, _pointer_actions(pointers), _defaults_unchanged(user))
    if transaction.commit():
        raise Conflict("The address book changed at the same time; try again.", code=Code.CONCURRENT_CHANGE)
    for name, value in {**values, "updated_at": now}.items():
        setattr(address, name, value)
    for name, value in pointers.items():
        setattr(user, name, value)
    return _view(address, user)


def _defaults_unchanged(user: User) -> Any:
    """The user is active and its default pointers are still those read."""
    condition = User.status == "active"
    for attribute in KINDS.values():
        seen = getattr(user, attribute.attr_name)
        condition &= attribute.does_not_exist() if seen is None else attribute == seen
    return condition


def _get(user_id: str, address_id: str) -> Address:
    if not has_prefix(address_id, "adr"):
        raise _not_found()
    try:
        return Address.get(*_address_key(user_id, address_id))
    except Address.DoesNotExist:
        raise _not_found() from None


def delete_address(user_id: str, address_id: str) -> None:
    """A default pointing at a deleted address simply means "no default".

    Round trips: TransactWriteItems(address, user count) (+ GetItem(user) only to explain
    a refusal)."""
    if not has_prefix(address_id, "adr"):
        raise _not_found()
    pk, sk = _address_key(user_id, address_id)
    if not delete_counted(Address(PK=pk, SK=sk), User.address_count):
        get_active_user(user_id)
        raise _not_found()


def validated_address(fields: dict[str, Any]) -> dict[str, Any]:
    """An address typed in at checkout, checked like the address book's (422 naming the field)."""
    return _validated(fields)


def snapshot(address: Address) -> dict[str, Any]:
    """A copy of an address for an order (orders keep what they were sent to, whatever the
    address book later says)."""
    return {name: getattr(address, name) for name in REQUIRED + OPTIONAL}


def address_snapshot(user_id: str, address_id: str) -> dict[str, Any]:
    """:func:`snapshot` of one of the buyer's addresses: GetItem (1 RT); another buyer's id is 404."""
    return snapshot(_get(user_id, address_id))
