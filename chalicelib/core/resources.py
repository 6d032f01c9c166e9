"""Names of the AWS resources that event handlers are bound to.

Chalice needs these when it packages the app, before any request, so this is the one
place that reads the environment at import time. ``infra/deploy.py`` sets them from the
infra stack's outputs; locally and in tests the defaults name the local resources.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from chalicelib.core.settings import LOCAL_STAGES

STAGE = os.environ.get("AGORA_STAGE", "local")
RETENTION_QUEUE = os.environ.get("AGORA_RETENTION_QUEUE") or f"agora-{STAGE}-retention-emails"
EVENTS_QUEUE = os.environ.get("AGORA_EVENTS_QUEUE") or f"agora-{STAGE}-events"
IMPORTS_QUEUE = os.environ.get("AGORA_IMPORTS_QUEUE") or f"agora-{STAGE}-customer-imports"


class MissingConfiguration(RuntimeError):
    """A deployed stage was packaged or started without a resource name it must be given."""


def table_stream_arn(environ: Mapping[str, str]) -> str:
    """The table stream the stream handler reads. A local stage (``dev/run.py`` and the
    tests run ``AGORA_STAGE=local``) may do without: nothing subscribes there. A deployed
    stage must not: a made-up ARN would subscribe the handler to a stream that does not
    exist, and the outbox's events would never reach the queue."""
    stage = environ.get("AGORA_STAGE", "local")
    arn = environ.get("AGORA_TABLE_STREAM_ARN")
    if arn:
        return arn
    if stage in LOCAL_STAGES:
        return f"arn:aws:dynamodb:eu-central-1:123456789012:table/agora-{stage}/stream/local"
    raise MissingConfiguration(f"AGORA_TABLE_STREAM_ARN is not set for stage {stage!r}: deploy with "
                               "`python -m infra.deploy`, which sets it from the infra stack's outputs.")


TABLE_STREAM_ARN = table_stream_arn(os.environ)
# Lambda timeout of the queue workers; the infra template sets each queue's
# visibility timeout to six times this (asserted by tests/unit/infra).
WORKER_TIMEOUT_SECONDS = 30
