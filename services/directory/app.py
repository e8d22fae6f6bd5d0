"""The directory service: its definition, and the ASGI app uvicorn runs (`services.directory.app:app`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.directory.committee_projection import CommitteesProjection
from services.directory.entrypoints import (
    committee_api,
    committee_pages,
    contact_api,
    contact_pages,
    cooperation_api,
    cooperation_pages,
    mentoring_api,
    mentoring_pages,
    merge_api,
    merge_pages,
    network_api,
    network_pages,
    pages,
    public_pages,
    teilhabe_api,
    teilhabe_pages,
)
from services.directory.entrypoints.api import router
from services.directory.merge_projection import MergesProjection
from services.directory.projections import (
    ContactsProjection,
    CooperationsProjection,
    MentoringsProjection,
    NetworksProjection,
    OrganisationsProjection,
    TeilhabechecksProjection,
)
from shared.contracts.directory import (
    COMMITTEE_EVENTS,
    CONTACT_EVENTS,
    COOPERATION_EVENTS,
    MENTORING_EVENTS,
    NETWORK_EVENTS,
    ORGANISATION_EVENTS,
    TEILHABECHECK_EVENTS,
)
from shared.domain import EventRegistry
from shared.service import ServiceDefinition, create_app
from shared.settings import Settings

definition = ServiceDefinition(
    name="directory",
    title="IKMO Verzeichnis / Directory",
    description="Organisations of Berlin's migrant-organisation landscape and how they are connected.",
    registry=EventRegistry(
        *ORGANISATION_EVENTS,
        *NETWORK_EVENTS,
        *CONTACT_EVENTS,
        *MENTORING_EVENTS,
        *COOPERATION_EVENTS,
        *COMMITTEE_EVENTS,
        *TEILHABECHECK_EVENTS,
    ),
    # Network pages first: /verzeichnis/netzwerke must not be taken for an organisation's id.
    routers=[
        router,
        network_api.router,
        contact_api.router,
        mentoring_api.router,
        cooperation_api.router,
        committee_api.router,
        teilhabe_api.router,
        merge_api.router,
        network_pages.router,
        contact_pages.router,
        mentoring_pages.router,
        cooperation_pages.router,
        committee_pages.router,
        teilhabe_pages.router,
        merge_pages.router,
        public_pages.router,
        pages.router,
    ],
    projections=[
        OrganisationsProjection(),
        NetworksProjection(),
        ContactsProjection(),
        MentoringsProjection(),
        CooperationsProjection(),
        CommitteesProjection(),
        TeilhabechecksProjection(),
        MergesProjection(),
    ],
    templates_dir=Path(__file__).parent / "templates",
    locale_dir=pages.LOCALE_DIR,
)


def build_app(
    settings: Settings | None = None, database_url: str | None = None, engine: AsyncEngine | None = None
) -> FastAPI:
    return create_app(definition, settings, database_url, engine)


def __getattr__(name: str) -> FastAPI:
    """`app` is built on first access (uvicorn's), so importing the definition touches no files."""
    if name == "app":
        globals()["app"] = built = build_app()
        return built
    raise AttributeError(name)
