"""The buyer's wishlist: products of any seller, listed with their current price and stock.

Only product ids (and the seller id that the catalog's product key needs) are stored; the
listing reads the products themselves, so it always shows today's price and stock.

The catalog's, though the items live in the buyer's partition (accounts' models): a wish is
a product, and accounts sit below the catalog. It is in the buyer's data export through
:mod:`chalicelib.accounts.personal_data`; erasure deletes the items with the account's.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.accounts.models import User, WishlistItem
from chalicelib.accounts.service import delete_counted, get_active_user, save_counted
from chalicelib.catalog.models import Product
from chalicelib.catalog.service import find_product, product_not_found
from chalicelib.core import clock
from chalicelib.core.errors import Code, Conflict, NotFound
from chalicelib.core.keys import WISH_PREFIX, product_sk, seller_key, user_key, wish_sk, wishlisted_key

MAX_WISHES = 100


@dataclass(frozen=True)
class Wish:
    item: WishlistItem
    product: Product | None  # None when it no longer exists


def _key(user_id: str, product_id: str) -> tuple[str, str]:
    return user_key(user_id), wish_sk(product_id)


def add(user_id: str, product_id: str) -> Wish:
    """Put a listed product on the wishlist; putting it there again changes nothing.

    Round trips: GetItem(product pointer), GetItem(product), TransactWriteItems(wish,
    user count) (+ GetItem(wish) and GetItem(user) only to explain a refusal)."""
    product = find_product(product_id)
    if not product.is_listed:
        raise product_not_found()
    pk, sk = _key(user_id, product_id)
    item = WishlistItem(PK=pk, SK=sk, user_id=user_id, product_id=product_id, seller_id=product.seller_id,
                        added_at=clock.stamp(), price_when_added=int(product.price),
                        currency_when_added=product.currency, GSI2PK=wishlisted_key(product_id), GSI2SK=pk)
    if not save_counted(item, User.wishlist_count, MAX_WISHES):
        try:
            return Wish(item=WishlistItem.get(pk, sk), product=product)  # wished already: nothing changes
        except WishlistItem.DoesNotExist:
            get_active_user(user_id)
            raise Conflict(f"The wishlist is full ({MAX_WISHES} products); remove one first.",
                           code=Code.WISHLIST_FULL) from None
    return Wish(item=item, product=product)


def remove(user_id: str, product_id: str) -> None:
    """Round trips: TransactWriteItems(wish, user count)."""
    pk, sk = _key(user_id, product_id)
    if not delete_counted(WishlistItem(PK=pk, SK=sk), User.wishlist_count):
        raise NotFound("This product is not on your wishlist.", code=Code.WISH_NOT_FOUND)


def wishes(user_id: str) -> list[WishlistItem]:
    """Oldest first (one Query; the wishlist is bounded)."""
    return list(WishlistItem.query(user_key(user_id), WishlistItem.SK.startswith(WISH_PREFIX)))


def list_wishes(user_id: str) -> list[Wish]:
    """Newest first, each with its product as it is now.

    Round trips: GetItem(user), Query(wishes), BatchGetItem(products, per 100)."""
    get_active_user(user_id)
    items = sorted(wishes(user_id), key=lambda w: w.added_at, reverse=True)
    keys = [(seller_key(w.seller_id), product_sk(w.product_id)) for w in items]
    products = {p.product_id: p for p in Product.batch_get(keys)}  # PynamoDB pages by 100
    return [Wish(item=w, product=products.get(w.product_id)) for w in items]
