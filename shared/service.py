"""The one shape of every service: a definition (what it is) and a runtime (how it is wired).

A service module declares a `ServiceDefinition`; `create_app` is the composition root that turns it into an
ASGI app with its database, event store, outbox relay, consumers, health routes and error handling.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from opentelemetry import propagate
from opentelemetry.trace import SpanKind
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.auth.access import public
from shared.auth.verify import TokenVerifier
from shared.bus.cloudevents import stream_name
from shared.bus.connection import DLQ_STREAM, DLQ_SUBJECT_PREFIX, Bus
from shared.bus.consumer import Consumer, ConsumerSpec
from shared.bus.relay import OutboxRelay
from shared.context import CommandContext, command_context
from shared.db import create_tables, make_engine, read_transaction
from shared.domain import EventRegistry
from shared.projections import Projection, rebuild_reshaped
from shared.settings import Settings
from shared.store.eventstore import EventStore
from shared.store.schema import store_metadata
from shared.store.uow import UnitOfWork
from shared.store.upcasting import Upcasters
from shared.telemetry import (
    FASTAPI_TELEMETRY_OFF,
    Metrics,
    configure_logging,
    configure_tracing,
    log_access,
    route_template,
    tracer,
)
from shared.web.errors import install_error_handlers
from shared.web.nul import refuse_nul
from shared.web.templating import WebConfig, install_web

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    title: str
    registry: EventRegistry
    routers: Sequence[APIRouter] = ()
    projections: Sequence[Projection] = ()
    upcasters: Upcasters = field(default_factory=Upcasters)
    consumers: Sequence[ConsumerSpec] = ()
    description: str = ""
    templates_dir: Path | None = None  # the service's own page templates, beside the shared look
    locale_dir: Path | None = None  # the service's own message catalogues


class Runtime:
    """What a running service holds: engine, store, bus, relay, consumers. Built once per process."""

    def __init__(
        self,
        definition: ServiceDefinition,
        settings: Settings,
        database_url: str | None = None,
        engine: AsyncEngine | None = None,
    ) -> None:
        self.definition = definition
        self.settings = settings
        self.engine: AsyncEngine = engine or make_engine(
            database_url or settings.database_url(definition.name)
        )
        self.store = EventStore(definition.upcasters)
        streams = (definition.name,)
        self.bus = Bus(
            settings.nats_url,
            f"ikmo-{definition.name}",
            streams,
            user=settings.nats_user,
            password=settings.nats_password,
        )
        self.relay = OutboxRelay(
            self.engine, self.bus, batch_size=settings.relay_batch_size, upcasters=definition.upcasters
        )
        self.consumers = [Consumer(spec, self.engine, self.bus) for spec in definition.consumers]
        self.metrics = Metrics()

    def uow(self) -> UnitOfWork:
        return UnitOfWork(
            self.engine,
            self.store,
            self.definition.registry,
            self.definition.name,
            self.definition.projections,
            on_commit=self.relay.wake,
        )

    async def start(self) -> None:
        if self.engine.dialect.name == "sqlite" and self.engine.url.database:
            Path(self.engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        metadatas = [store_metadata, *(p.metadata for p in self.definition.projections)]
        await create_tables(self.engine, *metadatas)
        await rebuild_reshaped(self.engine, self.store, self.definition.projections)
        self.bus.start()
        self.relay.start()
        for consumer in self.consumers:
            consumer.start()

    async def stop(self) -> None:
        for consumer in self.consumers:
            await consumer.stop()
        await self.relay.stop()
        await self.bus.close()
        await self.engine.dispose()

    async def collect_metrics(self) -> bytes:
        """Refresh the gauges that need I/O (backlog, lag, dead letters), then render Prometheus text."""
        m = self.metrics
        m.nats_connected.set(1 if self.bus.connected else 0)
        with contextlib.suppress(Exception):
            m.outbox_backlog.set(await self.relay.backlog())
        js = self.bus.js
        if js is not None and self.bus.connected:
            for consumer in self.consumers:
                name = consumer.spec.name
                with contextlib.suppress(Exception):
                    info = await js.consumer_info(consumer.spec.stream, name)
                    m.consumer_lag.labels(name).set((info.num_pending or 0) + (info.num_ack_pending or 0))
                with contextlib.suppress(Exception):
                    dlq = await js.stream_info(DLQ_STREAM, subjects_filter=f"{DLQ_SUBJECT_PREFIX}.{name}")
                    m.dead_letters.labels(name).set(sum((dlq.state.subjects or {}).values()))
        return generate_latest(m.registry)

    async def readiness(self) -> dict[str, bool]:
        checks = {"database": False, "nats": self.bus.connected and self.bus.ready.is_set()}
        with contextlib.suppress(Exception):
            async with read_transaction(self.engine) as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = True
        return checks


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def create_app(
    definition: ServiceDefinition,
    settings: Settings | None = None,
    database_url: str | None = None,
    engine: AsyncEngine | None = None,
) -> FastAPI:
    """The service's ASGI app; `database_url` or a ready `engine` override the settings' database."""
    settings = settings or Settings()
    runtime = Runtime(definition, settings, database_url, engine)
    configure_tracing(definition.name)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        configure_logging(definition.name, settings.log_level)
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        lifespan=lifespan,
        telemetry=FASTAPI_TELEMETRY_OFF,
        dependencies=[Depends(refuse_nul)],
    )
    app.state.runtime = runtime
    app.state.trusted_proxies = settings.trusted_proxy_networks  # read by shared.web.clientaddress
    app.state.verifier = TokenVerifier(
        settings.issuer_url, settings.oidc_audience, settings.jwks(), client_id=settings.oidc_client_id
    )
    install_error_handlers(app)
    install_web(
        app,
        WebConfig.from_settings(
            settings,
            service=definition.name,
            templates_dir=definition.templates_dir,
            locale_dir=definition.locale_dir,
        ),
    )

    @app.middleware("http")
    async def _request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """A server span continuing the caller's trace, the latency metric, and the command context."""
        correlation_id = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        started = time.perf_counter()
        with (
            # Named by method and route template only: a raw path may carry a personal link's secret.
            tracer().start_as_current_span(
                request.method,
                context=propagate.extract(dict(request.headers)),
                kind=SpanKind.SERVER,
                attributes={"http.request.method": request.method},
            ) as span,
            command_context(CommandContext(correlation_id=correlation_id)),
        ):
            response = await call_next(request)
            template = route_template(request.scope)
            span.update_name(f"{request.method} {template}")
            span.set_attribute("http.route", template)
            span.set_attribute("http.response.status_code", response.status_code)
        log_access(request.method, template, response.status_code, time.perf_counter() - started)
        runtime.metrics.request_latency.labels(request.method, template, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        response.headers["x-correlation-id"] = correlation_id
        return response

    @app.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
        dependencies=[public()],
    )
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(await runtime.collect_metrics(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", tags=["health"], summary="The process is alive", dependencies=[public()])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": definition.name}

    @app.get("/readyz", tags=["health"], summary="Database and NATS are reachable", dependencies=[public()])
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(checks.values())
        return JSONResponse(status_code=200 if ready else 503, content={"ready": ready, **checks})

    for router in definition.routers:
        app.include_router(router)
    return app


def service_stream(definition: ServiceDefinition) -> str:
    return stream_name(definition.name)


__all__ = ["MetaData", "Runtime", "RuntimeDep", "ServiceDefinition", "create_app"]
