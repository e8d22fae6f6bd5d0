"""Consumers against a real nats-server: redelivery changes nothing, poison goes to the dead-letter stream."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.bus.cloudevents import ReceivedEvent
from shared.bus.connection import DLQ_STREAM, Bus, ensure_stream
from shared.bus.consumer import Consumer, ConsumerSpec
from shared.db import create_tables, read_transaction
from shared.platform.natsserver import NatsServer
from shared.store.schema import store_metadata
from shared.testing import eventually
from tests.kernel.bus_helpers import stream_messages

effects_md = MetaData()
effects = Table(
    "effects",
    effects_md,
    Column("n", Integer, primary_key=True),
    Column("event_id", String(36)),
    Column("by", Integer),
)


async def record_effect(conn: AsyncConnection, event: ReceivedEvent) -> None:
    if event.data.get("poison"):
        raise ValueError("this message can never be handled")
    await conn.execute(insert(effects).values(event_id=event.id, by=event.data["by"]))


async def publish(js: JetStreamContext, event_id: str, data: dict, msg_id: str | None = None) -> None:
    headers = {
        "Nats-Msg-Id": msg_id or event_id,
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": "/ikmo/kernel",
        "ce-type": "ikmo.kernel.counter.incremented",
        "ce-subject": "c",
        "ce-time": datetime.now(UTC).isoformat(),
    }
    await js.publish("ikmo.kernel.counter.incremented", json.dumps(data).encode(), headers=headers)


@pytest.fixture
async def setup(engine: AsyncEngine, nats_server: NatsServer):
    await create_tables(engine, store_metadata, effects_md)
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_stream(js, "kernel")
    bus = Bus(nats_server.url, "consumer-test", ())
    bus.start()
    await bus.ready.wait()
    yield engine, js, bus
    await bus.close()
    await nc.close()


async def effect_rows(engine: AsyncEngine) -> list[tuple[str, int]]:
    async with read_transaction(engine) as conn:
        return [
            tuple(r)
            for r in (await conn.execute(select(effects.c.event_id, effects.c.by).order_by(effects.c.n)))
        ]


async def test_a_message_delivered_twice_changes_nothing(setup) -> None:
    engine, js, bus = setup
    consumer = Consumer(
        ConsumerSpec("reporting-kernel", "IKMO_KERNEL", ["ikmo.kernel.>"], record_effect, ack_wait=1.0),
        engine,
        bus,
    )
    consumer.start()
    try:
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        await publish(js, first, {"by": 1})
        # The same event again under another message id, as after a relay crash beyond the dedup window.
        await publish(js, first, {"by": 1}, msg_id=f"{first}-again")
        await publish(js, second, {"by": 2})
        await eventually(lambda: consumer.stats.processed + consumer.stats.duplicates == 3)
        assert await effect_rows(engine) == [(first, 1), (second, 2)]
        assert consumer.stats.duplicates == 1
    finally:
        await consumer.stop()

    # A restarted consumer with the same durable name resumes after what it acknowledged. Should the old
    # one's last pull request have taken the next message, ack_wait brings it back: short here.
    again = Consumer(
        ConsumerSpec("reporting-kernel", "IKMO_KERNEL", ["ikmo.kernel.>"], record_effect, ack_wait=1.0),
        engine,
        bus,
    )
    again.start()
    try:
        third = str(uuid.uuid4())
        await publish(js, third, {"by": 3})
        await eventually(lambda: again.stats.processed == 1)
        assert [r[0] for r in await effect_rows(engine)] == [first, second, third]
    finally:
        await again.stop()


async def test_a_failing_message_ends_in_the_dead_letter_stream_and_later_ones_are_processed(
    setup,
    nats_server: NatsServer,
) -> None:
    engine, js, bus = setup
    spec = ConsumerSpec(
        "reporting-kernel",
        "IKMO_KERNEL",
        ["ikmo.kernel.>"],
        record_effect,
        max_deliver=3,
        backoff=(0.05, 0.1),
    )
    consumer = Consumer(spec, engine, bus)
    consumer.start()
    try:
        ok1, bad, ok2 = (str(uuid.uuid4()) for _ in range(3))
        await publish(js, ok1, {"by": 1})
        await publish(js, bad, {"by": 0, "poison": True})
        await publish(js, ok2, {"by": 2})
        await eventually(lambda: consumer.stats.dead_lettered == 1)
        await eventually(lambda: consumer.stats.processed == 2)
        assert [r[0] for r in await effect_rows(engine)] == [ok1, ok2]
        assert consumer.stats.retried == 2  # attempts 1 and 2 were retried, attempt 3 gave up

        dead = await stream_messages(nats_server.url, DLQ_STREAM)
        assert len(dead) == 1
        headers, payload = dead[0]
        assert headers["ce-id"] == bad
        assert headers["ikmo-dlq-consumer"] == "reporting-kernel"
        assert headers["ikmo-dlq-deliveries"] == "3"
        assert "can never be handled" in headers["ikmo-dlq-reason"]
        assert json.loads(payload) == {"by": 0, "poison": True}

        # Nothing is left pending for the durable consumer: the poison message was acknowledged after copying.
        info = await js.consumer_info("IKMO_KERNEL", "reporting-kernel")
        await eventually(lambda: _no_pending(js))
        assert info.config.durable_name == "reporting-kernel"
    finally:
        await consumer.stop()


async def test_an_undecodable_message_is_dead_lettered_at_once(setup, nats_server: NatsServer) -> None:
    engine, js, bus = setup
    consumer = Consumer(
        ConsumerSpec("reporting-kernel", "IKMO_KERNEL", ["ikmo.kernel.>"], record_effect), engine, bus
    )
    consumer.start()
    try:
        await js.publish("ikmo.kernel.counter.incremented", b"not a cloudevent", headers={"x": "y"})
        await eventually(lambda: consumer.stats.dead_lettered == 1)
        dead = await stream_messages(nats_server.url, DLQ_STREAM)
        assert "not a CloudEvent" in dead[0][0]["ikmo-dlq-reason"]
        async with read_transaction(engine) as conn:
            assert (await conn.execute(select(func.count()).select_from(effects))).scalar_one() == 0
    finally:
        await consumer.stop()


async def _no_pending(js: JetStreamContext) -> bool:
    info = await js.consumer_info("IKMO_KERNEL", "reporting-kernel")
    return info.num_ack_pending == 0 and info.num_pending == 0
