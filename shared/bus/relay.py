"""The outbox relay: publishes committed outbox rows to JetStream and deletes what the server acknowledged.

- Pipelined: a batch is sent without waiting for each acknowledgement, and the next batch goes out while
  the previous one's acknowledgements come in (see `publish_pending`).
- Gap-safe: rows are deleted once acknowledged, never skipped by position, so a row that commits late is
  simply found by the next pass.
- Order per aggregate: rows go out in position order on one connection, and position order is version
  order within a stream (a stream's next event can only be appended after its previous one committed).
- Traced: each message gets a PRODUCER span, a child of the trace context stored with the event at append
  time, which lasts until the server's acknowledgement; the message carries that span's context, so the
  consumer's span hangs below it and one trace runs from the request to the other service's projection.
- At-least-once: a crash between publish and delete republishes; `Nats-Msg-Id` = event id lets JetStream
  drop the duplicate inside its window, and consumers are idempotent beyond it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from dataclasses import dataclass

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.bus.cloudevents import MSG_ID_HEADER
from shared.bus.connection import Bus
from shared.db import read_transaction, write_transaction
from shared.store.schema import outbox
from shared.telemetry import tracer

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
    ) -> None:
        self.engine = engine
        self.bus = bus
        self.batch_size = batch_size
        self.ack_timeout = ack_timeout
        self.idle_poll = idle_poll
        self.stats = RelayStats()
        self._tracer = tracer()  # a proxy until a provider is installed; looked up once, not per message
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

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
        from sqlalchemy import func

        async with read_transaction(self.engine) as conn:
            return int((await conn.execute(select(func.count()).select_from(outbox))).scalar_one())

    async def publish_pending(self) -> int:
        """Publish until the outbox is empty; returns how many went out. Raises if a batch failed.

        Two batches are on the wire at a time: while the server stores and acknowledges batch n, batch
        n + 1 is read and sent, and only then are n's acknowledgements collected and its rows deleted. So
        the connection never idles waiting for the database or for the last ack of a batch. Every read
        starts at the beginning of the outbox in position order (leaving out the rows on the wire), so a row
        that commits late is found by the next read, never skipped. Batches go out in order on one
        connection and the server handles them in that order, so when a publish fails, the ones after it on
        the connection fail too: what was acknowledged is always a prefix, and the rest is sent again, in
        order, on the next pass.
        """
        total = 0
        in_flight: deque[tuple[list[_Pending], list[asyncio.Future]]] = deque()  # type: ignore[type-arg]
        try:
            batch = await self._next_batch(frozenset())
            while batch or in_flight:
                if batch:
                    in_flight.append((batch, await self._send(batch)))
                # Rows on the wire (including the batch being settled: its delete may not have run when
                # the read does) are left out of the next read, which runs alongside the settling.
                on_wire = frozenset(p.position for sent, _ in in_flight for p in sent)
                if len(in_flight) > 1 or not batch:
                    sent, futures = in_flight.popleft()
                    settled, batch = await asyncio.gather(
                        self._settle(sent, futures), self._next_batch(on_wire)
                    )
                    total += settled
                else:
                    batch = await self._next_batch(on_wire)
            return total
        finally:
            # Stopping or failing: keep what the server acknowledged, leave the rest for the next pass.
            while in_flight:
                sent, futures = in_flight.popleft()
                with contextlib.suppress(Exception):
                    await self._settle(sent, futures, raise_on_loss=False)

    async def _settle(
        self,
        sent: list[_Pending],
        futures: list[asyncio.Future],  # type: ignore[type-arg]
        raise_on_loss: bool = True,
    ) -> int:
        """Collect a batch's acknowledgements, delete the acknowledged rows; how many were acknowledged."""
        acked = await self._acknowledged(sent, futures)
        if acked:
            await self._delete(acked)
        self.stats.batches += 1
        if len(acked) < len(sent):
            self.stats.failed += len(sent) - len(acked)
            if raise_on_loss:
                raise RuntimeError(f"{len(sent) - len(acked)} of {len(sent)} messages were not acknowledged")
        return len(acked)

    async def _next_batch(self, in_flight: frozenset[int]) -> list[_Pending]:
        """The first `batch_size` rows in position order, leaving out the batch whose delete is pending."""
        async with read_transaction(self.engine) as conn:
            rows = (
                await conn.execute(
                    select(outbox.c.position, outbox.c.subject, outbox.c.headers, outbox.c.payload)
                    .order_by(outbox.c.position)
                    .limit(self.batch_size + len(in_flight))
                )
            ).all()
        return [
            _Pending(position, subject, json.loads(headers), payload)
            for position, subject, headers, payload in rows
            if position not in in_flight
        ][: self.batch_size]

    async def _send(self, batch: list[_Pending]) -> list[asyncio.Future]:  # type: ignore[type-arg]
        js = self.bus.js
        assert js is not None
        futures: list[asyncio.Future] = []  # type: ignore[type-arg]
        # Without a tracing SDK installed there is nobody to record a span: skip the per-message work
        # (the stored traceparent still goes out, so traces continue from the append).
        traced = _tracing_enabled()
        try:
            for i, p in enumerate(batch, start=1):
                if not traced:
                    futures.append(await js.publish_async(p.subject, p.payload, headers=p.headers))
                    continue
                span, headers = _producer_span(self._tracer, p)
                try:
                    future = await js.publish_async(p.subject, p.payload, headers=headers)
                except BaseException:
                    span.end()
                    raise
                future.add_done_callback(lambda fut, span=span: _end_producer_span(span, fut))
                futures.append(future)
                if i % _YIELD_EVERY == 0:
                    # publish_async only buffers; yielding lets the flusher hand the server work now,
                    # so that the server stores while we are still encoding the rest of the batch.
                    await asyncio.sleep(0)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
        return futures

    async def _acknowledged(
        self,
        batch: list[_Pending],
        futures: list[asyncio.Future],  # type: ignore[type-arg]
    ) -> list[int]:
        """Positions whose publish the server acknowledged within ack_timeout; the rest is given up."""
        try:
            if futures:
                await asyncio.wait(futures, timeout=self.ack_timeout)
        finally:
            for fut in futures:
                if not fut.done():
                    fut.cancel()
        acked = [
            p.position
            for p, fut in zip(batch, futures, strict=True)
            if fut.done() and not fut.cancelled() and fut.exception() is None
        ]
        self.stats.published += len(acked)
        return acked

    async def _delete(self, positions: list[int]) -> None:
        async with write_transaction(self.engine) as conn:
            await conn.execute(delete(outbox).where(outbox.c.position.in_(positions)))


@dataclass(frozen=True, slots=True)
class _Pending:
    """One outbox row on its way out, headers already decoded."""

    position: int
    subject: str
    headers: dict[str, str]
    payload: bytes


def _tracing_enabled() -> bool:
    """True once an SDK tracer provider is installed (tests, or OTLP export configured)."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def _producer_span(tracer: trace.Tracer, p: _Pending) -> tuple[trace.Span, dict[str, str]]:
    """Start the message's PRODUCER span under the stored context; headers carry the span's own context."""
    span = tracer.start_span(
        f"publish {p.subject}",
        context=propagate.extract(p.headers),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "nats",
            "messaging.operation.type": "publish",
            "messaging.destination.name": p.subject,
            "messaging.message.id": p.headers.get(MSG_ID_HEADER, ""),
        },
    )
    if not span.is_recording():
        return span, p.headers  # no tracing configured: pass the stored context on unchanged
    headers = dict(p.headers)
    propagate.inject(headers, context=trace.set_span_in_context(span))
    return span, headers


def _end_producer_span(span: trace.Span, fut: asyncio.Future) -> None:  # type: ignore[type-arg]
    if fut.cancelled():
        span.set_status(Status(StatusCode.ERROR, "not acknowledged in time"))
    elif fut.exception() is not None:
        span.set_status(Status(StatusCode.ERROR, str(fut.exception())))
    span.end()


# Yield to the event loop every so many publishes while sending a batch (see OutboxRelay._send).
_YIELD_EVERY = 64
