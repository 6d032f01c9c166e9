"""A seller's standing, as the authoriser asks for it on every seller route.

A leaf module (only the seller model): core's authoriser asks it through
``SellerHooks.standing_of``, so that reading a seller's status does not pull in the rest of
the sellers domain.
"""

from __future__ import annotations

from chalicelib.core.keys import PROFILE_SK, seller_key
from chalicelib.sellers.models import Seller


def standing_of(seller_id: str) -> str | None:
    """The seller's status (pending, approved, suspended, rejected); None when there is no
    such seller. One GetItem, strongly consistent, so a suspension applies at once."""
    try:
        return Seller.get(seller_key(seller_id), PROFILE_SK, consistent_read=True,
                          attributes_to_get=["status"]).status
    except Seller.DoesNotExist:
        return None
