"""A tiny aggregate for the kernel's tests: a counter whose increments are events."""

from __future__ import annotations

from shared.domain import Aggregate, DomainEvent, EventRegistry
from shared.personal import personal


class Incremented(DomainEvent):
    event_type = "ikmo.kernel.counter.incremented"
    counter_id: str
    by: int


class Secret(DomainEvent):
    """A private event: stored, never published."""

    event_type = "ikmo.kernel.counter.noted"
    public = False
    counter_id: str
    note: str


class Counter(Aggregate):
    stream_prefix = "counter"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.total = 0

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, Incremented):
            self.total += event.by

    def increment(self, by: int = 1) -> None:
        self._record(Incremented(counter_id=self.id, by=by))

    def note(self, text: str) -> None:
        self._record(Secret(counter_id=self.id, note=text))


registry = EventRegistry(Incremented, Secret)


class PersonRecorded(DomainEvent):
    """Private: carries personal data, sealed per person in the log."""

    event_type = "ikmo.kernel.person.recorded"
    public = False
    personal_subject = "person_id"
    person_id: str
    name: str = personal()
    email: str | None = personal(default=None)
    district: str


class PersonCounted(DomainEvent):
    """Public and pseudonymous: what other services may know."""

    event_type = "ikmo.kernel.person.counted"
    person_id: str
    district: str


class Person(Aggregate):
    stream_prefix = "person"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.name = ""

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, PersonRecorded):
            self.name = event.name

    def record(self, name: str, email: str | None, district: str) -> None:
        self._record(PersonRecorded(person_id=self.id, name=name, email=email, district=district))
        self._record(PersonCounted(person_id=self.id, district=district))


people = EventRegistry(PersonRecorded, PersonCounted)
