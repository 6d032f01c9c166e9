"""Word-prefix search over product titles and brands, on DynamoDB keys.

What it supports, honestly:
- a product matches ``q`` when every term of ``q`` (words of 2+ letters, case- and
  accent-insensitive: ``Schüh`` finds ``schuhe``) is the start of a word of its brand or
  title; a two-letter term finds only that two-letter word (``tv``, ``4k``); terms are
  ANDed; there is no ranking, no typo tolerance, no stemming, no phrase or description
  search; results come in the listing's sort order;
- only the first ``MAX_INDEXED_WORDS`` distinct words (brand first, then title) are
  searchable.

How: each listed product gets one small index entry per distinct *key*, the first three
letters of each of its words (a two-letter word is its own key). A term is looked up under
its own key (``sneakers`` -> ``sne``), which every word starting with the term has; the
entry's stored words then confirm the full term and the other terms. The lookup uses the
longest term. So at most ``MAX_INDEXED_WORDS`` = 8 entries per product, typically 3-6.
Three-letter keys are coarse (``sho`` holds shoes, shorts and shower gel): the bounded
read loop of ``chalicelib.catalog.browse`` filters them, which on a large catalogue means
short pages; that is the point where search moves to OpenSearch (see the README).
"""

from __future__ import annotations

import re
import unicodedata

KEY_LENGTH = 3
MAX_INDEXED_WORDS = 8
MAX_WORD_LENGTH = 32
MAX_QUERY_TERMS = 5
MIN_TERM_LENGTH = 2

_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """Lowercase without accents (``Äpfel`` -> ``apfel``, ``Straße`` -> ``strasse``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str | None) -> list[str]:
    """Distinct normalised words of 2+ letters, in order, each cut to MAX_WORD_LENGTH."""
    found: list[str] = []
    for word in _WORD.findall(normalise(text or "")):
        word = word[:MAX_WORD_LENGTH]
        if len(word) >= MIN_TERM_LENGTH and word not in found:
            found.append(word)
    return found


def product_words(title: str, brand: str | None) -> list[str]:
    """The searchable words of a product: brand first, then title, bounded."""
    combined: list[str] = []
    for word in words(brand) + words(title):
        if word not in combined:
            combined.append(word)
    return combined[:MAX_INDEXED_WORDS]


def key_of(word: str) -> str:
    return word[:KEY_LENGTH]


def index_keys(searchable: list[str]) -> list[str]:
    """The keys a product is filed under, sorted and distinct."""
    return sorted({key_of(word) for word in searchable})


def query_terms(q: str) -> list[str]:
    """The terms of a search text; empty when it holds no term of 2+ letters."""
    return words(q)[:MAX_QUERY_TERMS]


def lookup_key(terms: list[str]) -> str:
    """The index key to read for a query: that of its longest term."""
    return key_of(max(terms, key=len))


def _finds(term: str, word: str) -> bool:
    return word.startswith(term) if len(term) >= KEY_LENGTH else word == term


def matches(terms: list[str], searchable: list[str]) -> bool:
    return all(any(_finds(term, word) for word in searchable) for term in terms)


def brand_key(brand: str | None) -> str | None:
    """A brand as compared in filters: ``NIKE``, ``Nike `` and ``nike`` are one brand."""
    normalised = " ".join(_WORD.findall(normalise(brand or "")))
    return normalised or None
