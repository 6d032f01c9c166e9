"""Structured JSON logs (Powertools Logger); every line of a request carries its request id."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger

from chalicelib.core.settings import get_settings

logger = Logger(service="agora")

# The AGORA_LOG_LEVEL last applied (None: Powertools' own), so that each later event costs nothing.
_applied: list[str | None] = [None]


def apply_log_level() -> None:
    """Give the logger the level AGORA_LOG_LEVEL names (Powertools reads only its own
    variables); without it, Powertools' level stands. Called as each event arrives, not at
    import: settings are never read at import time. An unknown name keeps the level and
    says so, rather than failing every request over a logging setting."""
    wanted = (get_settings().log_level or "").strip().upper() or None
    if wanted == _applied[0]:
        return
    _applied[0] = wanted
    if wanted is not None and not isinstance(logging.getLevelName(wanted), int):
        logger.warning("AGORA_LOG_LEVEL names no log level; keeping the current one", extra={"log_level": wanted})
        return
    logger.setLevel(wanted)  # None: as Powertools decides from its own variables
