"""DynamoDB faults moto never produces, injected where botocore sends requests: throttling,
unprocessed batch keys and items, and transactions cancelled by a concurrent one. Each ends
in the answer the client wanted (after retries) or a clear error with nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.auth import seller_headers
from tests.support.builders import product_body, put_seller
from tests.support.faults import AwsFaults
from tests.support.http import call


def _product(api: Any) -> str:
    put_seller("sel_a")
    status, body, _ = call(api, "POST", "/v1/seller/products", product_body(title="Trail shoe"),
                           headers=seller_headers("sel_a"))
    assert status == 201, body
    return body["product_id"]


def _products_of(api: Any, seller_id: str) -> list[str]:
    status, body, _ = call(api, "GET", "/v1/seller/products", headers=seller_headers(seller_id))
    assert status == 200, body
    return [p["title"] for p in body["items"]]


def test_throttled_reads_are_retried_and_the_buyer_sees_the_product(api: Any, aws_faults: AwsFaults) -> None:
    product_id = _product(api)
    aws_faults.inject("dynamodb", "GetItem", AwsFaults.error("ProvisionedThroughputExceededException"), times=2)
    aws_faults.inject("dynamodb", "BatchGetItem", AwsFaults.error("ThrottlingException"), times=1)

    status, body, _ = call(api, "GET", f"/v1/products/{product_id}")

    assert status == 200, body
    assert body["title"] == "Trail shoe"
    assert aws_faults.calls["dynamodb.BatchGetItem"] == 2  # the throttled one and its retry


def test_throttling_past_the_retries_is_a_503_and_writes_nothing(api: Any, aws_faults: AwsFaults) -> None:
    put_seller("sel_a")
    aws_faults.inject("dynamodb", "TransactWriteItems", AwsFaults.error("ProvisionedThroughputExceededException"),
                      times=100)

    status, body, headers = call(api, "POST", "/v1/seller/products", product_body(title="Trail shoe"),
                                 headers=seller_headers("sel_a"))

    assert status == 503, body
    assert body["error"]["code"] == "storage_busy"
    assert headers["Retry-After"] == "1"
    assert aws_faults.calls["dynamodb.TransactWriteItems"] == 4  # one request and botocore's three retries
    assert _products_of(api, "sel_a") == []


def test_unprocessed_batch_keys_are_asked_for_again(api: Any, aws_faults: AwsFaults) -> None:
    product_id = _product(api)
    aws_faults.inject("dynamodb", "BatchGetItem", AwsFaults.nothing_processed(), times=2)

    status, body, _ = call(api, "GET", f"/v1/products/{product_id}")

    assert status == 200, body
    assert body["seller_name"] == "Shop sel_a"  # read by the BatchGetItem
    assert aws_faults.calls["dynamodb.BatchGetItem"] == 3


def test_keys_that_stay_unprocessed_are_a_503_not_an_endless_loop(api: Any, aws_faults: AwsFaults) -> None:
    from chalicelib.core.db import BATCH_ATTEMPTS

    product_id = _product(api)
    aws_faults.inject("dynamodb", "BatchGetItem", AwsFaults.nothing_processed(), times=1000)

    status, body, _ = call(api, "GET", f"/v1/products/{product_id}")

    assert status == 503, body
    assert body["error"]["code"] == "storage_busy"
    assert aws_faults.calls["dynamodb.BatchGetItem"] == BATCH_ATTEMPTS


def test_unprocessed_batch_items_are_written_again(aws_faults: AwsFaults) -> None:
    from chalicelib.core import revocations

    aws_faults.inject("dynamodb", "BatchWriteItem", AwsFaults.nothing_processed(), times=2)

    revocations.revoke("usr_1", ["ses_1", "ses_2", "ses_3"])

    assert [revocations.is_revoked("usr_1", s) for s in ("ses_1", "ses_2", "ses_3")] == [True, True, True]
    assert aws_faults.calls["dynamodb.BatchWriteItem"] == 3


def test_items_that_stay_unprocessed_fail_clearly(aws_faults: AwsFaults) -> None:
    import pytest

    from chalicelib.core import revocations
    from chalicelib.core.errors import ServiceUnavailable

    aws_faults.inject("dynamodb", "BatchWriteItem", AwsFaults.nothing_processed(), times=1000)

    with pytest.raises(ServiceUnavailable) as raised:
        revocations.revoke("usr_1", ["ses_1"])

    assert raised.value.code == "storage_busy"
    assert not revocations.is_revoked("usr_1", "ses_1")


def _revoke_in_a_transaction() -> None:
    from chalicelib.core.db import LabelledTransaction
    from chalicelib.core.revocations import RevokedSession

    transaction = LabelledTransaction()
    transaction.put("revoked", RevokedSession("REVOKED#usr_1", "SESSION#ses_1", expires_at=2_000_000_000))
    transaction.commit()


def test_a_transaction_conflict_is_tried_again(aws_faults: AwsFaults) -> None:
    from chalicelib.core.db import retrying
    from chalicelib.core.revocations import is_revoked

    aws_faults.inject("dynamodb", "TransactWriteItems", AwsFaults.transaction_conflict(), times=2)

    retrying(_revoke_in_a_transaction, what="session")

    assert is_revoked("usr_1", "ses_1")
    assert aws_faults.calls["dynamodb.TransactWriteItems"] == 3


def test_a_conflict_on_every_attempt_is_a_409_and_writes_nothing(aws_faults: AwsFaults) -> None:
    import pytest

    from chalicelib.core.db import retrying
    from chalicelib.core.errors import Conflict
    from chalicelib.core.revocations import is_revoked

    aws_faults.inject("dynamodb", "TransactWriteItems", AwsFaults.transaction_conflict(), times=3)

    with pytest.raises(Conflict) as raised:
        retrying(_revoke_in_a_transaction, what="session")

    assert raised.value.code == "concurrent_update"
    assert not is_revoked("usr_1", "ses_1")


def test_a_worker_is_handed_the_contention_itself_after_the_last_attempt(aws_faults: AwsFaults) -> None:
    import pytest

    from chalicelib.core.db import TransactionContention, retrying
    from chalicelib.core.revocations import is_revoked

    aws_faults.inject("dynamodb", "TransactWriteItems", AwsFaults.transaction_conflict(), times=3)

    with pytest.raises(TransactionContention):
        retrying(_revoke_in_a_transaction, what="session", exhausted=lambda last: last)

    assert not is_revoked("usr_1", "ses_1")


def test_a_transaction_conflict_is_tried_again_after_a_growing_wait(aws_faults: AwsFaults,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from chalicelib.core.db import retrying

    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    aws_faults.inject("dynamodb", "TransactWriteItems", AwsFaults.transaction_conflict(), times=2)

    retrying(_revoke_in_a_transaction, what="session")

    assert len(waits) == 2
    assert 0 < waits[0] < waits[1] <= 1.0
