"""The cost bench (bench/cost.py) charges units as DynamoDB and AWS's list prices do. Its
measured numbers are in bench/README.md, never asserted here."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

import cost


def _item(**attrs: str) -> dict[str, Any]:
    return {name: DynamoType({"S": value}) for name, value in attrs.items()}


def _index(projection: dict[str, Any]) -> cost.Index:
    return cost.Index("GSI3", "GSI3PK", "GSI3SK", projection, {"PK", "SK"})


ALL = {"ProjectionType": "ALL"}
KEYS_ONLY = {"ProjectionType": "KEYS_ONLY"}
PAID = _item(PK="SELLER#s1", SK="ORDER#o1", GSI3PK="SELLER#s1#paid", GSI3SK="o1", lines="x" * 2500)
ACCEPTED = {**PAID, **_item(GSI3PK="SELLER#s1#accepted")}
RENAMED = {**PAID, **_item(lines="y" * 2500)}


def test_a_moved_index_entry_costs_a_removal_and_a_put_of_its_projected_size() -> None:
    assert cost.index_write_units(PAID, ACCEPTED, _index(ALL)) == 3 + 3
    assert cost.index_write_units(PAID, ACCEPTED, _index(KEYS_ONLY)) == 1 + 1


def test_an_update_of_an_attribute_the_index_does_not_hold_costs_nothing_there() -> None:
    assert cost.index_write_units(PAID, RENAMED, _index(ALL)) == 3
    assert cost.index_write_units(PAID, RENAMED, _index(KEYS_ONLY)) == 0
    assert cost.index_write_units(PAID, RENAMED, _index({"ProjectionType": "INCLUDE",
                                                         "NonKeyAttributes": ["lines"]})) == 3


def test_items_without_the_index_keys_cost_nothing_in_it() -> None:
    unindexed = _item(PK="USER#u1", SK="ORDER#o1", lines="x" * 2500)
    assert cost.index_write_units(None, unindexed, _index(ALL)) == 0
    assert cost.index_write_units(None, PAID, _index(ALL)) == 3


def test_reads_are_charged_per_4_kb_and_at_least_one_block() -> None:
    assert [cost.read_half_units(size) for size in (0, 100, 4096, 4097)] == [2, 2, 2, 4]


def test_a_thousand_orders_are_priced_per_component() -> None:
    units = cost.Units(wru=Counter(table=150, GSI3=50), rru=Counter(table=2 * 100), api_requests=14,
                       invocations=Counter(api_handler=14), billed_ms=Counter(api_handler=2000), sqs_requests=10,
                       mails=1)

    priced = cost.cost_per_1000(units, memory_gb=0.5)

    assert round(priced.lines["DynamoDB writes"], 6) == 0.125  # 200,000 WRU at $0.625 a million
    assert round(priced.lines["DynamoDB reads"], 6) == 0.0125
    assert round(priced.lines["API Gateway"], 6) == 0.049
    assert round(priced.lines["Lambda GB-s"], 6) == round(1000 * 1.0 * 0.0000166667, 6)
    assert round(priced.lines["SES mails"], 6) == 0.1
    assert round(priced.before_mails, 6) == round(sum(priced.lines.values()) - 0.1, 6)
