"""The trace context of the request is stored with the event at append time and travels onto the bus."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
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
