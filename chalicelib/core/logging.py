"""Structured JSON logs (Powertools Logger); every line of a request carries its request id."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="agora")
