"""Sellers' customers: who bought from (or was imported by) a seller, their groups and terms.

A seller's import creates *contacts* (:mod:`chalicelib.customers.imports`): the seller's
own copy of what it imported, linked to no account. A buyer becomes a seller's *linked*
customer only by their own doing: their first paid order with that seller
(:func:`record_order`, subscribed to ``order.paid``) or their confirmation of the seller's
invitation mail (:func:`link_contact`, subscribed to ``account.invitation_accepted`` in
:mod:`chalicelib.customers.invitations`). Either merges the seller's contact for the
buyer's email, if there is one, into the linked record (:func:`_absorbing`). Every
function takes the seller id from the caller, which takes it from the authenticated
principal: a seller only ever reads keys under its own ``SELLER#<sid>``.

A linked customer's name and email are copied from the buyer's account when the link is
made (a merged contact keeps the name the seller imported), because the seller's search
indexes need them. They follow the account afterwards: the ``account.updated`` subscriber
re-reads the account and refreshes every seller's linked copy. Contacts follow nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from pynamodb.expressions.update import Action

from chalicelib.accounts.events import AccountErased, AccountUpdated
from chalicelib.accounts.service import get_user
from chalicelib.core import clock
from chalicelib.core.db import LabelledTransaction, Stale, find_item, get_item, retrying
from chalicelib.core.errors import Code, Conflict, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.keys import (
    GROUP_PREFIX,
    customer_of_key,
    customer_order_sk,
    customer_orders_prefix,
    customer_sk,
    customers_key,
    group_members_key,
    group_name_sk,
    group_sk,
    member_sk,
    seller_key,
)
from chalicelib.core.logging import logger
from chalicelib.core.money import Money
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.customers.models import (
    Customer,
    CustomerGroup,
    CustomerOf,
    CustomerOrder,
    GroupMember,
    GroupName,
    contact_id,
    fold,
)
from chalicelib.events.registry import Delivered

SAVE_ATTEMPTS = 5  # optimistic-lock retries before a write gives up with 409
SEARCH_READS = 4  # Query calls one search page may make (keeps a request bounded)
_VAT_ID = re.compile(r"^[A-Z]{2}[A-Z0-9+*]{2,12}$")


class _Stale(Stale):
    """The customer changed between our read and our write: read again and retry."""


def _exists(item: Any) -> bool:
    """Whether ``item``'s key is in the table (to tell which condition of a transaction failed)."""
    return next(iter(type(item).batch_get([(item.PK, item.SK)])), None) is not None


# -- reading -------------------------------------------------------------------------------

def find_customer(seller_id: str, customer_id: str) -> Customer | None:
    return find_item(Customer, seller_key(seller_id), customer_sk(customer_id))


def get_customer(seller_id: str, customer_id: str) -> Customer:
    """Another seller's customer is as missing as a customer that does not exist."""
    return get_item(Customer, seller_key(seller_id), customer_sk(customer_id),
                    NotFound("No such customer.", code=Code.CUSTOMER_NOT_FOUND))


def customers_by_id(seller_id: str, customer_ids: Iterable[str]) -> dict[str, Customer]:
    """Several of one seller's customers (by customer id) in BatchGetItem calls (100 keys each)."""
    keys = [(seller_key(seller_id), customer_sk(c)) for c in dict.fromkeys(customer_ids)]
    return {c.customer_id: c for c in Customer.batch_get(keys)} if keys else {}


def query_page(query: Callable[..., Any], hash_key: str, condition: Any, *, limit: int, start: Any,
          forward: bool = True) -> tuple[list[Any], Any]:
    """One bounded Query: at most ``limit`` items and the key to continue from."""
    results = query(hash_key, condition, limit=limit, page_size=limit, last_evaluated_key=start or None,
                    scan_index_forward=forward)
    items = list(results)
    return items, results.last_evaluated_key


def list_customers(seller_id: str, *, q: str | None, group_id: str | None, cursor: str | None,
                   limit: int) -> Page[Customer]:
    """Newest order first; with ``group`` only that group's customers; with ``q`` a prefix
    search over names, then emails (each customer once)."""
    scope = f"{customers_key(seller_id)}/list?q={q or ''}&group={group_id or ''}"
    start = decode_cursor(cursor, scope=scope)
    if q:
        items, next_key = _search(seller_id, q, group_id, start, limit)
    elif group_id:
        items, next_key = _group_page(seller_id, group_id, start, limit)
    else:
        items, next_key = query_page(Customer.by_last_order.query, customers_key(seller_id), None, limit=limit,
                                start=start, forward=False)
    return Page(items, encode_cursor(next_key, scope=scope))


def _group_page(seller_id: str, group_id: str, start: Any, limit: int) -> tuple[list[Customer], Any]:
    members, next_key = query_page(GroupMember.by_group.query, group_members_key(seller_id, group_id), None,
                              limit=limit, start=start, forward=False)
    found = customers_by_id(seller_id, [m.customer_id for m in members])
    return [found[m.customer_id] for m in members if m.customer_id in found], next_key


def _search(seller_id: str, q: str, group_id: str | None, start: Any,
            limit: int) -> tuple[list[Customer], Any]:
    """Two phases over two indexes: names starting with ``q``, then emails starting with
    ``q`` whose name does not (those were listed already). The cursor records the phase."""
    partition = customers_key(seller_id)
    name_prefix, email_prefix = fold(q), q.strip().lower()
    phase, key = (start or {}).get("phase", "name" if name_prefix else "email"), (start or {}).get("key")
    items: list[Customer] = []
    for _ in range(SEARCH_READS):
        if phase == "name":
            batch, next_key = query_page(Customer.by_name.query, partition, Customer.GSI3SK.startswith(name_prefix),
                                    limit=limit - len(items), start=key)
        else:
            batch, next_key = query_page(Customer.by_email.query, partition, Customer.GSI2SK.startswith(email_prefix),
                                    limit=limit - len(items), start=key)
            batch = [c for c in batch if not (name_prefix and (c.GSI3SK or "").startswith(name_prefix))]
        items += [c for c in batch if group_id is None or c.group_id == group_id]
        if next_key:
            key = next_key
        elif phase == "name":
            phase, key = "email", None
        else:
            return items, None
        if len(items) >= limit:
            break
    return items, {"phase": phase, "key": key}


def customer_orders(seller_id: str, customer_id: str, *, cursor: str | None, limit: int) -> Page[CustomerOrder]:
    """Newest first. Filled by :func:`record_order`, which the order flow calls when an
    order is paid; until orders exist (and always for an unlinked contact) every page is empty."""
    get_customer(seller_id, customer_id)
    scope = f"{seller_key(seller_id)}/customers/{customer_id}/orders"
    items, next_key = query_page(CustomerOrder.query, seller_key(seller_id),
                            CustomerOrder.SK.startswith(customer_orders_prefix(customer_id)), limit=limit,
                            start=decode_cursor(cursor, scope=scope), forward=False)
    return Page(items, encode_cursor(next_key, scope=scope))


def pricing_terms(seller_id: str, user_id: str) -> tuple[int, bool]:
    """What checkout applies to this buyer's lines of this seller: (discount in basis
    points from the customer's group, tax exempt). Strangers get (0, False), and so does a
    buyer whom the seller has only as an imported contact: the seller's terms for a contact
    apply from its first checkout after it is linked (the invitation confirmed, or the
    first order paid), since nothing before ties the contact to this account."""
    found = find_customer(seller_id, user_id)
    if found is None:
        return 0, False
    discount = 0
    if found.group_id:
        group = find_group(seller_id, found.group_id)
        discount = int(group.discount_basis_points) if group is not None else 0
    return discount, bool(found.tax_exempt)


def customer_record_keys(seller_ids: Iterable[str], user_id: str) -> list[tuple[str, str]]:
    """The keys of the buyer's customer record at each seller, for a caller that reads them
    with other items in one BatchGetItem (checkout's contributors)."""
    return [(seller_key(s), customer_sk(user_id)) for s in sorted(set(seller_ids))]


def customer_group_keys(customers: Iterable[Customer]) -> list[tuple[str, str]]:
    """The keys of the groups ``customers`` are in (the second read of the terms)."""
    return [(seller_key(c.seller_id), group_sk(c.group_id)) for c in customers if c.group_id]


def terms_from(seller_ids: Iterable[str], customers: Iterable[Customer],
               groups: Iterable[CustomerGroup]) -> dict[str, tuple[int, bool]]:
    """:func:`pricing_terms` per seller from the records read by the keys above (pure)."""
    discounts = {g.seller_id: int(g.discount_basis_points) for g in groups}
    terms = dict.fromkeys(sorted(set(seller_ids)), (0, False))
    for customer in customers:
        terms[customer.seller_id] = (discounts.get(customer.seller_id, 0), bool(customer.tax_exempt))
    return terms


# -- becoming a customer ---------------------------------------------------------------------

def new_customer(seller_id: str, *, user_id: str, name: str, email: str, source: str) -> Customer:
    """An unsaved linked customer record (keyed by the buyer's user id). Save it after
    :func:`note_relation`; its first save is conditional on not existing (the version
    attribute does that)."""
    return Customer(seller_key(seller_id), customer_sk(user_id), seller_id=seller_id, user_id=user_id, name=name,
                    email=email, source=source, created_at=clock.stamp()).index()


def new_contact(seller_id: str, *, name: str, email: str, import_id: str) -> Customer:
    """An unsaved imported contact: exactly what the seller imported, linked to no account
    (keyed by :func:`~chalicelib.customers.models.contact_id` of the normalised ``email``)."""
    return Customer(seller_key(seller_id), customer_sk(contact_id(seller_id, email)), seller_id=seller_id,
                    user_id=None, name=name, email=email, source="import", created_at=clock.stamp(),
                    import_id=import_id).index()


def note_relation(seller_id: str, user_id: str) -> None:
    """Record that the buyer is (about to be) this seller's linked customer. Written before
    the linked record and idempotent, so no linked record exists without it; one left
    without a record (a crash in between) is harmless: refreshing skips it."""
    CustomerOf(customer_of_key(user_id), seller_key(seller_id), user_id=user_id, seller_id=seller_id).save()


def group_pointer(customer: Customer) -> GroupMember:
    """The group pointer of a customer in a group, sorted like the customer list."""
    assert customer.group_id
    return GroupMember(seller_key(customer.seller_id), member_sk(customer.group_id, customer.customer_id),
                       group_id=customer.group_id, GSI1PK=group_members_key(customer.seller_id, customer.group_id),
                       GSI1SK=customer.activity_key())


def _absorbing(contact: Customer, linked: Customer | None, user_id: str) -> Customer:
    """The buyer's linked record after taking in the seller's ``contact``: made from the
    contact when there is none (the imported name and email, its group, tax exemption, VAT
    id, import id and creation time: what the seller knew stays), else the existing one
    with the contact's group and tax data where it has none of its own."""
    if linked is None:
        return Customer(seller_key(contact.seller_id), customer_sk(user_id), seller_id=contact.seller_id,
                        user_id=user_id, name=contact.name, email=contact.email, source=contact.source,
                        created_at=contact.created_at, import_id=contact.import_id, group_id=contact.group_id,
                        tax_exempt=bool(contact.tax_exempt), tax_exempt_reason=contact.tax_exempt_reason,
                        vat_id=contact.vat_id)
    if linked.group_id is None:
        linked.group_id = contact.group_id
    if not linked.tax_exempt and contact.tax_exempt:
        linked.tax_exempt, linked.tax_exempt_reason = True, contact.tax_exempt_reason
    if linked.vat_id is None:
        linked.vat_id = contact.vat_id
    return linked


def _merge(transaction: LabelledTransaction, contact: Customer, merged: Customer, pointer_before: str | None) -> None:
    """Within the caller's transaction (which saves ``merged``): delete the contact (its
    version checked) and move its group membership to ``merged``, keeping member counts
    right. ``pointer_before``: the group ``merged`` already had a pointer in (None for a
    record the merge creates)."""
    transaction.delete("contact", contact)
    group_id = contact.group_id
    if not group_id:
        return
    seller = seller_key(contact.seller_id)
    transaction.delete("contact_member", GroupMember(seller, member_sk(group_id, contact.customer_id)))
    if merged.group_id == group_id and pointer_before != group_id:
        transaction.put("member", group_pointer(merged))  # moved: the group keeps its count
    else:  # the buyer's record stays in the group it was in: one member fewer
        transaction.update("group", CustomerGroup(seller, group_sk(group_id)), [CustomerGroup.member_count.add(-1)])


def link_contact(seller_id: str, customer_id: str, user_id: str) -> bool:
    """The buyer confirmed the seller's invitation (the link mailed to the contact's
    address): merge the contact into the buyer's linked record, ``CUSTOMER#<user_id>``
    (:func:`_absorbing`), which from then on follows the account. Idempotent: a contact
    that is gone (merged already, by this or by an order) changes nothing; False then.

    Round trips: GetItem(contact), GetItem(user), GetItem(linked record), PutItem(relation),
    TransactWriteItems(linked record, contact deleted, group pointer moved)."""
    def attempt() -> bool:
        contact = find_customer(seller_id, customer_id)
        if contact is None or contact.linked:
            return False
        try:
            user = get_user(user_id)
        except NotFound:
            return False
        if not user.is_active or user.email != contact.email:  # the invitation went to the contact's address
            logger.warning("invitation accepted by an account of another address; not linked",
                           extra={"seller_id": seller_id, "customer_id": customer_id, "user_id": user_id})
            return False
        linked = find_customer(seller_id, user_id)
        pointer_before = linked.group_id if linked is not None else None
        merged = _absorbing(contact, linked, user_id)
        note_relation(seller_id, user_id)
        transaction = LabelledTransaction()
        transaction.put("customer", merged.index())
        _merge(transaction, contact, merged, pointer_before)
        if transaction.commit():
            raise _Stale
        return True

    return retrying(attempt, what="customer", attempts=SAVE_ATTEMPTS)


def record_order(seller_id: str, user_id: str, order_id: str, amount: Money, ordered_at: datetime) -> bool:
    """Count a paid order of ``user_id`` with ``seller_id`` (``amount`` = that seller's
    share). The first order makes the buyer the seller's linked customer: if the seller has
    an imported contact for the buyer's email, that contact is merged into the linked
    record (:func:`_absorbing`; its customer id becomes the buyer's user id). Idempotent per
    order id: returns False when the order was recorded before.

    Round trips: GetItem(customer); for a first order also GetItem(user), GetItem(contact)
    and PutItem(relation); then one transaction: the order's entry (conditional put: the
    idempotency marker and the customer's order list), the customer's totals (versioned;
    created with the first order), the group pointer following the customer's last-order
    sort key, and for a merge the contact's deletion and its group pointer moved.
    """
    if amount.amount < 0:
        raise ValueError("an order's amount cannot be negative (refunds are not deducted here)")
    when = clock.stamp(ordered_at)
    entry = CustomerOrder(seller_key(seller_id), customer_order_sk(user_id, order_id),
                          seller_id=seller_id, user_id=user_id, order_id=order_id, amount=amount.amount,
                          currency=amount.currency, ordered_at=when)

    def attempt() -> bool:
        customer = find_customer(seller_id, user_id)
        contact = None
        if customer is None:
            user = get_user(user_id)
            contact = find_customer(seller_id, contact_id(seller_id, user.email))
            if contact is not None and not contact.linked:
                customer = _absorbing(contact, None, user_id)
            else:
                contact = None
                customer = new_customer(seller_id, user_id=user_id, name=user.name, email=user.email,
                                        source="order")
            note_relation(seller_id, user_id)
        sort_key_before = customer.activity_key()
        spent = customer.spent()
        spent[amount.currency] = spent.get(amount.currency, 0) + amount.amount
        customer.total_spent = spent
        customer.order_count = int(customer.order_count) + 1
        customer.first_order_at = min(filter(None, [customer.first_order_at, when]))
        customer.last_order_at = max(filter(None, [customer.last_order_at, when]))
        transaction = LabelledTransaction()
        transaction.put("order", entry, CustomerOrder.PK.does_not_exist())
        transaction.put("customer", customer.index())
        if contact is not None:
            _merge(transaction, contact, customer, None)
        elif customer.group_id and customer.activity_key() != sort_key_before:
            transaction.update("member", GroupMember(seller_key(seller_id), member_sk(customer.group_id, user_id)),
                               [GroupMember.GSI1SK.set(customer.activity_key())], GroupMember.PK.exists())
        if transaction.commit():
            if _exists(entry):
                return False
            raise _Stale
        return True

    return retrying(attempt, what="customer", attempts=SAVE_ATTEMPTS)


class PaidShare(Protocol):
    @property
    def seller_id(self) -> str: ...
    @property
    def amount(self) -> int: ...  # what the buyer paid for that seller's lines, minor units
    @property
    def currency(self) -> str: ...


class PaidOrder(Protocol):
    """What customers reads of orders' ``order.paid`` (``chalicelib.orders.events.OrderPaid``,
    not imported: orders sits above customers)."""

    @property
    def order_id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def paid_at(self) -> str: ...  # ISO 8601 with zone
    @property
    def sellers(self) -> Sequence[PaidShare]: ...


def on_order_paid(delivered: Delivered[Any]) -> None:
    """Subscriber of ``order.paid`` (a :class:`PaidOrder`): the buyer becomes each paid seller's customer."""
    paid: PaidOrder = delivered.event
    paid_at = datetime.fromisoformat(paid.paid_at)
    for share in paid.sellers:
        record_order(share.seller_id, paid.user_id, paid.order_id, Money(share.currency, int(share.amount)), paid_at)


def on_account_updated(delivered: Delivered[AccountUpdated | AccountErased]) -> None:
    """Subscriber of ``account.updated`` and ``account.erased``: copy the account's current
    name and email to every seller's record of that buyer — after an erasure that is the
    anonymised placeholder, while the seller keeps the order figures. The account is re-read, so events arriving
    out of order still leave the latest values."""
    user_id = delivered.event.user_id
    try:
        user = get_user(user_id)
    except NotFound:
        logger.info("account gone; nothing to refresh", extra={"user_id": user_id})
        return
    for relation in CustomerOf.query(customer_of_key(user_id)):
        _refresh_copy(relation.seller_id, user_id, name=user.name if user.name or not user.is_active else None,
                      email=user.email)


def _refresh_copy(seller_id: str, user_id: str, *, name: str | None, email: str) -> None:
    """``name`` None: the account has none (an invited account never gets the seller's), so
    the seller's copy keeps the name it has; an erased account's empty name does replace it."""

    def attempt() -> None:
        customer = find_customer(seller_id, user_id)
        if customer is None:
            return
        fresh = (customer.name if name is None else name, email)
        if (customer.name, customer.email) == fresh:
            return
        customer.name, customer.email = fresh
        _save_customer(customer)

    retrying(attempt, what="customer", attempts=SAVE_ATTEMPTS)


def _save_customer(customer: Customer) -> None:
    transaction = LabelledTransaction()
    transaction.put("customer", customer.index())
    if transaction.commit():
        raise _Stale


# -- what a seller changes ----------------------------------------------------------------------

def _vat_id(raw: str) -> str:
    cleaned = re.sub(r"[\s.\-]", "", raw).upper()
    if not _VAT_ID.match(cleaned):
        raise ValidationFailed("The VAT id is not valid.", code=Code.INVALID_VAT_ID, details=[
            {"field": "body.vat_id", "message": "Expected a country code and 2 to 12 letters or digits, "
                                                "e.g. DE123456789.", "type": "vat_id"}])
    return cleaned


def update_customer(seller_id: str, customer_id: str, changes: dict[str, Any]) -> Customer:
    """Group and tax exemption. ``changes`` holds only the fields the seller sent. A tax
    exemption needs a reason or a VAT id; lifting it clears the reason (the VAT id stays:
    it still identifies a business customer)."""
    vat_id = _vat_id(changes["vat_id"]) if changes.get("vat_id") else None

    def attempt() -> Customer:
        customer = get_customer(seller_id, customer_id)
        group_before = customer.group_id
        if "vat_id" in changes:
            customer.vat_id = vat_id
        if "tax_exempt_reason" in changes:
            customer.tax_exempt_reason = changes["tax_exempt_reason"] or None
        if changes.get("tax_exempt") is not None:
            customer.tax_exempt = changes["tax_exempt"]
        if not customer.tax_exempt:
            customer.tax_exempt_reason = None
        elif not (customer.tax_exempt_reason or customer.vat_id):
            raise ValidationFailed("A tax exemption needs a reason or a VAT id.",
                                   code=Code.TAX_EXEMPTION_REASON_REQUIRED,
                                   details=[{"field": "body.tax_exempt_reason", "message": "Give a reason or a VAT id.",
                                             "type": "missing"}])
        if "group_id" in changes:
            customer.group_id = changes["group_id"] or None
        _save_with_group_change(customer, group_before)
        return customer

    return retrying(attempt, what="customer", attempts=SAVE_ATTEMPTS)


def _save_with_group_change(customer: Customer, group_before: str | None) -> None:
    """The customer, its group pointer and both groups' member counts in one transaction."""
    seller, customer_id, group_after = seller_key(customer.seller_id), customer.customer_id, customer.group_id
    transaction = LabelledTransaction()
    transaction.put("customer", customer.index())
    if group_before != group_after and group_after:
        transaction.update("group_after", CustomerGroup(seller, group_sk(group_after)),
                           [CustomerGroup.member_count.add(1)], CustomerGroup.PK.exists())
        transaction.put("member", group_pointer(customer))
    if group_before != group_after and group_before:
        transaction.update("group_before", CustomerGroup(seller, group_sk(group_before)),
                           [CustomerGroup.member_count.add(-1)])
        transaction.delete("member_before", GroupMember(seller, member_sk(group_before, customer_id)))
    if transaction.commit():
        if group_after and find_group(customer.seller_id, group_after) is None:
            raise ValidationFailed("There is no such customer group.", code=Code.UNKNOWN_GROUP, details=[
                {"field": "body.group_id", "message": "No group with this id.", "type": "group"}])
        raise _Stale


# -- customer groups --------------------------------------------------------------------------------

def find_group(seller_id: str, group_id: str) -> CustomerGroup | None:
    return find_item(CustomerGroup, seller_key(seller_id), group_sk(group_id))


def get_group(seller_id: str, group_id: str) -> CustomerGroup:
    return get_item(CustomerGroup, seller_key(seller_id), group_sk(group_id),
                    NotFound("No such customer group.", code=Code.GROUP_NOT_FOUND))


def list_groups(seller_id: str, *, cursor: str | None, limit: int) -> Page[CustomerGroup]:
    scope = f"{seller_key(seller_id)}/customer-groups"
    items, next_key = query_page(CustomerGroup.query, seller_key(seller_id), CustomerGroup.SK.startswith(GROUP_PREFIX),
                            limit=limit, start=decode_cursor(cursor, scope=scope))
    return Page(items, encode_cursor(next_key, scope=scope))


def _name_claim(seller_id: str, name: str) -> GroupName:
    return GroupName(seller_key(seller_id), group_name_sk(fold(name)))


def _name_taken() -> Conflict:
    return Conflict("You already have a customer group with this name.", code=Code.GROUP_NAME_TAKEN)


def create_group(seller_id: str, *, name: str, discount_basis_points: int) -> CustomerGroup:
    group_id = new_id("cgr")
    group = CustomerGroup(seller_key(seller_id), group_sk(group_id), seller_id=seller_id, group_id=group_id,
                          name=name, discount_basis_points=discount_basis_points, created_at=clock.stamp())
    claim = _name_claim(seller_id, name)
    claim.group_id = group_id
    transaction = LabelledTransaction()
    transaction.put("name", claim, GroupName.PK.does_not_exist())
    transaction.put("group", group, CustomerGroup.PK.does_not_exist())
    if transaction.commit():
        raise _name_taken()
    return group


def update_group(seller_id: str, group_id: str, *, name: str | None,
                 discount_basis_points: int | None) -> CustomerGroup:
    """Renaming moves the name claim in the same transaction. Customers see a new
    discount at their next checkout (checkout reads it through :mod:`chalicelib.orders.group_discount`)."""
    group = get_group(seller_id, group_id)
    actions: list[Action] = []
    if discount_basis_points is not None:
        actions.append(CustomerGroup.discount_basis_points.set(discount_basis_points))
    renamed = name is not None and fold(name) != fold(group.name)
    if name is not None:
        actions.append(CustomerGroup.name.set(name))
    if not actions:
        return group
    transaction = LabelledTransaction()
    transaction.update("group", group, actions, CustomerGroup.PK.exists())
    if renamed and name is not None:
        claim = _name_claim(seller_id, name)
        claim.group_id = group_id
        transaction.put("name", claim, GroupName.PK.does_not_exist())
        transaction.delete("old_name", _name_claim(seller_id, group.name))
    if transaction.commit():
        get_group(seller_id, group_id)  # deleted meanwhile: 404
        raise _name_taken()
    return get_group(seller_id, group_id)


def delete_group(seller_id: str, group_id: str) -> None:
    """Only an empty group can be deleted (409 ``group_in_use`` otherwise): deleting a
    group silently would change prices for its customers without the seller seeing who."""
    group = get_group(seller_id, group_id)
    transaction = LabelledTransaction()
    transaction.delete("group", group, CustomerGroup.PK.exists() & (CustomerGroup.member_count == 0))
    transaction.delete("name", _name_claim(seller_id, group.name))
    if transaction.commit():
        raise Conflict("Customers are still in this group; move them to another group (or none) first.",
                       code=Code.GROUP_IN_USE, details={"member_count": int(group.member_count)})
