"""The key formats are what is stored: each is pinned here with its literal value, so a
change of spelling (which would orphan every existing item) fails a test; and they are
spelt in one module only."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from chalicelib.core import keys

FORMATS: list[tuple[Any, str]] = [
    # owners
    (keys.seller_key("sel_1"), "SELLER#sel_1"),
    (keys.user_key("usr_1"), "USER#usr_1"),
    # shards of the hot keys
    (keys.shard("usr_1", 32), 15),
    (keys.shard("ord_1", 8), 3),
    (keys.CARTS_CHANGED_SHARDS, 32),
    (keys.PAYMENT_DUE_SHARDS, 8),
    (keys.PLATFORM_LEDGER_SHARDS, 8),
    (keys.TRANSFER_DUE_SHARDS, 8),
    (keys.COMPLETION_DUE_SHARDS, 8),
    # accounts
    (keys.PROFILE_SK, "PROFILE"),
    (keys.address_sk("adr_1"), "ADDRESS#adr_1"),
    (keys.ADDRESS_PREFIX, "ADDRESS#"),
    (keys.consent_sk("newsletter"), "CONSENT#newsletter"),
    (keys.CONSENT_PREFIX, "CONSENT#"),
    (keys.consent_log_sk("clg_1"), "CONSENTLOG#clg_1"),
    (keys.CONSENT_LOG_PREFIX, "CONSENTLOG#"),
    (keys.session_sk("ses_1"), "SESSION#ses_1"),
    (keys.SESSION_PREFIX, "SESSION#"),
    (keys.wish_sk("prd_1"), "WISH#prd_1"),
    (keys.WISH_PREFIX, "WISH#"),
    (keys.wishlisted_key("prd_1"), "WISHLISTED#prd_1"),
    (keys.birthday_key(2, 9), "BIRTHDAY#02-09"),
    (keys.email_key("ana@example.com"), "EMAIL#ana@example.com"),
    (keys.EMAIL_SK, "EMAIL"),
    (keys.signup_key("sup_1"), "SIGNUP#sup_1"),
    (keys.SIGNUP_SK, "SIGNUP"),
    (keys.refresh_token_key("2:abc"), "REFRESH#2:abc"),
    (keys.REFRESH_SK, "REFRESH"),
    (keys.magic_link_key("2:abc"), "MAGIC#2:abc"),
    (keys.MAGIC_SK, "MAGIC"),
    (keys.challenge_key("n1"), "CHALLENGE#n1"),
    (keys.CHALLENGE_USED_SK, "USED"),
    (keys.revoked_sessions_key("usr_1"), "REVOKED#usr_1"),
    (keys.identity_sk("google"), "IDENTITY#google"),
    (keys.IDENTITY_PREFIX, "IDENTITY#"),
    (keys.identity_key("abc"), "IDENTITY#abc"),
    (keys.IDENTITY_SK, "IDENTITY"),
    (keys.oidc_state_key("2:abc"), "OIDC_STATE#2:abc"),
    (keys.OIDC_STATE_SK, "OIDC_STATE"),
    (keys.oidc_handoff_key("2:abc"), "OIDC_HANDOFF#2:abc"),
    (keys.OIDC_HANDOFF_SK, "OIDC_HANDOFF"),
    # sellers
    (keys.seller_application_key("sap_1"), "SELLER_APPLICATION#sap_1"),
    (keys.SELLER_APPLICATION_SK, "APPLICATION"),
    (keys.seller_status_index_key("pending"), "SELLERS#pending"),
    (keys.NOT_SELLING_INDEX_KEY, "SELLERS#NOT_SELLING"),
    (keys.stripe_account_index_key("acct_1"), "STRIPE_ACCOUNT#acct_1"),
    (keys.STRIPE_ACCOUNT_INDEX_SK, "SELLER"),
    (keys.api_key_key("key_1"), "APIKEY#key_1"),
    (keys.API_KEY_SK, "APIKEY"),
    (keys.api_keys_index_key("sel_1"), "SELLER#sel_1#APIKEYS"),
    (keys.invite_key("2:abc"), "SELLER_INVITE#2:abc"),
    (keys.INVITE_SK, "INVITE"),
    (keys.REDEEMED_SK, "REDEEMED"),
    (keys.INVITES_INDEX_KEY, "SELLER_INVITES"),
    (keys.invite_id_index_key("inv_1"), "SELLER_INVITE_ID#inv_1"),
    (keys.MARKETPLACE_SETTINGS_KEY, ("MARKETPLACE", "SETTINGS")),
    # shipping
    (keys.shipping_profile_sk("shp_1"), "SHIPPING_PROFILE#shp_1"),
    (keys.shipping_profile_sk(keys.DEFAULT_SHIPPING_PROFILE), "SHIPPING_PROFILE#default"),
    (keys.SHIPPING_PROFILE_PREFIX, "SHIPPING_PROFILE#"),
    # catalog
    (keys.product_sk("prd_1"), "PRODUCT#prd_1"),
    (keys.product_pk("prd_1"), "PRODUCT#prd_1"),
    (keys.PRODUCT_PREFIX, "PRODUCT#"),
    (keys.POINTER_SK, "PRODUCT"),
    (keys.sku_sk("TS-42"), "SKU#TS-42"),
    (keys.SKU_PREFIX, "SKU#"),
    (keys.product_status_index_key("sel_1", "active"), "SELLER#sel_1#PRODUCTS#active"),
    (keys.ALL_SCOPE, "ALL"),
    (keys.category_browse_scope("fashion/shoes"), "CAT#fashion/shoes"),
    (keys.seller_browse_scope("sel_1"), "SELLER#sel_1"),
    (keys.word_browse_scope("tra"), "WORD#tra"),
    (keys.listing_sk("CAT#fashion"), "LIST#CAT#fashion"),
    (keys.LISTING_PREFIX, "LIST#"),
    (keys.price_index_key("ALL", "EUR"), "CATALOG#ALL#EUR"),
    (keys.price_sort_key(1999, "prd_1"), "000000001999#prd_1"),
    (keys.PRICE_DIGITS, 12),
    (keys.newest_index_key("SELLER#sel_1"), "CATALOG#SELLER#sel_1"),
    (keys.rated_index_key("CAT#fashion"), "CATALOG#CAT#fashion#RATING"),
    (keys.rated_sort_key(433, 3, "prd_1"), "067#9999999996#prd_1"),
    (keys.rated_sort_key(0, 0, "prd_1"), "500#9999999999#prd_1"),
    (keys.rated_sort_bound(400), "101"),
    (keys.RATED_DIGITS, 10),
    # orders
    (keys.CART_SK, "CART"),
    (keys.guest_cart_key("abc"), "CART#abc"),
    (keys.GUEST_CART_PREFIX, "CART#"),
    (keys.carts_changed_key("2026-12-07", "usr_1"), "CARTS_CHANGED#2026-12-07#15"),
    (keys.carts_changed_keys("2026-12-07"), [f"CARTS_CHANGED#2026-12-07#{n}" for n in range(32)]),
    (keys.order_sk("ord_1"), "ORDER#ord_1"),
    (keys.ORDER_PREFIX, "ORDER#"),
    (keys.sub_order_lines_sk("ord_1"), "LINES#ord_1"),
    (keys.SUB_ORDER_LINES_PREFIX, "LINES#"),
    (keys.sub_order_status_index_key("sel_1", "paid"), "SELLER#sel_1#ORDERS#paid"),
    (keys.payment_due_key("2026-12-07", "ord_1"), "PAYMENT_DUE#2026-12-07#3"),
    (keys.payment_due_keys("2026-12-07"),
     [*(f"PAYMENT_DUE#2026-12-07#{n}" for n in range(8)), "PAYMENT_DUE#2026-12-07"]),
    (keys.completion_due_key("2026-12-07", "ord_1"), "COMPLETE_DUE#2026-12-07#3"),
    (keys.completion_due_keys("2026-12-07"),
     [*(f"COMPLETE_DUE#2026-12-07#{n}" for n in range(8)), "COMPLETE_DUE#2026-12-07"]),
    (keys.refund_due_key("2026-12-07"), "REFUND_DUE#2026-12-07"),
    (keys.transfer_due_key("2026-12-07", "ord_1"), "TRANSFER_DUE#2026-12-07#3"),
    (keys.transfer_due_keys("2026-12-07"),
     [*(f"TRANSFER_DUE#2026-12-07#{n}" for n in range(8)), "TRANSFER_DUE#2026-12-07"]),
    (keys.checkout_key("usr_1", "idem-1"), "CHECKOUT#usr_1#idem-1"),
    (keys.CHECKOUT_SK, "CHECKOUT"),
    (keys.refund_sk("ord_1", "ref_1"), "REFUND#ord_1#ref_1"),
    # customers
    (keys.customers_key("sel_1"), "SELLER#sel_1#CUSTOMERS"),
    (keys.customer_sk("usr_1"), "CUSTOMER#usr_1"),
    (keys.CUSTOMER_PREFIX, "CUSTOMER#"),
    (keys.customer_activity_key("usr_1", last_order_at="2026-12-07T10:00:00.000000Z", created_at="x"),
     "2026-12-07T10:00:00.000000Z#usr_1"),
    (keys.customer_activity_key("ctc_1", last_order_at=None, created_at="2026-12-01T10:00:00.000000Z"),
     "0#2026-12-01T10:00:00.000000Z#ctc_1"),
    (keys.customer_name_key("muller", "usr_1"), "muller#usr_1"),
    (keys.group_sk("grp_1"), "CUSTGROUP#grp_1"),
    (keys.GROUP_PREFIX, "CUSTGROUP#"),
    (keys.group_name_sk("vip"), "GROUPNAME#vip"),
    (keys.group_members_key("sel_1", "grp_1"), "SELLER#sel_1#GROUP#grp_1"),
    (keys.member_sk("grp_1", "usr_1"), "GROUPMEMBER#grp_1#usr_1"),
    (keys.customer_orders_prefix("usr_1"), "CUSTORDER#usr_1#"),
    (keys.customer_order_sk("usr_1", "ord_1"), "CUSTORDER#usr_1#ord_1"),
    (keys.customer_of_key("usr_1"), "USER#usr_1#SELLERS"),
    (keys.import_job_sk("imp_1"), "IMPORT#imp_1"),
    (keys.import_chunk_key("imp_1", 7), ("IMPORT#imp_1", "CHUNK#00007")),
    (keys.IMPORT_PREFIX, "IMPORT#"),
    (keys.CHUNK_PREFIX, "CHUNK#"),
    (keys.NEVER_ORDERED, "0"),
    # fees
    (keys.DEFAULT_FEES_KEY, "FEES#DEFAULT"),
    (keys.category_fees_key("fashion"), "FEES#CATEGORY#fashion"),
    (keys.FEES_CURRENT_SK, "FEES#CURRENT"),
    (keys.fees_version_sk(3), "FEES#VERSION#0000000003"),
    (keys.FEES_VERSION_PREFIX, "FEES#VERSION#"),
    (keys.CATEGORY_FEES_INDEX_KEY, "FEES#CATEGORIES"),
    (keys.SELLER_FEES_INDEX_KEY, "FEES#SELLERS"),
    (keys.monthly_sales_sk("EUR", "2026-12"), "SALES#EUR#2026-12"),
    # ledger
    (keys.posting_key("pst_1"), "POSTING#pst_1"),
    (keys.POSTING_SK, "POSTING"),
    (keys.platform_ledger_key("platform_fees", "2026-12", "pst_1"), "LEDGER#platform_fees#2026-12#5"),
    (keys.platform_ledger_keys("platform_fees", "2026-12"),
     [*(f"LEDGER#platform_fees#2026-12#{n}" for n in range(8)), "LEDGER#platform_fees#2026-12"]),
    (keys.ledger_order_index_key("ord_1"), "LEDGER_ORDER#ord_1"),
    (keys.ledger_entry_sk("2026-12-07T10:00:00.000000Z", 2, "pst_1", 3), "2026-12-07T10:00:00.000000Z#2#pst_1#03"),
    (keys.seller_entry_sk("2026-12-07T10:00:00.000000Z#2#pst_1#03"), "LEDGER#2026-12-07T10:00:00.000000Z#2#pst_1#03"),
    (keys.balance_sk("EUR"), "LEDGER_BALANCE#EUR"),
    (keys.BALANCE_PREFIX, "LEDGER_BALANCE#"),
    (keys.ENTRY_PREFIX, "LEDGER#"),
    # promotions
    (keys.MARKETPLACE_PROMOTIONS_KEY, "PROMOTIONS#marketplace"),
    (keys.PROMOTION_PREFIX, "PROMOTION#"),
    (keys.promotion_sk("prm_1"), "PROMOTION#prm_1"),
    (keys.AUTOMATIC_SK, "AUTOMATIC"),
    (keys.promotion_codes_index_key("SELLER#sel_1", "prm_1"), "SELLER#sel_1#PROMOTION#prm_1#CODES"),
    (keys.promo_code_key("SOMMER10"), "PROMO_CODE#SOMMER10"),
    (keys.PROMO_CODE_SK, "PROMO_CODE"),
    (keys.promo_use_key("prm_1", "usr_1"), "PROMO_USE#prm_1#usr_1"),
    (keys.promo_order_key("ord_1"), "PROMO_ORDER#ord_1"),
    (keys.PROMO_ORDER_SK, "PROMO_ORDER"),
    (keys.PROMO_USE_SK, "PROMO_USE"),
    # loyalty
    (keys.LOYALTY_SHARDS, 8),
    (keys.LOYALTY_KEY, "LOYALTY"),
    (keys.LOYALTY_PROGRAMME_SK, "PROGRAMME"),
    (keys.LOYALTY_CAMPAIGN_PREFIX, "CAMPAIGN#"),
    (keys.SELLER_LOYALTY_CAMPAIGN_PREFIX, "LOYALTY_CAMPAIGN#"),
    (keys.LOYALTY_ADJUSTMENT_PREFIX, "ADJUSTMENT#"),
    (keys.LOYALTY_MEMBER_SK, "LOYALTY#MEMBER"),
    (keys.LOYALTY_BALANCE_SK, "LOYALTY#BALANCE"),
    (keys.LOYALTY_LOT_PREFIX, "LOYALTY#LOT#"),
    (keys.LOYALTY_MOVEMENT_PREFIX, "LOYALTY#TX#"),
    (keys.LOYALTY_MONTH_PREFIX, "LOYALTY#MONTH#"),
    (keys.LOYALTY_STATS_SK, "STATS"),
    (keys.LOYALTY_TOTALS_SK, "TOTALS"),
    (keys.loyalty_campaign_sk("lcp_1"), "CAMPAIGN#lcp_1"),
    (keys.seller_loyalty_campaign_sk("lcp_1"), "LOYALTY_CAMPAIGN#lcp_1"),
    (keys.loyalty_adjustment_sk("2026-12-07T10:00:00.000000+00:00", "ladj_1"),
     "ADJUSTMENT#2026-12-07T10:00:00.000000+00:00#ladj_1"),
    (keys.loyalty_lot_sk("earn:ord_1:sel_1"), "LOYALTY#LOT#earn:ord_1:sel_1"),
    (keys.loyalty_movement_sk("2026-12-07T10:00:00.000000+00:00", "earn:ord_1:sel_1"),
     "LOYALTY#TX#2026-12-07T10:00:00.000000+00:00#earn:ord_1:sel_1"),
    (keys.loyalty_month_sk("2026-12"), "LOYALTY#MONTH#2026-12"),
    (keys.loyalty_expiry_key("2027-12-07", "usr_1"), "LOYALTY_EXPIRY#2027-12-07#7"),
    (keys.loyalty_expiry_keys("2027-12-07")[0], "LOYALTY_EXPIRY#2027-12-07#0"),
    (keys.loyalty_inactive_key("2027-12-07", "usr_1"), "LOYALTY_INACTIVE#2027-12-07#7"),
    (keys.loyalty_inactive_keys("2027-12-07")[1], "LOYALTY_INACTIVE#2027-12-07#1"),
    (keys.loyalty_requalify_key("2027-12-07", "usr_1"), "LOYALTY_REQUALIFY#2027-12-07#7"),
    (keys.loyalty_requalify_keys("2027-12-07")[7], "LOYALTY_REQUALIFY#2027-12-07#7"),
    (keys.loyalty_tier_key("Gold", "usr_1"), "LOYALTY_TIER#Gold#7"),
    (keys.loyalty_tier_keys("Gold")[0], "LOYALTY_TIER#Gold#0"),
    (keys.loyalty_day_key("2026-12-07", "usr_1"), "LOYALTY_DAY#2026-12-07#7"),
    (keys.loyalty_day_keys("2026-12-07")[0], "LOYALTY_DAY#2026-12-07#0"),
    (keys.loyalty_totals_key("usr_1"), "LOYALTY_TOTALS#7"),
    (keys.loyalty_totals_keys()[0], "LOYALTY_TOTALS#0"),
    (keys.loyalty_active_key("2026-12", "usr_1"), "LOYALTY_ACTIVE#2026-12#7"),
    (keys.loyalty_active_keys("2026-12")[0], "LOYALTY_ACTIVE#2026-12#0"),
    (keys.LOYALTY_REDEMPTION_PREFIX, "LOYALTY#REDEEM#"),
    (keys.loyalty_redemption_sk("ord_1"), "LOYALTY#REDEEM#ord_1"),
    # messages, disputes and seller performance
    (keys.CONVERSATION_PREFIX, "CONVERSATION#"),
    (keys.conversation_sk("cnv_1"), "CONVERSATION#cnv_1"),
    (keys.conversations_index_key("USER#usr_1"), "USER#usr_1#CONVERSATIONS"),
    (keys.unanswered_index_key("sel_1"), "SELLER#sel_1#UNANSWERED"),
    (keys.QUESTION_MARKER_PREFIX, "QUESTION#"),
    (keys.ANSWER_MARKER_PREFIX, "ANSWER#"),
    (keys.question_marker_sk("qst_1"), "QUESTION#qst_1"),
    (keys.answer_marker_sk("qst_1", "ans_1"), "ANSWER#qst_1#ans_1"),
    (keys.messages_key("cnv_1"), "CONVERSATION#cnv_1"),
    (keys.MESSAGE_PREFIX, "MESSAGE#"),
    (keys.message_sk("2026-12-07T10:00:00.000000+00:00", "msg_1"), "MESSAGE#2026-12-07T10:00:00.000000+00:00#msg_1"),
    (keys.dispute_key("dsp_1"), "DISPUTE#dsp_1"),
    (keys.DISPUTE_SK, "DISPUTE"),
    (keys.disputes_index_key("open"), "DISPUTES#open"),
    (keys.PERFORMANCE_PREFIX, "PERF#"),
    (keys.performance_day_sk("2026-12-07"), "PERF#2026-12-07"),
    (keys.PERFORMANCE_TOTALS_SK, "PERF#TOTALS"),
    (keys.performance_rank_key(30, "return_rate_bp", "2026-12-07T02:30:00.000000+00:00"),
     "PERF_RANK#30#return_rate_bp#2026-12-07T02:30:00.000000+00:00"),
    (keys.PERFORMANCE_SETTINGS_KEY, ("MARKETPLACE", "PERFORMANCE_SETTINGS")),
    # reviews
    (keys.REVIEW_PREFIX, "REVIEW#"),
    (keys.REVIEW_SK, "REVIEW"),
    (keys.review_key("rev_1"), "REVIEW#rev_1"),
    (keys.REVIEWS_PENDING_KEY, "REVIEWS_PENDING"),
    (keys.REVIEW_SETTINGS_KEY, "REVIEWS#SETTINGS"),
    (keys.REVIEWS_REPORTED_KEY, "REVIEWS_REPORTED"),
    (keys.helpful_vote_sk("usr_1"), "HELPFUL#usr_1"),
    (keys.review_report_sk("usr_1"), "REPORT#usr_1"),
    (keys.SETTINGS_SK, "SETTINGS"),
    (keys.HELPFUL_DIGITS, 8),
    (keys.product_reviews_key("prd_1"), "PRODUCT_REVIEWS#prd_1"),
    (keys.review_marker_sk("prd_1"), "REVIEW#prd_1"),
    (keys.seller_review_sk("rev_1"), "REVIEW#rev_1"),
    (keys.seller_reviews_key("sel_1"), "SELLER_REVIEWS#sel_1"),
    (keys.QUESTION_SK, "QUESTION"),
    (keys.QUESTIONS_PENDING_KEY, "QUESTIONS_PENDING"),
    (keys.question_key("qst_1"), "QUESTION#qst_1"),
    (keys.product_questions_key("prd_1"), "PRODUCT_QUESTIONS#prd_1"),
    (keys.sub_order_review_marker_sk("ord_1", "sel_1"), "REVIEW#ord_1#sel_1"),
    (keys.helpful_sort_key(12, "2026-12-07T10:00:00.000000Z", "rev_1"), "00000012#2026-12-07T10:00:00.000000Z#rev_1"),
    (keys.rating_sort_key(4, "2026-12-07T10:00:00.000000Z", "rev_1"), "4#2026-12-07T10:00:00.000000Z#rev_1"),
    # events and core
    (keys.event_key("evt_1"), "EVENT#evt_1"),
    (keys.EVENT_PREFIX, "EVENT#"),
    (keys.EVENT_SK, "EVENT"),
    (keys.once_key("stripe:evt_1:x"), "ONCE#stripe:evt_1:x"),
    (keys.ONCE_SK, "ONCE"),
    (keys.throttle_window_key("sign-in", "abc"), "THROTTLE#sign-in#abc"),
    (keys.throttle_window_sk(1796670000), "WINDOW#1796670000"),
    (keys.pace_key("magic-link-email", "abc"), "PACE#magic-link-email#abc"),
    (keys.PACE_SK, "PACE"),
    # first paid orders, referrals, loyalty"s member comparison
    (keys.FIRST_ORDER_SK, "FIRST_ORDER"),
    (keys.first_order_key("usr_1"), "FIRST_ORDER#usr_1"),
    (keys.first_order_key("ana@example.com"), "FIRST_ORDER#ana@example.com"),
    (keys.LOYALTY_CARD_PREFIX, "LOYALTY#CARD#"),
    (keys.loyalty_card_sk("fp_1"), "LOYALTY#CARD#fp_1"),
    (keys.LOYALTY_ORDER_PREFIX, "LOYALTY#ORDER#"),
    (keys.loyalty_order_sk("ord_1"), "LOYALTY#ORDER#ord_1"),
    (keys.LOYALTY_PURCHASES_SK, "LOYALTY#PURCHASES"),
    (keys.loyalty_orders_month_key("2026-12", "usr_1"), "LOYALTY_ORDERS#2026-12#7"),
    (keys.loyalty_orders_month_keys("2026-12")[:2], ["LOYALTY_ORDERS#2026-12#0", "LOYALTY_ORDERS#2026-12#1"]),
    (keys.LOYALTY_REFERRALS_SK, "LOYALTY#REFERRALS"),
    (keys.LOYALTY_REFERRAL_PREFIX, "LOYALTY#REFERRAL#"),
    (keys.loyalty_referral_sk("usr_2"), "LOYALTY#REFERRAL#usr_2"),
    (keys.loyalty_referrals_month_sk("2026-12"), "LOYALTY#REFERRALS#2026-12"),
    (keys.LOYALTY_REFERRED_BY_SK, "LOYALTY#REFERRED_BY"),
    (keys.REFERRAL_CODE_SK, "REFERRAL_CODE"),
    (keys.referral_code_key("AB3CD4EF"), "REFERRAL_CODE#AB3CD4EF"),
    # time-ordered sort keys
    (keys.timed_sort_key("2026-12-07T10:00:00.000000Z", "sel_1", "ord_1"), "2026-12-07T10:00:00.000000Z#sel_1#ord_1"),
    (keys.until_sort_key("2026-12-07T10:00:00.000000Z"), "2026-12-07T10:00:00.000000Z#~"),
    # analytics
    (keys.SELLER_ANALYTICS_SHARDS, 4),
    (keys.MARKETPLACE_ANALYTICS_SHARDS, 16),
    (keys.ANALYTICS_CUSTOMER_PREFIX, "CUSTOMER#"),
    (keys.analytics_key("sel_1", "usr_1"), "SELLER#sel_1#ANALYTICS#3"),
    (keys.analytics_key(None, "usr_1"), "ANALYTICS#MARKETPLACE#15"),
    (keys.analytics_keys("sel_1")[-1], "SELLER#sel_1#ANALYTICS#3"),
    (keys.analytics_keys(None)[0], "ANALYTICS#MARKETPLACE#0"),
    (len(keys.analytics_keys(None)), 16),
    (keys.analytics_customer_sk("usr_1", "EUR"), "CUSTOMER#usr_1#EUR"),
    (keys.analytics_counter_sk("EUR", "week", "2026-W49"), "COUNT#EUR#week#2026-W49"),
    (keys.analytics_cohort_sk("EUR", "2026-01", "2026-03"), "COHORT#EUR#2026-01#2026-03"),
    (keys.ANALYTICS_BACKFILL_KEY, "ANALYTICS#BACKFILL"),
    (keys.BACKFILL_CHECKPOINT_SK, "CHECKPOINT"),
    (keys.refund_prefix("ord_1"), "REFUND#ord_1#"),
    (keys.REVIEWS_BACKFILL_KEY, "REVIEWS#BACKFILL"),
]


@pytest.mark.parametrize(("built", "stored"), FORMATS, ids=[str(f[1]) for f in FORMATS])
def test_each_key_is_spelt_as_the_stored_data_is(built: Any, stored: Any) -> None:
    assert built == stored


def test_every_key_function_and_constant_is_pinned() -> None:
    public = {name for name, value in vars(keys).items()
              if not name.startswith("_") and name != "annotations" and not isinstance(value, ModuleType)}
    pinned = set(re.findall(r"keys\.(\w+)", Path(__file__).read_text()))
    assert public - pinned == set()


def test_owners_spread_over_every_shard_of_a_hot_key() -> None:
    shards = Counter(keys.carts_changed_key("2026-12-07", f"usr_{n}") for n in range(3_200))
    assert sorted(shards) == sorted(keys.carts_changed_keys("2026-12-07"))
    assert max(shards.values()) < 2 * 3_200 / keys.CARTS_CHANGED_SHARDS


def test_price_and_time_sort_keys_sort_as_their_values() -> None:
    assert sorted([keys.price_sort_key(10_000, "a"), keys.price_sort_key(999, "b")])[0].endswith("#b")
    earlier, later = "2026-12-07T09:59:59.999999Z", "2026-12-07T10:00:00.000000Z"
    assert keys.timed_sort_key(earlier, "zzz") < keys.timed_sort_key(later, "aaa") <= keys.until_sort_key(later)


_CHALICELIB = Path(keys.__file__).parents[1]
# A key prefix in a string: upper-case letters and underscores before a '#', e.g. "SELLER#".
_KEY_LITERAL = re.compile(r"(^|[^A-Za-z_])[A-Z][A-Z_]{2,}#")


def _modules() -> list[tuple[str, ast.Module]]:
    return [(path.relative_to(_CHALICELIB.parent).as_posix(), ast.parse(path.read_text()))
            for path in sorted(_CHALICELIB.rglob("*.py")) if path != Path(keys.__file__)]


def test_no_module_but_core_keys_defines_a_key() -> None:
    key_names = {name for name in vars(keys) if not name.startswith("_")} - {"annotations"}
    defined = [(module, node.name) for module, tree in _modules() for node in ast.walk(tree)
               if isinstance(node, ast.FunctionDef) and node.name in key_names]
    assigned = [(module, target.id) for module, tree in _modules() for node in tree.body
                if isinstance(node, ast.Assign) for target in node.targets
                if isinstance(target, ast.Name) and target.id in key_names]
    assert defined == []
    assert assigned == []


def test_no_module_but_core_keys_spells_a_key_prefix() -> None:
    spelt = []
    for module, tree in _modules():
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                      and node.body and isinstance(node.body[0], ast.Expr)}
        spelt += [(module, node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in docstrings and _KEY_LITERAL.search(node.value)]
    assert spelt == []
