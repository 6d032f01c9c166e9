"""CSV export of a seller's customers.

Only the seller's own customer records are read (Query on ``PK=SELLER#<sid>``), so a
person appears only for sellers they ordered from or that imported them. ``customer_id``
is the buyer's user id for a linked customer and the contact's ``ctc_…`` id for an
imported contact not linked yet. Lambda cannot
stream a response and caps it at 6 MB, so a response holds at most EXPORT_ROWS
customers; when there are more, the ``X-Next-Cursor`` header carries the cursor of the
next part (each part repeats the header row).

``newsletter_consent`` is a linked buyer's marketplace newsletter consent as the accounts
domain records it (``Consent`` PK=USER#<uid>, SK=CONSENT#newsletter, read with
BatchGetItem, 100 customers a call): ``granted``, ``pending`` (not yet confirmed by the
double opt-in mail), ``withdrawn`` or ``none``. Only ``granted`` allows marketing mail.
An unlinked contact is always ``none``: nothing ties it to an account, so no account's
consent is read for it (that would tell the seller about an account it has no relation to).

Cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR)
are prefixed with ``'`` (OWASP's advice against CSV injection): buyers choose their own
names.
"""

from __future__ import annotations

import csv
import io

from chalicelib.accounts.models import Consent
from chalicelib.core.keys import CUSTOMER_PREFIX, GROUP_PREFIX, consent_sk, seller_key, user_key
from chalicelib.core.money import CURRENCY_EXPONENTS
from chalicelib.core.pagination import decode_cursor, encode_cursor
from chalicelib.customers import service
from chalicelib.customers.models import Customer, CustomerGroup

EXPORT_ROWS = 20_000  # ~2.5 MB of CSV, well under Lambda's 6 MB response limit
COLUMNS = ("customer_id", "name", "email", "group", "tax_exempt", "tax_exempt_reason", "vat_id", "order_count",
           "total_spent", "first_order_at", "last_order_at", "newsletter_consent", "source", "created_at")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str | None) -> str:
    text = text or ""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def format_amount(amount: int, currency: str) -> str:
    """Minor units as a decimal amount with its currency ("1234", "EUR" -> "12.34 EUR"), no floats."""
    exponent = CURRENCY_EXPONENTS[currency]
    sign, units = ("-" if amount < 0 else ""), abs(amount)
    if exponent == 0:
        return f"{sign}{units} {currency}"
    whole, fraction = divmod(units, 10 ** exponent)
    return f"{sign}{whole}.{fraction:0{exponent}d} {currency}"


def newsletter_consents(user_ids: list[str]) -> dict[str, str]:
    """User id -> status of the newsletter consent, for those who have a consent record."""
    keys = [(user_key(u), consent_sk("newsletter")) for u in user_ids]
    return {c.user_id: c.status for c in Consent.batch_get(keys)} if keys else {}


def _row(customer: Customer, group_names: dict[str, str], consents: dict[str, str]) -> list[str]:
    consent = consents.get(customer.user_id, "none") if customer.user_id else "none"
    return [
        customer.customer_id, _safe(customer.name), _safe(customer.email),
        _safe(group_names.get(customer.group_id or "", "")), "true" if customer.tax_exempt else "false",
        _safe(customer.tax_exempt_reason), customer.vat_id or "", str(int(customer.order_count)),
        "; ".join(format_amount(amount, currency) for currency, amount in sorted(customer.spent().items())),
        customer.first_order_at or "", customer.last_order_at or "", consent,
        customer.source, customer.created_at,
    ]


def export_customers(seller_id: str, *, cursor: str | None = None) -> tuple[str, str | None]:
    """(CSV text, cursor of the next part or None)."""
    scope = f"{seller_key(seller_id)}/customers/export"
    customers, next_key = service.query_page(Customer.query, seller_key(seller_id),
                                             Customer.SK.startswith(CUSTOMER_PREFIX),
                                             limit=EXPORT_ROWS, start=decode_cursor(cursor, scope=scope))
    group_names = {g.group_id: g.name for g in CustomerGroup.query(seller_key(seller_id),
                                                                   CustomerGroup.SK.startswith(GROUP_PREFIX))}
    consents = newsletter_consents([c.user_id for c in customers if c.user_id])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_row(c, group_names, consents) for c in customers)
    return out.getvalue(), encode_cursor(next_key, scope=scope)
