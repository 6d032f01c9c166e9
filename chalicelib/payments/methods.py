"""The payment methods agora offers through Stripe, by Stripe's type names. Pure, so request
schemas load it without the SDK."""

from __future__ import annotations

# What an operator may enable for the marketplace (``MarketplaceSettings.payment_methods``).
PAYMENT_METHOD_TYPES = ("card", "sepa_debit", "paypal", "klarna")
DEFAULT_PAYMENT_METHOD_TYPES = ("card",)
# What a buyer can keep for later: PayPal and Klarna are approved by the buyer at each payment.
SAVABLE_PAYMENT_METHOD_TYPES = ("card", "sepa_debit")


def enabled_payment_methods(chosen: list[str] | None) -> tuple[str, ...]:
    """The operator's choice (None before any: cards only), in the order of ``PAYMENT_METHOD_TYPES``."""
    return tuple(kind for kind in PAYMENT_METHOD_TYPES if kind in (chosen or DEFAULT_PAYMENT_METHOD_TYPES))
