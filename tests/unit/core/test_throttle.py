"""Fixed-window attempt counters: the limit holds, windows pass, subjects stay apart."""

from __future__ import annotations

import pytest

from chalicelib.core import throttle
from chalicelib.core.errors import TooManyRequests

RULE = throttle.Rule("unit", limit=3, window_seconds=60)
NOON = 1_800_000_000  # a window boundary (divisible by 60)


def test_the_attempt_after_the_limit_is_refused_until_the_window_ends() -> None:
    for _ in range(RULE.limit):
        throttle.hit(RULE, "anna@example.com", now=NOON + 10)

    with pytest.raises(TooManyRequests) as refused:
        throttle.hit(RULE, "anna@example.com", now=NOON + 15)

    assert refused.value.retry_after == 45
    assert refused.value.headers == {"Retry-After": "45"}
    assert refused.value.code == "too_many_attempts"


def test_a_new_window_starts_afresh() -> None:
    for _ in range(RULE.limit):
        throttle.hit(RULE, "anna@example.com", now=NOON)
    with pytest.raises(TooManyRequests) as refused:
        throttle.hit(RULE, "anna@example.com", now=NOON + 59)
    assert refused.value.headers == {"Retry-After": "1"}

    throttle.hit(RULE, "anna@example.com", now=NOON + 60)

    assert throttle.failures(RULE, "anna@example.com", now=NOON + 60) == 1  # only the new window's attempt


@pytest.mark.parametrize(("rule", "subject"), [
    (RULE, "ben@example.com"),
    (throttle.Rule("other", limit=3, window_seconds=60), "anna@example.com"),
])
def test_subjects_and_rules_are_counted_apart(rule: throttle.Rule, subject: str) -> None:
    for _ in range(RULE.limit):
        throttle.hit(RULE, "anna@example.com", now=NOON)

    throttle.hit(rule, subject, now=NOON)

    assert throttle.failures(rule, subject, now=NOON) == 1
    assert throttle.failures(RULE, "anna@example.com", now=NOON) == RULE.limit


def test_refunded_attempts_do_not_count() -> None:
    for _ in range(RULE.limit * 2):
        throttle.hit_all([(RULE, "anna@example.com")], now=NOON)
        throttle.refund_all([(RULE, "anna@example.com")], now=NOON)

    throttle.hit(RULE, "anna@example.com", now=NOON)

    assert throttle.failures(RULE, "anna@example.com", now=NOON) == 1


def test_a_refund_never_makes_room_beyond_the_limit() -> None:
    throttle.refund_all([(RULE, "anna@example.com")], now=NOON)  # nothing counted yet
    for _ in range(RULE.limit):
        throttle.hit(RULE, "anna@example.com", now=NOON)
    with pytest.raises(TooManyRequests):
        throttle.hit(RULE, "anna@example.com", now=NOON)


def test_counters_keep_no_personal_data_and_expire_with_their_window(aws: dict[str, str]) -> None:
    import boto3

    throttle.hit(RULE, "anna@example.com", now=NOON + 5)

    [item] = boto3.client("dynamodb").scan(TableName=aws["TableName"])["Items"]  # a test may scan
    assert "anna" not in str(item)
    assert item["expires_at"] == {"N": str(NOON + 60)}
    assert item["hits"] == {"N": "1"}


@pytest.mark.parametrize(("context", "expected"), [
    ({"identity": {"sourceIp": "203.0.113.7"}}, "203.0.113.7"),
    ({"identity": {"sourceIp": "::ffff:203.0.113.7"}}, "203.0.113.7"),  # IPv4-mapped: the IPv4 address
    ({"identity": {"sourceIp": "2001:db8:1:2:aaaa:bbbb:cccc:dddd"}}, "2001:db8:1:2::/64"),
    ({"identity": {"sourceIp": "2001:DB8:1:2::1"}}, "2001:db8:1:2::/64"),
    ({"identity": {"sourceIp": "::1"}}, "::/64"),
    ({"identity": {"sourceIp": "test-invoke-source-ip"}}, "test-invoke-source-ip"),
    ({"identity": {"sourceIp": ""}}, "unknown"),
    ({"identity": {}}, "unknown"),
    (None, "unknown"),
])
def test_the_source_is_what_api_gateway_saw_with_ipv6_clients_counted_by_their_64(context: dict | None,
                                                                                  expected: str) -> None:
    assert throttle.source_ip(context) == expected


def test_an_ipv6_client_cannot_dodge_the_limit_by_moving_through_its_64() -> None:
    for n in range(RULE.limit):
        throttle.hit(RULE, throttle.source_ip({"identity": {"sourceIp": f"2001:db8:1:2::{n + 1:x}"}}), now=NOON)

    with pytest.raises(TooManyRequests):
        throttle.hit(RULE, throttle.source_ip({"identity": {"sourceIp": "2001:db8:1:2:ffff::9"}}), now=NOON)
    throttle.hit(RULE, throttle.source_ip({"identity": {"sourceIp": "2001:db8:1:3::1"}}), now=NOON)  # next /64


def test_the_client_address_is_kept_exact_for_records() -> None:
    context = {"identity": {"sourceIp": "2001:db8:1:2:aaaa:bbbb:cccc:dddd"}}
    assert throttle.client_address(context) == "2001:db8:1:2:aaaa:bbbb:cccc:dddd"
    assert throttle.client_address(None) == "unknown"
