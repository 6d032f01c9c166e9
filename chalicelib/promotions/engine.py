"""Which promotions apply to an order and how much each takes off which line. Pure: no I/O,
no clock; the checkout (:mod:`chalicelib.promotions.checkout`) reads the promotions and the
buyer first, then calls :func:`apply_promotions`, and turns what it returns into its
contributor's adjustments.

The stacking rules (README, "Promotions"):

1. Customer-group discounts come first: the lines arrive with ``price`` after them.
2. The automatic promotions and the one code's promotion run in ``priority`` order, the
   lowest number first (ties: the older promotion id first). Each one sees the prices the
   ones before it left and never takes a line below zero.
3. An ``exclusive`` promotion that applies is the last one: the promotions after it in that
   order do not apply (a code among them is refused with ``not_combinable``). The ones before
   it keep their discount, so an operator who wants "this one alone" gives it the lowest
   priority number. At most :data:`AUTOMATIC_PER_ORDER` automatic promotions apply; the
   ones after them in that order do not (the code's promotion still has its turn).
4. A promotion's discount is computed on the lines it targets (its *eligible* lines) and
   limited by its ``cap``, then by what is left of its budget; an amount for several lines is
   allocated to them to the cent by largest remainder, proportional to their current price
   (ties to the lower line number), so the lines' parts always add up to the discount.
5. A minimum goods value is measured on the eligible lines, at their price when the
   promotion's turn comes.

A loyalty tier condition is met by a buyer in exactly that tier (the checkout contributor
reads the buyer's tier; guests and members below the first tier have none).
``free_shipping`` takes nothing off the lines: it names the seller parts whose shipping the
shipping step makes free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from chalicelib.core.money import Money, divide_half_up
from chalicelib.orders.pricing import MARKETPLACE_FUNDED, SELLER_FUNDED, Funding, PriceAdjustment

SOURCE = "promotions"  # the source of every adjustment a promotion makes
# Automatic promotions that apply to one order, at most (the first by the stacking order); the
# code's promotion always gets its turn. Each one that applies is a write in the checkout's
# transaction (two with a per-buyer limit), which DynamoDB caps at 100 items.
AUTOMATIC_PER_ORDER = 8


class Kind(StrEnum):
    PERCENTAGE = "percentage"
    FIXED_AMOUNT = "fixed_amount"
    FREE_SHIPPING = "free_shipping"
    BUY_X_GET_Y = "buy_x_get_y"
    SPEND_THRESHOLD = "spend_threshold"


class Scope(StrEnum):
    MARKETPLACE = "marketplace"  # the operator's
    SELLER = "seller"


class TargetKind(StrEnum):
    ORDER = "order"  # every line in the promotion's reach
    SELLERS = "sellers"  # lines of these sellers (a seller promotion: its own lines, whatever it names)
    CATEGORIES = "categories"  # a slug and its subcategories ("fashion" covers "fashion/shoes")
    BRANDS = "brands"
    PRODUCTS = "products"


class FirstOrder(StrEnum):
    MARKETPLACE = "marketplace"  # the buyer's first order with the marketplace
    SELLER = "seller"  # the buyer's first order with the promotion's seller


class Reason(StrEnum):
    """Why a code does not apply, in the order they are checked (the first that holds is given)."""

    CODE_UNKNOWN = "code_unknown"
    NOT_YOUR_CODE = "not_your_code"
    CODE_EXPIRED = "code_expired"
    NOT_STARTED = "not_started"
    USAGE_LIMIT_REACHED = "usage_limit_reached"
    FIRST_ORDER_ONLY = "first_order_only"
    NOT_IN_YOUR_COUNTRY = "not_in_your_country"
    NOT_ELIGIBLE = "not_eligible"  # a customer group or loyalty tier the buyer is not in
    NOT_FOR_THESE_PRODUCTS = "not_for_these_products"
    MINIMUM_NOT_REACHED = "minimum_not_reached"
    NOT_COMBINABLE = "not_combinable"  # an exclusive promotion before it applied


@dataclass(frozen=True)
class Line:
    """An order line as promotions see it: ``price`` is after the customer-group discount."""

    line: int
    product_id: str
    seller_id: str
    category: str
    brand: str | None
    quantity: int
    unit_price: Money
    price: Money


@dataclass(frozen=True)
class Buyer:
    """Who checks out. ``first_order_with`` holds the sellers this order is the buyer's first
    with; ``uses`` the buyer's past uses per promotion id (for per-buyer limits)."""

    account_id: str | None
    now: datetime
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)  # seller id -> customer group ids
    first_order: bool = False  # the buyer's first order with the marketplace
    first_order_with: frozenset[str] = frozenset()
    country: str | None = None
    tier: str | None = None
    uses: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Tier:
    threshold: int  # from this goods value (minor units)
    off: int  # this much off


@dataclass(frozen=True)
class Rule:
    """A promotion as the engine applies it (money in minor units of ``currency``)."""

    promotion_id: str
    scope: Scope
    seller_id: str | None  # a seller promotion's seller
    kind: Kind
    currency: str  # of its amounts; "" when it has none (a percentage without a minimum)
    priority: int = 100
    exclusive: bool = False
    funding: Funding = SELLER_FUNDED
    percent_bp: int = 0
    amount: int = 0
    buy: int = 0
    get: int = 0
    tiers: tuple[Tier, ...] = ()
    target: TargetKind = TargetKind.ORDER
    target_values: frozenset[str] = frozenset()
    minimum: int = 0
    customer_groups: frozenset[str] = frozenset()
    first_order: FirstOrder | None = None
    countries: frozenset[str] = frozenset()
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    loyalty_tier: str | None = None
    cap: int | None = None
    max_uses: int | None = None
    max_uses_per_buyer: int | None = None
    budget: int | None = None
    uses: int = 0
    discount_given: int = 0

    def __post_init__(self) -> None:
        if self.scope == Scope.SELLER and (self.seller_id is None or self.funding != SELLER_FUNDED):
            raise ValueError("a seller promotion names its seller and is always seller-funded")


class CodeKind(StrEnum):
    PUBLIC = "public"
    SINGLE_USE = "single_use"
    PERSONAL = "personal"


@dataclass(frozen=True)
class Code:
    """A code as found, with its promotion (None: the promotion is gone)."""

    code: str
    kind: CodeKind
    promotion: Rule | None
    account_id: str | None = None  # a personal code's buyer
    expires_at: datetime | None = None
    used: bool = False  # a single-use or personal code used by an order


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    missing: Money | None = None  # minimum_not_reached: goods value still missing
    missing_quantity: int | None = None  # minimum_not_reached of a buy-X-get-Y: units still missing

    def to_json(self) -> dict[str, object]:
        found: dict[str, object] = {"reason": str(self.reason)}
        if self.missing is not None:
            found["missing"] = self.missing.to_json()
        if self.missing_quantity is not None:
            found["missing_quantity"] = self.missing_quantity
        return found


@dataclass(frozen=True)
class Applied:
    """One promotion that applied: its discount and the lines it came off."""

    promotion_id: str
    discount: Money
    adjustments: tuple[PriceAdjustment, ...]
    free_shipping: frozenset[str] = frozenset()  # seller ids


@dataclass(frozen=True)
class Outcome:
    applied: tuple[Applied, ...]
    code_refusal: Refusal | None = None

    @property
    def adjustments(self) -> list[PriceAdjustment]:
        return [adjustment for applied in self.applied for adjustment in applied.adjustments]

    @property
    def free_shipping(self) -> dict[str, str]:
        """Seller id -> the promotion that makes its part ship free (the first in order)."""
        found: dict[str, str] = {}
        for applied in self.applied:
            for seller_id in sorted(applied.free_shipping):
                found.setdefault(seller_id, applied.promotion_id)
        return found


def marketplace_funding(seller_share_bp: int) -> Funding:
    """An operator promotion's funding: the marketplace's unless co-funded by the sellers."""
    return Funding(seller_share_bp) if seller_share_bp else MARKETPLACE_FUNDED


# -- which lines, which buyer -------------------------------------------------------------------

def category_covers(slug: str, category: str) -> bool:
    """A category target covers its subcategories, as fee overrides do (by whole segments)."""
    return category == slug or category.startswith(f"{slug}/")


def eligible(rule: Rule, line: Line) -> bool:
    if rule.scope == Scope.SELLER and line.seller_id != rule.seller_id:
        return False  # a seller's promotion never reaches another seller's lines
    values = rule.target_values
    match rule.target:
        case TargetKind.ORDER:
            return True
        case TargetKind.SELLERS:
            return rule.scope == Scope.SELLER or line.seller_id in values
        case TargetKind.CATEGORIES:
            return any(category_covers(slug, line.category) for slug in values)
        case TargetKind.BRANDS:
            return line.brand is not None and line.brand.casefold() in {v.casefold() for v in values}
        case TargetKind.PRODUCTS:
            return line.product_id in values
    return False  # pragma: no cover - every kind is matched above


def _usage_exhausted(rule: Rule, buyer: Buyer) -> bool:
    if rule.max_uses is not None and rule.uses >= rule.max_uses:
        return True
    if rule.budget is not None and rule.discount_given >= rule.budget:
        return True
    return rule.max_uses_per_buyer is not None and buyer.uses.get(rule.promotion_id, 0) >= rule.max_uses_per_buyer


def _buyer_refusal(rule: Rule, buyer: Buyer, lines: Sequence[Line]) -> Reason | None:
    """The first condition on the buyer that is not met, by :class:`Reason`'s order."""
    if rule.ends_at is not None and buyer.now >= rule.ends_at:
        return Reason.CODE_EXPIRED
    if rule.starts_at is not None and buyer.now < rule.starts_at:
        return Reason.NOT_STARTED
    if _usage_exhausted(rule, buyer):
        return Reason.USAGE_LIMIT_REACHED
    if rule.first_order == FirstOrder.MARKETPLACE and not buyer.first_order:
        return Reason.FIRST_ORDER_ONLY
    if rule.first_order == FirstOrder.SELLER:
        sellers = {rule.seller_id} if rule.seller_id else {line.seller_id for line in lines}
        if not sellers & buyer.first_order_with:
            return Reason.FIRST_ORDER_ONLY
    if rule.countries and buyer.country not in rule.countries:
        return Reason.NOT_IN_YOUR_COUNTRY
    if rule.customer_groups and not any(rule.customer_groups & groups for groups in _groups_in_reach(rule, buyer)):
        return Reason.NOT_ELIGIBLE
    if rule.loyalty_tier is not None and buyer.tier != rule.loyalty_tier:
        return Reason.NOT_ELIGIBLE  # another tier, or none (a guest, below the first tier)
    return None


def _groups_in_reach(rule: Rule, buyer: Buyer) -> list[frozenset[str]]:
    """Customer groups are a seller's: a seller promotion looks at its own, an operator's at any."""
    if rule.scope == Scope.SELLER:
        return [buyer.groups.get(rule.seller_id or "", frozenset())]
    return list(buyer.groups.values())


# -- amounts ------------------------------------------------------------------------------------

def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """``amount`` split in proportion to ``weights`` by largest remainder; equal remainders
    go to the earlier weight (the lower line number). Parts never exceed their weight when
    ``amount`` does not exceed the weights' sum."""
    total = sum(weights)
    if amount == 0 or total == 0:
        return [0] * len(weights)
    shares = [amount * weight // total for weight in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in by_remainder[:amount - sum(shares)]:
        shares[i] += 1
    return shares


def _free_units(rule: Rule, lines: Sequence[Line]) -> tuple[list[int], int]:
    """Buy X get Y, repeating: per line, its price's share for the units given free (the
    cheapest units at their current price, cheapest line first, then by line number), and
    how many more units would give one more free unit."""
    group = rule.buy + rule.get
    units = sum(line.quantity for line in lines)
    free = units // group * rule.get
    missing = 0 if free else group - units
    order = sorted(range(len(lines)), key=lambda i: (Fraction(lines[i].price.amount, lines[i].quantity),
                                                     lines[i].line))
    parts = [0] * len(lines)
    for i in order:
        if not free:
            break
        taken = min(free, lines[i].quantity)
        parts[i] = divide_half_up(lines[i].price.amount * taken, lines[i].quantity)
        free -= taken
    return parts, missing


def _raw_discount(rule: Rule, lines: Sequence[Line]) -> tuple[list[int], Refusal | None]:
    """Per eligible line, what the promotion would take off before its cap and budget."""
    prices = [line.price.amount for line in lines]
    goods = sum(prices)
    currency = lines[0].price.currency
    if rule.kind == Kind.PERCENTAGE:
        return [divide_half_up(price * rule.percent_bp, 10_000) for price in prices], None
    if rule.kind == Kind.FIXED_AMOUNT:
        return allocate(min(rule.amount, goods), prices), None
    if rule.kind == Kind.SPEND_THRESHOLD:
        reached = [tier for tier in rule.tiers if goods >= tier.threshold]
        if not reached:
            lowest = min(tier.threshold for tier in rule.tiers)
            return [0] * len(lines), Refusal(Reason.MINIMUM_NOT_REACHED, Money(currency, lowest - goods))
        best = max(reached, key=lambda tier: tier.threshold)
        return allocate(min(best.off, goods), prices), None
    if rule.kind == Kind.BUY_X_GET_Y:
        parts, missing = _free_units(rule, lines)
        if missing:
            return parts, Refusal(Reason.MINIMUM_NOT_REACHED, missing_quantity=missing)
        return parts, None
    return [0] * len(lines), None  # free shipping takes nothing off the lines


def _limited(rule: Rule, parts: list[int]) -> list[int]:
    """The cap, then what is left of the budget; a limited discount is spread over the lines
    in proportion to what each would have had, so no line gets more than before."""
    total = sum(parts)
    limit = total
    if rule.cap is not None:
        limit = min(limit, rule.cap)
    if rule.budget is not None:
        limit = min(limit, max(rule.budget - rule.discount_given, 0))
    return parts if limit >= total else allocate(limit, parts)


# -- the whole order ----------------------------------------------------------------------------

@dataclass
class _Turn:
    """A promotion's turn: what it found, or why it did not apply."""

    applied: Applied | None = None
    refusal: Refusal | None = None


def _turn(rule: Rule, buyer: Buyer, lines: Sequence[Line], prices: Mapping[int, Money]) -> _Turn:
    currency = lines[0].price.currency
    reason = _buyer_refusal(rule, buyer, lines)
    if reason is not None:
        return _Turn(refusal=Refusal(reason))
    current = [Line(line.line, line.product_id, line.seller_id, line.category, line.brand, line.quantity,
                    line.unit_price, prices[line.line]) for line in lines if eligible(rule, line)]
    if not current or rule.currency not in ("", currency):  # "": a promotion without amounts fits any currency
        return _Turn(refusal=Refusal(Reason.NOT_FOR_THESE_PRODUCTS))
    goods = sum(line.price.amount for line in current)
    if rule.minimum and goods < rule.minimum:
        return _Turn(refusal=Refusal(Reason.MINIMUM_NOT_REACHED, Money(currency, rule.minimum - goods)))
    if rule.kind == Kind.FREE_SHIPPING:
        sellers = frozenset(line.seller_id for line in current)
        return _Turn(applied=Applied(rule.promotion_id, Money.zero(currency), (), sellers))
    raw, refusal = _raw_discount(rule, current)
    if refusal is not None:
        return _Turn(refusal=refusal)
    parts = _limited(rule, raw)
    if not sum(parts):
        return _Turn(refusal=Refusal(Reason.USAGE_LIMIT_REACHED if sum(raw) else Reason.NOT_FOR_THESE_PRODUCTS))
    adjustments = tuple(PriceAdjustment(line=line.line, amount=Money(currency, part), source=SOURCE,
                                        label=rule.promotion_id, funding=rule.funding)
                        for line, part in zip(current, parts, strict=True) if part)
    return _Turn(applied=Applied(rule.promotion_id, Money(currency, sum(parts)), adjustments))


def code_refusal(code: str | None, found: Code | None, buyer: Buyer) -> Refusal | None:
    """What is wrong with the code itself (before its promotion's turn), or None."""
    if code is None:
        return None
    if found is None or found.promotion is None:
        return Refusal(Reason.CODE_UNKNOWN)
    if found.kind == CodeKind.PERSONAL and (buyer.account_id is None or found.account_id != buyer.account_id):
        return Refusal(Reason.NOT_YOUR_CODE)
    if found.expires_at is not None and buyer.now >= found.expires_at:
        return Refusal(Reason.CODE_EXPIRED)
    if found.kind != CodeKind.PUBLIC and found.used:  # single-use and personal codes are used once
        return Refusal(Reason.USAGE_LIMIT_REACHED)
    return None


def in_order(rules: Sequence[Rule]) -> list[Rule]:
    """Lowest priority number first; the older promotion (smaller id: ids sort by time) on a tie."""
    unique = {rule.promotion_id: rule for rule in rules}
    return sorted(unique.values(), key=lambda rule: (rule.priority, rule.promotion_id))


def apply_promotions(lines: Sequence[Line], buyer: Buyer, automatic: Sequence[Rule], *,
                     code: str | None = None, found: Code | None = None) -> Outcome:
    """The automatic promotions and the code's (``found``: the code as read, None when no such
    code exists) applied to ``lines`` in the documented order."""
    if not lines:
        return Outcome((), code_refusal(code, found, buyer))
    refusal = code_refusal(code, found, buyer)
    code_rule = found.promotion if refusal is None and found is not None and code is not None else None
    rules = in_order([*automatic, *([code_rule] if code_rule is not None else [])])
    prices = {line.line: line.price for line in lines}
    applied: list[Applied] = []
    closed = False
    automatic_applied = 0
    for rule in rules:
        is_code = code_rule is not None and rule.promotion_id == code_rule.promotion_id
        if closed:
            if is_code:
                refusal = Refusal(Reason.NOT_COMBINABLE)
            continue
        if not is_code and automatic_applied >= AUTOMATIC_PER_ORDER:
            continue
        turn = _turn(rule, buyer, lines, prices)
        if turn.applied is None:
            if is_code:
                refusal = turn.refusal
            continue
        applied.append(turn.applied)
        automatic_applied += not is_code
        for adjustment in turn.applied.adjustments:
            prices[adjustment.line] = prices[adjustment.line] - adjustment.amount
        closed = rule.exclusive
    return Outcome(tuple(applied), refusal)
