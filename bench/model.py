"""A small aggregate with a realistic event, so that the benchmarks append what a service would.

The event carries the kind of fields a grants application carries (ids, an amount, a title and a short
text): about 300 bytes of JSON, CloudEvents headers around 600 bytes on the bus.
"""

from __future__ import annotations

import uuid

from shared.domain import Aggregate, DomainEvent, EventRegistry
from shared.store.eventstore import EventMetadata, NewEvent

SERVICE = "bench"
EVENT_TYPE = "ikmo.bench.application.amended"
NOTE = (
    "Honorar für zwei Workshops zur interkulturellen Öffnung, Raummiete im Nachbarschaftshaus, "
    "Dolmetschen Arabisch und Türkisch."
)


class Amended(DomainEvent):
    event_type = EVENT_TYPE
    application_id: str
    organisation_id: str
    round_id: str
    amount_cents: int
    title: str
    note: str


class Application(Aggregate):
    stream_prefix = "application"

    def apply(self, event: DomainEvent) -> None:
        pass

    def amend(self, i: int) -> None:
        self._record(Amended.model_validate(event_data(self.id, i)))


registry = EventRegistry(Amended)


def event_data(application_id: str, i: int) -> dict[str, object]:
    return {
        "application_id": application_id,
        "organisation_id": "0b5c2f4e-3d0c-4f5e-9a7b-1c2d3e4f5a6b",
        "round_id": "2025-1",
        "amount_cents": 250_000 + i,
        "title": f"Brücken bauen im Kiez, Änderung {i}",
        "note": NOTE,
    }


def new_event(stream_id: str, i: int) -> NewEvent:
    return NewEvent(type=EVENT_TYPE, data=event_data(stream_id, i))


def bench_metadata() -> EventMetadata:
    """What an HTTP command stores: a correlation id, an actor and a W3C trace context."""
    return EventMetadata(
        correlation_id=str(uuid.uuid4()),
        actor="user:tbb-sachbearbeitung-7",
        traceparent=f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01",
    )
