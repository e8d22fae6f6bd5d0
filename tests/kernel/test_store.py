"""One store suite, run against SQLite always and PostgreSQL when reachable (the `engine` fixture)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_tables, make_engine, read_transaction, write_transaction
from shared.errors import ConcurrencyError
from shared.store import EventMetadata, EventStore, NewEvent, Upcasters
from shared.store.schema import events, outbox, store_metadata
from shared.store.uow import UnitOfWork
from tests.kernel.model import Counter, registry


@pytest.fixture
async def store(engine: AsyncEngine) -> EventStore:
    await create_tables(engine, store_metadata)
    return EventStore()


def ev(n: int) -> NewEvent:
    return NewEvent(type="ikmo.kernel.counter.incremented", data={"counter_id": "c", "by": n})


async def test_append_and_load_keep_order_and_metadata(engine: AsyncEngine, store: EventStore) -> None:
    meta = EventMetadata(
        correlation_id="corr-1", actor="user-7", traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    )
    async with write_transaction(engine) as conn:
        first = await store.append(conn, "counter-c", 0, [ev(1), ev(2)], meta)
    async with write_transaction(engine) as conn:
        await store.append(conn, "counter-c", 2, [ev(3)])
    async with read_transaction(engine) as conn:
        loaded = await store.load(conn, "counter-c")
        assert await store.stream_version(conn, "counter-c") == 3
    assert [e.version for e in loaded] == [1, 2, 3]
    assert [e.data["by"] for e in loaded] == [1, 2, 3]
    assert loaded[0].event_id == first[0].event_id
    assert loaded[0].metadata == meta
    assert loaded[0].position < loaded[1].position < loaded[2].position
    assert loaded[0].recorded_at.tzinfo is not None


async def test_stale_expected_version_is_a_conflict_and_changes_nothing(
    engine: AsyncEngine, store: EventStore
) -> None:
    async with write_transaction(engine) as conn:
        await store.append(conn, "counter-c", 0, [ev(1)])
    with pytest.raises(ConcurrencyError) as info:
        async with write_transaction(engine) as conn:
            await store.append(conn, "counter-c", 0, [ev(2)])
    assert info.value.status_code == 409
    assert info.value.actual == 1
    async with read_transaction(engine) as conn:
        assert [e.data["by"] for e in await store.load(conn, "counter-c")] == [1]


async def test_empty_append_changes_nothing(engine: AsyncEngine, store: EventStore) -> None:
    async with write_transaction(engine) as conn:
        assert await store.append(conn, "counter-c", 0, []) == []
        # Even a wrong expected version is not checked: nothing is written, so nothing can conflict.
        assert await store.append(conn, "counter-c", 5, []) == []
    async with read_transaction(engine) as conn:
        count = (await conn.execute(select(func.count()).select_from(events))).scalar_one()
    assert count == 0


async def test_concurrent_writers_on_one_stream_have_exactly_one_winner_per_version(
    engine: AsyncEngine, store: EventStore
) -> None:
    writers = 8
    rounds = 3
    for version in range(rounds):
        start = asyncio.Event()

        async def write(n: int, expected: int = version, start: asyncio.Event = start) -> bool:
            await start.wait()
            try:
                async with write_transaction(engine) as conn:
                    await store.append(conn, "counter-race", expected, [ev(n)])
                return True
            except ConcurrencyError:
                return False

        tasks = [asyncio.create_task(write(n)) for n in range(writers)]
        await asyncio.sleep(0)
        start.set()
        results = await asyncio.gather(*tasks)
        assert sum(results) == 1, f"version {version + 1}: {sum(results)} winners"
    async with read_transaction(engine) as conn:
        assert [e.version for e in await store.load(conn, "counter-race")] == [1, 2, 3]


async def test_read_all_pages_through_the_log_in_position_order(
    engine: AsyncEngine, store: EventStore
) -> None:
    for i in range(5):
        async with write_transaction(engine) as conn:
            await store.append(conn, f"counter-{i % 2}", i // 2, [ev(i)])
    seen, position = [], 0
    async with read_transaction(engine) as conn:
        while batch := await store.read_all(conn, after_position=position, limit=2):
            seen.extend(batch)
            position = batch[-1].position
    assert [e.data["by"] for e in seen] == [0, 1, 2, 3, 4]
    assert position == seen[-1].position


async def test_upcasters_turn_old_schema_versions_into_the_current_one(engine: AsyncEngine) -> None:
    upcasters = Upcasters()

    @upcasters.register("ikmo.kernel.counter.incremented", 1)
    def amount_renamed(data: dict) -> dict:
        data["amount"] = data.pop("by")
        return data

    @upcasters.register("ikmo.kernel.counter.incremented", 2)
    def unit_added(data: dict) -> dict:
        data.setdefault("unit", "piece")
        return data

    await create_tables(engine, store_metadata)
    store = EventStore(upcasters)
    async with write_transaction(engine) as conn:
        await store.append(conn, "counter-u", 0, [ev(4)])
        await store.append(
            conn,
            "counter-u",
            1,
            [
                NewEvent(
                    type="ikmo.kernel.counter.incremented", schema_version=3, data={"amount": 5, "unit": "kg"}
                )
            ],
        )
    async with read_transaction(engine) as conn:
        loaded = await store.load(conn, "counter-u")
        raw = (
            await conn.execute(select(events.c.schema_version, events.c.data).order_by(events.c.position))
        ).all()
    assert [(e.schema_version, e.data) for e in loaded] == [
        (3, {"counter_id": "c", "amount": 4, "unit": "piece"}),
        (3, {"amount": 5, "unit": "kg"}),
    ]
    # The log itself is never rewritten.
    assert raw[0][0] == 1 and '"by":4' in raw[0][1]
    with pytest.raises(ValueError, match="registered twice"):
        upcasters.register("ikmo.kernel.counter.incremented", 1)(amount_renamed)


async def test_unit_of_work_commits_events_and_outbox_together_or_not_at_all(
    engine: AsyncEngine, store: EventStore
) -> None:
    async with UnitOfWork(engine, store, registry, "kernel") as uow:
        counter = Counter("a")
        counter.increment(2)
        counter.note("private")
        await uow.save(counter)

    with pytest.raises(RuntimeError, match="boom"):
        async with UnitOfWork(engine, store, registry, "kernel") as uow:
            counter = await uow.get(Counter, "a")
            counter.increment(3)
            await uow.save(counter)
            raise RuntimeError("boom")

    async with read_transaction(engine) as conn:
        stored = await store.load(conn, "counter-a")
        queued = (await conn.execute(select(outbox.c.subject))).scalars().all()
    assert [e.type for e in stored] == ["ikmo.kernel.counter.incremented", "ikmo.kernel.counter.noted"]
    # Only the public event is queued for the bus; the failed command left nothing behind.
    assert queued == ["ikmo.kernel.counter.incremented"]
    async with UnitOfWork(engine, store, registry, "kernel") as uow:
        assert (await uow.get(Counter, "a")).total == 2


async def test_a_stale_expected_version_is_a_conflict_and_changes_nothing(
    engine: AsyncEngine, store: EventStore
) -> None:
    async with UnitOfWork(engine, store, registry, "kernel") as uow:
        counter = Counter("s")
        counter.increment()
        counter.increment()
        await uow.save(counter)
    with pytest.raises(ConcurrencyError) as stale:
        async with UnitOfWork(engine, store, registry, "kernel") as uow:
            await uow.get(Counter, "s", expected_version=1)
    assert (stale.value.expected, stale.value.actual, stale.value.status_code) == (1, 2, 409)
    async with UnitOfWork(engine, store, registry, "kernel") as uow:
        counter = await uow.get(Counter, "s", expected_version=2)
        counter.increment()
        await uow.save(counter)
    async with UnitOfWork(engine, store, registry, "kernel") as uow:
        assert (await uow.get(Counter, "s")).total == 3


async def _counter(engine: AsyncEngine, store: EventStore, counter_id: str, by: int = 1) -> Counter:
    async with UnitOfWork(engine, store, registry, "kernel") as uow:
        counter = await uow.find(Counter, counter_id) or Counter(counter_id)
        counter.increment(by)
        await uow.save(counter)
    return counter


async def test_a_decision_resting_on_a_stream_that_moved_on_is_refused_whole(
    engine: AsyncEngine, store: EventStore
) -> None:
    seen = await _counter(engine, store, "relied")  # version 1, as a command read it
    await _counter(engine, store, "relied")  # someone else moves it to version 2

    with pytest.raises(ConcurrencyError) as refused:
        async with UnitOfWork(engine, store, registry, "kernel") as uow:
            uow.rely_on(seen)
            other = Counter("decided")
            other.increment()
            await uow.save(other)
    assert (refused.value.stream_id, refused.value.expected, refused.value.actual) == ("counter-relied", 1, 2)
    async with read_transaction(engine) as conn:
        assert await store.load(conn, "counter-decided") == []  # nothing of the refused command is kept
        assert (await conn.execute(select(func.count()).select_from(outbox))).scalar_one() == 2

    async with UnitOfWork(engine, store, registry, "kernel") as uow:
        uow.rely_on(await uow.get(Counter, "relied"))  # read afresh: version 2 still holds
        other = Counter("decided")
        other.increment()
        await uow.save(other)
    async with UnitOfWork(engine, store, registry, "kernel") as uow:
        uow.rely_on(seen)  # a stale read that decides nothing (nothing appended) is no conflict
    async with UnitOfWork(engine, store, registry, "kernel") as uow:
        relied = await uow.get(Counter, "relied")
        uow.rely_on(relied)
        relied.increment()  # relied on and changed: its own expected version is the check
        await uow.save(relied)
    assert relied.version == 3


@pytest.mark.postgres
async def test_a_change_committed_while_a_decision_is_open_refuses_the_decision(
    postgres_url: tuple[str, dict[str, object]],
) -> None:
    """Two real transactions on PostgreSQL: the first reads the stream it relies on, the second appends to
    it and commits, then the first appends elsewhere: the first must not commit."""
    url, args = postgres_url
    engine = make_engine(url, connect_args=args)
    try:
        await create_tables(engine, store_metadata)
        store = EventStore()
        await _counter(engine, store, "organisation")
        with pytest.raises(ConcurrencyError):
            async with UnitOfWork(engine, store, registry, "kernel") as joining:
                joining.rely_on(await joining.get(Counter, "organisation"))  # "active", as read now
                await _counter(engine, store, "organisation")  # archived meanwhile, committed
                membership = Counter("membership")
                membership.increment()
                await joining.save(membership)
        async with read_transaction(engine) as conn:
            assert await store.load(conn, "counter-membership") == []
    finally:
        await engine.dispose()
