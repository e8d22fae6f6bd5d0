"""The outbox relay under failure: NATS away while commands arrive, and a relay killed mid-batch."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from nats.aio.msg import Msg
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.bus.connection import Bus, ensure_stream
from shared.bus.relay import OutboxRelay, _ack_error
from shared.db import create_tables, make_engine, read_transaction
from shared.platform.natsserver import NatsServer
from shared.store import EventStore, Upcasters
from shared.store.schema import events, outbox, store_metadata
from shared.store.uow import UnitOfWork
from shared.testing import eventually
from tests.kernel.bus_helpers import assert_once_and_in_order, stream_count, stream_messages
from tests.kernel.model import Counter, registry

ROOT = Path(__file__).resolve().parents[2]


async def increment(
    engine: AsyncEngine, store: EventStore, name: str, relay: OutboxRelay | None = None
) -> None:
    async with UnitOfWork(engine, store, registry, "kernel", on_commit=relay.wake if relay else None) as uow:
        counter = await uow.find(Counter, name) or Counter(name)
        counter.increment()
        await uow.save(counter)


async def all_event_ids(engine: AsyncEngine) -> set[str]:
    async with read_transaction(engine) as conn:
        return set((await conn.execute(select(events.c.event_id))).scalars())


async def outbox_size(engine: AsyncEngine) -> int:
    async with read_transaction(engine) as conn:
        return int((await conn.execute(select(func.count()).select_from(outbox))).scalar_one())


async def test_commands_go_on_while_nats_is_down_and_the_relay_catches_up(
    engine: AsyncEngine, nats_server: NatsServer
) -> None:
    await create_tables(engine, store_metadata)
    store = EventStore()
    bus = Bus(nats_server.url, "relay-test", ("kernel",))
    bus.start()
    relay = OutboxRelay(engine, bus, idle_poll=0.05, ack_timeout=1.0)
    relay.start()
    try:
        for i in range(10):
            await increment(engine, store, f"c{i % 3}", relay)
        await eventually(lambda: stream_count(nats_server.url, "IKMO_KERNEL"), timeout=10)
        await eventually(lambda: _equals(outbox_size(engine), 0))

        nats_server.stop()
        # The service keeps accepting commands while the bus is away.
        for i in range(10, 40):
            await increment(engine, store, f"c{i % 3}", relay)
        assert await outbox_size(engine) == 30

        nats_server.start()
        await eventually(lambda: _equals(outbox_size(engine), 0), timeout=30)
        assert_once_and_in_order(
            await stream_messages(nats_server.url, "IKMO_KERNEL"), await all_event_ids(engine)
        )
    finally:
        await relay.stop()
        await bus.close()


async def test_a_relay_killed_mid_batch_loses_nothing_and_its_duplicates_are_dropped(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'relay.sqlite3'}"
    engine = make_engine(url)
    await create_tables(engine, store_metadata)
    store = EventStore()
    total = 3000
    async with UnitOfWork(engine, store, registry, "kernel") as uow:
        for i in range(total // 3):
            counter = Counter(f"k{i}")
            for _ in range(3):
                counter.increment()
            await uow.save(counter)
    assert await outbox_size(engine) == total

    # One batch holds every row. The test holds SQLite's write lock meanwhile: the relay reads and publishes
    # (WAL readers are not blocked) but cannot delete what was acknowledged, so the kill comes in the middle
    # of the batch however fast the machine is (a race with the delete made this flaky when it was quick).
    lock = sqlite3.connect(tmp_path / "relay.sqlite3", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    worker = subprocess.Popen(  # noqa: ASYNC220 - a real process, so that it can be killed
        [sys.executable, "-m", "tests.kernel.relay_worker", url, nats_server.url, str(total)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        await eventually(lambda: _at_least(stream_count(nats_server.url, "IKMO_KERNEL"), 500), timeout=30)
    finally:
        worker.kill()
        worker.wait()
        lock.rollback()
        lock.close()
    published_before_kill = await stream_count(nats_server.url, "IKMO_KERNEL")
    assert published_before_kill > 0
    assert await outbox_size(engine) == total, "the kill came after the batch was acknowledged"

    bus = Bus(nats_server.url, "relay-restarted", ("kernel",))
    bus.start()
    relay = OutboxRelay(engine, bus, batch_size=500)
    try:
        await bus.ready.wait()
        assert await relay.publish_pending() == total  # republished whole; JetStream drops the duplicates
        assert await outbox_size(engine) == 0
        messages = await stream_messages(nats_server.url, "IKMO_KERNEL")
        assert len(messages) == total
        assert_once_and_in_order(messages, await all_event_ids(engine))
    finally:
        await bus.close()
        await engine.dispose()


async def test_messages_no_stream_takes_stay_in_the_outbox_until_one_does(
    engine: AsyncEngine, nats_server: NatsServer
) -> None:
    await create_tables(engine, store_metadata)
    store = EventStore()
    for i in range(5):
        await increment(engine, store, f"n{i % 2}")
    bus = Bus(nats_server.url, "no-stream-yet", ())  # declares no stream for ikmo.kernel.>
    bus.start()
    relay = OutboxRelay(engine, bus, batch_size=2)
    try:
        await bus.ready.wait()
        # The server answers 503 (no responders): nothing counts as published, nothing is deleted.
        with pytest.raises(RuntimeError, match="not acknowledged"):
            await relay.publish_pending()
        assert await outbox_size(engine) == 5
        assert relay.stats.published == 0 and relay.stats.failed >= 2

        assert bus.js is not None
        await ensure_stream(bus.js, "kernel")
        assert await relay.publish_pending() == 5
        assert await outbox_size(engine) == 0
        assert_once_and_in_order(
            await stream_messages(nats_server.url, "IKMO_KERNEL"), await all_event_ids(engine)
        )
    finally:
        await relay.stop()
        await bus.close()


async def test_a_relay_stopped_mid_pass_deletes_only_what_the_server_acknowledged(
    engine: AsyncEngine, nats_server: NatsServer
) -> None:
    await create_tables(engine, store_metadata)
    store = EventStore()
    async with UnitOfWork(engine, store, registry, "kernel") as uow:
        for i in range(1000):
            counter = Counter(f"s{i}")
            for _ in range(3):
                counter.increment()
            await uow.save(counter)
    bus = Bus(nats_server.url, "relay-stopped", ("kernel",))
    bus.start()
    relay = OutboxRelay(engine, bus, batch_size=100)
    relay.start()
    try:
        await eventually(lambda: _at_least(stream_count(nats_server.url, "IKMO_KERNEL"), 300), timeout=30)
        await relay.stop()  # most likely in the middle of a pass, with batches on the wire
        async with read_transaction(engine) as conn:
            left = set((await conn.execute(select(outbox.c.event_id))).scalars())
        published = {h["ce-id"] for h, _ in await stream_messages(nats_server.url, "IKMO_KERNEL")}
        assert (await all_event_ids(engine)) - left <= published, "a row was deleted but never stored"

        restarted = OutboxRelay(engine, bus, batch_size=100)
        await restarted.publish_pending()
        assert await outbox_size(engine) == 0
        assert_once_and_in_order(
            await stream_messages(nats_server.url, "IKMO_KERNEL"), await all_event_ids(engine)
        )
    finally:
        await relay.stop()
        await bus.close()


async def test_rows_written_under_an_older_schema_go_out_upcast_the_rest_as_stored(
    engine: AsyncEngine, nats_server: NatsServer
) -> None:
    """An outbox row is the finished message (ADR 0003), but one written before an upgrade goes out as the
    log reads it today (ADR 0014): data upcast, `ce-schemaversion` saying so, nothing else changed."""
    await create_tables(engine, store_metadata)
    store = EventStore()
    await increment(engine, store, "old")  # written as version 1: {"counter_id", "by"}
    async with read_transaction(engine) as conn:
        [(stored_headers, stored_payload)] = (
            await conn.execute(select(outbox.c.headers, outbox.c.payload))
        ).all()
    upcasters = Upcasters()

    @upcasters.register("ikmo.kernel.counter.incremented", 1)
    def amount_renamed(data: dict[str, object]) -> dict[str, object]:
        return {"counter_id": data["counter_id"], "amount": data["by"]}

    @upcasters.register("ikmo.kernel.counter.noted", 7)  # no row of this version: nothing to do
    def unused(data: dict[str, object]) -> dict[str, object]:
        raise AssertionError("never called")

    bus = Bus(nats_server.url, "relay-upcasting", ("kernel",))
    bus.start()
    try:
        await bus.ready.wait()
        assert await OutboxRelay(engine, bus, upcasters=upcasters).publish_pending() == 1
        [(headers, payload)] = await stream_messages(nats_server.url, "IKMO_KERNEL")
        assert json.loads(payload) == {"counter_id": "old", "amount": 1}
        assert headers["ce-schemaversion"] == "2"
        as_stored = json.loads(stored_headers)
        kept = ("Nats-Msg-Id", "ce-id", "ce-type", "ce-source", "ce-subject", "ce-time", "ce-sequence")
        assert as_stored["ce-schemaversion"] == "1"
        assert {k: headers[k] for k in kept} == {k: as_stored[k] for k in kept}

        await increment(engine, store, "current")
        assert await OutboxRelay(engine, bus).publish_pending() == 1  # no upcasters: exactly as stored
        [_, (headers, payload)] = await stream_messages(nats_server.url, "IKMO_KERNEL")
        assert headers["ce-schemaversion"] == "1" and json.loads(payload) == {
            "counter_id": "current",
            "by": 1,
        }
        assert json.loads(stored_payload) == {"counter_id": "old", "by": 1}
    finally:
        await bus.close()


@pytest.mark.parametrize(
    ("data", "headers", "error"),
    [
        (b'{"stream":"IKMO_KERNEL","seq":7}', None, None),
        (b'{"stream":"IKMO_KERNEL","seq":7,"duplicate":true}', None, None),  # the server has it already
        (b'{"stream":"error","seq":8}', None, None),
        (
            b'{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}}',
            None,
            "maximum messages exceeded",
        ),
        (b'{"error":{"code":400,"description":"x"},"seq":0}', None, "x"),
        (b"", {"Status": "503"}, "no stream takes this subject"),
        (b"not json", None, "unreadable answer"),
    ],
)
def test_only_a_puback_counts_as_stored(
    data: bytes, headers: dict[str, str] | None, error: str | None
) -> None:
    answer = Msg(None, subject="_INBOX.relay.x.7", data=data, headers=headers)  # type: ignore[arg-type]
    assert _ack_error(answer) == error


async def _equals(value, expected) -> bool:
    return (await value) == expected


async def _at_least(value, minimum) -> bool:
    return (await value) >= minimum
