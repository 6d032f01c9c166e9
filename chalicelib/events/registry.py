"""Typed domain events: each producing package declares its events as models (in its own
``events.py``), each consuming package subscribes to them (in its own ``subscriptions.py``),
and the events worker learns both from here, so ``events`` names no other package.

Light on purpose (pydantic only): ``app.py`` imports every package's events and
subscriptions at cold start, so that the worker knows every type before its first message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError


class UnknownEvent(LookupError):
    """A message of a type no package declares: it cannot be handled, so it fails (and ends
    in the events queue's dead-letter queue) instead of being dropped unseen."""


class InvalidEvent(ValueError):
    """A message whose payload (or version) does not fit its event's model."""


class DomainEvent(BaseModel):
    """What happened, as its producer says it. The instance's fields are the payload; the
    class names its ``event_type`` and ``event_version`` (raise the version, and keep the
    old model readable, for a change that old readers could not parse).

    Optional fields (with a default) travel only when the producer set them, so the JSON
    is what the payload dicts were before events were typed. Built at first use, not at import:
    ``app.py`` imports every event at cold start."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:  # shared bases without a type of their own are not events
            _register(cls)

    def payload(self) -> dict[str, Any]:
        """The payload as stored in the outbox and sent on the events queue."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


E = TypeVar("E", bound=DomainEvent)


@dataclass(frozen=True)
class Delivered(Generic[E]):
    """An event as a subscriber gets it: with the id that keys its once-markers (and mails'
    dedupe keys) and the time it happened."""

    event: E
    event_id: str
    occurred_at: str


Handler = Callable[[Delivered[Any]], None]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Subscriber:
    """``marker`` names the subscriber in its once-markers (``event:<event id>:<marker>``)."""

    marker: str
    handle: Handler


_EVENTS: dict[str, type[DomainEvent]] = {}
_SUBSCRIBERS: dict[str, list[Subscriber]] = {}


def _register(event_class: type[DomainEvent]) -> None:
    def name(cls: type[DomainEvent]) -> str:
        return f"{cls.__module__}.{cls.__qualname__}"

    known = _EVENTS.get(event_class.event_type)
    if known is not None and name(known) != name(event_class):
        raise TypeError(f"event type {event_class.event_type!r} is declared twice: by {name(known)} "
                        f"and {name(event_class)}")
    _EVENTS[event_class.event_type] = event_class


def subscribe(*events: type[DomainEvent] | str, marker: str | None = None) -> Callable[[H], H]:
    """Register the decorated function to be handed each of ``events`` once.

    Name an event by its class, or by its type where the consumer sits in a lower layer
    than the producer and may not import it; such a name must be declared by the time a
    message arrives (``tests/unit/events/test_registry.py`` checks every one). ``marker``
    keeps the name a subscriber's once-markers had before it moved (default
    ``module:function``), so an event redelivered across that deploy is not handled twice."""

    def register(function: H) -> H:
        subscriber = Subscriber(marker or f"{function.__module__}:{function.__qualname__}", function)
        for event in events:
            event_type = event if isinstance(event, str) else event.event_type
            registered = _SUBSCRIBERS.setdefault(event_type, [])
            if any(s.marker == subscriber.marker for s in registered):
                raise TypeError(f"{subscriber.marker} subscribes to {event_type!r} twice")
            registered.append(subscriber)
        return function

    return register


def event_classes() -> Mapping[str, type[DomainEvent]]:
    """Every declared event, by type."""
    return dict(_EVENTS)


def subscriptions() -> Mapping[str, tuple[Subscriber, ...]]:
    """Every subscribed event type and its subscribers, in the order they registered."""
    return {event_type: tuple(subscribers) for event_type, subscribers in _SUBSCRIBERS.items()}


def subscribers_of(event_type: str) -> tuple[Subscriber, ...]:
    return tuple(_SUBSCRIBERS.get(event_type, ()))


def event_class(event_type: str) -> type[DomainEvent]:
    try:
        return _EVENTS[event_type]
    except KeyError:
        raise UnknownEvent(f"no package declares the event type {event_type!r}") from None


def parse(message: Mapping[str, Any]) -> Delivered[DomainEvent]:
    """The typed event of an events-queue message. Raises :class:`UnknownEvent` or
    :class:`InvalidEvent`. Fields the model does not know are ignored, so a message from a
    newer producer still reads while a deploy is half done; a message without a version
    comes from before versions were recorded: version 1."""
    cls = event_class(message["type"])
    version = message.get("version") or 1
    if version != cls.event_version:
        raise InvalidEvent(f"{cls.event_type} version {version!r}; this code reads version {cls.event_version}")
    try:
        event = cls.model_validate(message["payload"], extra="ignore")
    except ValidationError as error:
        raise InvalidEvent(f"{cls.event_type} payload does not fit its model: {error}") from error
    return Delivered(event=event, event_id=message["event_id"], occurred_at=message.get("occurred_at") or "")
