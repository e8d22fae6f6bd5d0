"""The composition root every service shares: health, readiness, metrics, errors, spans."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import APIRouter, FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel, Field

from shared.auth.access import allow
from shared.auth.principal import Role
from shared.platform.natsserver import NatsServer, free_port
from shared.service import RuntimeDep, ServiceDefinition, create_app
from shared.settings import Settings
from shared.store.uow import UnitOfWork
from shared.testing import Tokens, eventually
from tests.kernel.model import Counter, registry

router = APIRouter()


class Increment(BaseModel):
    by: int = Field(ge=1, le=100)


@router.post("/counters/{counter_id}", status_code=201, dependencies=[allow(Role.VIA, Role.TBB)])
async def increment(
    counter_id: str, body: Increment, runtime: RuntimeDep, expected: int | None = None
) -> dict:
    async with runtime.uow() as uow:
        counter = await uow.find(Counter, counter_id) or Counter(counter_id)
        if expected is not None and counter.version != expected:
            from shared.errors import ConcurrencyError

            raise ConcurrencyError(counter.stream_id, expected, counter.version)
        counter.increment(body.by)
        await uow.save(counter)
    return {"total": counter.total, "version": counter.version}


@router.get("/counters/{counter_id}", dependencies=[allow(Role.VIA, Role.TBB, Role.SENATE)])
async def read(counter_id: str, runtime: RuntimeDep) -> dict:
    async with runtime.uow() as uow:
        counter = await uow.get(Counter, counter_id, "Zähler")
    return {"total": counter.total}


definition = ServiceDefinition(
    name="kernel", title="Kernel test service", registry=registry, routers=[router]
)


def app_for(tmp_path: Path, nats_url: str) -> FastAPI:
    settings = Settings(data_dir=tmp_path, nats_url=nats_url)
    return create_app(definition, settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'kernel.sqlite3'}")


async def test_health_metrics_errors_and_a_server_span(
    tmp_path: Path, nats_server: NatsServer, spans: InMemorySpanExporter, tokens: Tokens
) -> None:
    app = app_for(tmp_path, nats_server.url)
    transport = httpx.ASGITransport(app=app)
    headers = tokens.headers(Role.VIA, subject="anna-via")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c,
    ):
        assert (await c.get("/healthz")).json() == {"status": "ok", "service": "kernel"}
        await eventually(lambda: _status(c, "/readyz", 200))

        created = await c.post("/counters/a", json={"by": 2}, headers={"x-correlation-id": "corr-7"})
        assert created.status_code == 201, created.text
        assert created.json() == {"total": 2, "version": 1}
        assert created.headers["x-correlation-id"] == "corr-7"

        stale = await c.post("/counters/a?expected=0", json={"by": 1})
        assert stale.status_code == 409 and stale.json()["error"] == "version_conflict"
        assert "geändert" in stale.json()["message_de"]

        missing = await c.get("/counters/nope")
        assert missing.status_code == 404 and missing.json()["message_de"] == "Zähler nope gibt es nicht"

        invalid = await c.post("/counters/a", json={"by": 0, "extra": 1})
        assert invalid.status_code == 422
        assert [f["field"] for f in invalid.json()["fields"]] == ["by"]

        await eventually(lambda: _metric_at_most(c, "ikmo_outbox_backlog", 0))
        metrics = (await c.get("/metrics")).text
        labels = 'method="POST",route="/counters/{counter_id}",status="201"'
        assert f"ikmo_http_request_duration_seconds_count{{{labels}}} 1.0" in metrics
        assert "ikmo_nats_connected 1.0" in metrics

    server = [s for s in spans.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    span = next(s for s in server if attribute(s, "http.request.method") == "POST")
    assert span.name == "POST /counters/{counter_id}"
    assert attribute(span, "http.response.status_code") == 201


def attribute(span: ReadableSpan, key: str) -> object:
    """One attribute of a finished span: the SDK always records a mapping, though typed Optional."""
    assert span.attributes is not None
    return span.attributes[key]


async def test_without_nats_the_service_is_alive_not_ready_and_still_takes_commands(
    tmp_path: Path, tokens: Tokens
) -> None:
    app = app_for(tmp_path, f"nats://127.0.0.1:{free_port()}")  # nobody listens there
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t", headers=tokens.headers(Role.TBB)) as c,
    ):
        assert (await c.get("/healthz")).status_code == 200
        ready = await c.get("/readyz")
        assert ready.status_code == 503 and ready.json() == {"ready": False, "database": True, "nats": False}
        assert (await c.post("/counters/b", json={"by": 5})).status_code == 201
        assert "ikmo_outbox_backlog 1.0" in (await c.get("/metrics")).text


async def _status(client: httpx.AsyncClient, path: str, status: int) -> bool:
    return (await client.get(path)).status_code == status


async def _metric_at_most(client: httpx.AsyncClient, name: str, value: float) -> bool:
    for line in (await client.get("/metrics")).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1]) <= value
    return False


async def test_who_may_call_what_and_who_is_recorded(
    tmp_path: Path, nats_server: NatsServer, tokens: Tokens
) -> None:
    app = app_for(tmp_path, nats_server.url)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        anonymous = await c.post("/counters/x", json={"by": 1})
        assert anonymous.status_code == 401
        assert anonymous.json()["message_de"].startswith("Bitte melden Sie sich an")
        forged = await c.post("/counters/x", json={"by": 1}, headers={"Authorization": "Bearer abc.def.ghi"})
        assert forged.status_code == 401
        senate = await c.post("/counters/x", json={"by": 1}, headers=tokens.headers(Role.SENATE))
        assert (
            senate.status_code == 403
            and senate.json()["message_de"] == "Ihre Rolle erlaubt diese Aktion nicht."
        )
        assert (await c.get("/counters/x", headers=tokens.headers(Role.SENATE))).status_code == 404
        ok = await c.post(
            "/counters/x", json={"by": 1}, headers=tokens.headers(Role.TBB, subject="tarik-tbb")
        )
        assert ok.status_code == 201
    runtime = app.state.runtime
    async with UnitOfWork(runtime.engine, runtime.store, registry, "kernel") as uow:
        [event] = await runtime.store.load(uow.conn, "counter-x")
    assert event.metadata.actor == "tarik-tbb"  # only the successful command left an event, with its actor
