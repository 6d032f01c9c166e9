"""`agora customers import FILE --seller …`, talking to the app through Chalice's test client."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.customers import imports
from chalicelib.customers.reading import PASSWORD_IGNORED
from cli import customers as cli
from cli.main import build_parser
from tests.support.auth import seller_headers
from tests.support.customers import SELLER_A, customers_by_email, deliver_chunks, receive_chunks
from tests.support.http import call

API = "http://agora.test"


def _through(api: Any) -> cli.Http:
    """The CLI's HTTP calls, answered by the app in-process."""
    sent: list[tuple[str, str]] = []

    def http(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, Any]:
        sent.append((method, headers.get("Content-Type", "")))
        if not url.startswith(API):  # the presigned S3 URL: moto answers
            response = requests.request(method, url, data=body, headers=headers, timeout=10)
            return response.status_code, None
        status, parsed, _ = call(api, method, url[len(API):], raw=body or b"", headers=headers)
        return status, parsed

    http.sent = sent  # type: ignore[attr-defined]
    return http


def _run(api: Any, file: Path, *, seller: str = SELLER_A, token: str | None = None,
         sleep: Any = lambda _: None) -> tuple[int, str, str]:
    token = token or seller_headers(SELLER_A)["Authorization"].split(" ", 1)[1]
    args = build_parser().parse_args(["customers", "import", str(file), "--seller", seller, "--api", API,
                                      "--token", token, "--poll-seconds", "0"])
    out, err = io.StringIO(), io.StringIO()
    code = args.run(args, http=_through(api), out=out, err=err, sleep=sleep)
    return code, out.getvalue(), err.getvalue()


def test_a_small_file_is_imported_and_its_refused_rows_listed(api: Any, tmp_path: Path) -> None:
    file = tmp_path / "kunden.csv"
    file.write_text("Name,E-Mail,Passwort\nAnna,anna@example.com,\nBen,kaputt,\n", encoding="utf-8")

    code, out, err = _run(api, file)

    assert code == cli.ROWS_REFUSED_EXIT
    assert out.splitlines() == [
        f"Import {out.split()[1]} for seller {SELLER_A}: 1 of 2 rows imported; already your customers: 0; "
        "refused: 1.",
        f"  column Passwort ignored (0 rows had a value): {PASSWORD_IGNORED}",
        "  line 3: invalid_email: 'kaputt' is not a valid email address: An email address must have an @-sign."]
    assert err.endswith("[##############################] 100% 2/2 rows, 1 refused\n")


def test_a_large_file_shows_progress_until_done(api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "SYNC_MAX_ROWS", 10)
    monkeypatch.setattr(imports, "CHUNK_ROWS", 10)
    file = tmp_path / "kunden.csv"
    file.write_text("Name,Email\n" + "".join(f"K {n},k{n}@example.com\n" for n in range(40)), encoding="utf-8")

    code, out, err = _run(api, file, sleep=lambda _: deliver_chunks(receive_chunks()))  # one chunk per poll

    assert code == 0
    assert err.split("\r")[1:] == [
        "[" + "." * 30 + "]   0% 0/40 rows, 0 refused",
        "[" + "#" * 7 + "." * 23 + "]  25% 10/40 rows, 0 refused",
        "[" + "#" * 15 + "." * 15 + "]  50% 20/40 rows, 0 refused",
        "[" + "#" * 22 + "." * 8 + "]  75% 30/40 rows, 0 refused",
        "[" + "#" * 30 + "] 100% 40/40 rows, 0 refused\n",
    ]
    assert "40 of 40 rows imported" in out


def test_a_file_over_the_request_limit_goes_through_an_upload(api: Any, seller: Any, tmp_path: Path,
                                                             imports_bucket: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "SYNC_MAX_BYTES", 100)
    monkeypatch.setattr(imports, "CHUNK_ROWS", 10)
    file = tmp_path / "kunden.csv"
    file.write_text("Name,Email\n" + "".join(f"K {n},k{n}@example.com\n" for n in range(30)), encoding="utf-8")
    http = _through(api)
    args = build_parser().parse_args(["customers", "import", str(file), "--seller", SELLER_A, "--api", API,
                                      "--token", seller_headers(SELLER_A)["Authorization"][7:], "--poll-seconds", "0"])

    code = args.run(args, http=http, out=io.StringIO(), err=io.StringIO(),
                    sleep=lambda _: deliver_chunks(receive_chunks()))

    assert code == 0
    assert http.sent[:3] == [("POST", "application/json"), ("PUT", "application/gzip"),  # type: ignore[attr-defined]
                             ("POST", "")]
    assert len(customers_by_email(seller)) == 30


def test_an_access_token_expiring_during_a_long_import_says_the_import_goes_on(
        api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from chalicelib.core.auth import issue_access_token

    monkeypatch.setattr(imports, "SYNC_MAX_ROWS", 10)
    file = tmp_path / "kunden.csv"
    file.write_text("Name,Email\n" + "".join(f"K {n},k{n}@example.com\n" for n in range(20)), encoding="utf-8")
    expired, _ = issue_access_token(user_id="usr_owner", roles={"buyer", "seller"}, seller_id=SELLER_A,
                                    now=int(time.time()) - 3600)
    through = _through(api)

    def http(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, Any]:
        if method == "GET":  # by the first poll, the token's 15 minutes are over
            headers = {**headers, "Authorization": f"Bearer {expired}"}
        return through(method, url, body, headers)

    token = seller_headers(SELLER_A)["Authorization"].split(" ", 1)[1]
    args = build_parser().parse_args(["customers", "import", str(file), "--seller", SELLER_A, "--api", API,
                                      "--token", token, "--poll-seconds", "0"])
    err = io.StringIO()
    code = args.run(args, http=http, out=io.StringIO(), err=err, sleep=lambda _: None)

    assert code == 1
    assert "the token expired while the import runs on" in err.getvalue()
    assert "agora_sk_" in err.getvalue()


def test_the_file_travels_gzip_compressed(api: Any, tmp_path: Path) -> None:
    file = tmp_path / "kunden.csv"
    file.write_bytes(b"Name,E-Mail\nAnna,anna@example.com\n")
    http = _through(api)
    args = build_parser().parse_args(["customers", "import", str(file), "--seller", SELLER_A, "--api", API,
                                      "--token", seller_headers(SELLER_A)["Authorization"][7:]])

    assert args.run(args, http=http, out=io.StringIO(), err=io.StringIO()) == 0
    assert http.sent == [("POST", "application/octet-stream")]  # type: ignore[attr-defined]


def test_a_token_of_another_seller_is_refused_before_uploading(api: Any, tmp_path: Path) -> None:
    file = tmp_path / "kunden.csv"
    file.write_text("Name,E-Mail\nAnna,anna@example.com\n")

    code, out, err = _run(api, file, seller="sel_other")

    assert (code, out) == (2, "")
    assert err == f"agora customers import: the token belongs to seller {SELLER_A}, not sel_other.\n"


def test_a_refused_file_is_reported(api: Any, tmp_path: Path) -> None:
    file = tmp_path / "kunden.csv"
    file.write_text("Name;E-Mail\nAnna;anna@example.com\n")

    code, _, err = _run(api, file)

    assert code == 1
    assert err == ("agora customers import: the API refused the file (422, not_comma_separated: "
                   "Separate the columns with commas, not semicolons.).\n")


def test_without_api_or_token_it_says_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGORA_API_URL", raising=False)
    monkeypatch.delenv("AGORA_TOKEN", raising=False)
    args = build_parser().parse_args(["customers", "import", str(tmp_path / "x.csv"), "--seller", SELLER_A])
    err = io.StringIO()

    assert args.run(args, err=err) == 2
    assert "give --api and --token" in err.getvalue()
