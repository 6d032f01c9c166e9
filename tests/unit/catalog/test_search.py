"""The word index: what a query term finds, and that the lookup never misses a match."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.catalog import search
from chalicelib.core.categories import CATEGORIES, VAT_CLASSES, leaf_problem, lineage


@pytest.mark.parametrize(("text", "expected"), [
    ("Trail-Running Shoe", ["trail", "running", "shoe"]),
    ("Äpfel & Straße", ["apfel", "strasse"]),
    ("a 4K TV, a tv", ["4k", "tv"]),
    ("x" * 40, ["x" * 32]),
])
def test_words_are_lowercase_unaccented_distinct_and_bounded(text: str, expected: list[str]) -> None:
    assert search.words(text) == expected


def test_brand_words_come_first_and_only_eight_words_are_searchable() -> None:
    assert search.product_words("one two three four five six seven eight nine", "Big Brand") == [
        "big", "brand", "one", "two", "three", "four", "five", "six"]


def test_index_keys_are_three_letter_prefixes_and_short_words_whole() -> None:
    assert search.index_keys(["running", "rune", "tv"]) == ["run", "tv"]


@given(word=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=2, max_size=32),
       cut=st.integers(min_value=2, max_value=32), other=st.lists(st.text("abcxyz", min_size=2, max_size=8)))
def test_any_term_that_starts_a_word_is_found_under_a_key_of_that_word(word: str, cut: int,
                                                                       other: list[str]) -> None:
    term = word[:cut]
    if len(term) < 3:
        term = word  # a two-letter term finds two-letter words only
    searchable = [*other, word]
    assert search.lookup_key([term]) in search.index_keys(searchable)
    assert search.matches([term], searchable)


@pytest.mark.parametrize(("terms", "found"), [(["run"], True), (["running", "shoe"], True), (["unning"], False),
                                              (["ru"], False), (["tv"], True), (["shoe", "red"], False)])
def test_every_term_must_start_a_word(terms: list[str], found: bool) -> None:
    assert search.matches(terms, ["running", "shoe", "tv"]) is found


def test_the_longest_term_chooses_the_index_partition() -> None:
    assert search.lookup_key(["red", "sneakers", "tv"]) == "sne"


def test_every_category_has_a_known_vat_class_and_leaves_hold_products() -> None:
    assert {c.vat_class for c in CATEGORIES.values()} <= set(VAT_CLASSES)
    assert lineage("fashion/shoes") == ["fashion", "fashion/shoes"]
    assert leaf_problem("fashion/shoes") is None
    assert "department" in (leaf_problem("fashion") or "")
    assert CATEGORIES["food/wine-spirits"].vat_class == "standard"
    assert CATEGORIES["books/fiction"].vat_class == "books"
