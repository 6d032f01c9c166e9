"""Checks and normal forms of what buyers type into their account: phone numbers, birthdays,
VAT ids, countries and postal codes.

Pure Python without lookups: format checks only (a VAT id's existence is VIES's business,
checked when an order needs it). Each function returns the normal form or raises
``ValueError`` with a message meant for the buyer.
"""

from __future__ import annotations

import re
from datetime import date

from chalicelib.core import clock

# ISO 3166-1 alpha-2, officially assigned codes.
COUNTRIES = frozenset({
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD",
    "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA",
    "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE",
    "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA",
    "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK",
    "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT",
    "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS",
    "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST",
    "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA",
    "ZM", "ZW",
})

# Postal code formats of the countries agora ships to most; others get a generic check.
_POSTAL_CODES = {
    "DE": (re.compile(r"\d{5}"), "5 digits, e.g. 10115"),
    "AT": (re.compile(r"\d{4}"), "4 digits, e.g. 1010"),
    "CH": (re.compile(r"\d{4}"), "4 digits, e.g. 8001"),
    "LI": (re.compile(r"\d{4}"), "4 digits, e.g. 9490"),
    "NL": (re.compile(r"\d{4} ?[A-Z]{2}"), "4 digits and 2 letters, e.g. 1012 AB"),
    "FR": (re.compile(r"\d{5}"), "5 digits, e.g. 75001"),
    "IT": (re.compile(r"\d{5}"), "5 digits, e.g. 00184"),
    "PL": (re.compile(r"\d{2}-\d{3}"), "2 digits, a dash and 3 digits, e.g. 00-950"),
}
_GENERIC_POSTAL_CODE = re.compile(r"[A-Z0-9][A-Z0-9 -]{1,9}")

# EU VAT identification numbers (prefix + national format); XI is Northern Ireland.
_VAT_FORMATS = {
    "AT": r"ATU\d{8}", "BE": r"BE[01]\d{9}", "BG": r"BG\d{9,10}", "CY": r"CY\d{8}[A-Z]",
    "CZ": r"CZ\d{8,10}", "DE": r"DE\d{9}", "DK": r"DK\d{8}", "EE": r"EE\d{9}", "EL": r"EL\d{9}",
    "ES": r"ES[A-Z0-9]\d{7}[A-Z0-9]", "FI": r"FI\d{8}", "FR": r"FR[A-HJ-NP-Z0-9]{2}\d{9}", "HR": r"HR\d{11}",
    "HU": r"HU\d{8}", "IE": r"IE(\d{7}[A-WY][A-IW]?|\d[A-Z+*]\d{5}[A-WY])", "IT": r"IT\d{11}",
    "LT": r"LT(\d{9}|\d{12})", "LU": r"LU\d{8}", "LV": r"LV\d{11}", "MT": r"MT\d{8}", "NL": r"NL\d{9}B\d{2}",
    "PL": r"PL\d{10}", "PT": r"PT\d{9}", "RO": r"RO\d{2,10}", "SE": r"SE\d{10}01", "SI": r"SI\d{8}",
    "SK": r"SK\d{10}", "XI": r"XI(\d{9}|\d{12}|GD\d{3}|HA\d{3})",
}
_VAT_EXAMPLES = {"DE": "DE123456789", "AT": "ATU12345678"}
_VAT_SEPARATORS = re.compile(r"[\s.\-/]")

_PHONE_SEPARATORS = re.compile(r"[\s\-./()]")
_E164 = re.compile(r"\+[1-9]\d{6,14}")

OLDEST_BIRTH_YEAR = 1900


def normalise_phone(raw: str) -> str:
    """E.164 (``+4915112345678``): separators dropped, a leading ``00`` read as ``+``. Numbers
    without a country code are refused: we cannot guess which country they belong to."""
    compact = _PHONE_SEPARATORS.sub("", raw.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not _E164.fullmatch(compact):
        raise ValueError("Give the phone number with its country code, e.g. +49 151 12345678.")
    return compact


def check_birthday(day: int, month: int, year: int | None, *, today: date | None = None) -> None:
    """A real calendar date; without a year 29 February is allowed (it exists in leap years)."""
    today = today or clock.today()
    try:
        born = date(year if year is not None else 2000, month, day)
    except ValueError:
        raise ValueError(f"{day:02d}.{month:02d}. is not a date{f' in {year}' if year else ''}.") from None
    if year is not None and not (year >= OLDEST_BIRTH_YEAR and born <= today):
        raise ValueError(f"The birth year must be between {OLDEST_BIRTH_YEAR} and today.")


def normalise_vat_id(raw: str) -> str:
    """Upper case without separators, Greece's ISO prefix GR read as its VAT prefix EL;
    refused unless it has its EU member state's format."""
    compact = _VAT_SEPARATORS.sub("", raw).upper()
    if compact.startswith("GR"):
        compact = "EL" + compact[2:]
    prefix = compact[:2]
    pattern = _VAT_FORMATS.get(prefix)
    if pattern is None:
        raise ValueError("A VAT id starts with the EU member state's code, e.g. DE123456789.")
    if not re.fullmatch(pattern, compact):
        example = _VAT_EXAMPLES.get(prefix)
        hint = f" (e.g. {example})" if example else ""
        raise ValueError(f"This is not the format of VAT ids from {prefix}{hint}.")
    return compact


def normalise_country(raw: str) -> str:
    code = raw.strip().upper()
    if code not in COUNTRIES:
        raise ValueError("Use the two-letter ISO country code, e.g. DE, AT or CH.")
    return code


def normalise_postal_code(raw: str, country: str) -> str:
    code = " ".join(raw.upper().split())
    pattern, description = _POSTAL_CODES.get(country, (_GENERIC_POSTAL_CODE, "2 to 10 letters or digits"))
    if not pattern.fullmatch(code):
        raise ValueError(f"A postal code in {country} has {description}.")
    return code
