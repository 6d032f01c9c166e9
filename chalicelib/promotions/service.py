"""Promotions and their codes: the operator's and each seller's, and the writes that count
their uses inside the checkout's transaction.

Every function takes ``seller_id`` from the caller's principal: a seller's id builds keys
under its own ``SELLER#<sid>`` only, ``None`` means the operator's marketplace promotions.
What checkout uses (:mod:`chalicelib.promotions.checkout`): :func:`rule_of` and
:func:`code_of` turn items into the engine's terms, :func:`use_writes` are the conditions that
keep limits and budgets in its transaction (a cancellation gives them back from the order's
``PromoRedemption``; :func:`release_writes` does the same for one promotion).
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError
from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.update import Action

from chalicelib.accounts.emails import normalise_email
from chalicelib.core import clock
from chalicelib.core.db import ItemWrite, LabelledTransaction, Stale, find_item, retrying, was_condition_failure
from chalicelib.core.errors import Code, Conflict, FieldProblem, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.keys import (
    AUTOMATIC_SK,
    MARKETPLACE_PROMOTIONS_KEY,
    PROMO_CODE_SK,
    PROMO_USE_SK,
    PROMOTION_PREFIX,
    promo_code_key,
    promo_use_key,
    promotion_codes_index_key,
    promotion_sk,
    seller_key,
)
from chalicelib.core.money import Money
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.orders.extensions import Key, TransactionItem
from chalicelib.orders.pricing import SELLER_FUNDED
from chalicelib.promotions import engine
from chalicelib.promotions.engine import CodeKind, Kind, Scope, TargetKind
from chalicelib.promotions.models import AUTOMATIC_PER_OWNER, AutomaticPromotions, PromoCode, Promotion, PromoUse

# Codes: an alphabet without look-alikes (no 0/O, 1/I/L), 12 characters: 31^12 ≈ 8·10^17, so
# that even a billion codes make a collision of a new one about one in 800 million (and a
# collision is still caught by the put's condition and drawn again).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
MAX_GENERATED = 10_000
CODES_PER_TRANSACTION = 100  # DynamoDB's limit per TransactWriteItems
DRAW_ATTEMPTS = 5
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
EXPORT_ROWS = 20_000  # ~1 MB of CSV, well under Lambda's 6 MB response limit
EXPORT_COLUMNS = ("code", "kind", "account_id", "valid_until", "used_by_order", "created_at")
# What PATCH may change; the kind, the currency and whether it is automatic stay as created.
CHANGEABLE = frozenset({
    "name", "percent_bp", "amount", "buy_quantity", "get_quantity", "tiers", "target", "target_values", "minimum",
    "customer_groups", "first_order", "countries", "starts_at", "ends_at", "loyalty_tier", "max_uses",
    "max_uses_per_buyer", "budget", "cap", "priority", "exclusive", "active", "seller_share_bp"})


def owner_key(seller_id: str | None) -> str:
    """The partition of the caller's promotions: the seller's own, or the marketplace's."""
    return MARKETPLACE_PROMOTIONS_KEY if seller_id is None else seller_key(seller_id)


def _not_found() -> NotFound:
    return NotFound("No such promotion.", code=Code.PROMOTION_NOT_FOUND)


def find_promotion(seller_id: str | None, promotion_id: str) -> Promotion | None:
    """GetItem (1 round trip); a deleted promotion is not found."""
    found = find_item(Promotion, owner_key(seller_id), promotion_sk(promotion_id), consistent_read=True)
    return None if found is None or found.deleted_at else found


def get_promotion(seller_id: str | None, promotion_id: str) -> Promotion:
    found = find_promotion(seller_id, promotion_id)
    if found is None:
        raise _not_found()
    return found


def list_promotions(seller_id: str | None, *, cursor: str | None, limit: int) -> Page[Promotion]:
    """Newest first (1 Query; deleted ones are filtered out, so a page may hold fewer)."""
    scope = f"{owner_key(seller_id)}/promotions"
    results = Promotion.query(owner_key(seller_id), Promotion.SK.startswith(PROMOTION_PREFIX),
                              filter_condition=Promotion.deleted_at.does_not_exist(), scan_index_forward=False,
                              consistent_read=True, limit=limit, last_evaluated_key=decode_cursor(cursor, scope=scope))
    return Page(list(results), encode_cursor(results.last_evaluated_key, scope=scope))


# -- checking a promotion's fields ------------------------------------------------------------------

def _problem(name: str, message: str) -> FieldProblem:
    return {"field": f"body.{name}", "message": message, "type": "promotion"}


def _problems(promotion: Promotion) -> list[FieldProblem]:
    """What no JSON Schema states: the fields a kind needs, and how they fit together."""
    problems: list[FieldProblem] = []
    kind = promotion.kind
    if kind == Kind.PERCENTAGE and not 1 <= int(promotion.percent_bp) <= 10_000:
        problems.append(_problem("percent_bp", "A percentage promotion needs percent_bp from 1 to 10000."))
    if kind == Kind.FIXED_AMOUNT and int(promotion.amount) <= 0:
        problems.append(_problem("amount_off", "A fixed-amount promotion needs amount_off."))
    if kind == Kind.BUY_X_GET_Y and (int(promotion.buy_quantity) < 1 or int(promotion.get_quantity) < 1):
        problems.append(_problem("buy_quantity", "Buy X get Y needs buy_quantity and get_quantity of at least 1."))
    if kind == Kind.SPEND_THRESHOLD:
        tiers = promotion.tiers or []
        if not tiers or len({threshold for threshold, _ in tiers}) != len(tiers) or any(
                not 0 < off <= threshold for threshold, off in tiers):
            problems.append(_problem("tiers", "Spend thresholds need tiers with distinct thresholds, each with an "
                                              "amount off above zero and not above its threshold."))
    if promotion.target != TargetKind.ORDER and not promotion.target_values:
        problems.append(_problem("target", "A target other than the order names at least one value."))
    if promotion.scope == Scope.SELLER and promotion.target == TargetKind.SELLERS:
        problems.append(_problem("target", "A seller's promotion covers its own items only: use the order target."))
    if promotion.scope == Scope.SELLER and int(promotion.seller_share_bp):
        problems.append(_problem("seller_share_bp", "A seller's promotion is always funded by the seller."))
    if promotion.starts_at and promotion.ends_at and promotion.ends_at <= promotion.starts_at:
        problems.append(_problem("ends_at", "The promotion ends before it starts."))
    return problems


def _check(promotion: Promotion) -> None:
    problems = _problems(promotion)
    if problems:
        raise ValidationFailed("The promotion's fields do not fit together.", code=Code.INVALID_PROMOTION,
                               details=problems)


# -- the automatic index ----------------------------------------------------------------------------

def _listed(promotion: Promotion) -> bool:
    return bool(promotion.automatic and promotion.active and not promotion.deleted_at)


def _index_update(transaction: LabelledTransaction, before: Promotion | None, after: Promotion) -> None:
    """Keep the owner's index of active automatic promotions in step, in the same transaction."""
    was, now = before is not None and _listed(before), _listed(after)
    limited = now and after.max_uses_per_buyer is not None
    was_limited = was and before is not None and before.max_uses_per_buyer is not None
    if (was, was_limited) == (now, limited):
        return
    index = AutomaticPromotions(after.PK, AUTOMATIC_SK)
    ids = {after.promotion_id}
    actions: list[Action] = []
    condition: Condition | None = None
    if now:
        actions.append(AutomaticPromotions.promotion_ids.add(ids))
        condition = (AutomaticPromotions.promotion_ids.does_not_exist()
                     | (size(AutomaticPromotions.promotion_ids) < AUTOMATIC_PER_OWNER)
                     | AutomaticPromotions.promotion_ids.contains(after.promotion_id))
    else:
        actions.append(AutomaticPromotions.promotion_ids.delete(ids))
    actions.append(AutomaticPromotions.per_buyer.add(ids) if limited else AutomaticPromotions.per_buyer.delete(ids))
    transaction.update("automatic", index, actions, condition)


def _too_many() -> Conflict:
    return Conflict(f"There are {AUTOMATIC_PER_OWNER} active automatic promotions already; pause or delete one "
                    "first.", code=Code.TOO_MANY_AUTOMATIC_PROMOTIONS, details={"limit": AUTOMATIC_PER_OWNER})


def automatic_promotions(seller_id: str | None) -> AutomaticPromotions | None:
    """The owner's index (1 GetItem); checkout reads it with its other keys instead."""
    return find_item(AutomaticPromotions, owner_key(seller_id), AUTOMATIC_SK, consistent_read=True)


# -- create, change, delete -------------------------------------------------------------------------

def create_promotion(seller_id: str | None, fields: Mapping[str, Any]) -> Promotion:
    """``fields`` are the model's attributes (amounts in minor units of ``currency``)."""
    promotion_id = new_id("prm")
    now = clock.stamp()
    promotion = Promotion(owner_key(seller_id), promotion_sk(promotion_id), promotion_id=promotion_id,
                          scope=Scope.MARKETPLACE if seller_id is None else Scope.SELLER, seller_id=seller_id,
                          created_at=now, updated_at=now, uses=0, discount_given=0, **fields)
    _check(promotion)
    transaction = LabelledTransaction()
    transaction.put("promotion", promotion, Promotion.PK.does_not_exist())
    _index_update(transaction, None, promotion)
    if transaction.commit():
        raise _too_many()
    return promotion


def update_promotion(seller_id: str | None, promotion_id: str, changes: Mapping[str, Any]) -> Promotion:
    """Only the fields given change, with a condition on the version read, so the counters
    the checkouts keep adding to are never overwritten."""
    unknown = set(changes) - CHANGEABLE - {"currency"}
    if unknown:
        raise ValueError(f"not changeable: {sorted(unknown)}")

    def attempt() -> Promotion:
        before = get_promotion(seller_id, promotion_id)
        if changes.get("currency") not in (None, "", before.currency) and before.currency:
            raise ValidationFailed("The promotion's fields do not fit together.", code=Code.INVALID_PROMOTION,
                                   details=[_problem("currency", f"The promotion's amounts are in {before.currency}.")])
        after = Promotion.from_raw_data(before.serialize())
        for name, value in changes.items():
            setattr(after, name, value)
        if not after.currency and changes.get("currency"):
            after.currency = changes["currency"]
        after.updated_at = clock.stamp()
        _check(after)
        actions: list[Action] = []
        for name in dict.fromkeys([*changes, "updated_at", "currency"]):  # each once: DynamoDB refuses a path twice
            attribute = getattr(Promotion, name)
            value = getattr(after, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        transaction = LabelledTransaction()
        transaction.update("promotion", after, actions, (Promotion.updated_at == before.updated_at)
                           & Promotion.deleted_at.does_not_exist())
        _index_update(transaction, before, after)
        failed = transaction.commit()
        if "promotion" in failed:
            raise Stale
        if failed:
            raise _too_many()
        return after

    return retrying(attempt, what="promotion")


def delete_promotion(seller_id: str | None, promotion_id: str) -> None:
    """Kept as a deleted item (its counters stay for releases); its codes then answer
    ``code_unknown``."""
    before = get_promotion(seller_id, promotion_id)
    after = Promotion.from_raw_data(before.serialize())
    after.deleted_at = after.updated_at = clock.stamp()
    after.active = False
    transaction = LabelledTransaction()
    transaction.update("promotion", after, [Promotion.deleted_at.set(after.deleted_at),
                                            Promotion.updated_at.set(after.updated_at),
                                            Promotion.active.set(False)], Promotion.deleted_at.does_not_exist())
    _index_update(transaction, before, after)
    if transaction.commit():
        raise _not_found()


# -- codes ------------------------------------------------------------------------------------------

def normalise_code(text: str) -> str:
    """Codes are case-insensitive and spaces in them do not count: `` sommer 10`` is ``SOMMER10``."""
    return "".join(text.split()).upper()


def _draw() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _code_item(promotion: Promotion, code: str, kind: CodeKind, *, account_id: str | None = None,
               valid_until: str | None = None) -> PromoCode:
    created_at = clock.stamp()
    return PromoCode(promo_code_key(code), PROMO_CODE_SK, code=code, kind=kind, scope=promotion.scope,
                     seller_id=promotion.seller_id, promotion_id=promotion.promotion_id, account_id=account_id,
                     valid_until=valid_until, created_at=created_at,
                     GSI1PK=promotion_codes_index_key(promotion.PK, promotion.promotion_id),
                     GSI1SK=f"{created_at}#{code}")


def _takes_codes(promotion: Promotion) -> None:
    if promotion.automatic:
        raise Conflict("An automatic promotion applies without a code.", code=Code.PROMOTION_IS_AUTOMATIC)


def add_public_code(seller_id: str | None, promotion_id: str, code: str) -> PromoCode:
    """A public code (many uses) chosen by the seller or operator; 409 when it exists anywhere."""
    promotion = get_promotion(seller_id, promotion_id)
    _takes_codes(promotion)
    text = normalise_code(code)
    if not CODE_PATTERN.match(text):
        raise ValidationFailed("The code is not valid.", code=Code.VALIDATION_FAILED, details=[
            {"field": "body.code", "message": "3 to 32 letters, digits, - or _ (spaces are dropped).",
             "type": "pattern"}])
    item = _code_item(promotion, text, CodeKind.PUBLIC)
    try:
        item.save(condition=PromoCode.PK.does_not_exist())
    except PutError as error:
        if not was_condition_failure(error):
            raise
        raise Conflict("This code exists already.", code=Code.PROMO_CODE_TAKEN) from None
    return item


def generate_codes(seller_id: str | None, promotion_id: str, count: int) -> list[PromoCode]:
    """``count`` (≤ 10,000) random single-use codes, written 100 to a transaction, each put on
    the condition that its code is new: a transaction with a taken code writes nothing, and
    those codes are drawn again (``count / 100`` round trips)."""
    if not 1 <= count <= MAX_GENERATED:
        raise ValueError(f"1 to {MAX_GENERATED} codes at once")
    promotion = get_promotion(seller_id, promotion_id)
    _takes_codes(promotion)
    made: list[PromoCode] = []
    while len(made) < count:
        batch = [_draw() for _ in range(min(CODES_PER_TRANSACTION, count - len(made)))]
        made.extend(_put_new_codes(promotion, batch))
    return made


def _put_new_codes(promotion: Promotion, codes: list[str]) -> list[PromoCode]:
    for _ in range(DRAW_ATTEMPTS):
        items = {code: _code_item(promotion, code, CodeKind.SINGLE_USE) for code in dict.fromkeys(codes)}
        transaction = LabelledTransaction()
        for code, item in items.items():
            transaction.put(code, item, PromoCode.PK.does_not_exist())
        taken = transaction.commit()
        if not taken:
            return list(items.values())
        codes = [_draw() if code in taken else code for code in items]
    raise Conflict("New codes kept colliding with existing ones; try again.", code=Code.CONCURRENT_CREATION)


def issue_personal_code(promotion: Promotion, account_id: str, expires_at: datetime) -> PromoCode:
    """A code only ``account_id`` can use, once, until ``expires_at`` (birthday and win-back
    mails call this with the promotion the flow offers)."""
    _takes_codes(promotion)
    for _ in range(DRAW_ATTEMPTS):
        item = _code_item(promotion, _draw(), CodeKind.PERSONAL, account_id=account_id,
                          valid_until=clock.stamp(expires_at))
        try:
            item.save(condition=PromoCode.PK.does_not_exist())
        except PutError as error:
            if not was_condition_failure(error):
                raise
            continue
        return item
    raise Conflict("New codes kept colliding with existing ones; try again.", code=Code.CONCURRENT_CREATION)


def list_codes(seller_id: str | None, promotion_id: str, *, cursor: str | None, limit: int) -> Page[PromoCode]:
    """A promotion's codes in the order made (GetItem of the promotion, 1 Query of GSI1)."""
    promotion = get_promotion(seller_id, promotion_id)
    scope = f"{owner_key(seller_id)}/promotions/{promotion_id}/codes"
    results = PromoCode.by_promotion.query(promotion_codes_index_key(promotion.PK, promotion_id), limit=limit,
                                           last_evaluated_key=decode_cursor(cursor, scope=scope))
    return Page(list(results), encode_cursor(results.last_evaluated_key, scope=scope))


def export_codes(seller_id: str | None, promotion_id: str, *, cursor: str | None = None) -> tuple[str, str | None]:
    """(CSV text, cursor of the next part or None), at most :data:`EXPORT_ROWS` codes a part."""
    page = list_codes(seller_id, promotion_id, cursor=cursor, limit=EXPORT_ROWS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows([code.code, code.kind, code.account_id or "", code.valid_until or "", code.used_by_order or "",
                      code.created_at] for code in page.items)
    return out.getvalue(), page.next_cursor


# -- what checkout will use -------------------------------------------------------------------------

def buyer_key(account_id: str | None, email: str | None) -> str:
    """Whose uses a per-buyer limit counts: the account; a guest by the normalised email
    (an email that is not valid is a 422, never a 500)."""
    if account_id:
        return account_id
    if not email:
        raise ValidationFailed("A guest checkout needs the buyer's email.", code=Code.EMAIL_REQUIRED,
                               details=[{"field": "body.email", "message": "required", "type": "missing"}])
    return normalise_email(email)


def _moment(text: str | None) -> datetime | None:
    return clock.parse(text) if text else None


def rule_of(promotion: Promotion) -> engine.Rule:
    """A promotion item in the engine's terms, counters included."""
    def whole(value: Any) -> int | None:
        return None if value is None else int(value)

    scope = Scope(promotion.scope)
    return engine.Rule(
        promotion_id=promotion.promotion_id, scope=scope, seller_id=promotion.seller_id, kind=Kind(promotion.kind),
        currency=promotion.currency, priority=int(promotion.priority), exclusive=bool(promotion.exclusive),
        funding=SELLER_FUNDED if scope == Scope.SELLER else engine.marketplace_funding(int(promotion.seller_share_bp)),
        percent_bp=int(promotion.percent_bp), amount=int(promotion.amount), buy=int(promotion.buy_quantity),
        get=int(promotion.get_quantity),
        tiers=tuple(engine.Tier(int(threshold), int(off)) for threshold, off in promotion.tiers or []),
        target=TargetKind(promotion.target), target_values=frozenset(promotion.target_values or []),
        minimum=int(promotion.minimum), customer_groups=frozenset(promotion.customer_groups or []),
        first_order=engine.FirstOrder(promotion.first_order) if promotion.first_order else None,
        countries=frozenset(promotion.countries or []), starts_at=_moment(promotion.starts_at),
        ends_at=_moment(promotion.ends_at), loyalty_tier=promotion.loyalty_tier, cap=whole(promotion.cap),
        max_uses=whole(promotion.max_uses), max_uses_per_buyer=whole(promotion.max_uses_per_buyer),
        budget=whole(promotion.budget), uses=int(promotion.uses), discount_given=int(promotion.discount_given))


def code_of(item: PromoCode, promotion: Promotion | None) -> engine.Code:
    """A code item and its promotion (None, deleted or paused: the code is unknown)."""
    usable = promotion is not None and not promotion.deleted_at and promotion.active
    return engine.Code(code=item.code, kind=CodeKind(item.kind),
                       promotion=rule_of(promotion) if usable and promotion is not None else None,
                       account_id=item.account_id, expires_at=_moment(item.valid_until),
                       used=item.used_by_order is not None)


def _code_promotion_key(code: PromoCode) -> tuple[str, str]:
    owner = MARKETPLACE_PROMOTIONS_KEY if code.scope == Scope.MARKETPLACE else seller_key(code.seller_id or "")
    return owner, promotion_sk(code.promotion_id)


def checkout_keys(seller_ids: Iterable[str], code: str | None) -> list[Key]:
    """What the checkout's first BatchGetItem reads for promotions: the marketplace's and each
    seller's index of automatic promotions, and the code's item (by its normalised text)."""
    keys = [Key(AutomaticPromotions, owner_key(seller_id), AUTOMATIC_SK)
            for seller_id in [None, *sorted(set(seller_ids))]]
    if code and normalise_code(code):
        keys.append(Key(PromoCode, promo_code_key(normalise_code(code)), PROMO_CODE_SK))
    return keys


def follow_up_keys(indexes: Iterable[AutomaticPromotions], code: PromoCode | None, buyer: str | None) -> list[Key]:
    """What the first read named, for one more BatchGetItem: every listed automatic promotion,
    the code's promotion, and the buyer's use counts of those with a per-buyer limit (the
    code's always: its limit is known only once its promotion is read). So the round trips
    stay two whatever the number of sellers and promotions."""
    promotions: dict[tuple[str, str], Key] = {}
    uses: dict[tuple[str, str], Key] = {}
    for index in indexes:
        for promotion_id in sorted(index.promotion_ids or ()):
            promotions[(index.PK, promotion_sk(promotion_id))] = Key(Promotion, index.PK, promotion_sk(promotion_id))
        for promotion_id in sorted(index.per_buyer or ()) if buyer else ():
            uses[(promotion_id, buyer or "")] = Key(PromoUse, promo_use_key(promotion_id, buyer or ""), PROMO_USE_SK)
    if code is not None:
        pk, sk = _code_promotion_key(code)
        promotions[(pk, sk)] = Key(Promotion, pk, sk)
        if buyer:
            uses[(code.promotion_id, buyer)] = Key(PromoUse, promo_use_key(code.promotion_id, buyer), PROMO_USE_SK)
    return [*promotions.values(), *uses.values()]


def found_promotions(items: Mapping[tuple[str, str], Any], code: str | None
                     ) -> tuple[list[engine.Rule], engine.Code | None, dict[str, int]]:
    """What the two reads found, in the engine's terms: the automatic promotions that are
    still active, the code as found (None: no such code) and the buyer's uses per promotion."""
    automatic: list[engine.Rule] = []
    uses: dict[str, int] = {}
    for item in items.values():
        if isinstance(item, AutomaticPromotions):
            for promotion_id in sorted(item.promotion_ids or ()):
                promotion = items.get((item.PK, promotion_sk(promotion_id)))
                if isinstance(promotion, Promotion) and _listed(promotion):
                    automatic.append(rule_of(promotion))
        elif isinstance(item, PromoUse):
            uses[item.promotion_id] = int(item.uses)
    code_item = items.get((promo_code_key(normalise_code(code)), PROMO_CODE_SK)) if code else None
    found = None
    if isinstance(code_item, PromoCode):
        promotion = items.get(_code_promotion_key(code_item))
        found = code_of(code_item, promotion if isinstance(promotion, Promotion) else None)
    return automatic, found, uses


def limit_reached() -> Conflict:
    return Conflict("A promotion's use limit or budget was reached meanwhile; check the cart again.",
                    code=Code.PROMOTION_LIMIT_REACHED)


def use_writes(promotion: Promotion, buyer: str | None, discount: Money, *, order_id: str,
               code: PromoCode | None = None) -> list[TransactionItem]:
    """The checkout transaction's writes for one use of ``promotion`` giving ``discount``:
    the counters on the promotion (under its total-use limit and budget, as read), the
    buyer's count (under the per-buyer limit) and a single-use or personal code marked used by
    ``order_id`` — each a condition, so parallel checkouts cannot exceed any of them."""
    amount = discount.amount
    condition = Promotion.deleted_at.does_not_exist()
    if promotion.max_uses is not None:
        limit = int(promotion.max_uses)
        condition &= (Promotion.max_uses == limit) & (Promotion.uses < limit)
    if promotion.budget is not None:
        budget = int(promotion.budget)
        condition &= (Promotion.budget == budget) & (Promotion.discount_given <= budget - amount)
    target = Promotion(promotion.PK, promotion.SK)
    writes = [TransactionItem(ItemWrite(target, (Promotion.uses.add(1), Promotion.discount_given.add(amount)),
                                        condition), limit_reached())]
    if promotion.max_uses_per_buyer is not None and buyer is not None:
        use = PromoUse(promo_use_key(promotion.promotion_id, buyer), PROMO_USE_SK)
        per_buyer = int(promotion.max_uses_per_buyer)
        writes.append(TransactionItem(ItemWrite(use, (
            PromoUse.uses.add(1), PromoUse.promotion_id.set(promotion.promotion_id), PromoUse.buyer_key.set(buyer)),
            PromoUse.uses.does_not_exist() | (PromoUse.uses < per_buyer)), limit_reached()))
    if code is not None and code.kind != CodeKind.PUBLIC:
        writes.append(TransactionItem(ItemWrite(
            PromoCode(code.PK, code.SK), (PromoCode.used_by_order.set(order_id),),
            PromoCode.PK.exists() & PromoCode.used_by_order.does_not_exist()),
            Conflict("This code was used by another order meanwhile.", code=Code.PROMO_CODE_USED)))
    return writes


def release_writes(promotion: Promotion, buyer: str | None, discount: Money, *,
                   code: PromoCode | None = None) -> list[ItemWrite]:
    """What :func:`use_writes` took, given back when an unpaid order is cancelled or expires.
    No condition: the items exist (a promotion is only ever marked deleted, codes stay)."""
    target = Promotion(promotion.PK, promotion.SK)
    writes = [ItemWrite(target, (Promotion.uses.add(-1), Promotion.discount_given.add(-discount.amount)))]
    if promotion.max_uses_per_buyer is not None and buyer is not None:
        use = PromoUse(promo_use_key(promotion.promotion_id, buyer), PROMO_USE_SK)
        writes.append(ItemWrite(use, (PromoUse.uses.add(-1),)))
    if code is not None and code.kind != CodeKind.PUBLIC:
        writes.append(ItemWrite(PromoCode(code.PK, code.SK), (PromoCode.used_by_order.remove(),)))
    return writes


def commit_writes(writes: Sequence[TransactionItem]) -> None:
    """Commit :func:`use_writes` in a transaction of their own (the checkout will add them to
    its own instead); the first refusal whose condition failed is raised."""
    transaction = LabelledTransaction()
    for number, item in enumerate(writes):
        transaction.add(str(number), item.write)
    failed = transaction.commit()
    for number, item in enumerate(writes):
        if str(number) in failed:
            raise item.refusal
