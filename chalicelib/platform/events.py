"""The operator's events.

Consumer: retention mails the check's result, which proves the whole pipeline (outbox,
stream, events queue, subscriber, retention queue, SES) works end to end."""

from chalicelib.events.registry import DomainEvent


class PipelineCheck(DomainEvent):
    """An operator's (or an end-to-end test's) probe of the event pipeline."""

    event_type = "system.pipeline_check"

    check_id: str
    notify: str  # the address the check's mail goes to
