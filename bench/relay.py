"""Relay rate against raw nats-py JetStream publishing of the same messages.

Why these baselines: the relay reads the outbox, publishes every row to JetStream, waits for the server's
acknowledgements and deletes the acknowledged rows in a durable transaction. The raw sides publish the
very same subjects, headers and payloads straight from memory on the same connection, with no database
at all:
- `await js.publish` one by one: the naive way, one round trip per message;
- `js.publish_async` for all, then await every acknowledgement: nats-py's pipelined way, the target's
  baseline;
- the relay's own way of publishing (shared/bus/wire.py): each message's HPUB frame built in the timed
  part, with a reply subject per message, runs of frames handed to the connection at once, answers
  counted on one inbox subscription. The relay against this line is the price of the outbox alone.

The relay does not use `js.publish_async`: it builds its frames itself, which saves nats-py's per-message
header encoding, future and PubAck object; that is part of what is measured against the baseline.

Every trial fills an outbox through the unit of work with new events (new ids, so JetStream's duplicate
window never drops one and makes a side look faster) in a fresh database, untimed, and starts with a
purged stream. The nats-server is the wheel's, started here on free ports: never one that happens to be
listening.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.harness import Measurement, Settings, Trial, calibrate, compare
from bench.model import SERVICE, Application, registry
from bench.store import PostgresTarget, SqliteTarget, Target
from shared.bus import wire
from shared.bus.cloudevents import stream_name
from shared.bus.connection import Bus
from shared.bus.relay import OutboxRelay
from shared.context import CommandContext, command_context
from shared.db import read_transaction, write_transaction
from shared.platform.natsserver import NatsServer
from shared.store.eventstore import EventStore
from shared.store.schema import outbox
from shared.store.uow import UnitOfWork

RELAY_TARGET = 0.80
EVENTS_PER_AGGREGATE = 10
AGGREGATES_PER_FILL_TX = 50
YIELD_EVERY = 64  # as the relay does: let the flusher write while the rest is still being encoded


@dataclass(frozen=True)
class Message:
    subject: str
    headers: dict[str, str]
    payload: bytes


class _Discard(SpanExporter):
    """Spans go through a BatchSpanProcessor as with OTLP export, and are then dropped."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


async def fill_outbox(engine: AsyncEngine, n: int, provider: TracerProvider | None = None) -> None:
    """n new public events through the unit of work: outbox rows exactly as a service writes them.

    Each command runs in a command context (actor, correlation id) as an HTTP request would; with a
    tracer provider, also inside a request span, so the rows carry a traceparent for the relay to continue.
    """
    store = EventStore()
    request_tracer = provider.get_tracer("bench") if provider else None
    done, serial = 0, 0
    while done < n:
        async with UnitOfWork(engine, store, registry, SERVICE) as uow:
            for _ in range(AGGREGATES_PER_FILL_TX):
                if done >= n:
                    break
                serial += 1
                application = Application(f"bench-{uuid.uuid4()}")
                for i in range(min(EVENTS_PER_AGGREGATE, n - done)):
                    application.amend(i)
                done += len(application.pending_events)
                with command_context(CommandContext(actor="user:bench", correlation_id=str(serial))):
                    if request_tracer is None:
                        await uow.save(application)
                    else:
                        with request_tracer.start_as_current_span("POST /applications"):
                            await uow.save(application)
    if engine.dialect.name == "sqlite":
        # Move the fill's WAL frames into the database file now, untimed. Otherwise SQLite's automatic
        # checkpoint (every 1000 WAL pages) would copy and fsync the fill's pages during whichever timed
        # phase commits next: cost of the writer, charged to the relay.
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


class RelayBench:
    """A nats-server, a Bus on it, and the databases whose outboxes the trials fill anew."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ikmo-bench-relay-"))
        self.server = NatsServer(self.folder / "jetstream")
        self.bus = Bus(self.server.url, "bench", (SERVICE,))
        self.sqlite = SqliteTarget()

    async def start(self) -> None:
        self.server.start()
        self.bus.start()
        await asyncio.wait_for(self.bus.ready.wait(), 15)

    async def close(self) -> None:
        await self.bus.close()
        self.server.stop()
        await self.sqlite.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    async def take_messages(self, n: int) -> list[Message]:
        """Fill an outbox, then take its rows out (unpublished) as the raw sides' messages."""
        engine = await self.sqlite.fresh_engine()
        try:
            await fill_outbox(engine, n)
            async with read_transaction(engine) as conn:
                rows = (await conn.execute(select(outbox).order_by(outbox.c.position))).all()
            async with write_transaction(engine) as conn:
                await conn.execute(delete(outbox))
        finally:
            await self.sqlite.release(engine)
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

    def reply_inbox(self) -> Trial:
        """Frames with a reply subject per message, as the relay sends them; PubAcks counted on one inbox."""

        async def trial(n: int) -> float:
            messages = await self.take_messages(n)
            await self.purge()
            nc = self.bus.nc
            assert nc is not None
            prefix = f"{self.bus.inbox_prefix}.bench.{uuid.uuid4().hex}."
            all_answered = asyncio.get_running_loop().create_future()
            answers: dict[str, int] = {"ok": 0, "failed": 0}

            async def on_answer(msg) -> None:
                stored = b'"seq":' in msg.data and b'"error"' not in msg.data  # the relay's test
                answers["ok" if stored else "failed"] += 1
                if answers["ok"] + answers["failed"] == len(messages):
                    all_answered.set_result(None)

            subscription = await nc.subscribe(f"{prefix}*", cb=on_answer)
            try:
                start = perf_counter()
                frames = wire.Frames(prefix, nc.max_payload)
                chunk: list[bytes] = []
                payload_bytes = 0
                for i, m in enumerate(messages, start=1):
                    chunk.append(frames.hpub(m.subject, i, m.headers, m.payload))
                    payload_bytes += len(m.payload)
                    if len(chunk) == YIELD_EVERY:
                        await wire.send(nc, chunk, payload_bytes)
                        chunk, payload_bytes = [], 0
                        await asyncio.sleep(0)
                if chunk:
                    await wire.send(nc, chunk, payload_bytes)
                await all_answered
                elapsed = perf_counter() - start
            finally:
                await subscription.unsubscribe()
            if answers["failed"]:
                raise RuntimeError(f"{answers['failed']} of {n} publishes were refused")
            return elapsed

        return trial

    def relay(self, target: Target, traced: bool = False) -> Trial:
        async def trial(n: int) -> float:
            engine = await target.fresh_engine()
            provider = None
            if traced:
                provider = TracerProvider()
                provider.add_span_processor(BatchSpanProcessor(_Discard()))
            try:
                await fill_outbox(engine, n, provider)
                await self.purge()
                relay = OutboxRelay(engine, self.bus, tracer_provider=provider)
                start = perf_counter()
                sent = await relay.publish_pending()
                elapsed = perf_counter() - start
                await relay.stop()
            finally:
                await target.release(engine)
                if provider is not None:
                    provider.shutdown()
            if sent != n:
                raise RuntimeError(f"the relay published {sent} of {n}")
            return elapsed

        return trial


async def run(settings: Settings) -> list[Measurement]:
    bench = RelayBench()
    await bench.start()
    postgres = await PostgresTarget.connect()
    try:
        group = "NATS JetStream"
        n_seq = await calibrate(bench.one_by_one(), settings, probe=500, low=500, high=50_000)
        n_pipe = await calibrate(bench.pipelined(), settings, probe=2000, low=2000, high=200_000)
        pipelined = Measurement(group, "raw js.publish_async pipelined, await all", "msg/s", n_pipe)
        one_by_one = Measurement(
            group, "raw await js.publish, one by one", "msg/s", n_seq, baseline=pipelined
        )
        reply_inbox = Measurement(
            group, "raw frames + reply inbox (the relay's way)", "msg/s", n_pipe, baseline=pipelined
        )
        relay = Measurement(
            group, "OutboxRelay, SQLite outbox", "msg/s", n_pipe, baseline=pipelined, target=RELAY_TARGET
        )
        # The same figures against the relay's own way of publishing: what the outbox itself costs.
        relay_vs_own_way = Measurement(
            group, "  the same, against the relay's way", "msg/s", n_pipe, rates=relay.rates,
            baseline=reply_inbox, paired=True,
        )  # fmt: skip
        traced = Measurement(
            group, "OutboxRelay, SQLite, a span per message", "msg/s", n_pipe, baseline=pipelined
        )
        trials: list[tuple[Measurement, Trial]] = [
            (pipelined, bench.pipelined()),
            (reply_inbox, bench.reply_inbox()),
            (relay, bench.relay(bench.sqlite)),
            (traced, bench.relay(bench.sqlite, traced=True)),
        ]
        results = [one_by_one, pipelined, reply_inbox, relay, relay_vs_own_way, traced]
        if postgres is not None:
            on_postgres = Measurement(
                group, "OutboxRelay, PostgreSQL outbox", "msg/s", n_pipe, baseline=pipelined,
                target=RELAY_TARGET,
            )  # fmt: skip
            trials.append((on_postgres, bench.relay(postgres)))
            results.append(on_postgres)
        await compare(trials, settings)
        await compare([(one_by_one, bench.one_by_one())], settings)
        return results
    finally:
        await bench.close()
        if postgres is not None:
            await postgres.close()
