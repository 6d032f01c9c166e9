"""Seller logic: applying, Stripe Connect onboarding, the profile and the
operator's approval and suspension. Other domains ask here whether a seller may sell.

Round trips:
- apply: throttle and pacing, GetItem settings (+1 Query of the invite when invite-only),
  PutItem(application), SQS(mail). Confirming: the link, GetItem(application), TransactWrite
  (user or its update, email claim, seller, events, invite redemption), Stripe account +
  UpdateItem, session TransactWrite. A Stripe failure leaves the seller without an account
  id (logged); the onboarding link creates it later with the same idempotency key, so no
  application is lost.
- own profile: GetItem; change it: GetItem + UpdateItem. (The public storefront, with its
  product count, is the catalog's: :func:`chalicelib.catalog.browse.storefront`.)
- onboarding link: GetItem (+ Stripe account + UpdateItem if missing) + Stripe account link.
- operator: list by status (Query GSI1); approve / reject / suspend / reinstate: GetItem + TransactWrite
  (the seller, conditioned on the status that was read, and its outbox event).
- ``account.updated``: GetItem of the seller named in the account's metadata (Query GSI2
  without it) (+ GetItem settings when a pending seller's charges become enabled) +
  TransactWrite conditioned on what was read; a lost race re-reads and re-applies. Events
  are ordered by ``created`` (seconds); two of the same second that disagree are settled
  by retrieving the live account from Stripe. An event is applied only to the seller that
  already holds its account's id, and only when the event is about that account (its
  ``account`` is the object's id); any other is refused and changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PynamoDBException, UpdateError

from chalicelib.accounts import magic_links
from chalicelib.accounts.emails import normalise_email
from chalicelib.accounts.models import User
from chalicelib.accounts.service import (
    NewItem,
    check_new_password,
    confirm_mailbox,
    create_user,
    find_user_by_email,
    new_user,
)
from chalicelib.accounts.sessions import start_session
from chalicelib.core import clock, throttle
from chalicelib.core.db import (
    LabelledTransaction,
    Stale,
    get_item,
    retrying,
    was_condition_failure,
)
from chalicelib.core.errors import AgoraError, Code, Conflict, NotFound, Unauthorized, ValidationFailed
from chalicelib.core.ids import has_prefix, new_id
from chalicelib.core.keys import (
    NOT_SELLING_INDEX_KEY,
    PROFILE_SK,
    SELLER_APPLICATION_SK,
    STRIPE_ACCOUNT_INDEX_SK,
    seller_application_key,
    seller_key,
    seller_status_index_key,
    stripe_account_index_key,
    timed_sort_key,
)
from chalicelib.core.logging import logger
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.core.passwords import hash_password
from chalicelib.core.settings import get_settings
from chalicelib.events.models import OutboxEvent
from chalicelib.events.registry import Delivered
from chalicelib.events.service import new_event, record_event
from chalicelib.payments import stripe_gateway
from chalicelib.sellers import marketplace
from chalicelib.sellers.events import (
    ApprovalSweep,
    MarketplaceSettingsChanged,
    SellerApplied,
    SellerApproved,
    SellerPaymentsChanged,
    SellerReinstated,
    SellerRejected,
    SellerStandingChanged,
    SellerSuspended,
)
from chalicelib.sellers.models import Seller, SellerApplication
from chalicelib.sellers.schemas import EU_COUNTRIES

# Consumers in the EU and the EEA may withdraw from a distance purchase for 14 days.
WITHDRAWAL_COUNTRIES = EU_COUNTRIES | {"IS", "LI", "NO"}
WITHDRAWAL_DAYS = 14
MAX_SYNC_ATTEMPTS = 3
# action -> (statuses it applies to, the status it leads to, its event, its past tense)
TRANSITIONS = {
    "approve": (("pending",), "approved", SellerApproved, "approved"),
    "reject": (("pending",), "rejected", SellerRejected, "rejected"),
    "suspend": (("pending", "approved"), "suspended", SellerSuspended, "suspended"),
    "reinstate": (("suspended",), "approved", SellerReinstated, "reinstated"),
}


def seller_not_found() -> NotFound:
    """One error for "missing" and "not yours", so seller ids leak nothing."""
    return NotFound("No such seller.", code=Code.SELLER_NOT_FOUND)


# --- lookups ---------------------------------------------------------------------------------

def get_seller(seller_id: str, *, consistent: bool = False) -> Seller:
    return get_item(Seller, seller_key(seller_id), PROFILE_SK, seller_not_found(), consistent_read=consistent)


def sellers_by_id(seller_ids: Iterable[str]) -> dict[str, Seller]:
    """Several sellers in one BatchGetItem (per 100 ids)."""
    keys = [(seller_key(s), PROFILE_SK) for s in sorted(set(seller_ids))]
    return {seller.seller_id: seller for seller in Seller.batch_get(keys)} if keys else {}


def selling_seller_ids(seller_ids: Iterable[str]) -> set[str]:
    """Which of these sellers may sell now (approved, not suspended, charges enabled)."""
    return {sid for sid, seller in sellers_by_id(seller_ids).items() if seller.can_sell}


def not_selling_seller_ids() -> list[str]:
    """Sellers that were approved once but cannot sell now (1 Query of GSI3 per ~1 MB; the
    index is sparse and holds only those)."""
    return [seller.seller_id for seller in Seller.by_standing.query(NOT_SELLING_INDEX_KEY)]


def _standing_values(seller: Seller, values: dict[str, Any]) -> dict[str, Any]:
    """The GSI3 marker for ``seller`` once ``values`` are applied (see the models)."""
    status = values.get("status", seller.status)
    charges = values.get("charges_enabled", seller.charges_enabled)
    approved_once = values.get("approved_at", seller.approved_at)
    marked = bool(approved_once) and not (status == "approved" and charges)
    return {"GSI3PK": NOT_SELLING_INDEX_KEY if marked else None, "GSI3SK": seller.seller_id if marked else None}


def _changes(seller: Seller, values: dict[str, Any]) -> list[Any]:
    """Update actions for ``values`` (None removes an attribute), mirrored on ``seller`` so the
    caller can answer without reading the item again. A change of status or Stripe state
    brings the standing marker along."""
    if {"status", "charges_enabled"} & values.keys():
        values = {**values, **_standing_values(seller, values)}
    actions = []
    for name, value in values.items():
        attribute = getattr(Seller, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
        setattr(seller, name, value)
    return actions


def _status_values(seller: Seller, status: str, *, reason: str | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {"status": status, "status_reason": reason, "GSI1PK": seller_status_index_key(status)}
    if status == "approved" and not seller.approved_at:
        values["approved_at"] = clock.stamp()
    return values


def _status_event(seller: Seller, previous: str, event: type[SellerStandingChanged], *, by: str | None,
                  reason: str | None = None) -> OutboxEvent:
    return new_event(event(seller_id=seller.seller_id, status=seller.status, previous_status=previous, by=by,
                           reason=reason, contact_email=seller.contact_email))


# --- applying ------------------------------------------------------------------------------

APPLICATIONS_PER_SOURCE = throttle.Rule("seller-apply-source", limit=10, window_seconds=3600)
APPLICATION_MAILS = throttle.Pacing("seller-apply-email", first_gap=60, max_gap=15 * 60)
CONFIRMATIONS_PER_SOURCE = throttle.Rule("seller-confirm-source", limit=30, window_seconds=15 * 60)
APPLICATION_SECONDS = 24 * 3600
CONFIRM_PATH = "/sellers/confirm"


def apply(application: Any, *, source_ip: str) -> None:
    """A seller's application: checked, kept for a day, and confirmed by a link mailed to its
    address. Nothing else happens until the link is used (:func:`confirm_application`): no
    account, no seller, no Stripe account. The answer is the same whether or not the address
    has an account; the mail says which.

    Round trips: UpdateItem(throttle), GetItem + UpdateItem(pacing), GetItem settings (+1
    Query of the invite when invite-only), GetItem(claim) + GetItem(user), PutItem(application),
    SQS SendMessage(mail)."""
    email = normalise_email(application.email)
    check_new_password(application.password, email, name=application.name or application.business_name)
    throttle.hit(APPLICATIONS_PER_SOURCE, source_ip)
    invite = (marketplace.check_invite(application.invite_code)
              if marketplace.current_settings().seller_access == "invite_only" else None)
    if not throttle.pace(APPLICATION_MAILS, email):
        return
    password_hash = hash_password(application.password)
    existing = find_user_by_email(email)
    application_id = new_id("sap")
    SellerApplication(seller_application_key(application_id), SELLER_APPLICATION_SK, application_id=application_id,
                      email=email, name=application.name, business_name=application.business_name,
                      country=application.country, default_currency=application.default_currency,
                      vat_id=application.vat_id, password_hash=password_hash, invite_key=invite, source_ip=source_ip,
                      requested_at=clock.stamp(), expires_at=int(time.time()) + APPLICATION_SECONDS).save()
    magic_links.send_link_mail(email, template="seller_application_confirm", purpose="seller_application",
                               ref=application_id, path=CONFIRM_PATH,
                               context={"business_name": application.business_name,
                                        "existing_account": existing is not None})


def confirm_application(token: str, *, source_ip: str) -> tuple[Seller, Any]:
    """The application's link was used: the pending seller, its owner (roles buyer and seller)
    and, if Stripe answers, its Express account. The owner is the address's account: a new one
    with the application's password, or the existing one (its own password unchanged; the
    application's is discarded), which must not already run a seller. Returns the seller and
    the owner's session.

    Round trips: UpdateItem(throttle), UpdateItem(link), GetItem(application), GetItem(claim) +
    GetItem(user), [Query(invite)], TransactWrite (user or its update, seller, events, invite
    redemption), DeleteItem(application), Stripe account + UpdateItem, session TransactWrite."""
    throttle.hit(CONFIRMATIONS_PER_SOURCE, source_ip)
    link = magic_links.consume(token, ("seller_application",))
    try:
        found = SellerApplication.get(seller_application_key(link.ref or ""), SELLER_APPLICATION_SK)
    except SellerApplication.DoesNotExist:
        found = None
    if found is None or found.email != link.email:
        raise Unauthorized("This application has expired; apply again.", code=Code.INVALID_MAGIC_LINK)
    existing = find_user_by_email(found.email)
    if existing is not None:
        existing = confirm_mailbox(existing)
    seller, owner = _create_seller(found, existing)
    found.delete()
    try:
        _ensure_stripe_account(seller)
    except (AgoraError, PynamoDBException):
        logger.exception("the seller was saved without a Stripe account; the onboarding link will create it",
                         extra={"seller_id": seller.seller_id})
    return seller, start_session(owner)


def _create_seller(found: SellerApplication, existing: Any) -> tuple[Seller, Any]:
    """The seller, its events and its owner in one transaction."""
    seller_id = new_id("sel")
    extra: list[Any] = []
    if found.invite_key:
        # The check at application can race another application with the same code; the
        # redemption's condition cannot, and says so with its own error.
        extra.append(NewItem(marketplace.redemption_of(found.invite_key, seller_id=seller_id),
                             taken=marketplace.invite_used()))
    now = clock.stamp()
    owner = existing if existing is not None else new_user(
        found.email, name=found.name or found.business_name, password_hash=found.password_hash,
        roles=("buyer", "seller"), seller_id=seller_id, email_verified=True)
    owner_id = owner.user_id
    seller = Seller(
        seller_key(seller_id), PROFILE_SK, seller_id=seller_id, status="pending", owner_user_id=owner_id,
        business_name=found.business_name, display_name=found.business_name, contact_email=found.email,
        country=found.country, default_currency=found.default_currency, vat_id=found.vat_id,
        created_at=now, GSI1PK=seller_status_index_key("pending"), GSI1SK=timed_sort_key(now, seller_id),
    )
    applied = new_event(SellerApplied(seller_id=seller_id, business_name=seller.business_name,
                                      contact_email=found.email, country=seller.country, owner_user_id=owner_id))
    if existing is None:
        create_user(owner, together_with=[seller, applied, *extra],
                    event_payload={"method": "password", "seller_id": seller_id})
        return seller, owner
    if existing.seller_id:
        raise Conflict("This account already runs a seller on the marketplace.", code=Code.ALREADY_SELLER,
                       details={"seller_id": existing.seller_id})
    transaction = LabelledTransaction()
    transaction.update("owner", existing, [User.roles.add({"seller"}), User.seller_id.set(seller_id)],
                       User.seller_id.does_not_exist() & (User.status == "active"))
    for label, item in (("seller", seller), ("applied", applied)):
        transaction.put(label, item, type(item).PK.does_not_exist())
    for entry in extra:
        transaction.put("invite", entry.item, type(entry.item).PK.does_not_exist())
    failed = transaction.commit()
    if "owner" in failed:
        raise Conflict("This account already runs a seller on the marketplace.", code=Code.ALREADY_SELLER)
    if failed:
        raise marketplace.invite_used()
    existing.roles = set(existing.roles) | {"seller"}
    existing.seller_id = seller_id
    return seller, existing


def _ensure_stripe_account(seller: Seller) -> str:
    """The seller's Connect account id, creating the account if it has none. Stripe's
    idempotency key (per seller) makes a repeated creation return the same account."""
    if seller.stripe_account_id:
        return seller.stripe_account_id
    account = stripe_gateway.create_express_account(seller_id=seller.seller_id, email=seller.contact_email,
                                                    country=seller.country, business_name=seller.business_name)
    try:
        seller.update(actions=_changes(seller, _account_values(account["id"])),
                      condition=Seller.stripe_account_id.does_not_exist())
    except UpdateError as error:
        if not was_condition_failure(error):
            raise
        seller.refresh(consistent_read=True)  # stored concurrently
    return seller.stripe_account_id


def _account_values(account_id: str) -> dict[str, Any]:
    return {"stripe_account_id": account_id, "GSI2PK": stripe_account_index_key(account_id),
            "GSI2SK": STRIPE_ACCOUNT_INDEX_SK}


def onboarding_link(seller_id: str) -> tuple[str, str]:
    """A fresh Stripe onboarding link (url, expires_at ISO). Links are single-use and short-lived,
    so each call makes a new one; the seller returns to the marketplace frontend."""
    account_id = _ensure_stripe_account(get_seller(seller_id, consistent=True))
    frontend = get_settings().frontend_url.rstrip("/")
    link = stripe_gateway.create_onboarding_link(account_id=account_id,
                                                 refresh_url=f"{frontend}/seller/onboarding/refresh",
                                                 return_url=f"{frontend}/seller/onboarding/done")
    return link["url"], datetime.fromtimestamp(int(link["expires_at"]), UTC).isoformat()


# --- profile ----------------------------------------------------------------------------------

def own_seller(seller_id: str) -> Seller:
    return get_seller(seller_id, consistent=True)


def update_profile(seller_id: str, changes: dict[str, Any]) -> Seller:
    seller = get_seller(seller_id, consistent=True)
    days = changes.get("return_window_days")
    if days is not None and days < WITHDRAWAL_DAYS and seller.country in WITHDRAWAL_COUNTRIES:
        raise ValidationFailed("Buyers in your country may return goods for 14 days.",
                               code=Code.RETURN_WINDOW_TOO_SHORT,
                               details=[{"field": "body.return_window_days", "type": "greater_than_equal",
                                         "message": f"Input should be greater than or equal to {WITHDRAWAL_DAYS}"}])
    if changes:
        try:
            seller.update(actions=_changes(seller, changes), condition=Seller.PK.exists())
        except UpdateError as error:
            if was_condition_failure(error):
                raise seller_not_found() from None
            raise
    return seller


# --- operators -------------------------------------------------------------------------------

def list_sellers(status: str, *, cursor: str | None, limit: int) -> Page[Seller]:
    """Sellers of one status, oldest application first (1 Query of GSI1)."""
    scope = f"admin/sellers/{status}"
    results = Seller.by_status.query(seller_status_index_key(status), scan_index_forward=True, limit=limit,
                                     last_evaluated_key=decode_cursor(cursor, scope=scope))
    items = list(results)
    return Page(items, encode_cursor(results.last_evaluated_key, scope=scope))


def seller_for_operator(seller_id: str) -> Seller:
    if not has_prefix(seller_id, "sel"):
        raise seller_not_found()
    return get_seller(seller_id, consistent=True)


def change_status(seller_id: str, action: str, *, operator_id: str | None, reason: str | None = None) -> Seller:
    """approve, reject, suspend or reinstate. Asking for the status a seller already has
    changes nothing. Only a pending application can be rejected; the reason is shown to
    the seller (``status_reason``), and rejection is final.

    Suspension keeps every item: the catalog shows only sellers that may sell
    (:func:`selling_seller_ids`), checkout refuses them, and their API keys are refused
    until an operator reinstates them."""
    sources, target, _, done = TRANSITIONS[action]
    seller = seller_for_operator(seller_id)
    if seller.status == target:
        return seller
    if seller.status not in sources:
        raise Conflict(f"A {seller.status} seller cannot be {done}.", code=Code.INVALID_STATUS_TRANSITION,
                       details={"status": seller.status})
    return _transition(seller, action, by=operator_id, reason=reason)


def _transition(seller: Seller, action: str, *, by: str | None, reason: str | None = None,
                condition: Any = None) -> Seller:
    """Write ``action`` on ``seller`` and its event, provided the seller still has the status
    that was read (and ``condition`` holds); else Conflict(seller_changed)."""
    _, target, event, _ = TRANSITIONS[action]
    previous = seller.status
    actions = _changes(seller, _status_values(seller, target, reason=reason))
    unchanged = Seller.status == previous
    transaction = LabelledTransaction()
    transaction.update("seller", seller, actions, unchanged if condition is None else unchanged & condition)
    transaction.put("event", _status_event(seller, previous, event, by=by, reason=reason))
    if transaction.commit():
        raise Conflict("The seller's status changed meanwhile; read it again.", code=Code.SELLER_CHANGED)
    logger.info("seller status changed", extra={"seller_id": seller.seller_id, "from": previous, "to": target})
    return seller


# --- opening the marketplace -------------------------------------------------------------------

SWEEP_PAGE_SIZE = 100
SWEEP_PAGES_PER_STEP = 3


def on_settings_changed(delivered: Delivered[MarketplaceSettingsChanged]) -> None:
    """When sellers no longer need an invitation, approve those already waiting with charges
    enabled, as the ``account.updated`` webhook would have done in an open marketplace."""
    changed = delivered.event
    if changed.seller_access == "open" and changed.previous_seller_access != "open":
        approve_ready_sellers(start=None)


def on_approval_sweep(delivered: Delivered[ApprovalSweep]) -> None:
    approve_ready_sellers(start=delivered.event.start)


def approve_ready_sellers(*, start: dict[str, Any] | None) -> int:
    """Approve pending sellers whose Stripe charges are enabled: one step of the sweep that
    follows opening the marketplace. Returns how many it approved.

    Why through the events queue and not in ``PUT /v1/admin/settings``: an invite-only
    marketplace can hold any number of waiting sellers, and each approval is its own
    transaction (with its ``seller.approved`` event), so doing them in the request could
    outlast API Gateway's 29 s. The settings change is saved with an event; its subscriber
    (this function, on the events worker) reads the pending partition of the status index
    (GSI1 ``SELLERS#pending``, filtered on ``charges_enabled``; never a Scan), at most
    ``SWEEP_PAGES_PER_STEP`` Query pages of ``SWEEP_PAGE_SIZE`` sellers per step, and when
    more remain records a ``sellers.approval_sweep`` event carrying the Query's position, so
    the next step runs in a fresh invocation. Each step therefore stays well inside the
    worker's timeout, and a failed step is retried by SQS: approving is conditioned on the
    seller still being pending with charges enabled, so repeating a step approves no one
    twice. The sweep stops if the marketplace is made invite-only again meanwhile.
    Round trips per step: GetItem settings, <= 3 Queries, one TransactWrite per seller
    approved, + one PutItem of the next step's event.

    The index is eventually consistent: a seller whose charges are enabled in the very
    second the marketplace opens may be missed here, but then its ``account.updated`` is
    applied after the opening and approves it.
    """
    if marketplace.current_settings().seller_access != "open":
        logger.info("marketplace is invite-only again; approval sweep stopped")
        return 0
    approved = 0
    for _ in range(SWEEP_PAGES_PER_STEP):
        page = next(Seller.by_status.query(
            seller_status_index_key("pending"), filter_condition=Seller.charges_enabled == True,  # noqa: E712
            last_evaluated_key=start, page_size=SWEEP_PAGE_SIZE).page_iter)
        for seller in map(Seller.from_raw_data, page.get("Items", [])):
            try:
                _transition(seller, "approve", by="marketplace_opened",
                            condition=Seller.charges_enabled == True)  # noqa: E712
                approved += 1
            except Conflict:
                logger.info("seller changed during the approval sweep", extra={"seller_id": seller.seller_id})
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
    else:
        record_event(ApprovalSweep(start=start))
    logger.info("approval sweep step", extra={"approved": approved, "more": start is not None})
    return approved


# --- Stripe Connect ----------------------------------------------------------------------------

def on_stripe_account_updated(event: dict[str, Any]) -> str | None:
    """Record a connected account's state on its seller; in an open marketplace, approve a
    pending seller whose charges are now enabled. Only moves forward: an event created before
    the last one applied is ignored, so late and repeated deliveries change nothing.
    "refused" (nothing changed) when the event is not about the account it carries, or the
    account is no seller's. A seller that keeps changing under the event is a 409
    ``concurrent_update``, and Stripe delivers the event again."""
    account = event["data"]["object"]
    created = int(event["created"])
    if not event.get("account") or event["account"] != account.get("id"):
        logger.warning("account.updated about another account than its own refused",
                       extra={"event_id": event.get("id"), "account": event.get("account"),
                              "object": account.get("id")})
        return "refused"

    def attempt() -> str | None:
        nonlocal account
        seller = _seller_of_account(account)
        if seller is None:
            logger.warning("account.updated for an account no seller has refused",
                           extra={"account": account["id"],
                                  "metadata_seller_id": (account.get("metadata") or {}).get("seller_id")})
            return "refused"
        synced = seller.stripe_synced_at
        if synced is not None and created < synced:
            logger.info("stale account.updated ignored",
                        extra={"seller_id": seller.seller_id, "event_created": created})
            return None
        if synced is not None and created == synced and _payment_state(account) != _payment_state(seller):
            # Two events of the same second: which is newer is unknown, so the live account decides.
            account = stripe_gateway.retrieve_account(account["id"]).to_dict()
        _apply_account(seller, account, created)
        return None

    return retrying(attempt, what="seller", attempts=MAX_SYNC_ATTEMPTS)


def _seller_of_account(account: dict[str, Any]) -> Seller | None:
    """The seller agora created the account for: named in its metadata (GetItem), else found by
    id (Query). The metadata only says where to look: the seller must hold the account's id
    already (stored when agora created the account), so a seller without one adopts none."""
    seller_id = (account.get("metadata") or {}).get("seller_id")
    if seller_id:
        try:
            seller: Seller | None = get_seller(seller_id, consistent=True)
        except NotFound:
            return None
    else:
        seller = next(iter(Seller.by_stripe_account.query(stripe_account_index_key(account["id"]), limit=1)), None)
    if seller is None or seller.stripe_account_id != account["id"]:
        return None
    return seller


def _payment_state(source: Seller | dict[str, Any]) -> dict[str, Any]:
    """What agora keeps of a connected account, read from the account or from the seller."""
    if isinstance(source, Seller):
        return {"charges_enabled": bool(source.charges_enabled), "payouts_enabled": bool(source.payouts_enabled),
                "requirements_due": list(source.requirements_due or [])}
    return {"charges_enabled": bool(source.get("charges_enabled")),
            "payouts_enabled": bool(source.get("payouts_enabled")),
            "requirements_due": sorted((source.get("requirements") or {}).get("currently_due") or [])}


def _apply_account(seller: Seller, account: dict[str, Any], created: int) -> None:
    previous_status, previous_sync = seller.status, seller.stripe_synced_at
    payments_before = (bool(seller.charges_enabled), bool(seller.payouts_enabled))
    values: dict[str, Any] = {**_payment_state(account), "stripe_synced_at": created}
    events = []
    if (values["charges_enabled"], values["payouts_enabled"]) != payments_before:
        events.append(new_event(SellerPaymentsChanged(
            seller_id=seller.seller_id, charges_enabled=values["charges_enabled"],
            payouts_enabled=values["payouts_enabled"], requirements_due=values["requirements_due"])))
    approve = (previous_status == "pending" and values["charges_enabled"]
               and marketplace.current_settings().seller_access == "open")
    if approve:
        values.update(_status_values(seller, "approved"))
    actions = _changes(seller, values)
    if approve:
        events.append(_status_event(seller, previous_status, SellerApproved, by="stripe_onboarding"))
    unchanged_sync = (Seller.stripe_synced_at.does_not_exist() if previous_sync is None
                      else Seller.stripe_synced_at == previous_sync)
    transaction = LabelledTransaction()
    transaction.update("seller", seller, actions, (Seller.status == previous_status) & unchanged_sync)
    for event in events:
        transaction.put("event", event)
    if transaction.commit():
        raise Stale
