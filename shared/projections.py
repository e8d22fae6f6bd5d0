"""Read models: projections applied inline in the append's transaction, and rebuilt from the log.

A rebuild drops the projection's tables and replays every event in one write transaction that also holds
the append lock, so readers see the old model until the new one is complete and no append slips between.

A service rebuilds a projection by itself at start when the shape of its tables (columns, types, indexes)
is not the shape its rows were built with: after an update that adds a column, the old tables would
otherwise fail on the first read, and `create_all` never alters a table that exists.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import Column, MetaData, String, Table, delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db import write_transaction
from shared.store.eventstore import APPEND_LOCK_KEY, EventStore, RecordedEvent

Progress = Callable[[int, int], None]
log = logging.getLogger(__name__)

shapes_metadata = MetaData()
shapes = Table(  # which shape each projection's rows were built with
    "projection_shapes",
    shapes_metadata,
    Column("projection", String(100), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
)


class Projection(Protocol):
    """A read model: its own tables, and how one recorded event changes them."""

    name: str
    metadata: MetaData

    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None: ...


async def apply_all(
    conn: AsyncConnection, projections: Sequence[Projection], events: Sequence[RecordedEvent]
) -> None:
    for event in events:
        for projection in projections:
            await projection.apply(conn, event)


async def rebuild(
    engine: AsyncEngine,
    store: EventStore,
    projection: Projection,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> int:
    """Drop and rebuild one projection from the whole log; reports (done, total) after each batch."""
    async with write_transaction(engine) as conn:
        await _hold_appends(conn)
        return await _replay(conn, store, projection, batch_size, progress)


async def rebuild_reshaped(
    engine: AsyncEngine, store: EventStore, projections: Sequence[Projection]
) -> list[str]:
    """At start: rebuild every projection whose tables changed shape since its rows were built (or whose
    shape was never recorded while the log has events); record the shape of the others. Returns the names
    rebuilt. Checked under the append lock, so two processes starting at once rebuild once."""
    rebuilt = []
    async with write_transaction(engine) as conn:
        await conn.run_sync(shapes_metadata.create_all)
    for projection in projections:
        shape = fingerprint(projection.metadata)
        async with write_transaction(engine) as conn:
            await _hold_appends(conn)
            query = select(shapes.c.fingerprint).where(shapes.c.projection == projection.name)
            stored = (await conn.execute(query)).scalar()
            if stored == shape:
                continue
            if stored is not None or await store.last_position(conn) > 0:
                replayed = await _replay(conn, store, projection)
                log.warning(
                    "projection %s rebuilt at start: its tables changed shape (%d events replayed)",
                    projection.name,
                    replayed,
                )
                rebuilt.append(projection.name)
            else:
                await _record_shape(conn, projection)
    return rebuilt


def fingerprint(metadata: MetaData) -> str:
    """A digest of the tables' shape: names, columns with type, nullability and key, indexes."""
    tables = []
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        columns = [[c.name, repr(c.type), c.nullable, c.primary_key, c.unique] for c in table.columns]
        indexes = sorted(
            [i.name or "", sorted(c.name for c in i.columns), bool(i.unique)] for i in table.indexes
        )
        tables.append([table.name, columns, indexes])
    return hashlib.sha256(json.dumps(tables, default=str).encode()).hexdigest()


async def _hold_appends(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})


async def _replay(
    conn: AsyncConnection,
    store: EventStore,
    projection: Projection,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> int:
    replayed = 0
    total = await store.last_position(conn)
    await conn.run_sync(projection.metadata.drop_all)
    await conn.run_sync(projection.metadata.create_all)
    position = 0
    while batch := await store.read_all(conn, after_position=position, limit=batch_size):
        for event in batch:
            await projection.apply(conn, event)
        replayed += len(batch)
        position = batch[-1].position
        if progress is not None:
            progress(position, total)
    await _record_shape(conn, projection)
    return replayed


async def _record_shape(conn: AsyncConnection, projection: Projection) -> None:
    await conn.run_sync(shapes_metadata.create_all)
    await conn.execute(delete(shapes).where(shapes.c.projection == projection.name))
    await conn.execute(
        insert(shapes).values(projection=projection.name, fingerprint=fingerprint(projection.metadata))
    )
