"""Event store, unit of work, outbox and tracking tables: the write side every service shares."""

from shared.store.eventstore import EventMetadata, EventStore, NewEvent, RecordedEvent
from shared.store.upcasting import Upcasters

__all__ = ["EventMetadata", "EventStore", "NewEvent", "RecordedEvent", "Upcasters"]
