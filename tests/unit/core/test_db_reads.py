"""The shared reads of :mod:`chalicelib.core.db`: one GetItem that says "absent" the same way
for every model, one newest-first page of a partition or of an index, and every shard of a
sharded key read in order."""

from __future__ import annotations

import pytest
from pynamodb.attributes import UnicodeAttribute

from chalicelib.core.db import GSI1, TableModel, find_item, get_item, newest_first, query_shards
from chalicelib.core.errors import Code, NotFound


class Note(TableModel):
    """A throwaway item kind: these reads serve every model alike."""

    text = UnicodeAttribute()
    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    by_topic = GSI1()


def _notes() -> None:
    for number, topic in ((1, "red"), (2, "blue"), (3, "red")):
        Note("BOOK#b_1", f"NOTE#{number}", text=f"note {number}", GSI1PK=f"TOPIC#{topic}", GSI1SK=f"{number}").save()
    Note("BOOK#b_1", "COVER", text="not a note").save()


def test_find_item_is_none_for_an_absent_item_and_the_item_otherwise(aws: dict[str, str]) -> None:
    _notes()

    assert find_item(Note, "BOOK#b_1", "NOTE#9") is None
    found = find_item(Note, "BOOK#b_1", "NOTE#2", consistent_read=True)
    assert found is not None and found.text == "note 2"


def test_get_item_raises_the_domains_error_for_an_absent_item(aws: dict[str, str]) -> None:
    _notes()

    with pytest.raises(NotFound) as raised:
        get_item(Note, "BOOK#b_2", "NOTE#1", NotFound("No such note.", code=Code.NOT_FOUND))

    assert (raised.value.message, raised.value.code) == ("No such note.", Code.NOT_FOUND)
    assert get_item(Note, "BOOK#b_1", "NOTE#1", NotFound("No such note.")).text == "note 1"


def test_newest_first_pages_a_partition_under_its_prefix_then_follows_the_cursor(aws: dict[str, str]) -> None:
    _notes()

    first = newest_first(Note, "BOOK#b_1", "NOTE#", by=None, scope="b_1/notes", cursor=None, limit=2)
    rest = newest_first(Note, "BOOK#b_1", "NOTE#", by=None, scope="b_1/notes", cursor=first.next_cursor, limit=2)

    assert [n.text for n in first.items] == ["note 3", "note 2"]
    assert [n.text for n in rest.items] == ["note 1"]
    assert rest.next_cursor is None


def test_newest_first_reads_the_index_when_given_one(aws: dict[str, str]) -> None:
    _notes()

    page = newest_first(Note, "BOOK#b_1", "NOTE#", by=(Note.by_topic, "TOPIC#red"), scope="b_1/notes/red",
                        cursor=None, limit=10)

    assert [n.text for n in page.items] == ["note 3", "note 1"]


def test_query_shards_reads_every_shard_and_merges_them_in_order(aws: dict[str, str]) -> None:
    for number, shard in ((1, 2), (2, 0), (3, 1), (4, 2), (5, 0), (6, 1)):
        Note("BOOK#b_1", f"NOTE#{number}", text=f"note {number}", GSI1PK=f"DUE#{shard}", GSI1SK=f"{number:02d}").save()
    Note("BOOK#b_1", "NOTE#7", text="another key", GSI1PK="DUE", GSI1SK="00").save()

    found = query_shards(lambda partition: Note.by_topic.query(partition, Note.GSI1SK <= "05"),
                         ["DUE#0", "DUE#1", "DUE#2"], order_by=lambda note: note.GSI1SK)

    assert [note.text for note in found] == ["note 1", "note 2", "note 3", "note 4", "note 5"]
