"""The demo calendar loads once, after the directory's demo arrived over the bus, shows every format and
state and every feature (each visible through the API or the pages); and the read models, dropped and
rebuilt from the log, come back the same."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.directory.app import build_app as build_directory
from services.directory.demo import load_demo as load_directory_demo
from services.events import demo
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
from services.events.tests.test_certificate import text_of
from shared.auth.principal import Role
from shared.contracts.events import EventFormat
from shared.db import read_transaction
from shared.personal import ERASED
from shared.platform.natsserver import NatsServer
from shared.projections import rebuild
from shared.settings import Settings
from shared.store import EventStore
from shared.testing import Tokens

HTML = {"Accept": "text/html"}


def moment(text: str) -> datetime:
    """A time from the API: SQLite gives it back without its offset (UTC), PostgreSQL with it."""
    found = datetime.fromisoformat(text)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


async def snapshot(engine: AsyncEngine) -> tuple[list, list]:
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
        assert planned == 12
        assert await load_demo(events) == 0  # a second start plans nothing again
        items = (await events.get("/events")).json()["items"]
        assert {e["format"] for e in items} == {f.value for f in EventFormat}
        assert sorted(e["status"] for e in items) == sorted(
            ["published"] * 8 + ["draft", "cancelled", "completed", "completed"]
        )
        talk = next(e for e in items if e["format"] == "labour_market_talk")
        assert talk["host"]["name"] == "Yaar e.V." and talk["speakers"][0]["kind"] == "labour_market_actor"
        meeting = next(e for e in items if e["format"] == "network_meeting")
        assert meeting["network"]["name"] == "Arbeitsmarktintegration von afghanischen Geflüchteten"
        by_title = {e["title"]: e for e in items}

        async def people_of(title: str) -> list[dict]:
            return list((await events.get(f"/events/{by_title[title]['id']}/registrations")).json())

        full = by_title[demo.WAITLIST]  # staff cancel one place, a person another by her link
        assert (full["confirmed"], full["waitlisted"]) == (full["capacity"], 1)
        people = await people_of(demo.WAITLIST)
        assert [p["promoted"] for p in people if p["status"] == "confirmed"].count(True) == 2
        assert sorted(p["cancelled_by"] for p in people if p["status"] == "cancelled") == [
            "participant",
            "staff",
        ]
        roomier = by_title[demo.MORE_PLACES]  # one more place: the head of the waitlist moved up
        assert (roomier["capacity"], roomier["confirmed"], roomier["waitlisted"]) == (4, 4, 1)
        people = await people_of(demo.MORE_PLACES)
        assert [p["name"] for p in people if p["promoted"]] == [demo.PEOPLE[3][0]]
        assert not [p for p in people if p["status"] == "cancelled"]

        online = [p for p in await people_of(demo.ONLINE) if p["consent"]]
        assert [p["name"] for p in online] == [demo.PEOPLE[-1][0]] and online[0]["status"] == "confirmed"
        page = await events.get(f"/veranstaltungen/{by_title[demo.ONLINE]['id']}?lang=de", headers=HTML)
        assert "online, mit Einwilligung" in page.text and "vom Team eingetragen" in page.text

        [erased] = [p for p in await people_of(demo.ERASED) if p["erased"]]
        assert (erased["name"], erased["email"], erased["status"]) == (ERASED, ERASED, "cancelled")
        page = await events.get(f"/veranstaltungen/{by_title[demo.ERASED]['id']}?lang=de", headers=HTML)
        assert ERASED in page.text and demo.PEOPLE[3][1] not in page.text

        [corrected] = [p for p in await people_of(demo.CORRECTED) if p["name"] == demo.CORRECTED_NAME]
        assert corrected["attended"] and demo.PEOPLE[3][0] not in {
            p["name"] for p in await people_of(demo.CORRECTED)
        }
        certificate = await events.get(
            f"/events/{by_title[demo.CORRECTED]['id']}/registrations/{corrected['id']}/certificate"
        )
        assert demo.CORRECTED_NAME in text_of(certificate.content)  # on her certificate

        kinds = [n["kind"] for n in (await events.get("/notices")).json()]
        assert "event_cancelled" in kinds and kinds.count("already_registered") == 1
        moved = by_title[demo.NEW_TIME]  # an hour later: its one registrant is told, old beside new
        told_of = (await events.get("/notices", params={"event_id": moved["id"]})).json()
        assert [n["kind"] for n in told_of].count("details_changed") == moved["confirmed"] == 1
        assert "bisher: " in next(n["body"] for n in told_of if n["kind"] == "details_changed")
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
        own = (await events.get(f"/events/{by_title[demo.FEEDBACK_BY_LINK]['id']}/feedback")).json()
        assert sorted(i["by"] for i in own["items"]) == ["participant", "staff", "staff"]
        [by_link] = [i for i in own["items"] if i["by"] == "participant"]
        assert by_link["comment"] == demo.OWN_FEEDBACK["comment"]

        live = by_title[demo.UNDER_WAY]  # under way: begun, not ended, people at the door
        starts, ends = (moment(live[k]) for k in ("starts_at", "ends_at"))
        assert live["status"] == "published" and starts <= datetime.now(UTC) < ends
        people = await people_of(demo.UNDER_WAY)
        assert sum(p["attended"] for p in people) == 4 and live["confirmed"] == 6
        [walk_in] = [p for p in people if moment(p["registered_at"]) >= starts]
        assert walk_in["attended"] and walk_in["status"] == "confirmed"
        door = await events.get(f"/veranstaltungen/{live['id']}/einlass?lang=de", headers=HTML)
        assert "Anwesend: 4 von 6 mit Platz" in door.text

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
