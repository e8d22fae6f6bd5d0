"""Building blocks of a pure domain: events as immutable Pydantic models, aggregates rebuilt from them.

Nothing here does I/O. An event class names its stable type string (`ikmo.<service>.<aggregate>.<event>`)
and schema version; that string, never a module path, is what the log and the bus carry.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict

from shared.personal import personal_fields
from shared.store.eventstore import NewEvent, RecordedEvent


class DomainEvent(BaseModel):
    """Something that happened, in the past tense; its fields are its published contract when public."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    # Public events go onto the bus as they are; private ones stay in the service's own log.
    public: ClassVar[bool] = True
    # For events with personal fields: the field holding the person's pseudonymous id (the key's owner).
    personal_subject: ClassVar[str | None] = None

    def to_new_event(self) -> NewEvent:
        return NewEvent(
            type=self.event_type, schema_version=self.schema_version, data=self.model_dump(mode="json")
        )


class EventRegistry:
    """Maps stable type strings to event classes, for loading aggregates and exporting schemas."""

    def __init__(self, *classes: type[DomainEvent]) -> None:
        self._by_type: dict[str, type[DomainEvent]] = {}
        for cls in classes:
            self.register(cls)

    def register(self, cls: type[DomainEvent]) -> type[DomainEvent]:
        personal = personal_fields(cls)
        if personal and cls.public:
            raise ValueError(f"{cls.event_type} is public but has personal fields {personal}")
        if personal and cls.personal_subject not in cls.model_fields:
            raise ValueError(f"{cls.event_type} has personal fields but no personal_subject field")
        existing = self._by_type.get(cls.event_type)
        if existing is not None and existing is not cls:
            raise ValueError(f"event type {cls.event_type} is registered twice")
        self._by_type[cls.event_type] = cls
        return cls

    def __iter__(self):
        return iter(self._by_type.values())

    def __contains__(self, event_type: str) -> bool:
        return event_type in self._by_type

    def event_class(self, event_type: str) -> type[DomainEvent]:
        cls = self._by_type.get(event_type)
        if cls is None:
            raise KeyError(f"unknown event type {event_type}")
        return cls

    def decode(self, recorded: RecordedEvent, data: dict[str, Any] | None = None) -> DomainEvent:
        """The domain event of a recorded one; `data` replaces the stored data (opened personal fields)."""
        cls = self.event_class(recorded.type)
        if recorded.schema_version != cls.schema_version:
            raise ValueError(
                f"{recorded.type} v{recorded.schema_version} has no upcaster to v{cls.schema_version}"
            )
        return cls.model_validate(recorded.data if data is None else data)


class Aggregate:
    """A consistency boundary rebuilt from its events; commands call `_record`, never mutate directly."""

    stream_prefix: ClassVar[str]

    def __init__(self, aggregate_id: str) -> None:
        self.id = aggregate_id
        self.version = 0
        self._pending: list[DomainEvent] = []

    @classmethod
    def stream_id_for(cls, aggregate_id: str) -> str:
        return f"{cls.stream_prefix}-{aggregate_id}"

    @property
    def stream_id(self) -> str:
        return self.stream_id_for(self.id)

    @classmethod
    def rebuild(cls, aggregate_id: str, history: list[DomainEvent]) -> Self:
        aggregate = cls(aggregate_id)
        for event in history:
            aggregate.apply(event)
            aggregate.version += 1
        return aggregate

    def apply(self, event: DomainEvent) -> None:
        """Change state for one event; subclasses dispatch on the event class."""
        raise NotImplementedError

    def _record(self, event: DomainEvent) -> None:
        self.apply(event)
        self.version += 1
        self._pending.append(event)

    @property
    def pending_events(self) -> list[DomainEvent]:
        return list(self._pending)

    @property
    def loaded_version(self) -> int:
        """The version the store held when this aggregate was loaded: the expected version to append at."""
        return self.version - len(self._pending)

    def mark_saved(self) -> None:
        self._pending.clear()


def json_schema_of(cls: type[DomainEvent]) -> dict[str, Any]:
    schema = cls.model_json_schema()
    schema["title"] = cls.event_type
    schema["x-schema-version"] = cls.schema_version
    return schema
