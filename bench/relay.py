"""Relay rate against raw nats-py JetStream publishing of the same messages.

Why this baseline: the relay is a loop around `js.publish_async`; whatever it adds (reading the outbox,
decoding headers, deleting acknowledged rows in a durable transaction, waiting for a batch's acks before the
next) shows as the gap to publishing the same subjects, headers and payloads straight from memory on the
same connection. Every trial fills the outbox through the unit of work with new events (new ids, so
JetStream's duplicate window never drops one and makes a side look faster), and starts with a purged stream.
The nats-server is the wheel's, started here on free ports: never one that happens to be listening.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.harness import Measurement, Settings, Trial, calibrate, compare
from bench.model import SERVICE, Application, registry
from shared.bus.cloudevents import stream_name
from shared.bus.connection import Bus
from shared.bus.relay import OutboxRelay
from shared.db import create_tables, make_engine, read_transaction, write_transaction
from shared.platform.natsserver import NatsServer
from shared.store.eventstore import EventStore
from shared.store.schema import outbox, store_metadata
from shared.store.uow import UnitOfWork

RELAY_TARGET = 0.80
EVENTS_PER_AGGREGATE = 10
EVENTS_PER_FILL_TX = 500


@dataclass(frozen=True)
class Message:
    subject: str
    headers: dict[str, str]
    payload: bytes


class RelayBench:
    """A nats-server, a Bus on it, and a SQLite outbox that every trial fills anew."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ikmo-bench-relay-"))
        self.server = NatsServer(self.folder / "jetstream")
        self.engine: AsyncEngine = make_engine(f"sqlite+aiosqlite:///{self.folder / 'outbox.sqlite3'}")
        self.bus = Bus(self.server.url, "bench", (SERVICE,))
        self.store = EventStore()
        self._serial = 0

    async def start(self) -> None:
        self.server.start()
        await create_tables(self.engine, store_metadata)
        self.bus.start()
        await asyncio.wait_for(self.bus.ready.wait(), 15)

    async def close(self) -> None:
        await self.bus.close()
        await self.engine.dispose()
        self.server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    async def fill_outbox(self, n: int) -> None:
        """n new public events through the unit of work: outbox rows exactly as a service writes them."""
        done = 0
        while done < n:
            async with UnitOfWork(self.engine, self.store, registry, SERVICE) as uow:
                in_tx = min(EVENTS_PER_FILL_TX, n - done)
                while in_tx > 0:
                    self._serial += 1
                    application = Application(f"bench-{self._serial}")
                    for i in range(min(EVENTS_PER_AGGREGATE, in_tx)):
                        application.amend(i)
                    in_tx -= len(application.pending_events)
                    done += len(application.pending_events)
                    await uow.save(application)
        await self.checkpoint()

    async def checkpoint(self) -> None:
        """Move the fill's WAL frames into the database file now, untimed.

        Otherwise SQLite's automatic checkpoint (every 1000 WAL pages) would copy and fsync the fill's
        pages during whichever timed phase commits next: cost of the writer, charged to the relay.
        """
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def take_messages(self, n: int) -> list[Message]:
        """Fill the outbox, then take its rows out (unpublished) as the raw side's messages."""
        await self.fill_outbox(n)
        async with read_transaction(self.engine) as conn:
            rows = (await conn.execute(select(outbox).order_by(outbox.c.position))).all()
        async with write_transaction(self.engine) as conn:
            await conn.execute(delete(outbox))
        await self.checkpoint()
        return [Message(r.subject, json.loads(r.headers), r.payload) for r in rows]

    async def purge(self) -> None:
        assert self.bus.js is not None
        await self.bus.js.purge_stream(stream_name(SERVICE))

    def one_by_one(self) -> Trial:
        async def trial(n: int) -> float:
            messages = await self.take_messages(n)
            await self.purge()
            js = self.bus.js
            assert js is not None
            start = perf_counter()
            for m in messages:
                await js.publish(m.subject, m.payload, headers=m.headers)
            return perf_counter() - start

        return trial

    def pipelined(self) -> Trial:
        async def trial(n: int) -> float:
            messages = await self.take_messages(n)
            await self.purge()
            js = self.bus.js
            assert js is not None
            start = perf_counter()
            futures = [await js.publish_async(m.subject, m.payload, headers=m.headers) for m in messages]
            await asyncio.gather(*futures)
            return perf_counter() - start

        return trial

    def relay(self) -> Trial:
        async def trial(n: int) -> float:
            await self.fill_outbox(n)
            await self.purge()
            relay = OutboxRelay(self.engine, self.bus)
            start = perf_counter()
            sent = await relay.publish_pending()
            elapsed = perf_counter() - start
            if sent != n:
                raise RuntimeError(f"the relay published {sent} of {n}")
            return elapsed

        return trial


async def run(settings: Settings) -> list[Measurement]:
    bench = RelayBench()
    await bench.start()
    try:
        group = "NATS JetStream"
        n_seq = await calibrate(bench.one_by_one(), settings, probe=500, low=500, high=50_000)
        n_pipe = await calibrate(bench.pipelined(), settings, probe=2000, low=2000, high=200_000)
        pipelined = Measurement(group, "raw js.publish_async pipelined, await all", "msg/s", n_pipe)
        relay = Measurement(
            group, "OutboxRelay.publish_pending (SQLite outbox)", "msg/s", n_pipe, baseline=pipelined,
            target=RELAY_TARGET,
        )  # fmt: skip
        one_by_one = Measurement(
            group, "raw await js.publish, one by one", "msg/s", n_seq, baseline=pipelined
        )
        await compare([(pipelined, bench.pipelined()), (relay, bench.relay())], settings)
        await compare([(one_by_one, bench.one_by_one())], settings)
        return [one_by_one, pipelined, relay]
    finally:
        await bench.close()
