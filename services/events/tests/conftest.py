"""An events app of the test's own: its database (SQLite or PostgreSQL), its nats-server, its issuer.

`directory` feeds the service's copy of the directory through the real consumer handler, as the bus
would (the consumer test proves the bus part with a real directory and nats-server).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events.app import build_app
from services.events.entrypoints.consumers import on_directory_event
from shared.auth.principal import Role
from shared.bus.cloudevents import ReceivedEvent
from shared.db import write_transaction
from shared.platform.natsserver import NatsServer
from shared.settings import Settings
from shared.testing import Tokens

EVENTS_URL = "http://events.test"


class Directory:
    """Organisations and networks as the directory publishes them, handed to the events consumer."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.versions: dict[str, int] = {}

    async def publish(self, event_type: str, aggregate_id: str, data: dict[str, Any]) -> None:
        version = self.versions[aggregate_id] = self.versions.get(aggregate_id, 0) + 1
        received = ReceivedEvent(
            id=str(uuid.uuid4()),
            type=event_type,
            source="/ikmo/directory",
            subject=aggregate_id,
            time=datetime.now(UTC),
            schema_version=1,
            sequence=version,
            data=data,
            headers={},
        )
        async with write_transaction(self.engine) as conn:
            await on_directory_event(conn, received)

    async def organisation(self, name: str, kind: str = "mo", public_profile: bool = False) -> str:
        organisation_id = str(uuid.uuid4())
        await self.publish(
            "ikmo.directory.organisation.registered",
            organisation_id,
            {
                "organisation_id": organisation_id,
                "name": name,
                "kind": kind,
                "legal_form": "e_v",
                "districts": ["mitte"],
                "fields_of_work": [],
                "languages": [],
                "website": None,
                "public_profile": public_profile,
            },
        )
        return organisation_id

    async def archive(self, organisation_id: str) -> None:
        await self.publish(
            "ikmo.directory.organisation.archived",
            organisation_id,
            {"organisation_id": organisation_id, "reason": None},
        )

    async def merge(self, duplicate_id: str, survivor_id: str, survivor_name: str) -> None:
        """As the directory publishes a merge: the duplicate points on, the survivor takes it in."""
        await self.publish(
            "ikmo.directory.organisation.merged",
            duplicate_id,
            {
                "organisation_id": duplicate_id,
                "merged_into": survivor_id,
                "survivor_name": survivor_name,
                "reason": None,
            },
        )
        await self.publish(
            "ikmo.directory.organisation.duplicate_absorbed",
            survivor_id,
            {
                "organisation_id": survivor_id,
                "absorbed_id": duplicate_id,
                "absorbed_name": "",
                "name": survivor_name,
                "districts": ["mitte"],
                "fields_of_work": [],
                "languages": [],
                "website": None,
                "public_profile": True,
                "changed": ["districts"],
            },
        )

    async def network(self, name: str) -> str:
        network_id = str(uuid.uuid4())
        await self.publish(
            "ikmo.directory.network.founded",
            network_id,
            {
                "network_id": network_id,
                "name": name,
                "topic": None,
                "coordinators": [],
                "founded_on": "2017-03-01",
            },
        )
        return network_id


@pytest.fixture
async def client(
    tmp_path: Path, nats_server: NatsServer, engine: AsyncEngine, tokens: Tokens
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a running events service (SQLite, or PostgreSQL when reachable), signed in as VIA."""
    settings = Settings(data_dir=tmp_path, nats_url=nats_server.url, service_urls={"events": EVENTS_URL})
    app = build_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=EVENTS_URL, headers=tokens.headers(Role.VIA)) as c,
    ):
        yield c


@pytest.fixture
def directory(engine: AsyncEngine) -> Directory:
    return Directory(engine)


def in_days(days: float, hour: int = 10) -> str:
    """An ISO time `days` from now at `hour` o'clock UTC (always in the future for days >= 1)."""
    day = datetime.now(UTC) + timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0).isoformat()


def seminar(**changes: Any) -> dict[str, Any]:
    body = {
        "title": "Vereinsgründung Schritt für Schritt",
        "format": "qualification_seminar",
        "topics": ["founding_an_association", "association_and_labour_law"],
        "funding_line": "senate_ikmo",
        "starts_at": in_days(30, 9),
        "ends_at": in_days(30, 15),
        "registration_deadline": in_days(28),
        "venue": "VIA, Petersburger Str. 92, 10247 Berlin",
        "district": "friedrichshain_kreuzberg",
        "capacity": 2,
    }
    return {**body, **changes}


@asynccontextmanager
async def directory_beside_events(
    tmp_path: Path, nats_url: str, engine: AsyncEngine, headers: dict[str, str]
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]]:
    """A real directory and this events service on one nats-server, both called with `headers`: the
    directory's organisations reach the events service over the bus. Yields both clients and the events
    app (its consumers' stats)."""
    from services.directory.app import build_app as build_directory

    settings = Settings(data_dir=tmp_path, nats_url=nats_url)
    directory_app = build_directory(settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'directory.db'}")
    events_app = build_app(settings, engine=engine)
    async with (
        directory_app.router.lifespan_context(directory_app),
        events_app.router.lifespan_context(events_app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=directory_app), base_url="http://directory", headers=headers
        ) as directory,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=events_app), base_url="http://events", headers=headers
        ) as events,
    ):
        yield directory, events, events_app


@pytest.fixture
async def directory_and_events(
    tmp_path: Path, nats_server: NatsServer, engine: AsyncEngine, tokens: Tokens
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Both services called as an admin (as `ikmo up` loads the demo data)."""
    admin = tokens.headers(Role.ADMIN)
    async with directory_beside_events(tmp_path, nats_server.url, engine, admin) as (directory, events, _):
        yield directory, events
