"""Amounts as the reader of a mail writes them: ``1.234,50 €`` in German, ``€1,234.50`` in
English. Only mails show formatted money (the API gives minor units), so the rule lives here,
one function for every template (the ``money`` filter of :mod:`chalicelib.retention.mailer`).

Symbols for the currencies readers know by symbol, the ISO code for the rest (``1.234,50 CHF``,
``CHF 1,234.50``): the placement German and English readers expect (CLDR's de and en)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.core.money import CURRENCY_EXPONENTS, normalise_currency

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
# (thousands separator, decimal separator) per mail language
SEPARATORS = {"de": (".", ","), "en": (",", ".")}


def format_money(amount: int, currency: str, language: str) -> str:
    """``amount`` minor units of ``currency`` for a reader of ``language`` (de or en; any
    other reads English)."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError("an amount is an int of minor units")
    code = normalise_currency(currency)
    exponent = CURRENCY_EXPONENTS[code]
    thousands, decimal = SEPARATORS.get(language, SEPARATORS["en"])
    whole, minor = divmod(abs(amount), 10 ** exponent)
    number = f"{whole:,}".replace(",", thousands)
    if exponent:
        number += f"{decimal}{minor:0{exponent}d}"
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(code)
    if language == "de":
        return f"{sign}{number} {symbol or code}"
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{code} {number}"


def money_of(value: Mapping[str, Any], language: str) -> str:
    """A mail context's amount (``Money.to_json``'s shape: what survives the mail queue's JSON)."""
    return format_money(value["amount"], str(value["currency"]), language)
