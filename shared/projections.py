"""Read models: projections applied inline in the append's transaction, and rebuilt from the log.

A rebuild drops the projection's tables and replays every event in one write transaction that also holds
the append lock, so readers see the old model until the new one is complete and no append slips between.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db import write_transaction
from shared.store.eventstore import APPEND_LOCK_KEY, EventStore, RecordedEvent

Progress = Callable[[int, int], None]


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
    replayed = 0
    async with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
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
    return replayed
