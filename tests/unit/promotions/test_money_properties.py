"""Property tests of the money of promotions, for random carts and fundings: the discounts
allocated to lines add up, no line goes negative, VAT still adds up, and what the buyer pays
plus what the marketplace funds is exactly what the sellers are credited (payouts plus fees),
also in the ledger's postings."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.money import Money
from chalicelib.fees.engine import FeePolicy, FeeSchedule
from chalicelib.ledger.postings import charge_posting, seller_share_postings, sum_by_currency, transfer_posting
from chalicelib.orders.pricing import LineInput, LinePrice, SellerTerms, marketplace_part, price_order
from chalicelib.promotions import engine

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SELLERS = ("sel_a", "sel_b", "sel_c")
CATEGORIES = ("fashion/shoes", "books/fiction", "food")

lines_strategy = st.lists(st.tuples(st.sampled_from(SELLERS), st.integers(1, 50_000), st.integers(1, 5),
                                    st.sampled_from(CATEGORIES)), min_size=1, max_size=8)
rule_strategy = st.builds(
    lambda n, kind, percent, amount, seller_bp, priority, seller_scope: engine.Rule(
        promotion_id=f"prm_{n:02d}", scope=engine.Scope.SELLER if seller_scope else engine.Scope.MARKETPLACE,
        seller_id="sel_a" if seller_scope else None, kind=kind, currency="EUR", priority=priority,
        funding=engine.SELLER_FUNDED if seller_scope else engine.marketplace_funding(seller_bp),
        percent_bp=percent, amount=amount,
        tiers=(engine.Tier(amount, amount // 2 or 1),) if kind == engine.Kind.SPEND_THRESHOLD else ()),
    st.integers(0, 99), st.sampled_from([engine.Kind.PERCENTAGE, engine.Kind.FIXED_AMOUNT,
                                         engine.Kind.SPEND_THRESHOLD]),
    st.integers(1, 10_000), st.integers(1, 60_000), st.sampled_from([0, 2_500, 5_000, 10_000]),
    st.integers(1, 300), st.booleans())


@settings(max_examples=150, deadline=None)
@given(lines=lines_strategy, rules=st.lists(rule_strategy, max_size=4), fee_bp=st.integers(0, 3_000),
       exempt=st.booleans())
def test_promotions_money_adds_up_for_any_cart_and_funding(lines: list[tuple[str, int, int, str]],
                                                           rules: list[engine.Rule], fee_bp: int,
                                                           exempt: bool) -> None:
    inputs = [LineInput(product_id=f"prd_{n}", seller_id=seller, sku=f"S{n}", title="t", category=category,
                        unit_price=Money("EUR", price), quantity=quantity)
              for n, (seller, price, quantity, category) in enumerate(lines)]
    outcome: list[engine.Outcome] = []

    def promotions(seen: list[LinePrice]) -> list[engine.PriceAdjustment]:
        found = engine.apply_promotions(
            [engine.Line(line.line, line.product_id, line.seller_id, line.category, None, line.quantity,
                         line.unit_price, line.price) for line in seen],
            engine.Buyer(account_id="usr_1", now=NOW), rules)
        outcome.append(found)
        return found.adjustments

    sellers = sorted({line.seller_id for line in inputs})
    priced = price_order(inputs, terms={s: SellerTerms("DE", tax_exempt=exempt and s == "sel_b") for s in sellers},
                         policies={s: FeePolicy(default=FeeSchedule(percent_bp=fee_bp)) for s in sellers},
                         trailing_sales={s: Money.zero("EUR") for s in sellers},
                         adjusters=[promotions])  # type: ignore[list-item]

    every_line = [line for part in priced.sellers for line in part.lines]
    # line discounts sum to the order's discount, which is what the promotions gave
    assert sum(line.discount.amount for line in every_line) == priced.discount.amount
    assert priced.discount.amount == sum(applied.discount.amount for applied in outcome[0].applied)
    # no line is negative, and VAT is part of each line and adds up
    assert all(line.total.amount >= 0 and 0 <= line.tax.amount <= line.total.amount for line in every_line)
    assert sum(line.tax.amount for line in every_line) == priced.tax.amount
    assert priced.total.amount == priced.subtotal.amount - priced.discount.amount or exempt
    # the buyer's charge + the marketplace-funded discounts = what the sellers are credited = payouts + fees
    funded = sum(marketplace_part(a).amount for line in every_line for a in line.adjustments)
    payouts = {part.seller_id: part.credited.amount - part.fee.amount for part in priced.sellers}
    assert priced.total.amount + funded == sum(payouts[p.seller_id] + p.fee.amount for p in priced.sellers)
    assert all(payout >= 0 for payout in payouts.values())

    # and in the ledger: the charge, each seller's share, fee and marketplace discount, the transfers
    postings = [charge_posting("ord_1", priced.total, occurred_at=NOW)] if priced.total.amount else []
    for part in priced.sellers:
        postings += seller_share_postings("ord_1", part.seller_id, part.total, part.fee,
                                          marketplace_discount=part.marketplace_discount, occurred_at=NOW)
        if payouts[part.seller_id]:
            postings.append(transfer_posting("ord_1", part.seller_id, Money("EUR", payouts[part.seller_id]),
                                             occurred_at=NOW))
    assert sum_by_currency(postings) in ({}, {"EUR": 0})
    balances: dict[str, int] = {}
    for posting in postings:
        for entry in posting.entries:
            balances[entry.account] = balances.get(entry.account, 0) + entry.amount.amount
    assert balances.get("marketplace_discounts", 0) == funded
    for part in priced.sellers:  # what each seller earned is exactly what was transferred
        earned = -balances.get(f"seller_payable:{part.seller_id}", 0)
        assert earned == balances.get(f"transfers_out:{part.seller_id}", 0) == payouts[part.seller_id]
