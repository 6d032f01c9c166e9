"""The buyer's profile: name, phone, birthday, language, VAT id, marketing preferences.

Birthdays (day and month; the year is optional) are also written to the sparse birthday
index (GSI1PK=BIRTHDAY#MM-DD, see models.py), so the birthday-mail sweep Queries who has
a birthday today instead of scanning everybody.

Sellers keep a copy of some account fields with their customer records (see
chalicelib/customers/service.py). A change to one of them writes the ``account.updated``
event (payload ``{"user_id": …, "changed": [field, …]}``) in the same transaction as the
change, so the sellers' copies follow it and no change is lost between the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.accounts import validation
from chalicelib.accounts.events import AccountUpdated
from chalicelib.accounts.models import Address, User
from chalicelib.accounts.service import account_closed, get_active_user, update_open_account
from chalicelib.core.categories import CATEGORIES
from chalicelib.core.db import LabelledTransaction
from chalicelib.core.errors import FieldProblem, ValidationFailed
from chalicelib.core.keys import PROFILE_SK, address_sk, birthday_key, user_key
from chalicelib.events.service import new_event

PREFERENCE_LIMIT = 20  # entries per preference list
# Profile fields sellers copy into their customer records (the email is copied too, but
# it is not changed through the profile).
COPIED_BY_SELLERS = ("name",)


@dataclass(frozen=True)
class CheckoutProfile:
    """What checkout offers a signed-in buyer without asking again."""

    user_id: str
    email: str
    name: str
    language: str | None
    vat_id: str | None
    shipping_address: Address | None
    billing_address: Address | None
    stripe_customer_id: str | None = None


def get_profile(user_id: str) -> User:
    """Round trips: GetItem(user)."""
    return get_active_user(user_id)


def problem(field: str, message: str, kind: str = "value_error") -> FieldProblem:
    return {"field": f"body.{field}", "message": message, "type": kind}


def refuse(problems: list[FieldProblem]) -> None:
    if problems:
        raise ValidationFailed("The request body has invalid fields.", details=problems)


def _normalised(field: str, check: Any, value: Any, problems: list[FieldProblem]) -> Any:
    """``check(value)``, or the value unchanged with the problem noted."""
    try:
        return check(value)
    except ValueError as error:
        problems.append(problem(field, str(error)))
        return value


def _preference_list(values: list[str]) -> list[str]:
    """Trimmed, without duplicates (first wins), bounded."""
    seen: dict[str, None] = {}
    for value in values:
        if value.strip():
            seen.setdefault(value.strip(), None)
    if len(seen) > PREFERENCE_LIMIT:
        raise ValueError(f"At most {PREFERENCE_LIMIT} entries.")
    return list(seen)


def _categories(values: list[str]) -> list[str]:
    slugs = _preference_list([v.lower() for v in values])
    unknown = [slug for slug in slugs if slug not in CATEGORIES]
    if unknown:
        raise ValueError(f"Unknown categories: {', '.join(unknown)} (GET /v1/categories lists them).")
    return slugs


def _set_or_remove(attribute: Any, value: Any) -> Any:
    return attribute.remove() if value is None or value == [] else attribute.set(value)


def _birthday_actions(user_id: str, birthday: dict[str, Any] | None, problems: list[FieldProblem]) -> list[Any]:
    if birthday is None:
        return [User.birthday.remove(), User.birth_year.remove(), User.GSI1PK.remove(), User.GSI1SK.remove()]
    day, month, year = birthday["day"], birthday["month"], birthday.get("year")
    try:
        validation.check_birthday(day, month, year)
    except ValueError as error:
        problems.append(problem("birthday", str(error)))
        return []
    return [User.birthday.set(f"{month:02d}-{day:02d}"), _set_or_remove(User.birth_year, year),
            User.GSI1PK.set(birthday_key(month, day)), User.GSI1SK.set(user_key(user_id))]


def change_profile(user_id: str, changes: dict[str, Any]) -> User:
    """Apply the given fields (``None`` clears an optional one). All are checked before
    anything is written, and every problem is reported at once.

    Round trips: UpdateItem(user, only while active; returns the new item). When a field
    sellers copy is given: GetItem(user) first, and if it really changes,
    TransactWriteItems(user, ``account.updated`` event) and GetItem(user) instead of the
    UpdateItem."""
    problems: list[FieldProblem] = []
    actions: list[Any] = []
    if "name" in changes:
        changes = {**changes, "name": changes["name"] or ""}
        actions.append(User.name.set(changes["name"]))
    if "phone" in changes:
        phone = changes["phone"] and _normalised("phone", validation.normalise_phone, changes["phone"], problems)
        actions.append(_set_or_remove(User.phone, phone))
    if "birthday" in changes:
        actions.extend(_birthday_actions(user_id, changes["birthday"], problems))
    if "language" in changes:
        actions.append(_set_or_remove(User.language, changes["language"]))
    if "vat_id" in changes:
        vat_id = changes["vat_id"] and _normalised("vat_id", validation.normalise_vat_id, changes["vat_id"], problems)
        actions.append(_set_or_remove(User.vat_id, vat_id))
    preferences = changes.get("preferences", {})
    if preferences is None:  # null clears every list, like an optional field
        preferences = dict.fromkeys(("categories", "brands", "sizes"))
    for field, attribute, check in (("categories", User.preferred_categories, _categories),
                                    ("brands", User.preferred_brands, _preference_list),
                                    ("sizes", User.preferred_sizes, _preference_list)):
        if field in preferences:
            value = _normalised(f"preferences.{field}", check, preferences[field] or [], problems)
            actions.append(_set_or_remove(attribute, value))
    refuse(problems)
    if not actions:
        return get_active_user(user_id)
    copied = [field for field in COPIED_BY_SELLERS if field in changes]
    if copied:
        current = get_active_user(user_id)
        changed = [field for field in copied if changes[field] != getattr(current, field)]
        if changed:
            return _update_and_announce(user_id, actions, changed)
    user = User(PK=user_key(user_id), SK=PROFILE_SK)
    update_open_account(user, actions, User.status == "active")
    return user


def _update_and_announce(user_id: str, actions: list[Any], changed: list[str]) -> User:
    """The update and its ``account.updated`` event, together or not at all (the outbox)."""
    transaction = LabelledTransaction()
    transaction.update("user", User(PK=user_key(user_id), SK=PROFILE_SK), actions, User.status == "active")
    transaction.put("event", new_event(AccountUpdated(user_id=user_id, changed=changed)))
    if transaction.commit():
        raise account_closed()
    return User.get(user_key(user_id), PROFILE_SK, consistent_read=True)


def checkout_profile(user_id: str) -> CheckoutProfile:
    """For the order issue: the buyer's contact, VAT id (offered for a business invoice) and
    default addresses. Round trips: GetItem(user), BatchGetItem(default addresses)."""
    user = get_active_user(user_id)
    keys = default_address_keys(user)
    return checkout_profile_of(user, Address.batch_get(set(keys.values())) if keys else [])


def default_address_keys(user: User) -> dict[str, tuple[str, str]]:
    """The keys of the buyer's default ``shipping`` and ``billing`` addresses (those set), for
    a caller that reads them with other items in one BatchGetItem (checkout)."""
    wanted = {"shipping": user.default_shipping_address_id, "billing": user.default_billing_address_id}
    return {what: (user_key(user.user_id), address_sk(address_id)) for what, address_id in wanted.items()
            if address_id}


def checkout_profile_of(user: User, addresses: Iterable[Address]) -> CheckoutProfile:
    """:func:`checkout_profile` from the user and the addresses read by :func:`default_address_keys` (pure)."""
    found = {a.address_id: a for a in addresses}
    return CheckoutProfile(user_id=user.user_id, email=user.email, name=user.name, language=user.language,
                           vat_id=user.vat_id, shipping_address=found.get(user.default_shipping_address_id or ""),
                           billing_address=found.get(user.default_billing_address_id or ""),
                           stripe_customer_id=user.stripe_customer_id)
