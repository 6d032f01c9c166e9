"""Unpadded base64url, the text form of agora's signed tokens (page cursors, links in mails):
safe in URLs and query strings without escaping."""

from __future__ import annotations

import base64


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Raises ``ValueError`` (``binascii.Error``) on text that is not base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
