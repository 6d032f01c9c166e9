"""Email addresses as agora compares them."""

from __future__ import annotations

from chalicelib.core.errors import Code, ValidationFailed


def normalise_email(raw: str) -> str:
    """Trimmed, lower-cased and syntax-checked (no DNS lookups: sign-up must not depend on
    the network). Lower-casing the local part is a deliberate simplification: no real
    mailbox provider treats ``Anna@`` and ``anna@`` as different people."""
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationFailed("The email address is not valid.", code=Code.INVALID_EMAIL,
                               details=[{"field": "body.email", "message": str(error), "type": "email"}]) from None
    return valid.normalized.lower()
