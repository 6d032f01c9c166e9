"""What a Lambda container keeps between invocations, and how to start as a new one.

Settings, secrets, AWS clients, table connections and :mod:`chalicelib.core.cache` values
live as long as the container. Tests change the environment between cases and start each
as a cold container would: one call, :func:`start_cold`, whatever was cached and wherever.
"""

from __future__ import annotations

from chalicelib.core.aws import reset_clients
from chalicelib.core.cache import forget_all
from chalicelib.core.db import drop_connections
from chalicelib.core.secrets import reset_secrets
from chalicelib.core.settings import reset_settings


def start_cold() -> None:
    """Forget everything this container cached; the next use reads it afresh."""
    reset_settings()
    reset_secrets()
    reset_clients()
    drop_connections()
    forget_all()
