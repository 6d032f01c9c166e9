"""Structured JSON logs (Powertools Logger); every line of a request carries its request id."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger

from chalicelib.core.settings import get_settings

logger = Logger(service="agora")

_applied: list[str] = []  # the AGORA_LOG_LEVEL last applied, so each later event costs nothing


def apply_log_level() -> None:
    """Give the logger the level AGORA_LOG_LEVEL names (Powertools only reads its own
    variables). Called as the first event arrives, not at import: settings are never read
    at import time. An unknown name keeps the level and says so, rather than failing
    every request over a logging setting."""
    wanted = get_settings().log_level.strip().upper()
    if _applied and _applied[-1] == wanted:
        return
    _applied[:] = [wanted]
    if not isinstance(logging.getLevelName(wanted), int):
        logger.warning("AGORA_LOG_LEVEL names no log level; keeping the current one",
                       extra={"log_level": wanted})
        return
    logger.setLevel(wanted)
