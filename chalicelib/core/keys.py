"""Every key format of the single agora table, in one place.

The tenant rule: an item's key always starts with its owner's id (``SELLER#<sid>``,
``USER#<uid>``), so a Query or GetItem under the authenticated principal's own key cannot
reach another owner's items. Items without an owner are keyed by what finds them (a hashed
secret, an id that is itself a capability, a due day). The models' docstrings say which
access pattern each key serves; this module only says how keys are spelt, so that a
spelling exists once. The values are what is stored: changing one orphans existing data
(``tests/unit/core/test_keys.py`` pins each of them).

Hot keys are sharded: a key that would take a whole marketplace's writes (one bucket per
day or month) ends in ``#<n>``, ``n`` = :func:`shard` of the item's owner, so no partition
of the table or an index takes more than about 300 writes/s at 100 orders/s (measured in
``bench/hot_partitions.py``). Whoever reads such a bucket Queries every shard
(:func:`chalicelib.core.db.query_shards`).

Times inside keys are :func:`chalicelib.core.clock.stamp` texts (the ledger's are its own
``…Z`` form, ``ledger.service.iso``): fixed width, so string order is time order; days are
``yyyy-mm-dd``.

========================  ===================================  ========================================
item                      PK                                   SK
========================  ===================================  ========================================
User                      USER#<uid>                           PROFILE
  GSI1 birthdays          BIRTHDAY#<MM-DD>                     USER#<uid>
Address                   USER#<uid>                           ADDRESS#<address_id>
Consent                   USER#<uid>                           CONSENT#<topic>
ConsentLogEntry           USER#<uid>                           CONSENTLOG#<entry_id>
SessionFamily             USER#<uid>                           SESSION#<family_id>
WishlistItem              USER#<uid>                           WISH#<product_id>
  GSI2 wishers            WISHLISTED#<product_id>              USER#<uid>
EmailClaim                EMAIL#<normalised email>             EMAIL
SignUp                    SIGNUP#<signup_id>                   SIGNUP
RefreshToken              REFRESH#<token hash>                 REFRESH
MagicLink                 MAGIC#<token hash>                   MAGIC
ChallengeUse              CHALLENGE#<nonce>                    USED
RevokedSession            REVOKED#<uid>                        SESSION#<session_id>
LinkedIdentity            USER#<uid>                           IDENTITY#<provider>
IdentityClaim             IDENTITY#<hash of issuer + subject>  IDENTITY
OidcState                 OIDC_STATE#<state hash>              OIDC_STATE
OidcHandoff               OIDC_HANDOFF#<code hash>             OIDC_HANDOFF
Seller                    SELLER#<sid>                         PROFILE
  GSI1 by status          SELLERS#<status>                     <created_at>#<sid>
  GSI2 by Stripe account  STRIPE_ACCOUNT#<account_id>          SELLER
  GSI3 not selling        SELLERS#NOT_SELLING                  <sid>
SellerApplication         SELLER_APPLICATION#<application_id>  APPLICATION
ApiKey                    APIKEY#<key_id>                      APIKEY
  GSI3 a seller's keys    SELLER#<sid>#APIKEYS                 <key_id>
SellerInvite              SELLER_INVITE#<code hash>            INVITE | REDEEMED
  GSI1 newest first       SELLER_INVITES                       <created_at>#<invite_id>
  GSI2 by id              SELLER_INVITE_ID#<invite_id>         INVITE
MarketplaceSettings       MARKETPLACE                          SETTINGS
Product                   SELLER#<sid>                         PRODUCT#<product_id>
  GSI3 by status          SELLER#<sid>#PRODUCTS#<status>       <product_id>
SkuClaim                  SELLER#<sid>                         SKU#<sku>
ShippingProfile           SELLER#<sid>                         SHIPPING_PROFILE#<profile_id> | …#default
ProductPointer            PRODUCT#<product_id>                 PRODUCT
ProductListing            PRODUCT#<product_id>                 LIST#<scope>
  GSI1 by price           CATALOG#<scope>#<currency>           <price, 12 digits>#<product_id>
  GSI2 newest             CATALOG#<scope>                      <created_at>#<product_id>
  GSI3 best rated         CATALOG#<scope>#RATING               <500 - average x 100, 3 digits>#<10^10 - 1
                                                               - count, 10 digits>#<product_id>
  (scope: ALL | CAT#<slug> | SELLER#<sid> | WORD#<search key>)
Cart (buyer / guest)      USER#<uid> | CART#<token hash>       CART
  GSI3 changed that day   CARTS_CHANGED#<yyyy-mm-dd>#<n>       <updated_at>#<uid>
Order                     USER#<uid>                           ORDER#<order_id>
  GSI1 payment due        PAYMENT_DUE#<yyyy-mm-dd>#<n>         <due>#<order_id>
SubOrder                  SELLER#<sid>                         ORDER#<order_id>
  GSI1 transfer due       TRANSFER_DUE#<yyyy-mm-dd>#<n>        <paid_at>#<sid>#<order_id>
  GSI2 completion due     COMPLETE_DUE#<yyyy-mm-dd>#<n>        <due>#<sid>#<order_id>
  GSI3 by status          SELLER#<sid>#ORDERS#<status>         <order_id>
SubOrderLines             SELLER#<sid>                         LINES#<order_id>
CheckoutKey               CHECKOUT#<scope>#<Idempotency-Key>   CHECKOUT
Refund                    USER#<uid>                           REFUND#<order_id>#<refund_id>
  GSI1 refund due         REFUND_DUE#<yyyy-mm-dd>              <requested_at>#<uid>#<order_id>#<refund_id>
Customer                  SELLER#<sid>                         CUSTOMER#<cid>
  GSI1 by last order      SELLER#<sid>#CUSTOMERS               <last_order_at>#<cid> | 0#<created_at>#<cid>
  GSI2 by email           SELLER#<sid>#CUSTOMERS               <email>
  GSI3 by name            SELLER#<sid>#CUSTOMERS               <folded name>#<cid>
GroupMember               SELLER#<sid>                         GROUPMEMBER#<gid>#<cid>
  GSI1 a group's members  SELLER#<sid>#GROUP#<gid>             (the customer's GSI1SK)
CustomerOf                USER#<uid>#SELLERS                   SELLER#<sid>
CustomerOrder             SELLER#<sid>                         CUSTORDER#<cid>#<order_id>
CustomerGroup             SELLER#<sid>                         CUSTGROUP#<gid>
GroupName                 SELLER#<sid>                         GROUPNAME#<folded name>
ImportJob                 SELLER#<sid>                         IMPORT#<import_id>
ImportChunk               IMPORT#<import_id>                   CHUNK#<n, 5 digits>
FeeScheduleItem           FEES#DEFAULT | FEES#CATEGORY#<slug>  FEES#CURRENT | FEES#VERSION#<n, 10 digits>
                          | SELLER#<sid>
  GSI1 active overrides   FEES#CATEGORIES | FEES#SELLERS       <slug> | <sid>
MonthlySales              SELLER#<sid>                         SALES#<currency>#<yyyy-mm>
PostingRecord             POSTING#<posting_id>                 POSTING
  GSI1 an order's         LEDGER_ORDER#<order_id>              <occurred_at>#<posting_id>
LedgerEntry (seller)      SELLER#<sid>                         LEDGER#<occurred_at>#<k>#<posting_id>#<nn>
LedgerEntry (platform)    LEDGER#<account>#<yyyy-mm>#<n>       <occurred_at>#<k>#<posting_id>#<nn>
SellerBalance             SELLER#<sid>                         LEDGER_BALANCE#<currency>
Promotion (operator)      PROMOTIONS#marketplace               PROMOTION#<promotion_id>
Promotion (seller)        SELLER#<sid>                         PROMOTION#<promotion_id>
AutomaticPromotions       PROMOTIONS#marketplace               AUTOMATIC
                          | SELLER#<sid>
PromoCode                 PROMO_CODE#<CODE>                    PROMO_CODE
  GSI1 a promotion's      <owner>#PROMOTION#<promotion_id>     <created_at>#<CODE>
  codes                   #CODES
PromoUse (per buyer)      PROMO_USE#<promotion_id>#<buyer key> PROMO_USE
LoyaltyProgramme          LOYALTY                              PROGRAMME
LoyaltyCampaign           LOYALTY                              CAMPAIGN#<campaign_id>
  (seller-funded)         SELLER#<sid>                         LOYALTY_CAMPAIGN#<campaign_id>
LoyaltyMember             USER#<uid>                           LOYALTY#MEMBER
  GSI2 re-qualification   LOYALTY_REQUALIFY#<yyyy-mm-dd>#<n>   <uid>
  GSI3 by tier            LOYALTY_TIER#<tier>#<n>              <uid>
LoyaltyBalance            USER#<uid>                           LOYALTY#BALANCE
  GSI1 inactive from      LOYALTY_INACTIVE#<yyyy-mm-dd>#<n>    <uid>
LoyaltyLot                USER#<uid>                           LOYALTY#LOT#<lot_id>
  GSI1 expiry day         LOYALTY_EXPIRY#<yyyy-mm-dd>#<n>      <expires_at>#<uid>#<lot_id>
LoyaltyMovement           USER#<uid>                           LOYALTY#TX#<at>#<movement_id>
LoyaltyMonth              USER#<uid>                           LOYALTY#MONTH#<yyyy-mm>
LoyaltyAdjustment         LOYALTY                              ADJUSTMENT#<at>#<adjustment_id>
LoyaltyDay (statistics)   LOYALTY_DAY#<yyyy-mm-dd>#<n>         STATS
LoyaltyTotals             LOYALTY_TOTALS#<n>                   TOTALS
LoyaltyActive             LOYALTY_ACTIVE#<yyyy-mm>#<n>         <uid>
ReferralCode (code)       REFERRAL_CODE#<CODE>                 REFERRAL_CODE
ReferralCode (buyer's)    USER#<uid>                           REFERRAL_CODE
LoyaltyReferral           USER#<referrer uid>                  LOYALTY#REFERRAL#<referred uid>
LoyaltyReferredBy         USER#<referred uid>                  LOYALTY#REFERRED_BY
LoyaltyReferrals          USER#<referrer uid>                  LOYALTY#REFERRALS | LOYALTY#REFERRALS#<yyyy-mm>
LoyaltyCard               USER#<uid>                           LOYALTY#CARD#<card fingerprint>
LoyaltyPurchases          USER#<uid>                           LOYALTY#PURCHASES
LoyaltyOrder              USER#<uid>                           LOYALTY#ORDER#<order_id>
LoyaltyOrderMonth         LOYALTY_ORDERS#<yyyy-mm>#<n>         MEMBER | NON_MEMBER
LoyaltyRedemption         USER#<uid>                           LOYALTY#REDEEM#<order_id>
Conversation (buyer)      USER#<uid>                           CONVERSATION#<conversation_id>
  GSI1 latest activity    USER#<uid>#CONVERSATIONS             <last_message_at>#<conversation_id>
Conversation (seller)     SELLER#<sid>                         CONVERSATION#<conversation_id>
  GSI1 latest activity    SELLER#<sid>#CONVERSATIONS           <last_message_at>#<conversation_id>
  GSI2 unanswered         SELLER#<sid>#UNANSWERED              <awaiting_since>#<conversation_id>
Message                   CONVERSATION#<conversation_id>       MESSAGE#<at>#<message_id>
Dispute                   DISPUTE#<dispute_id>                 DISPUTE
  GSI1 by status          DISPUTES#<open|resolved>             <opened_at>#<dispute_id>
PerformanceDay            SELLER#<sid>                         PERF#<yyyy-mm-dd> | PERF#TOTALS
PerformanceRank           PERF_RANK#<window>#<measure>#<run>   <value, 12 digits>#<sid>
PerformanceSettings       MARKETPLACE                          PERFORMANCE_SETTINGS
Review                    REVIEW#<review_id>                   REVIEW
  GSI1 newest (published) PRODUCT_REVIEWS#<product_id>         <published_at>#<review_id>
  GSI1 queue (pending)    REVIEWS_PENDING                      <created_at>#<review_id>
  GSI2 most helpful       PRODUCT_REVIEWS#<product_id>         <helpful, 8 digits>#<published_at>#<review_id>
  GSI3 by rating          PRODUCT_REVIEWS#<product_id>         <rating>#<published_at>#<review_id>
  (a seller review's:     SELLER_REVIEWS#<sid>, the same sort keys)
HelpfulVote               REVIEW#<review_id>                   HELPFUL#<uid>
ReviewReport              REVIEW#<review_id>                   REPORT#<uid>
  GSI1 reported           REVIEWS_REPORTED                     <reported_at>#<review_id>#<uid>
ReviewMarker (buyer)      USER#<uid>                           REVIEW#<product_id> | REVIEW#<order_id>#<sid>
SellerReview (pointer)    SELLER#<sid>                         REVIEW#<review_id>
ReviewSettings            REVIEWS#SETTINGS                     SETTINGS
Question (with answers)   QUESTION#<question_id>               QUESTION
  GSI1 a product's        PRODUCT_QUESTIONS#<product_id>       <created_at>#<question_id>
  GSI1 queue (pending)    QUESTIONS_PENDING                    <created_at>#<question_id>
QuestionMarker (buyer)    USER#<uid>                           QUESTION#<question_id>
                                                               | ANSWER#<question_id>#<answer_id>
PromoRedemption           PROMO_ORDER#<order_id>               PROMO_ORDER
OutboxEvent               EVENT#<event_id>                     EVENT
OnceMarker                ONCE#<key>                           ONCE
Throttle window / pace    THROTTLE#<rule>#<subject hash>       WINDOW#<start> | PACE
                          | PACE#<rule>#<subject hash>
FirstPaidOrder            FIRST_ORDER#<buyer key>              FIRST_ORDER
AnalyticsSummary          SELLER#<sid>#ANALYTICS#<n>           CUSTOMER#<uid>#<currency>
                          | ANALYTICS#MARKETPLACE#<n>
AnalyticsCounter          (the same, n of the customer)        COUNT#<currency>#<kind>#<period>
                                                               | COHORT#<currency>#<yyyy-mm>#<yyyy-mm>
AnalyticsBackfill         ANALYTICS#BACKFILL                   CHECKPOINT
========================  ===================================  ========================================
"""

from __future__ import annotations

import zlib

# --- owners: the partitions that carry the tenant -----------------------------------------


def seller_key(seller_id: str) -> str:
    """A seller's partition: its profile and everything the seller owns."""
    return f"SELLER#{seller_id}"


def user_key(user_id: str) -> str:
    """A buyer's (or any signed-in person's) partition."""
    return f"USER#{user_id}"


# --- shards of the hot keys -------------------------------------------------------------

# Shards per key family, from the goal of at most ~300 writes/s on any key at 100 orders/s
# with ten cart edits each (DynamoDB takes ~1,000 per partition; bench/hot_partitions.py
# measures what one bucket would take): a cart edit moves its carts-changed entry (a delete
# and a put: ~2,000/s a day, 32 shards: ~60/s each, so that a day's uneven mix of buyers
# stays far below the goal); an order enters payment-due, changes on it and
# leaves it (~300/s, 8 shards); a payment writes entries on the platform accounts (~360/s
# a month per account, 8 shards); each seller's part of an order enters, changes on and
# leaves transfer-due (~780/s a day) and later completion-due (~540/s; 8 shards each).
# Refund-due stays one key a day: refunds are a small share of orders. Changing a count
# moves where new items go; readers must then read the old count's shards too until those
# items are gone.
CARTS_CHANGED_SHARDS = 32
PAYMENT_DUE_SHARDS = 8
PLATFORM_LEDGER_SHARDS = 8
TRANSFER_DUE_SHARDS = 8
COMPLETION_DUE_SHARDS = 8


def shard(owner: str, shards: int) -> int:
    """The shard of an owner's items: CRC-32, stable across processes and releases
    (Python's ``hash`` of a string is salted per process)."""
    return zlib.crc32(owner.encode()) % shards


def _sharded(key: str, owner: str, shards: int) -> str:
    return f"{key}#{shard(owner, shards)}"


def _every_shard(key: str, shards: int) -> list[str]:
    return [f"{key}#{n}" for n in range(shards)]


# --- accounts -----------------------------------------------------------------------------

PROFILE_SK = "PROFILE"
ADDRESS_PREFIX = "ADDRESS#"
CONSENT_PREFIX = "CONSENT#"
CONSENT_LOG_PREFIX = "CONSENTLOG#"
SESSION_PREFIX = "SESSION#"
WISH_PREFIX = "WISH#"
EMAIL_SK = "EMAIL"
SIGNUP_SK = "SIGNUP"
REFRESH_SK = "REFRESH"
MAGIC_SK = "MAGIC"
CHALLENGE_USED_SK = "USED"


def address_sk(address_id: str) -> str:
    return f"{ADDRESS_PREFIX}{address_id}"


def consent_sk(topic: str) -> str:
    return f"{CONSENT_PREFIX}{topic}"


def consent_log_sk(entry_id: str) -> str:
    return f"{CONSENT_LOG_PREFIX}{entry_id}"


def session_sk(session_id: str) -> str:
    """A sign-in's session family under its user, and a revoked session under its user."""
    return f"{SESSION_PREFIX}{session_id}"


def wish_sk(product_id: str) -> str:
    return f"{WISH_PREFIX}{product_id}"


def wishlisted_key(product_id: str) -> str:
    return f"WISHLISTED#{product_id}"


def birthday_key(month: int, day: int) -> str:
    return f"BIRTHDAY#{month:02d}-{day:02d}"


def email_key(email: str) -> str:
    return f"EMAIL#{email}"


def signup_key(signup_id: str) -> str:
    return f"SIGNUP#{signup_id}"


def refresh_token_key(token_hash: str) -> str:
    return f"REFRESH#{token_hash}"


def magic_link_key(token_hash: str) -> str:
    return f"MAGIC#{token_hash}"


def challenge_key(nonce: str) -> str:
    return f"CHALLENGE#{nonce}"


def revoked_sessions_key(user_id: str) -> str:
    return f"REVOKED#{user_id}"


IDENTITY_PREFIX = "IDENTITY#"
IDENTITY_SK = "IDENTITY"
OIDC_STATE_SK = "OIDC_STATE"
OIDC_HANDOFF_SK = "OIDC_HANDOFF"


def identity_sk(provider: str) -> str:
    return f"IDENTITY#{provider}"


def identity_key(identity_hash: str) -> str:
    return f"IDENTITY#{identity_hash}"


def oidc_state_key(state_hash: str) -> str:
    return f"OIDC_STATE#{state_hash}"


def oidc_handoff_key(code_hash: str) -> str:
    return f"OIDC_HANDOFF#{code_hash}"


# --- sellers ------------------------------------------------------------------------------

SELLER_APPLICATION_SK = "APPLICATION"
STRIPE_ACCOUNT_INDEX_SK = "SELLER"
NOT_SELLING_INDEX_KEY = "SELLERS#NOT_SELLING"
API_KEY_SK = "APIKEY"
INVITE_SK = "INVITE"
REDEEMED_SK = "REDEEMED"
INVITES_INDEX_KEY = "SELLER_INVITES"
MARKETPLACE_SETTINGS_KEY = ("MARKETPLACE", "SETTINGS")


def seller_application_key(application_id: str) -> str:
    return f"SELLER_APPLICATION#{application_id}"


def seller_status_index_key(status: str) -> str:
    return f"SELLERS#{status}"


def stripe_account_index_key(account_id: str) -> str:
    return f"STRIPE_ACCOUNT#{account_id}"


def api_key_key(key_id: str) -> str:
    return f"APIKEY#{key_id}"


def api_keys_index_key(seller_id: str) -> str:
    return f"{seller_key(seller_id)}#APIKEYS"


def invite_key(code_hash: str) -> str:
    return f"SELLER_INVITE#{code_hash}"


def invite_id_index_key(invite_id: str) -> str:
    return f"SELLER_INVITE_ID#{invite_id}"


# --- shipping -----------------------------------------------------------------------------

SHIPPING_PROFILE_PREFIX = "SHIPPING_PROFILE#"
# The id of a seller's default profile: fixed, so a checkout reads it by key (BatchGetItem)
# without a Query.
DEFAULT_SHIPPING_PROFILE = "default"


def shipping_profile_sk(profile_id: str) -> str:
    return f"{SHIPPING_PROFILE_PREFIX}{profile_id}"


# --- catalog ------------------------------------------------------------------------------

PRODUCT_PREFIX = "PRODUCT#"
SKU_PREFIX = "SKU#"
LISTING_PREFIX = "LIST#"
POINTER_SK = "PRODUCT"
PRICE_DIGITS = 12
ALL_SCOPE = "ALL"


def product_sk(product_id: str) -> str:
    return f"{PRODUCT_PREFIX}{product_id}"


def product_pk(product_id: str) -> str:
    """The partition of a product's pointer and listing entries."""
    return f"{PRODUCT_PREFIX}{product_id}"


def sku_sk(sku: str) -> str:
    return f"{SKU_PREFIX}{sku}"


def product_status_index_key(seller_id: str, status: str) -> str:
    return f"{seller_key(seller_id)}#PRODUCTS#{status}"


def category_browse_scope(slug: str) -> str:
    """The browse scope of a department or category."""
    return f"CAT#{slug}"


def seller_browse_scope(seller_id: str) -> str:
    """The browse scope of one seller's listed products."""
    return f"SELLER#{seller_id}"


def word_browse_scope(search_key: str) -> str:
    """The browse scope of a search key (see ``chalicelib.catalog.search``)."""
    return f"WORD#{search_key}"


def listing_sk(scope: str) -> str:
    return f"{LISTING_PREFIX}{scope}"


def price_index_key(scope: str, currency: str) -> str:
    return f"CATALOG#{scope}#{currency}"


def price_sort_key(price: int, product_id: str) -> str:
    """Zero-padded, so string order is price order."""
    return f"{price:0{PRICE_DIGITS}d}#{product_id}"


def newest_index_key(scope: str) -> str:
    return f"CATALOG#{scope}"


RATED_DIGITS = 10


def rated_index_key(scope: str) -> str:
    return f"CATALOG#{scope}#RATING"


def rated_sort_key(hundredths: int, count: int, product_id: str) -> str:
    """Ascending string order is best average (in hundredths of a star, 0 when unrated)
    first, then most reviews, then product id: both numbers are stored inverted."""
    return f"{500 - hundredths:03d}#{10 ** RATED_DIGITS - 1 - count:0{RATED_DIGITS}d}#{product_id}"


def rated_sort_bound(hundredths: int) -> str:
    """The exclusive upper bound of the :func:`rated_sort_key` s of averages >= ``hundredths``."""
    return f"{500 - hundredths + 1:03d}"


# --- orders -------------------------------------------------------------------------------

CART_SK = "CART"
GUEST_CART_PREFIX = "CART#"
ORDER_PREFIX = "ORDER#"
CHECKOUT_SK = "CHECKOUT"


def order_sk(order_id: str) -> str:
    return f"{ORDER_PREFIX}{order_id}"


SUB_ORDER_LINES_PREFIX = "LINES#"


def sub_order_lines_sk(order_id: str) -> str:
    """A sub-order's lines, apart from it; not under ``ORDER#`` so a seller's order list
    (a Query on that prefix) does not read them."""
    return f"{SUB_ORDER_LINES_PREFIX}{order_id}"


def guest_cart_key(token_hash: str) -> str:
    return f"{GUEST_CART_PREFIX}{token_hash}"


def carts_changed_key(day: str, user_id: str) -> str:
    """A buyer's shard of the abandoned-cart sweep's bucket of one day (``yyyy-mm-dd``)."""
    return _sharded(f"CARTS_CHANGED#{day}", user_id, CARTS_CHANGED_SHARDS)


def carts_changed_keys(day: str) -> list[str]:
    """Every shard of a day's carts-changed bucket. Days before sharding have one unsharded
    bucket (``CARTS_CHANGED#<day>``) that no sweep reads: see bench/README.md."""
    return _every_shard(f"CARTS_CHANGED#{day}", CARTS_CHANGED_SHARDS)


def sub_order_status_index_key(seller_id: str, status: str) -> str:
    return f"{seller_key(seller_id)}#ORDERS#{status}"


def payment_due_key(day: str, order_id: str) -> str:
    return _sharded(f"PAYMENT_DUE#{day}", order_id, PAYMENT_DUE_SHARDS)


def payment_due_keys(day: str) -> list[str]:
    """Every partition of a day's payment-due bucket: its shards and the unsharded key that
    orders placed before sharding were written under (they leave it within the payment
    window, so a later release can stop reading it)."""
    return [*_every_shard(f"PAYMENT_DUE#{day}", PAYMENT_DUE_SHARDS), f"PAYMENT_DUE#{day}"]


def completion_due_key(day: str, order_id: str) -> str:
    return _sharded(f"COMPLETE_DUE#{day}", order_id, COMPLETION_DUE_SHARDS)


def completion_due_keys(day: str) -> list[str]:
    """Every partition of a day's completion-due bucket: its shards and the unsharded key of
    parts delivered before sharding (they leave it when their return window ends)."""
    return [*_every_shard(f"COMPLETE_DUE#{day}", COMPLETION_DUE_SHARDS), f"COMPLETE_DUE#{day}"]


def refund_due_key(day: str) -> str:
    return f"REFUND_DUE#{day}"


def transfer_due_key(day: str, order_id: str) -> str:
    return _sharded(f"TRANSFER_DUE#{day}", order_id, TRANSFER_DUE_SHARDS)


def transfer_due_keys(day: str) -> list[str]:
    """Every partition of a day's transfer-due bucket: its shards and the unsharded key of
    parts paid before sharding (they leave it when their transfer is recorded)."""
    return [*_every_shard(f"TRANSFER_DUE#{day}", TRANSFER_DUE_SHARDS), f"TRANSFER_DUE#{day}"]


def checkout_key(scope: str, idempotency_key: str) -> str:
    return f"CHECKOUT#{scope}#{idempotency_key}"


def refund_sk(order_id: str, refund_id: str) -> str:
    return f"REFUND#{order_id}#{refund_id}"


# --- customers ----------------------------------------------------------------------------

CUSTOMER_PREFIX = "CUSTOMER#"
GROUP_PREFIX = "CUSTGROUP#"
IMPORT_PREFIX = "IMPORT#"
CHUNK_PREFIX = "CHUNK#"
NEVER_ORDERED = "0"  # sorts before every ISO timestamp, so never-ordered customers list last


def customers_key(seller_id: str) -> str:
    return f"{seller_key(seller_id)}#CUSTOMERS"


def customer_sk(customer_id: str) -> str:
    return f"{CUSTOMER_PREFIX}{customer_id}"


def customer_activity_key(customer_id: str, *, last_order_at: str | None, created_at: str) -> str:
    """Newest order first; never-ordered customers last, newest first among them."""
    if last_order_at:
        return f"{last_order_at}#{customer_id}"
    return f"{NEVER_ORDERED}#{created_at}#{customer_id}"


def customer_name_key(folded_name: str, customer_id: str) -> str:
    return f"{folded_name}#{customer_id}"


def group_sk(group_id: str) -> str:
    return f"{GROUP_PREFIX}{group_id}"


def group_name_sk(folded_name: str) -> str:
    return f"GROUPNAME#{folded_name}"


def group_members_key(seller_id: str, group_id: str) -> str:
    return f"{seller_key(seller_id)}#GROUP#{group_id}"


def member_sk(group_id: str, customer_id: str) -> str:
    return f"GROUPMEMBER#{group_id}#{customer_id}"


def customer_orders_prefix(customer_id: str) -> str:
    return f"CUSTORDER#{customer_id}#"


def customer_order_sk(customer_id: str, order_id: str) -> str:
    return f"{customer_orders_prefix(customer_id)}{order_id}"


def customer_of_key(user_id: str) -> str:
    """The sellers a buyer is a linked customer of; lives beside the buyer's partition."""
    return f"{user_key(user_id)}#SELLERS"


def import_job_sk(import_id: str) -> str:
    return f"{IMPORT_PREFIX}{import_id}"


def import_chunk_key(import_id: str, number: int) -> tuple[str, str]:
    return f"{IMPORT_PREFIX}{import_id}", f"{CHUNK_PREFIX}{number:05d}"


# --- fees ---------------------------------------------------------------------------------

DEFAULT_FEES_KEY = "FEES#DEFAULT"
FEES_CURRENT_SK = "FEES#CURRENT"
FEES_VERSION_PREFIX = "FEES#VERSION#"
CATEGORY_FEES_INDEX_KEY = "FEES#CATEGORIES"
SELLER_FEES_INDEX_KEY = "FEES#SELLERS"


def category_fees_key(slug: str) -> str:
    return f"FEES#CATEGORY#{slug}"


def fees_version_sk(version: int) -> str:
    return f"{FEES_VERSION_PREFIX}{version:010d}"


def monthly_sales_sk(currency: str, month: str) -> str:
    """A seller's sales in ``currency`` in ``month`` (yyyy-mm), one attribute a day."""
    return f"SALES#{currency}#{month}"


# --- ledger -------------------------------------------------------------------------------

POSTING_SK = "POSTING"
BALANCE_PREFIX = "LEDGER_BALANCE#"
ENTRY_PREFIX = "LEDGER#"


def posting_key(posting_id: str) -> str:
    return f"POSTING#{posting_id}"


def platform_ledger_key(account: str, month: str, posting_id: str) -> str:
    """A posting's shard of a platform account's month: a posting's entries stay together."""
    return _sharded(f"{ENTRY_PREFIX}{account}#{month}", posting_id, PLATFORM_LEDGER_SHARDS)


def platform_ledger_keys(account: str, month: str) -> list[str]:
    """Every partition of a platform account's month: its shards and the unsharded key that
    entries written before sharding keep for good (the ledger is never rewritten)."""
    return [*_every_shard(f"{ENTRY_PREFIX}{account}#{month}", PLATFORM_LEDGER_SHARDS),
            f"{ENTRY_PREFIX}{account}#{month}"]


def ledger_order_index_key(order_id: str) -> str:
    return f"LEDGER_ORDER#{order_id}"


def ledger_entry_sk(at: str, kind_rank: int, posting_id: str, number: int) -> str:
    """A platform entry's sort key; a seller's entry is :func:`seller_entry_sk` of it."""
    return f"{at}#{kind_rank}#{posting_id}#{number:02d}"


def seller_entry_sk(entry_sk: str) -> str:
    """A seller's entry (or a statement's bound) in the seller's partition."""
    return f"{ENTRY_PREFIX}{entry_sk}"


def balance_sk(currency: str) -> str:
    return f"{BALANCE_PREFIX}{currency}"


# --- promotions ---------------------------------------------------------------------------

MARKETPLACE_PROMOTIONS_KEY = "PROMOTIONS#marketplace"  # the operator's promotions' partition
PROMOTION_PREFIX = "PROMOTION#"
AUTOMATIC_SK = "AUTOMATIC"
PROMO_CODE_SK = "PROMO_CODE"
PROMO_USE_SK = "PROMO_USE"
PROMO_ORDER_SK = "PROMO_ORDER"


def promotion_sk(promotion_id: str) -> str:
    return f"{PROMOTION_PREFIX}{promotion_id}"


def promotion_codes_index_key(owner_key: str, promotion_id: str) -> str:
    """A promotion's codes, under its owner's partition key (the marketplace's or the seller's)."""
    return f"{owner_key}#{PROMOTION_PREFIX}{promotion_id}#CODES"


def promo_code_key(code: str) -> str:
    """One item per code, globally unique: ``code`` is normalised (upper case, no spaces)."""
    return f"PROMO_CODE#{code}"


def promo_use_key(promotion_id: str, buyer_key: str) -> str:
    """A buyer's uses of a promotion: ``buyer_key`` is the account id, a guest's normalised email."""
    return f"PROMO_USE#{promotion_id}#{buyer_key}"


# --- loyalty ------------------------------------------------------------------------------

# A buyer's loyalty items live in the buyer's partition; the marketplace-wide buckets (expiry
# and re-qualification days, statistics, totals, active members) are sharded by the buyer,
# because every paid order of the marketplace writes to them.
LOYALTY_SHARDS = 8
LOYALTY_KEY = "LOYALTY"  # the operator's programme, campaigns and adjustments' partition
LOYALTY_PROGRAMME_SK = "PROGRAMME"
LOYALTY_CAMPAIGN_PREFIX = "CAMPAIGN#"
SELLER_LOYALTY_CAMPAIGN_PREFIX = "LOYALTY_CAMPAIGN#"
LOYALTY_ADJUSTMENT_PREFIX = "ADJUSTMENT#"
LOYALTY_MEMBER_SK = "LOYALTY#MEMBER"
LOYALTY_BALANCE_SK = "LOYALTY#BALANCE"
LOYALTY_LOT_PREFIX = "LOYALTY#LOT#"
LOYALTY_MOVEMENT_PREFIX = "LOYALTY#TX#"
LOYALTY_MONTH_PREFIX = "LOYALTY#MONTH#"
LOYALTY_STATS_SK = "STATS"
LOYALTY_TOTALS_SK = "TOTALS"


def loyalty_campaign_sk(campaign_id: str) -> str:
    return f"{LOYALTY_CAMPAIGN_PREFIX}{campaign_id}"


def seller_loyalty_campaign_sk(campaign_id: str) -> str:
    """A seller-funded bonus campaign, in the seller's partition."""
    return f"{SELLER_LOYALTY_CAMPAIGN_PREFIX}{campaign_id}"


def loyalty_adjustment_sk(at: str, adjustment_id: str) -> str:
    return f"{LOYALTY_ADJUSTMENT_PREFIX}{at}#{adjustment_id}"


def loyalty_lot_sk(lot_id: str) -> str:
    return f"{LOYALTY_LOT_PREFIX}{lot_id}"


def loyalty_movement_sk(at: str, movement_id: str) -> str:
    """A movement's place in the buyer's history: its time (fixed by what caused it, so a
    redelivered event names the same item) and its deterministic id."""
    return f"{LOYALTY_MOVEMENT_PREFIX}{at}#{movement_id}"


def loyalty_month_sk(month: str) -> str:
    return f"{LOYALTY_MONTH_PREFIX}{month}"


def loyalty_expiry_key(day: str, user_id: str) -> str:
    return _sharded(f"LOYALTY_EXPIRY#{day}", user_id, LOYALTY_SHARDS)


def loyalty_expiry_keys(day: str) -> list[str]:
    return _every_shard(f"LOYALTY_EXPIRY#{day}", LOYALTY_SHARDS)


def loyalty_inactive_key(day: str, user_id: str) -> str:
    return _sharded(f"LOYALTY_INACTIVE#{day}", user_id, LOYALTY_SHARDS)


def loyalty_inactive_keys(day: str) -> list[str]:
    return _every_shard(f"LOYALTY_INACTIVE#{day}", LOYALTY_SHARDS)


def loyalty_requalify_key(day: str, user_id: str) -> str:
    return _sharded(f"LOYALTY_REQUALIFY#{day}", user_id, LOYALTY_SHARDS)


def loyalty_requalify_keys(day: str) -> list[str]:
    return _every_shard(f"LOYALTY_REQUALIFY#{day}", LOYALTY_SHARDS)


def loyalty_tier_key(tier: str, user_id: str) -> str:
    return _sharded(f"LOYALTY_TIER#{tier}", user_id, LOYALTY_SHARDS)


def loyalty_tier_keys(tier: str) -> list[str]:
    return _every_shard(f"LOYALTY_TIER#{tier}", LOYALTY_SHARDS)


def loyalty_day_key(day: str, user_id: str) -> str:
    return _sharded(f"LOYALTY_DAY#{day}", user_id, LOYALTY_SHARDS)


def loyalty_day_keys(day: str) -> list[str]:
    return _every_shard(f"LOYALTY_DAY#{day}", LOYALTY_SHARDS)


def loyalty_totals_key(user_id: str) -> str:
    return _sharded("LOYALTY_TOTALS", user_id, LOYALTY_SHARDS)


def loyalty_totals_keys() -> list[str]:
    return _every_shard("LOYALTY_TOTALS", LOYALTY_SHARDS)


def loyalty_active_key(month: str, user_id: str) -> str:
    return _sharded(f"LOYALTY_ACTIVE#{month}", user_id, LOYALTY_SHARDS)


def loyalty_active_keys(month: str) -> list[str]:
    return _every_shard(f"LOYALTY_ACTIVE#{month}", LOYALTY_SHARDS)


# Referrals: a buyer's code resolves to the buyer with one GetItem (accounts, at sign-up); the
# buyer's own code is a GetItem in the buyer's partition.
REFERRAL_CODE_SK = "REFERRAL_CODE"
LOYALTY_REFERRAL_PREFIX = "LOYALTY#REFERRAL#"
LOYALTY_REFERRED_BY_SK = "LOYALTY#REFERRED_BY"
LOYALTY_REFERRALS_SK = "LOYALTY#REFERRALS"
LOYALTY_CARD_PREFIX = "LOYALTY#CARD#"
LOYALTY_PURCHASES_SK = "LOYALTY#PURCHASES"
LOYALTY_ORDER_PREFIX = "LOYALTY#ORDER#"


def referral_code_key(code: str) -> str:
    return f"REFERRAL_CODE#{code}"


def loyalty_referral_sk(referred_id: str) -> str:
    return f"{LOYALTY_REFERRAL_PREFIX}{referred_id}"


def loyalty_referrals_month_sk(month: str) -> str:
    """A referrer's rewarded referrals in one calendar month (the cap's counter)."""
    return f"{LOYALTY_REFERRALS_SK}#{month}"


def loyalty_card_sk(fingerprint: str) -> str:
    return f"{LOYALTY_CARD_PREFIX}{fingerprint}"


def loyalty_order_sk(order_id: str) -> str:
    return f"{LOYALTY_ORDER_PREFIX}{order_id}"


def loyalty_orders_month_key(month: str, user_id: str) -> str:
    return _sharded(f"LOYALTY_ORDERS#{month}", user_id, LOYALTY_SHARDS)


def loyalty_orders_month_keys(month: str) -> list[str]:
    return _every_shard(f"LOYALTY_ORDERS#{month}", LOYALTY_SHARDS)


LOYALTY_REDEMPTION_PREFIX = "LOYALTY#REDEEM#"


def loyalty_redemption_sk(order_id: str) -> str:
    """The points an order redeemed at checkout, in the buyer's partition (one per order)."""
    return f"{LOYALTY_REDEMPTION_PREFIX}{order_id}"
# --- messages, disputes and seller performance ------------------------------------------

CONVERSATION_PREFIX = "CONVERSATION#"
MESSAGE_PREFIX = "MESSAGE#"
DISPUTE_SK = "DISPUTE"
PERFORMANCE_PREFIX = "PERF#"
PERFORMANCE_TOTALS_SK = "PERF#TOTALS"  # sorts after every PERF#<day>: one Query reads a window and it
PERFORMANCE_SETTINGS_KEY = ("MARKETPLACE", "PERFORMANCE_SETTINGS")


def conversation_sk(conversation_id: str) -> str:
    """A participant's copy of a conversation, under the participant's own partition."""
    return f"{CONVERSATION_PREFIX}{conversation_id}"


def conversations_index_key(owner_key: str) -> str:
    """A participant's conversations by latest activity: ``owner_key`` is USER#… or SELLER#…."""
    return f"{owner_key}#CONVERSATIONS"


def messages_key(conversation_id: str) -> str:
    return f"{CONVERSATION_PREFIX}{conversation_id}"


def message_sk(at: str, message_id: str) -> str:
    return f"{MESSAGE_PREFIX}{at}#{message_id}"


def dispute_key(dispute_id: str) -> str:
    return f"DISPUTE#{dispute_id}"


def disputes_index_key(status: str) -> str:
    """All disputes of one status: one key for the marketplace, as disputes are rare (a few a
    day, far below a partition's 1,000 writes/s)."""
    return f"DISPUTES#{status}"


def performance_day_sk(day: str) -> str:
    return f"{PERFORMANCE_PREFIX}{day}"


def performance_rank_key(window: int, measure: str, run: str) -> str:
    """One nightly ranking run's sellers by one measure (``run``: the run's stamp)."""
    return f"PERF_RANK#{window}#{measure}#{run}"


def unanswered_index_key(seller_id: str) -> str:
    """A seller's conversations waiting for its first answer (sparse: gone once answered)."""
    return f"SELLER#{seller_id}#UNANSWERED"


def promo_order_key(order_id: str) -> str:
    """What an order's checkout took from promotions (to give it back, and count paid orders)."""
    return f"PROMO_ORDER#{order_id}"


# --- events and core ----------------------------------------------------------------------

EVENT_PREFIX = "EVENT#"
EVENT_SK = "EVENT"
ONCE_SK = "ONCE"
PACE_SK = "PACE"


def event_key(event_id: str) -> str:
    return f"{EVENT_PREFIX}{event_id}"


def once_key(key: str) -> str:
    return f"ONCE#{key}"


def throttle_window_key(rule: str, subject_hash: str) -> str:
    return f"THROTTLE#{rule}#{subject_hash}"


def throttle_window_sk(start: int) -> str:
    return f"WINDOW#{start}"


def pace_key(rule: str, subject_hash: str) -> str:
    return f"PACE#{rule}#{subject_hash}"


# --- reviews ------------------------------------------------------------------------------
REVIEW_PREFIX = "REVIEW#"
REVIEW_SK = "REVIEW"
REVIEWS_PENDING_KEY = "REVIEWS_PENDING"  # the moderation queue: low volume, operators only
REVIEWS_REPORTED_KEY = "REVIEWS_REPORTED"  # reports for operators to look at: low volume
REVIEW_SETTINGS_KEY = "REVIEWS#SETTINGS"
SETTINGS_SK = "SETTINGS"
HELPFUL_DIGITS = 8


def review_key(review_id: str) -> str:
    return f"{REVIEW_PREFIX}{review_id}"


def product_reviews_key(product_id: str) -> str:
    """A product's published reviews on GSI1 (newest), GSI2 (most helpful) and GSI3 (rating)."""
    return f"PRODUCT_REVIEWS#{product_id}"


def review_marker_sk(product_id: str) -> str:
    """The buyer's one review of a product (``USER#<uid>``): put with ``attribute_not_exists``."""
    return f"{REVIEW_PREFIX}{product_id}"


def seller_reviews_key(seller_id: str) -> str:
    """A seller's published seller reviews (per sub-order) on GSI1-3, as a product's."""
    return f"SELLER_REVIEWS#{seller_id}"


def sub_order_review_marker_sk(order_id: str, seller_id: str) -> str:
    """The buyer's one review of a seller for a sub-order (``USER#<uid>``)."""
    return f"{REVIEW_PREFIX}{order_id}#{seller_id}"


def seller_review_sk(review_id: str) -> str:
    """A review of a seller's product, under the seller's key (``SELLER#<sid>``)."""
    return f"{REVIEW_PREFIX}{review_id}"


def helpful_vote_sk(user_id: str) -> str:
    """One buyer's helpful vote on a review (``REVIEW#<review_id>``): put with ``attribute_not_exists``."""
    return f"HELPFUL#{user_id}"


def review_report_sk(user_id: str) -> str:
    """One user's report of a review (``REVIEW#<review_id>``)."""
    return f"REPORT#{user_id}"


def helpful_sort_key(helpful: int, published_at: str, review_id: str) -> str:
    """Zero-padded, so string order is the number of helpful votes."""
    return f"{helpful:0{HELPFUL_DIGITS}d}#{published_at}#{review_id}"


def rating_sort_key(rating: int, published_at: str, review_id: str) -> str:
    return f"{rating}#{published_at}#{review_id}"


QUESTION_SK = "QUESTION"
QUESTIONS_PENDING_KEY = "QUESTIONS_PENDING"  # the moderation queue of questions: low volume, operators only


def question_key(question_id: str) -> str:
    return f"QUESTION#{question_id}"


def product_questions_key(product_id: str) -> str:
    """A product's published questions on GSI1, newest first."""
    return f"PRODUCT_QUESTIONS#{product_id}"


QUESTION_MARKER_PREFIX = "QUESTION#"
ANSWER_MARKER_PREFIX = "ANSWER#"


def question_marker_sk(question_id: str) -> str:
    """A question the buyer asked (``USER#<uid>``), for the data export and erasure."""
    return f"{QUESTION_MARKER_PREFIX}{question_id}"


def answer_marker_sk(question_id: str, answer_id: str) -> str:
    """An answer the buyer gave (``USER#<uid>``), for the data export and erasure."""
    return f"{ANSWER_MARKER_PREFIX}{question_id}#{answer_id}"


# --- sort keys of the time-ordered indexes ------------------------------------------------

def timed_sort_key(moment: str, *ids: str) -> str:
    """``<moment>#<id>…``: time first, so an index lists in time order; the ids make it
    unique and tell the sweep what it found."""
    return "#".join((moment, *ids))


def until_sort_key(moment: str) -> str:
    """The upper bound of a :func:`timed_sort_key` range that includes ``moment`` itself:
    ``~`` sorts after every id character."""
    return f"{moment}#~"


# --- a buyer's first paid order -----------------------------------------------------------

FIRST_ORDER_SK = "FIRST_ORDER"


def first_order_key(buyer_key: str) -> str:
    """Whether a buyer has paid an order with the marketplace before: ``buyer_key`` is the
    account id or a normalised email, as per-buyer promotion limits count."""
    return f"FIRST_ORDER#{buyer_key}"


# --- analytics ----------------------------------------------------------------------------

# A scope's items (its customers' summaries and the counters they add to) are sharded by the
# customer: every paid order of a seller, or of the whole marketplace, adds to the same day,
# week, month, quarter and year counters in one transaction, and transactions that meet on an
# item cancel each other. At 100 orders/s the marketplace's 16 shards take ~6 transactions/s
# per counter item. A report Queries every shard of its scope.
SELLER_ANALYTICS_SHARDS = 4
MARKETPLACE_ANALYTICS_SHARDS = 16
ANALYTICS_CUSTOMER_PREFIX = "CUSTOMER#"


def _analytics_partition(seller_id: str | None) -> tuple[str, int]:
    if seller_id is None:
        return "ANALYTICS#MARKETPLACE", MARKETPLACE_ANALYTICS_SHARDS
    return f"{seller_key(seller_id)}#ANALYTICS", SELLER_ANALYTICS_SHARDS


def analytics_key(seller_id: str | None, customer_id: str) -> str:
    """The partition of a customer's summary in a scope: a seller's, or (None) the marketplace's."""
    key, shards = _analytics_partition(seller_id)
    return _sharded(key, customer_id, shards)


def analytics_keys(seller_id: str | None) -> list[str]:
    key, shards = _analytics_partition(seller_id)
    return _every_shard(key, shards)


def analytics_customer_sk(customer_id: str, currency: str) -> str:
    return f"{ANALYTICS_CUSTOMER_PREFIX}{customer_id}#{currency}"


def analytics_counter_sk(currency: str, kind: str, period: str) -> str:
    """One period's counters: ``kind`` day, week, month, quarter or year; ``period`` its label
    (``2026-12-07``, ``2026-W49``, ``2026-12``, ``2026-Q4``, ``2026``), which sorts in time order."""
    return f"COUNT#{currency}#{kind}#{period}"


def analytics_cohort_sk(currency: str, cohort: str, month: str) -> str:
    """The customers who first bought in month ``cohort``, in month ``month``."""
    return f"COHORT#{currency}#{cohort}#{month}"


ANALYTICS_BACKFILL_KEY = "ANALYTICS#BACKFILL"  # the backfill's checkpoint: one for the marketplace
BACKFILL_CHECKPOINT_SK = "CHECKPOINT"  # the sort key of every operator backfill's checkpoint item


def refund_prefix(order_id: str) -> str:
    """An order's refunds, every seller's, in the buyer's partition (:func:`refund_sk`)."""
    return refund_sk(order_id, "")

REVIEWS_BACKFILL_KEY = "REVIEWS#BACKFILL"  # the rating/question-marker backfill's checkpoint: one for the marketplace
