"""What retention does when events arrive; registered when app.py imports this module.

The subscriber imports its domain module only when it runs (lazy, for cold start: app.py
imports this module, and ``import app`` loads no PynamoDB or Jinja2). ``marker`` keeps the
name the once-markers had before events were typed, so an event redelivered across that
deploy is not handled twice."""

from __future__ import annotations

from chalicelib.events.registry import Delivered, subscribe
from chalicelib.platform.events import PipelineCheck


@subscribe(PipelineCheck, marker="chalicelib.retention.service:on_pipeline_check")
def on_pipeline_check(check: Delivered[PipelineCheck]) -> None:
    """Mail the check's address, once per check."""
    from chalicelib.retention import service  # lazy: cold start

    service.on_pipeline_check(check)
