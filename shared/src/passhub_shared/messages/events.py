"""Typed events.

An event body is a pydantic model subclassing `Event`. Its CloudEvents type is
`passhub.<service>.<event_name>.v<version>` and its NATS subject `passhub.<service>.<event_name>`.
Every concrete subclass registers itself, so a stored or received event can be decoded from its
type name alone.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID

import uuid6
from pydantic import BaseModel, ConfigDict

_REGISTRY: dict[str, type[Event]] = {}

E = TypeVar("E", bound="Event")


class UnknownEventType(LookupError):
    """No event class is registered for a type name."""


class Event(BaseModel):
    """Base of every event body. Subclasses set `service`, `event_name` and `event_version`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: ClassVar[str] = ""
    event_name: ClassVar[str] = ""
    event_version: ClassVar[int] = 1
    #: published to JetStream through the outbox (False keeps an event inside its service)
    public: ClassVar[bool] = True

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.service and cls.event_name:
            existing = _REGISTRY.get(cls.type_name())
            if existing is not None and existing.__qualname__ != cls.__qualname__:
                raise TypeError(f"event type {cls.type_name()} registered twice")
            _REGISTRY[cls.type_name()] = cls

    @classmethod
    def type_name(cls) -> str:
        return f"passhub.{cls.service}.{cls.event_name}.v{cls.event_version}"

    @classmethod
    def subject(cls) -> str:
        return f"passhub.{cls.service}.{cls.event_name}"


def event_class(type_name: str) -> type[Event]:
    try:
        return _REGISTRY[type_name]
    except KeyError:
        raise UnknownEventType(type_name) from None


def registered_types() -> dict[str, type[Event]]:
    return dict(_REGISTRY)


def new_event_id() -> UUID:
    """UUIDv7: time-ordered, so ids sort roughly by creation."""
    return uuid6.uuid7()


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Metadata:
    """What travels with an event besides its body. `actor` is kept locally, never published."""

    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None
    actor: str | None = None

    def caused_by(self, event: Recorded) -> Metadata:
        return Metadata(
            correlation_id=event.correlation_id or str(event.id),
            causation_id=str(event.id),
            traceparent=event.traceparent,
            actor=self.actor,
        )


@dataclass(slots=True)
class Recorded:
    """An event as it sits in a store (ours, or a copy of another service's).

    Treat it as immutable (use `dataclasses.replace`). It is not a frozen dataclass because
    replay and consumers build millions of them, and a frozen one costs six times as much to
    construct.
    """

    id: UUID
    stream_id: str
    stream_version: int
    type: str
    origin: str
    data: dict[str, Any]
    occurred_at: datetime
    position: int = 0
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None
    actor: str | None = None

    @property
    def subject(self) -> str:
        """NATS subject: the type name without its version suffix."""
        return self.type.rsplit(".", 1)[0]

    @property
    def name(self) -> str:
        """Event name without service or version, e.g. `student_signed_in`."""
        return self.type.split(".")[2]

    def decode(self) -> Event:
        return event_class(self.type).model_validate(self.data)

    def as_(self, cls: builtins.type[E]) -> E:
        return cls.model_validate(self.data)

    @property
    def metadata(self) -> Metadata:
        return Metadata(self.correlation_id, self.causation_id, self.traceparent, self.actor)
