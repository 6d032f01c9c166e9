"""Names of the AWS resources that event handlers are bound to.

Chalice needs these when it packages the app, before any request, so this is the one
place that reads the environment at import time. ``infra/deploy.py`` sets them from the
infra stack's outputs; locally and in tests the defaults name the local resources.
"""

from __future__ import annotations

import os

STAGE = os.environ.get("AGORA_STAGE", "local")
RETENTION_QUEUE = os.environ.get("AGORA_RETENTION_QUEUE") or f"agora-{STAGE}-retention-emails"
EVENTS_QUEUE = os.environ.get("AGORA_EVENTS_QUEUE") or f"agora-{STAGE}-events"
IMPORTS_QUEUE = os.environ.get("AGORA_IMPORTS_QUEUE") or f"agora-{STAGE}-customer-imports"
TABLE_STREAM_ARN = os.environ.get("AGORA_TABLE_STREAM_ARN") or (
    f"arn:aws:dynamodb:eu-central-1:123456789012:table/agora-{STAGE}/stream/local"
)
# Lambda timeout of the queue workers; the infra template sets each queue's
# visibility timeout to six times this (asserted by tests/unit/infra).
WORKER_TIMEOUT_SECONDS = 30
