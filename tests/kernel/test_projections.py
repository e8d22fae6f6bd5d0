"""A projection updated inline equals the same projection dropped and rebuilt from the log."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db import create_tables, read_transaction
from shared.projections import fingerprint, rebuild, rebuild_reshaped
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


class CounterTotalsWithNote(CounterTotals):
    """The same projection after an update that added a column (its old tables lack it)."""

    metadata = MetaData()
    table = Table(
        "counter_totals",
        metadata,
        Column("counter_id", String(50), primary_key=True),
        Column("total", Integer),
        Column("note", String(50), nullable=True),
    )


async def test_a_projection_whose_tables_changed_shape_is_rebuilt_at_start_and_only_then(
    engine: AsyncEngine,
) -> None:
    store = EventStore()
    before = CounterTotals()
    await create_tables(engine, store_metadata, before.metadata)
    assert await rebuild_reshaped(engine, store, [before]) == []  # a fresh database: the shape recorded
    for i in range(5):
        async with UnitOfWork(engine, store, registry, "kernel", projections=[before]) as uow:
            counter = await uow.find(Counter, "c") or Counter("c")
            counter.increment(i)
            await uow.save(counter)
    assert await rebuild_reshaped(engine, store, [before]) == []  # the same shape: nothing replayed
    async with engine.begin() as conn:  # a mark that only a rebuild would wash out
        await conn.execute(update(CounterTotals.table).values(total=-1))

    after = CounterTotalsWithNote()
    await create_tables(engine, after.metadata)  # what a start does: create_all leaves the old table as it is
    assert await rebuild_reshaped(engine, store, [after]) == ["counter_totals"]
    async with read_transaction(engine) as conn:
        assert (await conn.execute(select(after.table))).all() == [("c", 10, None)]  # the new column exists
    assert await rebuild_reshaped(engine, store, [after]) == []  # once


async def test_tables_of_an_older_start_without_a_recorded_shape_are_rebuilt_once(
    engine: AsyncEngine,
) -> None:
    store = EventStore()
    projection = CounterTotals()
    await create_tables(engine, store_metadata, projection.metadata)
    async with UnitOfWork(engine, store, registry, "kernel", projections=[projection]) as uow:
        counter = Counter("c")
        counter.increment(3)
        await uow.save(counter)
    assert await rebuild_reshaped(engine, store, [projection]) == ["counter_totals"]
    assert await totals(engine) == {"c": 3}
    assert await rebuild_reshaped(engine, store, [projection]) == []
    assert fingerprint(projection.metadata) != fingerprint(CounterTotalsWithNote.metadata)
