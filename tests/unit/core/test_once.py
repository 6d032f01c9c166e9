"""Exactly-once markers: a delivery is told to come back later, never that work is done,
whenever it cannot tell."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core import once


def test_a_claim_given_back_while_another_delivery_looks_is_in_progress_not_done(
        aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # given work that one delivery has begun
    assert once.begin("refund:ref_1") is True

    # when another delivery finds the claim taken, but the first gives it back before the
    # second reads it (the first one's work failed)
    def released(*args: Any, **kwargs: Any) -> Any:
        once.release("refund:ref_1")
        raise once.OnceMarker.DoesNotExist()

    monkeypatch.setattr(once.OnceMarker, "get", released)

    # then the second delivery is told to come back later, not that the work was done
    with pytest.raises(once.InProgress):
        once.begin("refund:ref_1")


def test_work_done_is_skipped_and_failed_work_can_begin_again(aws: dict[str, str]) -> None:
    assert once.begin("payout:sub_1") is True
    once.release("payout:sub_1")
    assert once.begin("payout:sub_1") is True
    once.complete("payout:sub_1")

    assert once.begin("payout:sub_1") is False


def test_work_done_in_doing_is_done_and_work_that_raises_is_given_back(aws: dict[str, str]) -> None:
    assert once.begin("mail:m_1") is True
    with pytest.raises(RuntimeError), once.doing("mail:m_1"):
        raise RuntimeError("SES is down")
    assert once.begin("mail:m_1") is True  # a retry does the work again

    with once.doing("mail:m_1"):
        pass

    assert once.begin("mail:m_1") is False
