"""AGORA_LOG_LEVEL reaches the package's logger."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core.logging import apply_log_level, logger
from chalicelib.core.settings import reset_settings


@pytest.fixture(autouse=True)
def _level_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield
    monkeypatch.delenv("AGORA_LOG_LEVEL", raising=False)
    monkeypatch.delenv("POWERTOOLS_LOG_LEVEL", raising=False)
    reset_settings()
    apply_log_level()


def _set(monkeypatch: pytest.MonkeyPatch, level: str) -> None:
    monkeypatch.setenv("AGORA_LOG_LEVEL", level)
    reset_settings()


def test_the_level_named_in_the_environment_is_the_loggers(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, "debug")
    apply_log_level()
    assert logger.log_level == logging.DEBUG

    _set(monkeypatch, "ERROR")
    apply_log_level()
    assert logger.log_level == logging.ERROR


def test_without_the_variable_the_logger_logs_info(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, "ERROR")
    apply_log_level()
    monkeypatch.delenv("AGORA_LOG_LEVEL")
    monkeypatch.delenv("POWERTOOLS_LOG_LEVEL", raising=False)
    reset_settings()
    apply_log_level()
    assert logger.log_level == logging.INFO


def test_without_the_variable_powertools_own_level_stands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    _set(monkeypatch, "DEBUG")
    apply_log_level()
    monkeypatch.delenv("AGORA_LOG_LEVEL")
    reset_settings()
    apply_log_level()
    assert logger.log_level == logging.WARNING


def test_an_unknown_level_keeps_the_current_one(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, "WARNING")
    apply_log_level()
    _set(monkeypatch, "LOUD")
    apply_log_level()
    assert logger.log_level == logging.WARNING


def test_the_app_applies_it_when_a_request_arrives(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, "WARNING")
    response = api.http.get("/v1/health")
    assert response.status_code == 200
    assert logger.log_level == logging.WARNING
