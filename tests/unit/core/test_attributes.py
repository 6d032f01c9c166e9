"""JSON attributes are stored compact (DynamoDB bills per KB) and read back whatever their form."""

from __future__ import annotations

from chalicelib.core.attributes import CompactJSONAttribute

ADDRESS = {"name": "Anna Müller", "line1": "Hauptstraße 5", "city": "Köln"}


def test_json_is_stored_without_spaces_and_escapes() -> None:
    stored = CompactJSONAttribute().serialize(ADDRESS)

    assert stored == '{"name":"Anna Müller","line1":"Hauptstraße 5","city":"Köln"}'
    assert CompactJSONAttribute().deserialize(stored) == ADDRESS


def test_json_stored_before_in_the_spaced_form_reads_the_same() -> None:
    assert CompactJSONAttribute().deserialize('{"name": "Anna M\\u00fcller", "line1": "Hauptstra\\u00dfe 5", '
                                              '"city": "K\\u00f6ln"}') == ADDRESS


def test_a_lone_surrogate_is_stored_escaped_so_it_can_still_be_sent() -> None:
    stored = CompactJSONAttribute().serialize({"title": "broken \ud800"})

    assert stored is not None
    assert stored.encode() == b'{"title":"broken \\ud800"}'
    assert CompactJSONAttribute().deserialize(stored) == {"title": "broken \ud800"}
