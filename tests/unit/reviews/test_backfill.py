"""The backfill of listing entries and question markers written before the best-rated index
and the markers existed: old data made by the real flows, then stripped to its old shape."""

from __future__ import annotations

import io
from typing import Any

import boto3
import pytest

from tests.support.builders import Marketplace
from tests.support.http import call, ok

SELLER = "sel_01M8A0000000000000000000AA"
NEW_ATTRIBUTES = ("rating_count", "rating_sum", "GSI3PK", "GSI3SK")


def _review(api: Any, placed: dict[str, Any], rating: int) -> None:
    body = {"rating": rating, "title": "Bequem", "text": "Passt gut, nach einer Woche eingelaufen.", "language": "de",
            "order_id": placed["order"]["order_id"], "product_id": placed["products"][SELLER]}
    ok(call(api, "POST", "/v1/me/reviews", body, headers=placed["buyer"]), 201)


def _stored() -> list[dict[str, Any]]:
    """Every listing entry and question marker as stored (a test may Scan)."""
    from chalicelib.core.settings import get_settings

    items = boto3.client("dynamodb").scan(TableName=get_settings().table_name, ConsistentRead=True)["Items"]
    return sorted((i for i in items if i["SK"]["S"].startswith(("LIST#", "QUESTION#", "ANSWER#"))),
                  key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def _to_old_shape() -> None:
    """What the table held before the deploy: entries without rating copy and key, no markers."""
    from chalicelib.catalog.models import ProductListing
    from chalicelib.reviews.models import QuestionMarker

    for entry in ProductListing.scan(ProductListing.SK.startswith("LIST#")):
        entry.update(actions=[getattr(ProductListing, name).remove() for name in NEW_ATTRIBUTES])
    for marker in QuestionMarker.scan(QuestionMarker.PK.startswith("USER#")
                                      & (QuestionMarker.SK.startswith("QUESTION#")
                                         | QuestionMarker.SK.startswith("ANSWER#"))):
        marker.delete()


def _best_rated(api: Any) -> list[tuple[str, dict[str, Any]]]:
    page = ok(call(api, "GET", "/v1/products?sort=rating&limit=50"))
    return [(p["product_id"], p["rating"]) for p in page["items"]]


def _export(api: Any, buyer: dict[str, str]) -> list[tuple[str, str, str]]:
    return [(q["kind"], q["question_id"], q["text"])
            for q in ok(call(api, "GET", "/v1/me/export", headers=buyer))["questions"]]


@pytest.fixture
def old_data(api: Any, market: Marketplace) -> dict[str, Any]:
    best, good = (market.order_in_state("delivered", seller_id=SELLER) for _ in range(2))
    _review(api, best, 5)
    _review(api, good, 3)
    unrated = sorted(market.product(SELLER) for _ in range(2))
    product_id, buyer = good["products"][SELLER], good["buyer"]
    asked = ok(call(api, "POST", f"/v1/products/{product_id}/questions", {"text": "Wasserdicht?"},
                    headers=best["buyer"]), 201)
    answered = ok(call(api, "POST", f"/v1/questions/{asked['question_id']}/answers",
                       {"text": "Nicht ganz.", "order_id": good["order"]["order_id"]}, headers=buyer), 201)
    expected = _best_rated(api)
    assert [product_id for product_id, _ in expected] == [best["products"][SELLER], product_id, *unrated]
    exports = {"asker": _export(api, best["buyer"]), "answerer": _export(api, buyer)}
    assert exports["answerer"] == [("answered", asked["question_id"], "Nicht ganz.")]
    assert answered["answers"][0]["text"] == "Nicht ganz."
    _to_old_shape()
    return {"expected": expected, "exports": exports, "asker": best["buyer"], "answerer": buyer}


def test_the_backfill_brings_old_entries_and_questions_back_and_a_second_run_changes_nothing(
        api: Any, old_data: dict[str, Any]) -> None:
    from chalicelib.reviews import backfill

    assert _best_rated(api) == []  # the problem: sort=rating omits every product written before
    assert _export(api, old_data["answerer"]) == []

    first = backfill.run()

    assert _best_rated(api) == old_data["expected"]
    assert _export(api, old_data["asker"]) == old_data["exports"]["asker"]
    assert _export(api, old_data["answerer"]) == old_data["exports"]["answerer"]
    assert first.markers == 2 and first.entries > 0 and not first.resumed
    stored = _stored()
    assert backfill.run() == backfill.Outcome(entries=0, markers=0, resumed=False)
    assert _stored() == stored


def test_a_run_that_stopped_half_way_goes_on_from_its_checkpoint(
        api: Any, old_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.reviews import backfill

    rate = backfill.rate_entries
    calls: list[str] = []

    def stopping(product: Any) -> int:
        calls.append(product.product_id)
        if len(calls) == 3:
            raise RuntimeError("the Lambda timed out")
        return rate(product)

    monkeypatch.setattr(backfill, "PAGE", 1)
    monkeypatch.setattr(backfill, "rate_entries", stopping)
    with pytest.raises(RuntimeError):
        backfill.run()
    assert len(_best_rated(api)) == 2  # the first two products are done

    outcome = backfill.run()

    assert outcome.resumed and outcome.markers == 2
    assert calls[3] == calls[2]  # went on with the product it stopped at, not from the start
    assert len(calls) == 5
    assert _best_rated(api) == old_data["expected"]
    assert _export(api, old_data["answerer"]) == old_data["exports"]["answerer"]


def test_the_command_runs_the_backfill_and_says_what_it_did(old_data: dict[str, Any]) -> None:
    from cli.main import build_parser
    from cli.reviews import run_backfill

    out = io.StringIO()
    assert run_backfill(build_parser().parse_args(["reviews", "backfill"]), out=out) == 0

    *_, last = out.getvalue().splitlines()
    assert last.startswith("Backfill done: rated ") and last.endswith(", put 2 question markers.")


def test_a_review_written_while_the_backfill_reads_is_not_overwritten(
        api: Any, market: Marketplace, old_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.reviews import backfill

    late = market.order_in_state("delivered", seller_id=SELLER)
    late_id = late["products"][SELLER]
    _to_old_shape()
    rating = backfill.listing_rating
    raced: list[str] = []

    def reviewed_meanwhile(scope: str, product_id: str, count: int, total: int) -> dict[str, Any]:
        if product_id == late_id and not raced:  # after the backfill read the unrated pointer
            raced.append(product_id)
            _review(api, late, 4)
        return rating(scope, product_id, count, total)

    monkeypatch.setattr(backfill, "listing_rating", reviewed_meanwhile)
    backfill.run()

    assert raced == [late_id]
    best_rated = _best_rated(api)
    assert best_rated[1] == (late_id, {"count": 1, "average": 4.0})
    assert [p for p, _ in best_rated] == [old_data["expected"][0][0], late_id,
                                          *(p for p, _ in old_data["expected"][1:])]
