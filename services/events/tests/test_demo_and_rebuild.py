"""The demo calendar loads once, after the directory's demo arrived over the bus, shows every format and
state; and the read models, dropped and rebuilt from the log, come back the same."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.directory.app import build_app as build_directory
from services.directory.demo import load_demo as load_directory_demo
from services.events.app import build_app as build_events
from services.events.demo import load_demo
from services.events.projections import (
    CalendarProjection,
    calendar,
    cancellation_notes,
    feedback,
    participation,
    registrations,
)
from shared.auth.principal import Role
from shared.contracts.events import EventFormat
from shared.db import read_transaction
from shared.platform.natsserver import NatsServer
from shared.projections import rebuild
from shared.settings import Settings
from shared.store import EventStore
from shared.testing import Tokens


async def snapshot(engine: AsyncEngine) -> tuple[list, list]:  # type: ignore[type-arg]
    async with read_transaction(engine) as conn:
        events = (await conn.execute(select(calendar).order_by(calendar.c.id))).all()
        people = (await conn.execute(select(registrations).order_by(registrations.c.id))).all()
        present = (await conn.execute(select(participation).order_by(participation.c.registration_id))).all()
        said = (await conn.execute(select(feedback).order_by(feedback.c.registration_id))).all()
        noted = (await conn.execute(select(cancellation_notes))).all()
    return [tuple(r) for r in [*events, *noted]], [tuple(r) for r in [*people, *present, *said]]


async def test_the_demo_calendar_loads_once_and_rebuilds_to_the_same(
    tmp_path: Path, nats_server: NatsServer, engine: AsyncEngine, tokens: Tokens
) -> None:
    settings = Settings(data_dir=tmp_path, nats_url=nats_server.url)
    directory_app = build_directory(settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'directory.db'}")
    events_app = build_events(settings, engine=engine)
    admin = tokens.headers(Role.ADMIN)  # as `ikmo up` loads it
    async with (
        directory_app.router.lifespan_context(directory_app),
        events_app.router.lifespan_context(events_app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=directory_app), base_url="http://directory", headers=admin
        ) as directory,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=events_app), base_url="http://events", headers=admin
        ) as events,
    ):
        await load_directory_demo(directory)
        planned = await load_demo(events)
        assert planned == 11
        assert await load_demo(events) == 0  # a second start plans nothing again
        items = (await events.get("/events")).json()["items"]
        assert {e["format"] for e in items} == {f.value for f in EventFormat}
        assert sorted(e["status"] for e in items) == sorted(
            ["published"] * 7 + ["draft", "cancelled", "completed", "completed"]
        )
        talk = next(e for e in items if e["format"] == "labour_market_talk")
        assert talk["host"]["name"] == "Yaar e.V." and talk["speakers"][0]["kind"] == "labour_market_actor"
        meeting = next(e for e in items if e["format"] == "network_meeting")
        assert meeting["network"]["name"] == "Arbeitsmarktintegration von afghanischen Geflüchteten"
        full = next(e for e in items if e["waitlisted"])
        assert (full["confirmed"], full["waitlisted"]) == (full["capacity"], 1)
        people = (await events.get(f"/events/{full['id']}/registrations")).json()
        assert [p["promoted"] for p in people if p["status"] == "confirmed"].count(True) == 1
        kinds = [n["kind"] for n in (await events.get("/notices")).json()]
        assert "event_cancelled" in kinds and kinds.count("already_registered") == 1
        [cancelled] = [e for e in items if e["status"] == "cancelled"]
        assert cancelled["cancel_reason"] == "speaker_unavailable" and cancelled["cancel_note"]
        past = [e for e in items if e["status"] == "completed"]
        attended = [
            [p["attended"] for p in (await events.get(f"/events/{e['id']}/registrations")).json()]
            for e in past
        ]
        assert sorted(sum(a) for a in attended) == [3, 5]  # everyone came but one no-show each
        said = [(await events.get(f"/events/{e['id']}/feedback")).json() for e in past]
        assert sorted(f["count"] for f in said) == [3, 5] and all(f["average"] for f in said)

        before = await snapshot(engine)
        progress: list[tuple[int, int]] = []
        replayed = await rebuild(
            engine,
            EventStore(),
            CalendarProjection(),
            batch_size=25,
            progress=lambda d, t: progress.append((d, t)),
        )
        assert replayed > 11 and progress[-1][0] == progress[-1][1]
        assert await snapshot(engine) == before
