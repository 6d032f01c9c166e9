"""Attribute types of the table's items."""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import JSONAttribute

_COMPACT = (",", ":")


class CompactJSONAttribute(JSONAttribute):
    """JSON without json.dumps' spaces after separators and with UTF-8 instead of ``\\u``
    escapes: DynamoDB bills writes per started KB of the whole item (and again per index
    entry), and a sub-order's lines, history and address are most of its bytes. Reads both
    forms. Not for an attribute that a condition compares (``attribute == value`` compares
    the stored text: items written before would never match again)."""

    def serialize(self, value: Any) -> str | None:
        if value is None:
            return None
        text = json.dumps(value, separators=_COMPACT, ensure_ascii=False)
        try:
            text.encode()
        except UnicodeEncodeError:  # a lone surrogate from a request body: escaped, as json does by default
            return json.dumps(value, separators=_COMPACT)
        return text
