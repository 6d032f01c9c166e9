"""Reading a customer file as a stream: bounded memory, any piece boundaries, the same rows."""

from __future__ import annotations

import codecs
import gzip
import tracemalloc
from collections.abc import Iterator

import pytest

from chalicelib.accounts.emails import normalise_email
from chalicelib.core.errors import AgoraError, ValidationFailed
from chalicelib.customers import reading
from chalicelib.customers.reading import Report, Row, email_of, read_rows

LIMIT = 64 * 1024 * 1024


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def _read(data: bytes, *, size: int = 64 * 1024, resume_after: int = 0) -> tuple[list[Row], Report]:
    report = Report()
    rows = list(read_rows(_pieces(data, size), report, max_bytes=LIMIT, resume_after=resume_after))
    return rows, report


def _problem(data: bytes, size: int = 64 * 1024) -> tuple[str, str]:
    with pytest.raises(AgoraError) as raised:
        _read(data, size=size)
    return raised.value.code, raised.value.message


def test_a_190k_row_gzip_is_checked_in_bounded_memory() -> None:
    # given a 1.4 MB gzip that expands to 190,000 rows (~7 MB), each with a password
    rows = 190_000
    text = "Name,E-Mail,Passwort\n" + "".join(f"Kunde {n},kunde{n}@example.com,geheim-{n}\n" for n in range(rows))
    data = gzip.compress(text.encode(), compresslevel=6)
    del text

    # when it is read in 64 KB pieces as an S3 body arrives
    tracemalloc.start()
    try:
        report = Report()
        valid = sum(1 for _ in read_rows(_pieces(data, 64 * 1024), report, max_bytes=LIMIT))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # then every row is checked, and memory stays far below the file (it holds the emails seen)
    assert (valid, report.total, report.refused, report.password_rows) == (rows, rows, 0, rows)
    assert peak < 60 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_pieces_of_one_byte_give_the_same_rows_as_one_piece() -> None:
    data = codecs.BOM_UTF8 + 'Name,E-Mail\r\n"Groß, Jürgen",juergen@example.com\r\nZoë,zoe@example.com\r\n'.encode()

    assert _read(data, size=1)[0] == _read(data)[0] == [Row(2, "Groß, Jürgen", "juergen@example.com"),
                                                        Row(3, "Zoë", "zoe@example.com")]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_any_line_ending_is_read(newline: str) -> None:
    data = newline.join(["Name,E-Mail", "Anna,anna@example.com", '"Ben', 'Kurz",ben@example.com', ""]).encode()

    rows, _ = _read(data, size=3)

    assert rows == [Row(2, "Anna", "anna@example.com"), Row(3, f"Ben{newline}Kurz", "ben@example.com")]


def test_several_gzip_members_are_one_file() -> None:
    data = gzip.compress(b"Name,E-Mail\nAnna,anna@example.com\n") + gzip.compress(b"Ben,ben@example.com\n")

    rows, _ = _read(data, size=7)

    assert [r.email for r in rows] == ["anna@example.com", "ben@example.com"]


@pytest.mark.parametrize(("data", "code"), [
    (gzip.compress(b"Name,E-Mail\n" + b"Anna,anna@example.com\n" * 1000, mtime=0)[:-30], "bad_gzip"),  # cut off
    (b"\x1f\x8bnot gzip at all", "bad_gzip"),
    (b"Name,E-Mail\n" + b"x" * (reading.MAX_LINE_CHARS + 10), "line_too_long"),
    (b"Name,E-Mail\nAnna,anna@example.com\nJ\xc3", "not_utf8"),  # ends inside a character
], ids=["cut_off_gzip", "not_gzip", "line_too_long", "cut_utf8"])
def test_a_broken_file_is_refused(data: bytes, code: str) -> None:
    assert _problem(data, size=1000)[0] == code


def test_the_decompressed_size_is_limited_while_inflating() -> None:
    bomb = gzip.compress(b"Name,E-Mail\n" + b"Anna,anna@example.com\n" * 200_000)  # 4.4 MB from ~13 KB
    report = Report()

    with pytest.raises(AgoraError) as raised:
        list(read_rows([bomb], report, max_bytes=1024 * 1024))

    assert (raised.value.status, raised.value.code) == (413, "file_too_large")
    assert report.total < 50_000  # stopped once 1 MB was inflated, not after inflating it all


def test_more_rows_than_allowed_stop_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_ROWS", 3)

    code, message = _problem(b"Name,E-Mail\n" + b"".join(b"K,k%d@example.com\n" % n for n in range(4)))

    assert (code, message) == ("too_many_rows", "The file has more than 3 rows; split it.")


def test_resuming_skips_the_rows_read_before_but_remembers_their_emails() -> None:
    data = b"Name,E-Mail\nAnna,anna@example.com\n,nameless@example.com\nBen,ben@example.com\nAnna2,ANNA@example.com\n"

    rows, report = _read(data, resume_after=3)

    assert rows == [Row(4, "Ben", "ben@example.com")]
    assert (report.total, report.refused, [(e.line, e.code) for e in report.errors]) == (
        4, 1, [(5, "duplicate_email")])


@pytest.mark.parametrize("raw", [
    "anna@example.com", " Anna.Berg+shop@Example.COM ", "o'brien@sub.example.co.uk", "a@b-c.example.org",
    "müller@example.com", "anna@bücher.example", "a..b@example.com", ".a@example.com", "a@example", "a@localhost",
    "a@example.com.", "a@-example.com", "a@example.invalid", "x" * 65 + "@example.com", '"quoted"@example.com',
    "a@[192.0.2.1]", "a@192.0.2.1", "a@@example.com", "", "a@" + "b" * 250 + ".com",
])
def test_the_fast_email_check_agrees_with_the_full_one(raw: str) -> None:
    try:
        expected: str | None = normalise_email(raw)
    except ValidationFailed:
        expected = None
    try:
        got: str | None = email_of(raw)
    except ValidationFailed:
        got = None

    assert got == expected
