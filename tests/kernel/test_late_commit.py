"""The gap problem: a position is drawn before commit, so an event can commit after a later position.

One transaction appends and stays open while later appends try to commit. A reader tailing by position
(checkpoint = last position seen) and the outbox relay must both see every event, in order.
Run on SQLite and on PostgreSQL, where the problem is real.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.bus.connection import Bus
from shared.bus.relay import OutboxRelay
from shared.db import create_tables, read_transaction
from shared.platform.natsserver import NatsServer
from shared.store import EventStore
from shared.store.schema import store_metadata
from shared.store.uow import UnitOfWork
from shared.testing import eventually
from tests.kernel.bus_helpers import assert_once_and_in_order, stream_messages
from tests.kernel.model import Counter, registry


async def test_a_late_commit_is_skipped_by_neither_a_tailing_reader_nor_the_relay(
    engine: AsyncEngine, nats_server: NatsServer
) -> None:
    await create_tables(engine, store_metadata)
    store = EventStore()
    bus = Bus(nats_server.url, "late-commit", ("kernel",))
    bus.start()
    relay = OutboxRelay(engine, bus, idle_poll=0.02)
    relay.start()

    seen: list[int] = []
    stop_reading = asyncio.Event()

    async def tail() -> None:
        checkpoint = 0
        while not stop_reading.is_set() or checkpoint < await _last(engine, store):
            async with read_transaction(engine) as conn:
                batch = await store.read_all(conn, after_position=checkpoint)
            for event in batch:
                seen.append(event.position)
                checkpoint = event.position
            await asyncio.sleep(0.005)

    async def command(name: str) -> None:
        async with UnitOfWork(engine, store, registry, "kernel", on_commit=relay.wake) as uow:
            counter = Counter(name)
            counter.increment()
            await uow.save(counter)

    reader = asyncio.create_task(tail())
    try:
        late = UnitOfWork(engine, store, registry, "kernel", on_commit=relay.wake)
        await late.__aenter__()
        held = Counter("late")
        held.increment()
        await late.save(held)  # position drawn, transaction still open

        later = [asyncio.create_task(command(f"later-{i}")) for i in range(4)]
        await asyncio.sleep(0.5)  # give the later commands every chance to overtake the open transaction
        await late.__aexit__(None, None, None)
        await asyncio.gather(*later)

        async with read_transaction(engine) as conn:
            everything = await store.read_all(conn)
        assert len(everything) == 5
        await eventually(lambda: len(seen) == 5)
        # The tailing reader saw every position, each once and in order: nothing was skipped.
        assert seen == sorted(p.position for p in everything)

        expected = {str(e.event_id) for e in everything}

        async def all_published() -> bool:
            return await relay.backlog() == 0 and relay.stats.published >= 5

        await eventually(all_published)
        assert_once_and_in_order(await stream_messages(nats_server.url, "IKMO_KERNEL"), expected)
    finally:
        stop_reading.set()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await relay.stop()
        await bus.close()


async def _last(engine: AsyncEngine, store: EventStore) -> int:
    async with read_transaction(engine) as conn:
        return await store.last_position(conn)
