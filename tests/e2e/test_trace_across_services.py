"""One trace runs from an HTTP request in the directory to the projection update in another service:
request -> append -> the relay's publish -> the other service's consumer -> its projection.

The second service is a small stand-in (the events service follows in its own issue): it replicates
organisations from the directory's events through a durable consumer, as the real consumers will.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.directory.app import build_app
from shared.auth.principal import Role
from shared.bus.cloudevents import ReceivedEvent
from shared.bus.consumer import ConsumerSpec
from shared.db import read_transaction
from shared.domain import EventRegistry
from shared.platform.natsserver import NatsServer
from shared.service import ServiceDefinition, create_app
from shared.settings import Settings
from shared.telemetry import tracer
from shared.testing import Tokens, eventually

replica_md = MetaData()
known = Table(
    "known_organisations", replica_md, Column("id", String(36), primary_key=True), Column("name", String)
)


class KnownOrganisations:
    """The stand-in's read model of the directory's organisations."""

    name = "known_organisations"
    metadata = replica_md

    async def apply(
        self, conn: AsyncConnection, event: object
    ) -> None:  # inline: it has no events of its own
        return None


async def replicate(conn: AsyncConnection, event: ReceivedEvent) -> None:
    with tracer().start_as_current_span("project known_organisations"):
        await conn.execute(
            insert(known)
            .values(id=event.data["organisation_id"], name=event.data["name"])
            .on_conflict_do_nothing()
        )


replica = ServiceDefinition(
    name="events",
    title="stand-in consumer",
    registry=EventRegistry(),
    projections=[KnownOrganisations()],
    consumers=[
        ConsumerSpec(
            "events-directory", "IKMO_DIRECTORY", ["ikmo.directory.organisation.registered"], replicate
        )
    ],
)


async def test_one_trace_from_a_request_to_a_projection_in_another_service(
    tmp_path: Path, nats_server: NatsServer, tokens: Tokens, spans: InMemorySpanExporter
) -> None:
    settings = Settings(data_dir=tmp_path, nats_url=nats_server.url)
    directory = build_app(settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'directory.sqlite3'}")
    consumer = create_app(
        replica, settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'events.sqlite3'}"
    )
    transport = httpx.ASGITransport(app=directory)
    async with (
        directory.router.lifespan_context(directory),
        consumer.router.lifespan_context(consumer),
        httpx.AsyncClient(
            transport=transport, base_url="http://d", headers=tokens.headers(Role.TBB)
        ) as client,
    ):
        created = await client.post(
            "/organisations",
            json={"name": "Yaar e.V.", "kind": "mo", "legal_form": "e_v", "districts": ["neukoelln"]},
        )
        assert created.status_code == 201
        engine = consumer.state.runtime.engine

        async def replicated() -> bool:
            async with read_transaction(engine) as conn:
                return (await conn.execute(select(known.c.name))).scalars().all() == ["Yaar e.V."]

        await eventually(replicated)

    finished = spans.get_finished_spans()
    request = next(s for s in finished if s.kind == SpanKind.SERVER and s.name == "POST /organisations")
    trace_id = request.context.trace_id
    in_trace = {s.name: s for s in finished if s.context.trace_id == trace_id}
    assert {
        "POST /organisations",
        "append Organisation",
        "publish ikmo.directory.organisation.registered",
        "process ikmo.directory.organisation.registered",
        "project known_organisations",
    } <= set(in_trace)
    publish = in_trace["publish ikmo.directory.organisation.registered"]
    assert publish.kind == SpanKind.PRODUCER
    subject = "ikmo.directory.organisation.registered"
    assert (publish.attributes or {}).get("messaging.destination.name") == subject
    assert in_trace["process ikmo.directory.organisation.registered"].kind == SpanKind.CONSUMER
    # Not only the same trace id: an unbroken chain of parents from the projection up to the request. The
    # consumer's parent is the relay's producer span (the message carried its context), whose parent is
    # the append (the context stored with the event), which ran inside the request.
    by_id = {s.context.span_id: s for s in in_trace.values()}
    chain, span = [], in_trace["project known_organisations"]
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span.name)
    assert span.parent is None, "the chain ends at the request, the root of the trace"
    assert chain[:3] == [
        "process ikmo.directory.organisation.registered",
        "publish ikmo.directory.organisation.registered",
        "append Organisation",
    ]
    assert chain[-1] == "POST /organisations"
