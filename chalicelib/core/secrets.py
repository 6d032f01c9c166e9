"""Secrets by short name (``stripe_secret_key``, ``token_signing_key``, ``hash_pepper``...).

Apart from the settings so that ``Settings`` stays plain data read from the environment,
and reading SSM (through :mod:`chalicelib.core.aws`, which needs the settings) is no cycle.
"""

from __future__ import annotations

from functools import lru_cache

from chalicelib.core.aws import client
from chalicelib.core.settings import get_settings


def get_secret(name: str) -> str:
    """The secret called ``name``.

    ``AGORA_SECRET_<NAME>`` environment variables count only in local stages: a deployed
    function reads its secrets from SSM alone, so a variable slipped into a Lambda's
    configuration can never replace a signing key or the pepper."""
    settings = get_settings()
    if settings.is_local and name in settings.inline_secrets:
        return settings.inline_secrets[name]
    if settings.is_local:
        raise KeyError(f"secret {name!r} is not set (env AGORA_SECRET_{name.upper()})")
    return _ssm_secrets(settings.secrets_parameter_path)[name]


@lru_cache(maxsize=4)
def _ssm_secrets(path: str) -> dict[str, str]:
    """All SecureString parameters under ``path`` in one paginated call, cached per container."""
    found: dict[str, str] = {}
    for page in client("ssm").get_paginator("get_parameters_by_path").paginate(
        Path=path, WithDecryption=True
    ):
        for parameter in page["Parameters"]:
            found[parameter["Name"][len(path):].replace("-", "_")] = parameter["Value"]
    return found


def reset_secrets() -> None:
    """Forget secrets read from SSM (tests change the stage and its parameters)."""
    _ssm_secrets.cache_clear()
