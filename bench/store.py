"""Store append rate against a raw INSERT of the same rows, on SQLite and (when reachable) PostgreSQL.

Why this baseline: a durable append can never be faster than durably inserting its rows. The raw side uses
the same engine (make_engine: WAL, synchronous=FULL, BEGIN IMMEDIATE on SQLite; the same pool on
PostgreSQL), the same `write_transaction` per command, the same table and the same row contents, but none
of the store's logic: no version check, no advisory lock, no RETURNING, no RecordedEvent objects, and rows
serialised before the clock starts. What the append costs beyond it is the store's own price.

A whole command through the UnitOfWork (load the aggregate, decide, append, write the outbox row, in one
transaction) is compared with the same statements written by hand: SELECT the stream, INSERT the event
row RETURNING its position, INSERT the outbox row, with every row and message prepared before the clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any, Protocol

from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.harness import Measurement, Settings, Trial, calibrate, compare
from bench.model import SERVICE, Application, bench_metadata, event_data, new_event, registry
from shared.bus.cloudevents import to_message
from shared.context import CommandContext, command_context
from shared.db import create_tables, make_engine, write_transaction
from shared.store.eventstore import EventMetadata, EventStore, NewEvent, RecordedEvent
from shared.store.schema import events, outbox, store_metadata
from shared.store.uow import UnitOfWork

POSTGRES_ENVS = ("IKMO_BENCH_POSTGRES_URL", "IKMO_TEST_POSTGRES_URL")
# CI's and this machine's PostgreSQL; used when neither variable is set, skipped when it does not answer.
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
STREAMS = 100  # commands go round-robin over this many aggregates, as a busy service's would
WARMUP = 30  # untimed commands at the start of every trial (pool, statement caches, first pages)
APPEND_TARGET = 0.60


class Target(Protocol):
    """A database the store runs on; every trial gets empty store tables."""

    label: str

    async def fresh_engine(self) -> AsyncEngine: ...
    async def release(self, engine: AsyncEngine) -> None: ...
    async def close(self) -> None: ...


class SqliteTarget:
    """A new database file per trial in a temporary folder, so no trial inherits another's free pages."""

    label = "SQLite"

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ikmo-bench-"))
        self._count = 0

    async def fresh_engine(self) -> AsyncEngine:
        self._count += 1
        engine = make_engine(f"sqlite+aiosqlite:///{self.folder / f'trial-{self._count}.sqlite3'}")
        await create_tables(engine, store_metadata)
        return engine

    async def release(self, engine: AsyncEngine) -> None:
        await engine.dispose()
        for path in self.folder.glob("trial-*"):
            path.unlink()

    async def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class PostgresTarget:
    """A schema of the benchmark's own, created at start, dropped at the end; tables truncated per trial."""

    label = "PostgreSQL"

    def __init__(self, url: str) -> None:
        self.url = url
        self.schema = f"bench_{uuid.uuid4().hex[:12]}"
        self.engine: AsyncEngine | None = None

    @classmethod
    async def connect(cls) -> PostgresTarget | None:
        url = next((os.environ[k] for k in POSTGRES_ENVS if os.environ.get(k)), DEFAULT_POSTGRES_URL)
        target = cls(url)
        try:
            await target._admin(f'CREATE SCHEMA "{target.schema}"')
        except Exception as exc:
            print(f"PostgreSQL at {make_url(url).render_as_string()} not reachable ({exc!r}): skipped")
            return None
        target.engine = make_engine(url, connect_args={"server_settings": {"search_path": target.schema}})
        await create_tables(target.engine, store_metadata)
        return target

    async def _admin(self, sql: str) -> None:
        engine = make_engine(self.url, connect_args={"timeout": 5})
        try:
            async with engine.begin() as conn:
                await conn.exec_driver_sql(sql)
        finally:
            await engine.dispose()

    async def fresh_engine(self) -> AsyncEngine:
        assert self.engine is not None
        async with self.engine.begin() as conn:
            await conn.execute(text("TRUNCATE events, outbox RESTART IDENTITY"))
        return self.engine

    async def release(self, engine: AsyncEngine) -> None:
        pass

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
        await self._admin(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


@dataclass(frozen=True)
class Command:
    """One command's append: the stream, the version it expects, its events, and the rows they become."""

    stream_id: str
    expected_version: int
    events: list[NewEvent]
    metadata: EventMetadata
    rows: list[dict[str, Any]]


def _dumps(value: Any) -> str:
    # The store's own serialisation, so both sides write byte-identical rows.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def plan(n: int, per_command: int) -> list[Command]:
    """n commands round-robin over STREAMS aggregates, each appending per_command events."""
    streams = [f"application-{uuid.uuid4()}" for _ in range(STREAMS)]
    versions = dict.fromkeys(streams, 0)
    commands = []
    for i in range(n):
        stream_id = streams[i % STREAMS]
        expected = versions[stream_id]
        new = [new_event(stream_id, i * per_command + j) for j in range(per_command)]
        meta = bench_metadata()
        meta_json = _dumps(meta.to_dict())
        now = datetime.now(UTC)
        rows = [
            {
                "event_id": str(e.event_id),
                "stream_id": stream_id,
                "version": expected + k,
                "type": e.type,
                "schema_version": e.schema_version,
                "data": _dumps(e.data),
                "metadata": meta_json,
                "recorded_at": now,
            }
            for k, e in enumerate(new, start=1)
        ]
        commands.append(Command(stream_id, expected, new, meta, rows))
        versions[stream_id] = expected + per_command
    return commands


async def _raw(engine: AsyncEngine, command: Command) -> None:
    async with write_transaction(engine) as conn:
        await conn.execute(insert(events), command.rows)


async def _append(engine: AsyncEngine, store: EventStore, command: Command) -> None:
    async with write_transaction(engine) as conn:
        await store.append(
            conn, command.stream_id, command.expected_version, command.events, command.metadata
        )


def raw_trial(target: Target, per_command: int) -> Trial:
    async def trial(n: int) -> float:
        engine = await target.fresh_engine()
        try:
            commands = plan(WARMUP + n, per_command)
            for command in commands[:WARMUP]:
                await _raw(engine, command)
            start = perf_counter()
            for command in commands[WARMUP:]:
                await _raw(engine, command)
            return perf_counter() - start
        finally:
            await target.release(engine)

    return trial


def append_trial(target: Target, per_command: int) -> Trial:
    async def trial(n: int) -> float:
        engine = await target.fresh_engine()
        store = EventStore()
        try:
            commands = plan(WARMUP + n, per_command)
            for command in commands[:WARMUP]:
                await _append(engine, store, command)
            start = perf_counter()
            for command in commands[WARMUP:]:
                await _append(engine, store, command)
            return perf_counter() - start
        finally:
            await target.release(engine)

    return trial


ACTOR = "user:tbb-sachbearbeitung-7"


@dataclass(frozen=True)
class HandWritten:
    """One command on a new aggregate, as rows and message prepared for the raw side."""

    application_id: str
    stream_id: str
    correlation_id: str
    event_row: dict[str, Any]
    outbox_row: dict[str, Any]


def plan_commands(n: int) -> list[HandWritten]:
    """n commands, each amending a new application once: what the unit of work will write, by hand."""
    commands = []
    for i in range(n):
        application_id = str(uuid.uuid4())
        stream_id = Application.stream_id_for(application_id)
        correlation_id = str(uuid.uuid4())
        meta = EventMetadata(correlation_id=correlation_id, actor=ACTOR)
        event = new_event(stream_id, i)
        data = event_data(application_id, i)
        now = datetime.now(UTC)
        recorded = RecordedEvent(event.event_id, stream_id, 1, 0, event.type, 1, data, meta, now)
        subject, headers, payload = to_message(SERVICE, recorded, data)
        commands.append(
            HandWritten(
                application_id,
                stream_id,
                correlation_id,
                {
                    "event_id": str(event.event_id),
                    "stream_id": stream_id,
                    "version": 1,
                    "type": event.type,
                    "schema_version": 1,
                    "data": _dumps(data),
                    "metadata": _dumps(meta.to_dict()),
                    "recorded_at": now,
                },
                {
                    "event_id": str(event.event_id),
                    "subject": subject,
                    "headers": json.dumps(headers),
                    "payload": payload,
                },
            )
        )
    return commands


async def _hand_written(engine: AsyncEngine, command: HandWritten) -> None:
    """The unit of work's statements without it: load the stream, insert the event, insert the outbox row."""
    async with write_transaction(engine) as conn:
        history = await conn.execute(
            select(events).where(events.c.stream_id == command.stream_id).order_by(events.c.version)
        )
        history.all()
        inserted = await conn.execute(insert(events).returning(events.c.position), command.event_row)
        await conn.execute(insert(outbox), {**command.outbox_row, "position": inserted.scalar_one()})


async def _command(engine: AsyncEngine, store: EventStore, command: HandWritten, i: int) -> None:
    """A whole service command on a new aggregate: load (finds nothing), decide, append + outbox row."""
    with command_context(CommandContext(actor=ACTOR, correlation_id=command.correlation_id)):
        async with UnitOfWork(engine, store, registry, SERVICE) as uow:
            application = await uow.find(Application, command.application_id) or Application(
                command.application_id
            )
            application.amend(i)
            await uow.save(application)


def hand_written_trial(target: Target) -> Trial:
    async def trial(n: int) -> float:
        engine = await target.fresh_engine()
        try:
            commands = plan_commands(WARMUP + n)
            for command in commands[:WARMUP]:
                await _hand_written(engine, command)
            start = perf_counter()
            for command in commands[WARMUP:]:
                await _hand_written(engine, command)
            return perf_counter() - start
        finally:
            await target.release(engine)

    return trial


def uow_trial(target: Target) -> Trial:
    async def trial(n: int) -> float:
        engine = await target.fresh_engine()
        store = EventStore()
        try:
            commands = plan_commands(WARMUP + n)
            for i, command in enumerate(commands[:WARMUP]):
                await _command(engine, store, command, i)
            start = perf_counter()
            for i, command in enumerate(commands[WARMUP:], start=WARMUP):
                await _command(engine, store, command, i)
            return perf_counter() - start
        finally:
            await target.release(engine)

    return trial


async def bench_target(target: Target, settings: Settings) -> list[Measurement]:
    """Single-event commands (raw, append, whole unit of work), then 10-event commands (raw, append)."""
    group = target.label
    n1 = await calibrate(raw_trial(target, 1), settings, probe=150, low=200, high=20_000)
    raw1 = Measurement(group, "raw INSERT, 1 event/tx", "tx/s", n1)
    app1 = Measurement(group, "store.append, 1 event/tx", "tx/s", n1, baseline=raw1, target=APPEND_TARGET)
    by_hand = Measurement(group, "raw command: SELECT + INSERT event + INSERT outbox", "tx/s", n1)
    uow1 = Measurement(group, "UnitOfWork command, 1 event + outbox row", "tx/s", n1, baseline=by_hand)
    await compare(
        [
            (raw1, raw_trial(target, 1)),
            (app1, append_trial(target, 1)),
            (by_hand, hand_written_trial(target)),
            (uow1, uow_trial(target)),
        ],
        settings,
    )
    n10 = await calibrate(raw_trial(target, 10), settings, probe=100, low=100, high=10_000)
    raw10 = Measurement(group, "raw INSERT, 10 events/tx", "tx/s", n10, events_per_op=10)
    app10 = Measurement(
        group,
        "store.append, 10 events/tx",
        "tx/s",
        n10,
        events_per_op=10,
        baseline=raw10,
        target=APPEND_TARGET,
    )
    await compare([(raw10, raw_trial(target, 10)), (app10, append_trial(target, 10))], settings)
    return [raw1, app1, raw10, app10, by_hand, uow1]


async def run(settings: Settings) -> list[Measurement]:
    results: list[Measurement] = []
    sqlite = SqliteTarget()
    try:
        results += await bench_target(sqlite, settings)
    finally:
        await sqlite.close()
    postgres = await PostgresTarget.connect()
    if postgres is not None:
        try:
            results += await bench_target(postgres, settings)
        finally:
            with contextlib.suppress(Exception):
                await postgres.close()
    return results
