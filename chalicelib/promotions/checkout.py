"""Promotions as a checkout contributor: the automatic promotions and the one code, priced by
the engine after the customer-group discount, their limits kept inside the checkout's
transaction, and given back on cancellation and refund.

Registered by :mod:`chalicelib.promotions.subscriptions` (by path: the cold start loads
nothing of it). Reads, inside the checkout's own two BatchGetItems:

1. with the products: the marketplace's and each seller's index of automatic promotions,
   the code's item, the buyer's customer records (customer groups, first order with a
   seller), loyalty membership (its tier, for a promotion's ``loyalty_tier``) and the
   buyer's first-paid-order markers (first order with the marketplace: the
   account's and the email's, :mod:`chalicelib.orders.first_orders`);
2. the follow-up: every promotion those name and the buyer's use counts of those with a
   per-buyer limit (:func:`chalicelib.promotions.service.follow_up_keys`).

So a checkout costs the same round trips whatever the number of lines and promotions.

Whose uses a per-buyer limit counts: a signed-in buyer's account; a guest by the normalised
email of the account the guest checkout links (a guest never matches a personal code: the
guest proves nothing about the account). The checkout's transaction also puts a
``PromoRedemption`` (what was taken), which a cancellation, a refund and ``order.paid`` read;
a paid order whose every part is cancelled gives its uses back once the last part is
(``order.status_changed``, :func:`give_use_back_when_cancelled`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.accounts.models import FirstPaidOrder
from chalicelib.core import clock
from chalicelib.core.db import ItemWrite, LabelledTransaction, find_item
from chalicelib.core.errors import Code, NotFound, ValidationFailed
from chalicelib.core.keys import (
    FIRST_ORDER_SK,
    PROMO_CODE_SK,
    PROMO_ORDER_SK,
    PROMO_USE_SK,
    first_order_key,
    promo_order_key,
    promo_use_key,
    promotion_sk,
)
from chalicelib.core.money import Money
from chalicelib.customers.models import Customer
from chalicelib.customers.service import customer_record_keys
from chalicelib.loyalty.models import LoyaltyMember
from chalicelib.loyalty.tiers import tier_key
from chalicelib.orders.events import OrderStatusChanged
from chalicelib.orders.extensions import (
    SELLER_FUNDED,
    CheckoutContext,
    Contributor,
    Key,
    LinePrice,
    Notice,
    PriceAdjustment,
    ShippingAdjustment,
    ShippingPrice,
    TransactionItem,
)
from chalicelib.orders.first_orders import buyer_keys
from chalicelib.orders.lifecycle import buyer_order
from chalicelib.orders.models import Order, Refund, SubOrder
from chalicelib.orders.pricing import PricedOrder
from chalicelib.promotions import engine, service
from chalicelib.promotions.models import AutomaticPromotions, PromoCode, PromoRedemption, Promotion, PromoUse

# The most items promotions add to the checkout's transaction: per promotion that applied (the
# engine's at most ``AUTOMATIC_PER_ORDER`` automatic ones and the code's) its counters and the
# buyer's count, the single-use code and the redemption. With the checkout's own 71 (8 sellers,
# 50 products) that is 91 of DynamoDB's 100 items.
TRANSACTION_ITEMS = 2 * (engine.AUTOMATIC_PER_ORDER + 1) + 2

MESSAGES = {
    engine.Reason.CODE_UNKNOWN: "There is no such promo code.",
    engine.Reason.NOT_YOUR_CODE: "This promo code belongs to another account.",
    engine.Reason.CODE_EXPIRED: "This promo code has expired.",
    engine.Reason.NOT_STARTED: "This promotion has not started yet.",
    engine.Reason.USAGE_LIMIT_REACHED: "This promo code has been used up.",
    engine.Reason.FIRST_ORDER_ONLY: "This promo code is for a first order only.",
    engine.Reason.NOT_IN_YOUR_COUNTRY: "This promo code does not apply to the delivery country.",
    engine.Reason.NOT_ELIGIBLE: "This promo code is for other customers.",
    engine.Reason.NOT_FOR_THESE_PRODUCTS: "This promo code does not apply to these products.",
    engine.Reason.MINIMUM_NOT_REACHED: "The order does not reach this promo code's minimum yet.",
    engine.Reason.NOT_COMBINABLE: "This promo code cannot be combined with a promotion in the cart.",
}


def refusal_error(code: str, refusal: engine.Refusal, *, field: str = "body.promo_code") -> ValidationFailed:
    """A code that does not apply: 422 ``promo_code_invalid`` with the reason in its details."""
    problem: Any = {"field": field, "message": MESSAGES[refusal.reason], "type": str(refusal.reason), "code": code,
                    **refusal.to_json()}  # a field problem with the reason's own keys (missing amount)
    return ValidationFailed(MESSAGES[refusal.reason], code=Code.PROMO_CODE_INVALID, details=[problem])


def buyer_key_of(context: CheckoutContext) -> str | None:
    """The account, or a guest's normalised email (None: nobody to count yet)."""
    if not context.guest:
        return context.user_id
    return service.buyer_key(None, context.email) if context.email else None


class PromotionsContributor(Contributor):
    name = "promotions"
    funding = SELLER_FUNDED  # each adjustment carries its promotion's own funding

    # -- reads ----------------------------------------------------------------------------------

    def _first_keys(self, context: CheckoutContext) -> list[Key]:
        return service.checkout_keys(context.seller_ids, context.promo_code)

    def _customer_keys(self, context: CheckoutContext) -> list[Key]:
        if context.user_id is None:
            return []
        return [Key(Customer, pk, sk) for pk, sk in customer_record_keys(context.seller_ids, context.user_id)]

    def _first_order_keys(self, context: CheckoutContext) -> list[Key]:
        return [Key(FirstPaidOrder, first_order_key(key), FIRST_ORDER_SK)
                for key in buyer_keys(context.user_id, context.email)]

    def _member_key(self, context: CheckoutContext) -> Key | None:
        """The signed-in buyer's loyalty membership, whose tier a promotion may require."""
        return Key(LoyaltyMember, *tier_key(context.user_id)) if context.user_id and not context.guest else None

    def keys(self, context: CheckoutContext) -> Sequence[Key]:
        member = self._member_key(context)
        return [*self._first_keys(context), *self._customer_keys(context), *self._first_order_keys(context),
                *([member] if member else [])]

    def follow_up_keys(self, context: CheckoutContext) -> Sequence[Key]:
        first = self._first_keys(context)
        indexes = context.found.all([key for key in first if key.model is AutomaticPromotions])
        codes = context.found.all([key for key in first if key.model is PromoCode])
        return service.follow_up_keys(indexes, codes[0] if codes else None, buyer_key_of(context))

    # -- pricing --------------------------------------------------------------------------------

    def _buyer(self, context: CheckoutContext, uses: Mapping[str, int]) -> engine.Buyer:
        customers: list[Customer] = context.found.all(self._customer_keys(context))
        ordered = {c.seller_id for c in customers if int(c.order_count)}
        member_key = self._member_key(context)
        member: LoyaltyMember | None = context.found.get(member_key) if member_key else None
        # with the marketplace: no paid order under the account or the email; the cart's sellers'
        # records still count, for orders paid before the markers were written
        paid_before = bool(context.found.all(self._first_order_keys(context))) or bool(ordered)
        return engine.Buyer(
            account_id=None if context.guest else context.user_id, now=context.now or clock.now(),
            groups={c.seller_id: frozenset({c.group_id}) for c in customers if c.group_id},
            first_order=not paid_before, first_order_with=frozenset(context.seller_ids) - ordered,
            country=context.destination_country, tier=member.tier if member is not None else None, uses=uses)

    def outcome(self, context: CheckoutContext, lines: Sequence[LinePrice]) -> engine.Outcome:
        automatic, found, uses = service.found_promotions(context.found.items, context.promo_code)
        return engine.apply_promotions(
            [engine.Line(line=line.line, product_id=line.product_id, seller_id=line.seller_id,
                         category=line.category, brand=line.brand, quantity=line.quantity,
                         unit_price=line.unit_price, price=line.price) for line in lines],
            self._buyer(context, uses), automatic, code=context.promo_code or None, found=found)

    def adjust(self, context: CheckoutContext, lines: Sequence[LinePrice]) -> Sequence[PriceAdjustment]:
        return self.outcome(context, lines).adjustments

    def shipping_adjustments(self, context: CheckoutContext,
                             shipping: Sequence[ShippingPrice]) -> Sequence[ShippingAdjustment]:
        """A free-shipping promotion takes a covered part's whole shipping off, funded as the
        promotion is (a marketplace-funded part is paid to the seller as if charged)."""
        free = self.outcome(context, context.lines).free_shipping if context.lines else {}
        if not free:
            return ()
        rules = {item.promotion_id: service.rule_of(item) for item in context.found.items.values()
                 if isinstance(item, Promotion) and item.promotion_id in free.values()}
        return [ShippingAdjustment(seller_id=part.seller_id, amount=part.price, source=engine.SOURCE,
                                   label=free[part.seller_id], funding=rules[free[part.seller_id]].funding)
                for part in shipping if part.seller_id in free and part.price.amount > 0]

    def explain(self, context: CheckoutContext, lines: Sequence[LinePrice]) -> Sequence[Notice]:
        """The code's status (applied, or refused with its reason: checkout answers that with
        a 422 and writes nothing) and every automatic promotion that applied."""
        if not lines:
            return ()
        outcome = self.outcome(context, lines)
        code_promotion = self._code_promotion_id(context)
        notices: list[Notice] = []
        for applied in outcome.applied:
            is_code = applied.promotion_id == code_promotion and outcome.code_refusal is None
            notices.append(Notice(self.name, service.normalise_code(context.promo_code or "") if is_code else
                                  "automatic", "applied", {"promotion_id": applied.promotion_id,
                                                           "discount": applied.discount.to_json()}))
        if context.promo_code and outcome.code_refusal is not None:
            code = service.normalise_code(context.promo_code)
            notices.append(Notice(self.name, code, "refused", outcome.code_refusal.to_json(),
                                  problem=refusal_error(code, outcome.code_refusal)))
        return notices

    def _code_item(self, context: CheckoutContext) -> PromoCode | None:
        codes = context.found.all([key for key in self._first_keys(context) if key.model is PromoCode])
        return codes[0] if codes else None

    def _code_promotion_id(self, context: CheckoutContext) -> str | None:
        item = self._code_item(context)
        return item.promotion_id if item is not None else None

    # -- the checkout's transaction -------------------------------------------------------------

    def transaction_items(self, context: CheckoutContext, order: Order,
                          priced: PricedOrder) -> Sequence[TransactionItem]:
        """Per promotion that took something off: its counters under its limits, the buyer's
        count, a single-use code marked used; and the order's ``PromoRedemption``: at most
        :data:`TRANSACTION_ITEMS`."""
        given: dict[str, int] = {}
        for part in priced.sellers:
            taken: list[PriceAdjustment | ShippingAdjustment] = [*part.adjustments]
            taken += part.shipping.adjustments if part.shipping is not None else ()
            for adjustment in taken:
                if adjustment.source == engine.SOURCE:
                    given[adjustment.label] = given.get(adjustment.label, 0) + adjustment.amount.amount
        if not given:
            return ()
        promotions = {item.promotion_id: item for item in context.found.items.values() if isinstance(item, Promotion)}
        code = self._code_item(context)
        buyer = buyer_key_of(context)
        if buyer is None and order.guest:  # the guest's account exists now (linked or created)
            buyer = service.buyer_key(None, order.email)
        elif buyer is None:
            buyer = order.user_id
        items: list[TransactionItem] = []
        uses: list[list[Any]] = []
        code_pk = None
        for promotion_id, amount in given.items():
            promotion = promotions[promotion_id]
            its_code = code if code is not None and code.promotion_id == promotion_id else None
            items += service.use_writes(promotion, buyer, Money(order.currency, amount), order_id=order.order_id,
                                        code=its_code)
            uses.append([promotion.PK, promotion_id, amount, int(promotion.max_uses_per_buyer is not None)])
            if its_code is not None and its_code.kind != engine.CodeKind.PUBLIC:
                code_pk = its_code.PK
        record = PromoRedemption(promo_order_key(order.order_id), PROMO_ORDER_SK, order_id=order.order_id,
                                 buyer_key=buyer, code_pk=code_pk, uses=uses)
        items.append(TransactionItem(ItemWrite(record, (), PromoRedemption.PK.does_not_exist()),
                                     service.limit_reached()))
        return items

    # -- giving back ----------------------------------------------------------------------------

    def release(self, order: Order, sub_orders: Sequence[SubOrder]) -> Sequence[ItemWrite]:
        """An unpaid order cancelled or expired: its uses, discounts and code go back (one
        GetItem; in the cancellation's transaction, so once)."""
        record = redemption_of(order.order_id)
        if record is None or record.released_at or record.use_returned_at:
            return ()
        marked = PromoRedemption(record.PK, record.SK)
        return [*uses_back(record, {promotion_id: int(amount) for _, promotion_id, amount, _ in record.uses}),
                ItemWrite(marked, (PromoRedemption.released_at.set(clock.stamp()),))]

    def reverse(self, order: Order, refund: Refund, reversed: Sequence[PriceAdjustment]) -> Sequence[ItemWrite]:
        """A refund gives the promotions' discount on the refunded amounts back to their
        ``discount_given`` (budgets). The use itself goes back only when the whole order was
        cancelled before shipping (:func:`give_use_back_when_cancelled`)."""
        back: dict[str, int] = {}
        for adjustment in reversed:
            if adjustment.amount.amount:
                back[adjustment.label] = back.get(adjustment.label, 0) + adjustment.amount.amount
        if not back:
            return ()
        record = redemption_of(order.order_id)
        if record is None:
            return ()
        owners = {promotion_id: owner for owner, promotion_id, _, _ in record.uses}
        return [ItemWrite(Promotion(owners[promotion_id], promotion_sk(promotion_id)),
                          (Promotion.discount_given.add(-amount),))
                for promotion_id, amount in back.items() if promotion_id in owners]


def redemption_of(order_id: str) -> PromoRedemption | None:
    return find_item(PromoRedemption, promo_order_key(order_id), PROMO_ORDER_SK, consistent_read=True)


def uses_back(record: PromoRedemption, discounts: Mapping[str, int]) -> list[ItemWrite]:
    """The uses back, with ``discounts`` (per promotion id) given back in the same update:
    a transaction takes one operation per item."""
    writes: list[ItemWrite] = []
    for owner, promotion_id, _, per_buyer in record.uses:
        target = Promotion(owner, promotion_sk(promotion_id))
        back = discounts.get(promotion_id, 0)
        actions = [Promotion.uses.add(-1), *([Promotion.discount_given.add(-back)] if back else [])]
        writes.append(ItemWrite(target, tuple(actions)))
        if per_buyer and record.buyer_key:
            use = PromoUse(promo_use_key(promotion_id, record.buyer_key), PROMO_USE_SK)
            writes.append(ItemWrite(use, (PromoUse.uses.add(-1),)))
    if record.code_pk:
        writes.append(ItemWrite(PromoCode(record.code_pk, PROMO_CODE_SK), (PromoCode.used_by_order.remove(),)))
    return writes


def give_use_back_when_cancelled(changed: OrderStatusChanged) -> bool:
    """A paid order whose every part was cancelled (so none shipped) gives its uses, per-buyer
    uses and single-use code back, once: the redemption is marked in the same transaction on
    the condition that nothing was given back before, so the events of the other parts, or
    this one delivered again, give nothing. The budgets come back with the refunds
    (:meth:`PromotionsContributor.reverse`). GetItem redemption, then (only for an order a
    promotion applied to) GetItem order + BatchGetItem parts + TransactWriteItems."""
    if changed.to != "cancelled":
        return False
    record = redemption_of(changed.order_id)
    if record is None or record.released_at or record.use_returned_at:
        return False
    try:
        order, parts = buyer_order(changed.user_id, changed.order_id)
    except NotFound:
        return False
    if order.status != "paid" or len(parts) != len(order.seller_ids) or any(
            part.status != "cancelled" for part in parts):
        return False
    transaction = LabelledTransaction()
    for number, write in enumerate(uses_back(record, {})):
        transaction.add(f"use:{number}", write)
    transaction.update("redemption", record, [PromoRedemption.use_returned_at.set(clock.stamp())],
                       PromoRedemption.use_returned_at.does_not_exist() & PromoRedemption.released_at.does_not_exist())
    return not transaction.commit()
