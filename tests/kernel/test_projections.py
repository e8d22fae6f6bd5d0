"""A projection updated inline equals the same projection dropped and rebuilt from the log."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db import create_tables, read_transaction
from shared.projections import rebuild
from shared.store import EventStore, RecordedEvent
from shared.store.schema import store_metadata
from shared.store.uow import UnitOfWork
from tests.kernel.model import Counter, registry


class CounterTotals:
    name = "counter_totals"
    metadata = MetaData()
    table = Table(
        "counter_totals",
        metadata,
        Column("counter_id", String(50), primary_key=True),
        Column("total", Integer),
    )

    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        if event.type != "ikmo.kernel.counter.incremented":
            return
        key, by = event.data["counter_id"], event.data["by"]
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        stmt = insert(self.table).values(counter_id=key, total=by).on_conflict_do_nothing()
        if (await conn.execute(stmt)).rowcount == 0:
            await conn.execute(
                update(self.table).where(self.table.c.counter_id == key).values(total=self.table.c.total + by)
            )


async def totals(engine: AsyncEngine) -> dict[str, int]:
    async with read_transaction(engine) as conn:
        return {k: v for k, v in await conn.execute(select(CounterTotals.table))}


async def test_rebuild_from_the_log_equals_the_inline_projection_and_reports_progress(
    engine: AsyncEngine,
) -> None:
    projection = CounterTotals()
    await create_tables(engine, store_metadata, projection.metadata)
    store = EventStore()
    for i in range(30):
        async with UnitOfWork(engine, store, registry, "kernel", projections=[projection]) as uow:
            counter = await uow.find(Counter, f"c{i % 4}") or Counter(f"c{i % 4}")
            counter.increment(i)
            if i % 10 == 0:
                counter.note("not counted")
            await uow.save(counter)
    inline = await totals(engine)
    assert inline == {f"c{k}": sum(i for i in range(30) if i % 4 == k) for k in range(4)}

    async with engine.begin() as conn:  # damage the read model: the log is the truth
        await conn.execute(update(CounterTotals.table).values(total=0))
    progress: list[tuple[int, int]] = []
    replayed = await rebuild(
        engine, store, projection, batch_size=7, progress=lambda done, total: progress.append((done, total))
    )

    assert await totals(engine) == inline
    assert replayed == 33
    assert len(progress) == 5  # 33 events in batches of 7
    assert progress[-1][0] == progress[-1][1]
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
