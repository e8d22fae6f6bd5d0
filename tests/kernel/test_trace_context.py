"""The trace context of the request is stored with the event at append time and travels onto the bus,
where the relay publishes each message in a PRODUCER span under it."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.bus.connection import Bus
from shared.bus.relay import OutboxRelay
from shared.context import CommandContext, command_context
from shared.db import create_tables, read_transaction
from shared.platform.natsserver import NatsServer
from shared.store import EventStore
from shared.store.schema import store_metadata
from shared.store.uow import UnitOfWork
from tests.kernel.bus_helpers import stream_messages
from tests.kernel.model import Counter, registry


async def test_traceparent_and_actor_are_stored_and_published(
    engine: AsyncEngine, nats_server: NatsServer
) -> None:
    await create_tables(engine, store_metadata)
    store = EventStore()
    tracer = TracerProvider().get_tracer("test")
    with (
        tracer.start_as_current_span("POST /counters") as span,
        command_context(CommandContext(actor="staff:via:anna", correlation_id="corr-42")),
    ):
        async with UnitOfWork(engine, store, registry, "kernel") as uow:
            counter = Counter("t")
            counter.increment()
            await uow.save(counter)
    ctx = span.get_span_context()
    trace_id = f"{ctx.trace_id:032x}"

    async with read_transaction(engine) as conn:
        [event] = await store.load(conn, "counter-t")
    assert event.metadata.actor == "staff:via:anna"
    assert event.metadata.correlation_id == "corr-42"
    # The stored context belongs to the request's trace (its span is the request's or the append's, a child).
    assert event.metadata.traceparent is not None
    assert event.metadata.traceparent.split("-")[1] == trace_id

    # The relay runs later, outside the request and its span: the stored context is what continues.
    bus = Bus(nats_server.url, "trace-test", ("kernel",))
    bus.start()
    await bus.ready.wait()
    try:
        assert await OutboxRelay(engine, bus).publish_pending() == 1
    finally:
        await bus.close()
    [(headers, _)] = await stream_messages(nats_server.url, "IKMO_KERNEL")
    assert headers["traceparent"].split("-")[1] == trace_id
    assert headers["ce-correlationid"] == "corr-42"
    assert "staff:via:anna" not in str(headers)  # who acted stays in the service's own log


def _recording_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    """A provider of the test's own (not the process-wide one), handed to the relay."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_each_message_is_published_in_a_producer_span_that_the_message_carries(
    engine: AsyncEngine, nats_server: NatsServer
) -> None:
    await create_tables(engine, store_metadata)
    store = EventStore()
    provider, exporter = _recording_provider()
    with provider.get_tracer("test").start_as_current_span("POST /counters"):
        async with UnitOfWork(engine, store, registry, "kernel") as uow:
            counter = Counter("p")
            counter.increment()
            counter.increment()
            await uow.save(counter)
    async with read_transaction(engine) as conn:
        stored = {str(e.event_id): e.metadata.traceparent for e in await store.load(conn, "counter-p")}

    bus = Bus(nats_server.url, "producer-spans", ("kernel",))
    bus.start()
    await bus.ready.wait()
    try:
        assert await OutboxRelay(engine, bus, tracer_provider=provider).publish_pending() == 2
    finally:
        await bus.close()

    producers = {
        s.attributes["messaging.message.id"]: s
        for s in exporter.get_finished_spans()
        if s.kind == SpanKind.PRODUCER and s.attributes
    }
    assert set(producers) == set(stored)
    for headers, _ in await stream_messages(nats_server.url, "IKMO_KERNEL"):
        event_id = headers["Nats-Msg-Id"]
        span, parent = producers[event_id], stored[event_id]
        assert parent is not None
        _, trace_id, parent_id, _ = parent.split("-")
        assert span.name == "publish ikmo.kernel.counter.incremented"
        # A child of the context stored at append time, in the request's trace ...
        assert span.parent is not None
        assert (f"{span.parent.trace_id:032x}", f"{span.parent.span_id:016x}") == (trace_id, parent_id)
        assert f"{span.context.trace_id:032x}" == trace_id
        # ... and the message carries the producer span itself, so a consumer's span becomes its child.
        _, carried_trace, carried_span, flags = headers["traceparent"].split("-")
        assert (carried_trace, carried_span) == (trace_id, f"{span.context.span_id:016x}")
        assert int(flags, 16) & 0x01  # sampled
        assert dict(span.attributes or {}) == {
            "messaging.system": "nats",
            "messaging.operation.type": "publish",
            "messaging.operation.name": "publish",
            "messaging.destination.name": "ikmo.kernel.counter.incremented",
            "messaging.message.id": event_id,
        }
        assert span.status.status_code == StatusCode.UNSET


async def test_a_publish_no_stream_acknowledges_ends_its_producer_span_as_an_error(
    engine: AsyncEngine, nats_server: NatsServer
) -> None:
    await create_tables(engine, store_metadata)
    store = EventStore()
    async with UnitOfWork(engine, store, registry, "kernel") as uow:
        counter = Counter("e")
        counter.increment()
        await uow.save(counter)
    provider, exporter = _recording_provider()
    bus = Bus(nats_server.url, "producer-error", ())  # no stream takes ikmo.kernel.>
    bus.start()
    await bus.ready.wait()
    try:
        with pytest.raises(RuntimeError):
            await OutboxRelay(engine, bus, tracer_provider=provider).publish_pending()
    finally:
        await bus.close()
    [span] = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.PRODUCER]
    assert span.status.status_code == StatusCode.ERROR
    assert span.status.description == "no stream takes this subject"
