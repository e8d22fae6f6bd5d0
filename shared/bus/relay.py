"""The outbox relay: publishes committed outbox rows to JetStream and deletes what the server acknowledged.

- Pipelined: reading the next batch, sending this one and settling earlier ones (collecting their
  acknowledgements, deleting their rows) run alongside each other (see `publish_pending`).
- Gap-safe: rows are deleted once acknowledged and every pass starts again at the top of the outbox, so
  a row that commits late is found by the next pass, never skipped.
- Order per aggregate: rows go out in position order on one connection, and position order is version
  order within a stream (a stream's next event can only be appended after its previous one committed).
- Traced: each message gets a PRODUCER span, a child of the trace context stored with the event at append
  time, which lasts until the server's acknowledgement; the message carries that span's context, so the
  consumer's span hangs below it and one trace runs from the request to the other service's projection.
- At-least-once: a crash between publish and delete republishes; `Nats-Msg-Id` = event id lets JetStream
  drop the duplicate inside its window, and consumers are idempotent beyond it.
- Current schemas only: a row written before an upgrade under a schema version an upcaster reads goes
  out upcast, as the log reads it today (docs/adr/0014); every other row goes out exactly as stored.

Acknowledgements come back on an inbox of the relay's own (`<inbox prefix>.relay.<id>.<position>`), not
through `js.publish_async`: the relay only needs "stored or not" per outbox position, and publish_async's
per-message future, random token and PubAck object cost about a third of the relay's CPU (bench/,
docs/PERFORMANCE.md). The protocol is JetStream's own: a publish with a reply subject is answered with a
PubAck or an error, or with status 503 when no stream takes the subject.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.bus import wire
from shared.bus.cloudevents import MSG_ID_HEADER, upcast_message
from shared.bus.connection import Bus
from shared.db import is_sqlite, read_transaction, write_transaction
from shared.store.schema import outbox
from shared.store.upcasting import Upcasters
from shared.telemetry import TRACER

log = logging.getLogger(__name__)


@dataclass
class RelayStats:
    published: int = 0
    failed: int = 0
    batches: int = 0


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        bus: Bus,
        batch_size: int = 500,
        ack_timeout: float = 5.0,
        idle_poll: float = 1.0,
        batches_in_flight: int = 4,
        tracer_provider: trace.TracerProvider | None = None,
        upcasters: Upcasters | None = None,
    ) -> None:
        self.engine = engine
        self.bus = bus
        self.upcasters = upcasters or Upcasters()
        self.batch_size = batch_size
        self.ack_timeout = ack_timeout
        self.idle_poll = idle_poll
        self.batches_in_flight = batches_in_flight
        self.stats = RelayStats()
        self._tracer_provider = tracer_provider  # None: the global one, as installed by then
        self._tracers: tuple[trace.TracerProvider, trace.Tracer | None] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._one_pass = asyncio.Lock()
        # Positions sent and not yet answered, each with the batch it went out in.
        self._awaiting: dict[int, _Batch] = {}
        self._acks: Subscription | None = None
        self._acks_on: Client | None = None
        self._ack_prefix = ""
        self._frames: wire.Frames | None = None

    def wake(self) -> None:
        """Called after a commit that queued rows, so they go out now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._acks is not None:
            with contextlib.suppress(Exception):
                await self._acks.unsubscribe()
            self._acks = self._acks_on = None

    async def run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self.bus.ready.wait()
                if not self.bus.connected:
                    await asyncio.sleep(0.2)
                    continue
                sent = await self.publish_pending()
                backoff = 0.1
                if sent == 0:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.idle_poll)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox relay: %s; retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def backlog(self) -> int:
        async with read_transaction(self.engine) as conn:
            return int((await conn.execute(select(func.count()).select_from(outbox))).scalar_one())

    async def publish_pending(self) -> int:
        """Publish until the outbox is empty; returns how many went out. Raises if a message was lost.

        One pass is a pipeline of three parts that wait for each other only when they must: the next
        batch is read while this one is sent, and a settler collects the acknowledgements of batches on
        the wire and deletes their rows while later batches go out. At most `batches_in_flight` batches
        are unsettled at a time, so the connection always has work and memory stays bounded.

        Within a pass, reads continue after the last row read. Every pass starts again at the top of the
        outbox, so a row that commits late with a lower position (which the append lock rules out, see
        docs/adr/0001, but the relay does not rely on that) is sent by the next pass, never skipped; and
        since an aggregate's next event can only be appended after the previous one committed, that row
        cannot have an aggregate successor that went out before it. Batches go out in order on one
        connection and the server handles them in that order, so when a publish fails, the ones after it
        on the connection fail too: what was acknowledged is a prefix, and the rest is sent again, in
        order, by the next pass.
        """
        async with self._one_pass:
            wire = _Wire()
            room = asyncio.Semaphore(self.batches_in_flight)
            settler = asyncio.create_task(self._settle(wire, room), name="outbox-relay-settle")
            reading = asyncio.ensure_future(self._next_batch(after=0))
            try:
                while True:
                    rows = await reading
                    if not rows:
                        break
                    reading = asyncio.ensure_future(self._next_batch(after=rows[-1][0]))
                    if not await _room_or_failure(room, settler) or wire.lost:
                        break  # the settler failed or saw a loss: send nothing more in this pass
                    wire.put(await self._send(rows))
            except BaseException:
                # Failing or stopped: still keep what the server acknowledged (the settler's own error
                # must not replace this one, least of all a cancellation).
                with contextlib.suppress(Exception):
                    await _wind_down(reading, wire, settler)
                raise
            published = await _wind_down(reading, wire, settler)
            if wire.lost:
                raise RuntimeError(f"{wire.lost} messages were not acknowledged; they stay in the outbox")
            return published

    async def _next_batch(self, after: int) -> list[_Row]:
        """The first `batch_size` rows after position `after`, in position order.

        Read through the driver: the rows go straight out, and SQLAlchemy's result processing would be
        most of the read's cost.
        """
        async with read_transaction(self.engine) as conn:
            driver = await _driver(conn)
            if is_sqlite(conn):
                return list(await driver.execute_fetchall(_READ_SQLITE, (after, self.batch_size)))
            return list(await driver.fetch(_READ_POSTGRES, after, self.batch_size))

    async def _send(self, rows: list[_Row]) -> _Batch:
        """Publish a batch without waiting for its answers, which `_on_ack` records as they come."""
        nc = self.bus.nc
        assert nc is not None
        frames = await self._ack_inbox(nc)
        producer = self._producer_tracer()
        batch = _Batch([row[0] for row in rows])
        for position in batch.positions:
            self._awaiting[position] = batch
        # As header values, so that a row's check is one set lookup (usually of an empty set).
        outdated = {(t, str(v)) for t, v in self.upcasters.outdated()}
        try:
            chunk: list[bytes] = []
            payload_bytes = 0
            for position, subject, stored_headers, payload in rows:
                headers = json.loads(stored_headers)
                if outdated and (headers.get("ce-type"), headers.get("ce-schemaversion")) in outdated:
                    headers, payload = upcast_message(self.upcasters, headers, payload)
                if producer is not None:
                    span, headers = _producer_span(producer, subject, headers)
                    batch.spans[position] = span
                chunk.append(frames.hpub(subject, position, headers, payload))
                payload_bytes += len(payload)
                if len(chunk) == _YIELD_EVERY:
                    await wire.send(nc, chunk, payload_bytes)
                    chunk, payload_bytes = [], 0
                    # send only buffers; yielding lets the flusher hand the server work now, so that
                    # the server stores while we are still encoding the rest of the batch.
                    await asyncio.sleep(0)
            if chunk:
                await wire.send(nc, chunk, payload_bytes)
        except BaseException:
            self._give_up(batch, "not sent")
            raise
        return batch

    def _producer_tracer(self) -> trace.Tracer | None:
        """The tracer for producer spans, or None without a tracing SDK: then nobody would record a
        span, so the per-message work is skipped (the stored traceparent still goes out, and traces
        continue from the append). Looked up once per provider, not per message."""
        provider = self._tracer_provider or trace.get_tracer_provider()
        if self._tracers is None or self._tracers[0] is not provider:
            sdk = not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)
            self._tracers = (provider, provider.get_tracer(TRACER) if sdk else None)
        return self._tracers[1]

    async def _ack_inbox(self, nc: Client) -> wire.Frames:
        """Frames replying to the relay's inbox, subscribed once per connection."""
        if self._acks is None or self._acks_on is not nc or self._frames is None:
            self._ack_prefix = f"{self.bus.inbox_prefix}.relay.{uuid.uuid4().hex}."
            self._acks = await nc.subscribe(f"{self._ack_prefix}*", cb=self._on_ack)
            self._acks_on = nc
            self._frames = wire.Frames(self._ack_prefix, nc.max_payload)
        return self._frames

    async def _on_ack(self, msg: Msg) -> None:
        """The server's answer to one publish: a PubAck, an error, or 503 when no stream took it."""
        try:
            position = int(msg.subject[len(self._ack_prefix) :])
        except ValueError:
            return
        batch = self._awaiting.pop(position, None)
        if batch is not None:  # else a late answer for a batch already given up: it goes out again
            batch.answer(position, _ack_error(msg))

    def _give_up(self, batch: _Batch, reason: str) -> None:
        """Count every unanswered message of the batch as failed; a later answer is ignored."""
        if batch.outstanding:
            for position in batch.positions:
                if self._awaiting.get(position) is batch:
                    del self._awaiting[position]
                    batch.answer(position, reason)

    async def _settle(self, wire: _Wire, room: asyncio.Semaphore) -> int:
        """Await each batch's answers in order and delete the acknowledged rows; return how many.

        Batches behind the first that are fully answered already are deleted in the same transaction,
        so a settler that falls behind catches up with fewer durable commits.
        """
        published = 0
        while (first := await wire.get()) is not None:
            group = [first, *wire.take_answered()]
            acked: list[int] = []
            for batch in group:
                if batch.outstanding:
                    await asyncio.wait([batch.answered], timeout=self.ack_timeout)
                    self._give_up(batch, "not acknowledged in time")
                acked += batch.acked
                lost = len(batch.positions) - len(batch.acked)
                wire.lost += lost
                self.stats.failed += lost
            self.stats.published += len(acked)
            try:
                if acked:
                    await self._delete(acked)
            finally:
                self.stats.batches += len(group)
                for _ in group:
                    room.release()
            published += len(acked)
        return published

    async def _delete(self, positions: list[int]) -> None:
        """Delete acknowledged rows by position, in one durable transaction (one statement on PostgreSQL).

        Never a range: a row that committed late inside the range was not read, so not sent.
        """
        async with write_transaction(self.engine) as conn:
            driver = await _driver(conn)
            if is_sqlite(conn):
                await driver.executemany(_DELETE_SQLITE, [(p,) for p in positions])
            else:
                await driver.execute(_DELETE_POSTGRES, positions)


# An outbox row as the driver returns it: (position, subject, headers as JSON, payload).
_Row = tuple[int, str, str, bytes]
_READ_SQLITE = (
    f"SELECT position, subject, headers, payload FROM {outbox.name} "
    "WHERE position > ? ORDER BY position LIMIT ?"
)
_READ_POSTGRES = (
    f"SELECT position, subject, headers, payload FROM {outbox.name} "
    "WHERE position > $1 ORDER BY position LIMIT $2"
)
_DELETE_SQLITE = f"DELETE FROM {outbox.name} WHERE position = ?"
_DELETE_POSTGRES = f"DELETE FROM {outbox.name} WHERE position = ANY($1::bigint[])"


async def _driver(conn: AsyncConnection) -> Any:
    """The driver's own connection (aiosqlite or asyncpg) under `conn`, inside `conn`'s transaction.

    On SQLite the transaction's BEGIN has been sent on it already (shared/db.py); asyncpg under
    SQLAlchemy opens its transaction only at SQLAlchemy's first statement, so a driver statement there
    is a transaction of its own, which for one statement is the same.
    """
    raw = await conn.get_raw_connection()
    return raw.driver_connection


class _Batch:
    """One batch on the wire: its positions, and what the server has answered for them so far."""

    __slots__ = ("acked", "answered", "outstanding", "positions", "spans")

    def __init__(self, positions: list[int]) -> None:
        self.positions = positions
        self.outstanding = len(positions)
        self.acked: list[int] = []
        self.answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.spans: dict[int, trace.Span] = {}
        if not positions:
            self.answered.set_result(None)

    def answer(self, position: int, error: str | None) -> None:
        if error is None:
            self.acked.append(position)
        span = self.spans.pop(position, None)
        if span is not None:
            if error is not None:
                span.set_status(Status(StatusCode.ERROR, error))
            span.end()
        self.outstanding -= 1
        if self.outstanding == 0 and not self.answered.done():
            self.answered.set_result(None)


class _Wire:
    """The batches sent and not yet settled, oldest first, handed from the sender to the settler."""

    def __init__(self) -> None:
        self._batches: deque[_Batch] = deque()
        self._changed = asyncio.Event()
        self._closed = False
        self.lost = 0  # messages the server did not acknowledge in this pass

    def put(self, batch: _Batch) -> None:
        self._batches.append(batch)
        self._changed.set()

    def close(self) -> None:
        """Nothing more will be sent in this pass; the settler ends after the batches on the wire."""
        self._closed = True
        self._changed.set()

    async def get(self) -> _Batch | None:
        while not self._batches:
            if self._closed:
                return None
            self._changed.clear()
            await self._changed.wait()
        return self._batches.popleft()

    def take_answered(self) -> list[_Batch]:
        """The oldest batches whose every message has been answered, taken off the wire."""
        taken = []
        while self._batches and not self._batches[0].outstanding:
            taken.append(self._batches.popleft())
        return taken


async def _wind_down(reading: asyncio.Future[list[_Row]], wire: _Wire, settler: asyncio.Task[int]) -> int:
    """End a pass: drop the read ahead, let the settler finish the batches on the wire; how many went out."""
    if not reading.done():
        reading.cancel()
    await asyncio.wait([reading])
    if not reading.cancelled():
        reading.exception()  # retrieved: a failed read ahead is moot once the pass ends
    wire.close()
    return await settler


async def _room_or_failure(room: asyncio.Semaphore, settler: asyncio.Task[int]) -> bool:
    """Wait for room for one more unsettled batch; False if the settler ended first (it failed)."""
    if settler.done():
        return False
    if not room.locked():
        await room.acquire()
        return True
    acquire = asyncio.ensure_future(room.acquire())
    await asyncio.wait({acquire, settler}, return_when=asyncio.FIRST_COMPLETED)
    if settler.done():
        acquire.cancel()
        return False
    return True


def _ack_error(msg: Msg) -> str | None:
    """None for a PubAck (a duplicate dropped by Nats-Msg-Id counts: the server has the message)."""
    if msg.headers and msg.headers.get("Status") == _NO_RESPONDERS:
        return "no stream takes this subject"
    if b'"seq":' in msg.data and b'"error"' not in msg.data:
        # {"stream":"IKMO_X","seq":7} (plus "duplicate" or "domain"): within JSON, these byte strings can
        # only be keys (a quote inside a string value is escaped), so parsing would say the same.
        return None
    try:
        reply = json.loads(msg.data)
    except ValueError:
        return "unreadable answer"
    if isinstance(reply, dict) and "seq" in reply and "error" not in reply:
        return None
    error = reply.get("error", reply) if isinstance(reply, dict) else reply
    return str(error.get("description", error) if isinstance(error, dict) else error)


def _producer_span(
    tracer: trace.Tracer, subject: str, headers: dict[str, str]
) -> tuple[trace.Span, dict[str, str]]:
    """Start the message's PRODUCER span under the stored context; headers carry the span's own context."""
    span = tracer.start_span(
        f"publish {subject}",
        context=propagate.extract(headers),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "nats",
            "messaging.operation.type": "publish",
            "messaging.operation.name": "publish",
            "messaging.destination.name": subject,
            "messaging.message.id": headers.get(MSG_ID_HEADER, ""),
        },
    )
    if not span.is_recording():
        return span, headers  # no tracing configured: pass the stored context on unchanged
    propagate.inject(headers, context=trace.set_span_in_context(span))  # a dict of this message's own
    return span, headers


# Yield to the event loop every so many publishes while sending a batch (see OutboxRelay._send).
_YIELD_EVERY = 64
_NO_RESPONDERS = "503"
