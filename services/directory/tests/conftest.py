"""A directory app of the test's own: its database (SQLite or PostgreSQL), its nats-server, its issuer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.directory.app import build_app
from shared.auth.principal import Role
from shared.platform.natsserver import NatsServer
from shared.settings import Settings
from shared.testing import Tokens


@pytest.fixture
async def client(
    tmp_path: Path, nats_server: NatsServer, engine: AsyncEngine, tokens: Tokens
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a running directory (SQLite, or PostgreSQL when reachable), signed in as VIA staff."""
    app = build_app(Settings(data_dir=tmp_path, nats_url=nats_server.url), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport, base_url="http://directory", headers=tokens.headers(Role.VIA)
        ) as c,
    ):
        yield c
