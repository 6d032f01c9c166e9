"""Fixtures shared by unit and end-to-end tests."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

# Property tests check what holds, never how fast: a loaded CI machine must not fail them on
# time (timing goals belong in bench/). Examples stay random; a failure prints its seed.
settings.register_profile("agora", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.load_profile("agora")

TEST_SECRETS = {
    "AGORA_SECRET_STRIPE_SECRET_KEY": "sk_test_agora_unit",
    "AGORA_SECRET_STRIPE_WEBHOOK_SECRET": "whsec_agora_unit_platform",
    "AGORA_SECRET_STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_agora_unit_connect",
    "AGORA_SECRET_TOKEN_SIGNING_KEY": "agora-unit-test-signing-key-0123456789abcdef",
    "AGORA_SECRET_HASH_PEPPER": "1=agora-unit-test-hash-pepper-0123456789abcdef",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep every end-to-end test on one xdist worker, so one local stack serves them all."""
    for item in items:
        if "/tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.xdist_group("e2e"))
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, so nothing can ever reach a real AWS account."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
