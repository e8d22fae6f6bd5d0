"""The events service: its definition, and the ASGI app uvicorn runs (`services.events.app:app`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events import notices, replica
from services.events.consultation_projection import ConsultationsProjection
from services.events.entrypoints import consultation_api, consultation_pages, pages, public_pages
from services.events.entrypoints.api import router
from services.events.entrypoints.consumers import directory_consumer
from services.events.mail import MailSettings, NoticeDispatcher
from services.events.projections import CalendarProjection
from shared.contracts.events import (
    ACCOMPANIMENT_EVENTS,
    CONSULTATION_EVENTS,
    EVENT_EVENTS,
    PARTICIPATION_EVENTS,
    REGISTRATION_EVENTS,
    UPCASTERS,
)
from shared.db import create_tables
from shared.domain import EventRegistry
from shared.service import Runtime, ServiceDefinition, create_app
from shared.settings import Settings

definition = ServiceDefinition(
    name="events",
    title="IKMO Veranstaltungen / Events (VIA)",
    description="VIA's calendar: seminars, workshops, Fachtage and talks, registrations with a waitlist.",
    registry=EventRegistry(
        *EVENT_EVENTS,
        *REGISTRATION_EVENTS,
        *PARTICIPATION_EVENTS,
        *CONSULTATION_EVENTS,
        *ACCOMPANIMENT_EVENTS,
    ),
    # The advice pages before the calendar's: /veranstaltungen/beratungen is no event's id.
    routers=[public_pages.router, consultation_pages.router, pages.router, router, consultation_api.router],
    projections=[CalendarProjection(), ConsultationsProjection()],
    upcasters=UPCASTERS,
    consumers=[directory_consumer],
    templates_dir=Path(__file__).parent / "templates",
    locale_dir=pages.LOCALE_DIR,
)


def build_app(
    settings: Settings | None = None,
    database_url: str | None = None,
    engine: AsyncEngine | None = None,
    mail: MailSettings | None = None,
) -> FastAPI:
    """The kernel's app plus what only this service has: the directory's copy, the mail outbox and its
    dispatcher. Their tables are no read models of the log (a rebuild must not empty them), so they are
    created here, before the consumers start."""
    app = create_app(definition, settings, database_url, engine)
    runtime: Runtime = app.state.runtime
    dispatcher = NoticeDispatcher(runtime.engine, mail or MailSettings())
    app.state.notice_dispatcher = dispatcher
    kernel_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        if runtime.engine.dialect.name == "sqlite" and runtime.engine.url.database:
            Path(runtime.engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        await create_tables(runtime.engine, replica.metadata, notices.metadata)
        async with kernel_lifespan(app_):
            dispatcher.start()
            try:
                yield
            finally:
                await dispatcher.stop()

    app.router.lifespan_context = lifespan
    return app


def __getattr__(name: str) -> FastAPI:
    """`app` is built on first access (uvicorn's), so importing the definition touches no files."""
    if name == "app":
        globals()["app"] = built = build_app()
        return built
    raise AttributeError(name)
