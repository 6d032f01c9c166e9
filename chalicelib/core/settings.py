"""Typed settings, read lazily from the environment.

Never read at import time: Chalice's test client and the local runner set the
environment just before a call, and a deployed Lambda gets it from .chalice/config.json
(filled from the infra stack's outputs by infra/deploy.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any, overload

LOCAL_STAGES = frozenset({"local", "test"})

# What an operator need not repeat for well-known OpenID providers. Apple's client secret is a
# JWT signed with the team's key (``team_id``, ``key_id``; the key in SSM), and Apple posts the
# callback as a form when the email scope is asked for (response_mode=form_post).
OIDC_PRESETS: dict[str, dict[str, Any]] = {
    "google": {"issuer": "https://accounts.google.com", "scopes": "openid email profile"},
    "apple": {"issuer": "https://appleid.apple.com", "scopes": "openid email name", "response_mode": "form_post",
              "client_secret": "apple_jwt"},
}


@dataclass(frozen=True)
class OidcProvider:
    """One OpenID Connect provider buyers and sellers may sign in with (AGORA_OIDC_PROVIDERS).
    The client secret is never here: it is the secret named ``client_secret_name``
    (:func:`chalicelib.core.secrets.get_secret`, SSM SecureString in deployed stages)."""

    name: str
    issuer: str
    client_id: str
    scopes: str = "openid email profile"
    client_secret_name: str = ""
    # "shared" (the secret as stored) or "apple_jwt" (a short-lived JWT signed with the key stored
    # under ``client_secret_name``, Apple's "client secret").
    client_secret: str = "shared"
    response_mode: str | None = None
    team_id: str | None = None  # Apple
    key_id: str | None = None  # Apple

    @classmethod
    def from_config(cls, name: str, config: dict[str, Any]) -> OidcProvider:
        """A mistyped field or preset fails the start, naming it, rather than being ignored."""
        preset = config.get("preset")
        if preset is not None and preset not in OIDC_PRESETS:
            raise ValueError(f"AGORA_OIDC_PROVIDERS[{name!r}]: no preset {preset!r} (known: {sorted(OIDC_PRESETS)})")
        merged = {**OIDC_PRESETS.get(preset or "", {}), **config}
        merged.pop("preset", None)
        merged.setdefault("client_secret_name", f"oidc_{name}_client_secret")
        unknown = set(merged) - {f.name for f in fields(cls)} | ({"name"} & set(merged))
        missing = {"issuer", "client_id"} - set(merged)
        if unknown or missing:
            raise ValueError(f"AGORA_OIDC_PROVIDERS[{name!r}]: unknown fields {sorted(unknown)}, "
                             f"missing {sorted(missing)}")
        return cls(name=name, **merged)


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table_name: str
    retention_queue_name: str
    events_queue_name: str
    imports_queue_name: str
    stream_dead_letter_queue_name: str
    # Private bucket that large customer-import CSVs are uploaded to (presigned PUT) and
    # streamed from by the imports worker; objects under uploads/ expire after 2 days.
    imports_bucket: str
    aws_endpoint_url: str | None
    stripe_api_base: str | None
    sender_email: str
    frontend_url: str
    # Public base URL of this API, for links that must reach it directly (one-click
    # unsubscribe in mail headers). Deployed stages get it from the infra stack.
    api_url: str
    secrets_parameter_path: str
    # AGORA_LOG_LEVEL; None: Powertools decides (POWERTOOLS_LOG_LEVEL, Lambda's, else INFO).
    log_level: str | None
    max_body_bytes: int
    # Social login (AGORA_OIDC_PROVIDERS, a JSON object by provider name) and where its callback may
    # send the browser back to (AGORA_OIDC_RETURN_URLS, comma-separated URL prefixes; the frontend's
    # own URL when unset).
    oidc_providers: dict[str, OidcProvider] = field(default_factory=dict)
    oidc_return_urls: tuple[str, ...] = ()
    # AGORA_SECRET_* by short name; chalicelib.core.secrets uses them in local stages only
    # (SSM SecureString under secrets_parameter_path otherwise).
    inline_secrets: dict[str, str] = field(default_factory=dict, repr=False)
    # Retention analytics: a customer is active at a moment when they paid an order within
    # this many days before it (AGORA_ANALYTICS_ACTIVE_DAYS). A change needs the analytics
    # backfill, as the counters hold each customer's active spans.
    analytics_active_days: int = 365

    @property
    def worker_queues(self) -> tuple[str, ...]:
        return (self.retention_queue_name, self.events_queue_name, self.imports_queue_name)

    @property
    def is_local(self) -> bool:
        return self.stage in LOCAL_STAGES


@overload
def _env(name: str, default: str) -> str: ...
@overload
def _env(name: str, default: None = None) -> str | None: ...
def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    stage = _env("AGORA_STAGE", "local")
    inline = {
        key[len("AGORA_SECRET_"):].lower(): value
        for key, value in os.environ.items()
        if key.startswith("AGORA_SECRET_") and value
    }
    frontend_url = _env("AGORA_FRONTEND_URL", "http://127.0.0.1:3000")
    return Settings(
        stage=stage,
        region=_env("AWS_DEFAULT_REGION", _env("AWS_REGION", "eu-central-1")),
        table_name=_env("AGORA_TABLE_NAME", f"agora-{stage}"),
        retention_queue_name=_env("AGORA_RETENTION_QUEUE", f"agora-{stage}-retention-emails"),
        events_queue_name=_env("AGORA_EVENTS_QUEUE", f"agora-{stage}-events"),
        imports_queue_name=_env("AGORA_IMPORTS_QUEUE", f"agora-{stage}-customer-imports"),
        stream_dead_letter_queue_name=_env("AGORA_STREAM_DLQ", f"agora-{stage}-table-stream-dlq"),
        imports_bucket=_env("AGORA_IMPORTS_BUCKET", f"agora-{stage}-imports"),
        aws_endpoint_url=_env("AWS_ENDPOINT_URL"),
        stripe_api_base=_env("AGORA_STRIPE_API_BASE"),
        sender_email=_env("AGORA_SENDER_EMAIL", "hello@agora.example"),
        frontend_url=frontend_url,
        api_url=_env("AGORA_API_URL", "http://127.0.0.1:8000"),
        secrets_parameter_path=_env("AGORA_SECRETS_PATH", f"/agora/{stage}/secrets/"),
        log_level=_env("AGORA_LOG_LEVEL"),
        max_body_bytes=int(_env("AGORA_MAX_BODY_BYTES", str(1024 * 1024))),
        inline_secrets=inline,
        analytics_active_days=int(_env("AGORA_ANALYTICS_ACTIVE_DAYS", "365")),
        oidc_providers={name: OidcProvider.from_config(name, config)
                        for name, config in json.loads(_env("AGORA_OIDC_PROVIDERS", "{}")).items()},
        oidc_return_urls=tuple(url.strip() for url in _env("AGORA_OIDC_RETURN_URLS", frontend_url).split(",")
                               if url.strip()),
    )


def reset_settings() -> None:
    """Forget cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
