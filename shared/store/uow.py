"""The unit of work: one transaction holding the new events, the read-model updates and the outbox rows.

Every command runs as load -> decide -> append inside it. If anything fails, nothing of it is kept.

A decision may also rest on an aggregate the command does not change (joining a network needs the
organisation to be active). `rely_on` records the version it was read at; before the commit, once this
transaction holds the store's append lock (PostgreSQL) or the database's write lock (SQLite), that
stream must still be at that version, or the whole command is refused as a conflict (409). So a
network join and an archiving of the same organisation never both commit on a state each did not see.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TypeVar

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.bus.cloudevents import to_message
from shared.context import current_metadata
from shared.db import write_transaction
from shared.domain import Aggregate, DomainEvent, EventRegistry
from shared.errors import ConcurrencyError, NotFound
from shared.personal import personal_fields
from shared.projections import Projection, apply_all
from shared.store.eventstore import EventStore, NewEvent, RecordedEvent
from shared.store.schema import outbox
from shared.telemetry import tracer
from shared.vault import Vault

A = TypeVar("A", bound=Aggregate)


class UnitOfWork:
    """Use as `async with uow_factory() as uow:`; commits on a clean exit, rolls back on an error."""

    def __init__(
        self,
        engine: AsyncEngine,
        store: EventStore,
        registry: EventRegistry,
        service: str,
        projections: Sequence[Projection] = (),
        on_commit: Callable[[], None] | None = None,
        vault: Vault | None = None,
    ) -> None:
        self._engine = engine
        self._store = store
        self._registry = registry
        self._service = service
        self._projections = projections
        self._on_commit = on_commit
        self.vault = vault or Vault()
        self._tx = write_transaction(engine)
        self._conn: AsyncConnection | None = None
        self.recorded: list[RecordedEvent] = []
        self._relied_on: dict[str, int] = {}
        self._saved: set[str] = set()

    async def __aenter__(self) -> UnitOfWork:
        self._conn = await self._tx.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            try:
                await self._check_relied_on()
            except BaseException as refused:
                await self._tx.__aexit__(type(refused), refused, refused.__traceback__)
                self._conn = None
                raise
        await self._tx.__aexit__(exc_type, exc, tb)
        self._conn = None
        if exc_type is None and self.recorded and self._on_commit is not None:
            self._on_commit()

    @property
    def conn(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn

    async def find(self, cls: type[A], aggregate_id: str) -> A | None:
        history = await self._store.load(self.conn, cls.stream_id_for(aggregate_id))
        if not history:
            return None
        opened = await self.vault.open_all(self.conn, [e.data for e in history])
        return cls.rebuild(
            aggregate_id, [self._registry.decode(e, d) for e, d in zip(history, opened, strict=True)]
        )

    async def get(
        self, cls: type[A], aggregate_id: str, what_de: str = "Datensatz", expected_version: int | None = None
    ) -> A:
        """The aggregate or a 404. With `expected_version` (the version a client read, e.g. from If-Match),
        a change made since then is a 409: the client decided on a state that no longer exists."""
        aggregate = await self.find(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(
                f"{cls.__name__} {aggregate_id} does not exist", f"{what_de} {aggregate_id} gibt es nicht"
            )
        if expected_version is not None and aggregate.version != expected_version:
            raise ConcurrencyError(aggregate.stream_id, expected_version, aggregate.version)
        return aggregate

    def rely_on(self, aggregate: Aggregate) -> None:
        """This command's decision rests on `aggregate` as loaded, without changing it: refuse the commit if
        another transaction appended to it in between (checked under the append lock, see the module)."""
        self._relied_on.setdefault(aggregate.stream_id, aggregate.loaded_version)

    async def _check_relied_on(self) -> None:
        if not self.recorded:  # nothing appended: nothing decided on that state is kept
            return
        for stream_id, version in self._relied_on.items():
            if stream_id in self._saved:  # appended to itself, so its own expected version checked it
                continue
            actual = await self._store.stream_version(self.conn, stream_id)
            if actual != version:
                raise ConcurrencyError(stream_id, version, actual)

    async def save(self, aggregate: Aggregate) -> list[RecordedEvent]:
        """Append the aggregate's new events, update read models, and queue public events for the bus."""
        pending = aggregate.pending_events
        with tracer().start_as_current_span(
            f"append {type(aggregate).__name__}",
            attributes={"ikmo.stream": aggregate.stream_id, "ikmo.events": len(pending)},
        ):
            new_events = [await self._sealed(e) for e in pending]
            recorded = await self._store.append(
                self.conn, aggregate.stream_id, aggregate.loaded_version, new_events, current_metadata()
            )
        await apply_all(self.conn, self._projections, recorded)
        rows = []
        for domain_event, event in zip(pending, recorded, strict=True):
            if not domain_event.public:
                continue
            subject, headers, payload = to_message(self._service, event, event.data)
            rows.append(
                {
                    "position": event.position,
                    "event_id": str(event.event_id),
                    "subject": subject,
                    "headers": json.dumps(headers),
                    "payload": payload,
                }
            )
        if rows:
            await self.conn.execute(insert(outbox), rows)
        aggregate.mark_saved()
        self._saved.add(aggregate.stream_id)
        self.recorded.extend(recorded)
        return recorded

    async def _sealed(self, event: DomainEvent) -> NewEvent:
        """The event as it will be stored: personal fields sealed under the person's key."""
        new = event.to_new_event()
        fields = personal_fields(type(event))
        if not fields:
            return new
        subject = str(new.data[type(event).personal_subject])  # type: ignore[index]
        data = await self.vault.seal_fields(self.conn, new.data, fields, subject)
        return NewEvent(type=new.type, data=data, schema_version=new.schema_version, event_id=new.event_id)
