"""Seller logic. Other domains ask here whether a seller may sell."""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.core.errors import NotFound
from chalicelib.sellers.models import Seller, seller_key


def get_seller(seller_id: str) -> Seller:
    try:
        return Seller.get(seller_key(seller_id), "PROFILE")
    except Seller.DoesNotExist:
        raise NotFound("No such seller.", code="seller_not_found") from None


def sellers_by_id(seller_ids: Iterable[str]) -> dict[str, Seller]:
    """Several sellers in one BatchGetItem (per 100 ids)."""
    keys = [(seller_key(s), "PROFILE") for s in sorted(set(seller_ids))]
    return {seller.seller_id: seller for seller in Seller.batch_get(keys)} if keys else {}


def selling_seller_ids(seller_ids: Iterable[str]) -> set[str]:
    """Which of these sellers may sell now (approved, not suspended, charges enabled)."""
    return {sid for sid, seller in sellers_by_id(seller_ids).items() if seller.can_sell}
