"""The demo advice loads once with the calendar, for real organisations of the directory's demo: sessions
alone and two accompaniments (one open, one closed); the read model rebuilds the same from the log."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.directory.demo import load_demo as load_directory_demo
from services.events.consultation_projection import ConsultationsProjection, accompaniments, consultations
from services.events.demo import load_demo
from shared.db import read_transaction
from shared.projections import rebuild
from shared.store import EventStore


async def snapshot(engine: AsyncEngine) -> tuple[list, list]:
    async with read_transaction(engine) as conn:
        sessions = (await conn.execute(select(consultations).order_by(consultations.c.id))).all()
        series = (await conn.execute(select(accompaniments).order_by(accompaniments.c.id))).all()
    return [tuple(r) for r in sessions], [tuple(r) for r in series]


async def test_the_demo_advice_loads_once_and_rebuilds_to_the_same(
    directory_and_events: tuple[httpx.AsyncClient, httpx.AsyncClient], engine: AsyncEngine
) -> None:
    directory, events = directory_and_events
    await load_directory_demo(directory)
    await load_demo(events)
    sessions = (await events.get("/consultations")).json()
    assert sessions["total"] == 11
    assert {s["organisation"]["name"] for s in sessions["items"]} >= {
        "Yaar e.V.",
        "Syrische Initiative Marzahn (Demo)",
    }
    series = (await events.get("/accompaniments")).json()
    assert [(a["organisation"]["name"], a["closed_on"] is None, a["sessions"]) for a in series] == [
        ("Yaar e.V.", True, 3),  # open ones first
        ("Syrische Initiative Marzahn (Demo)", False, 4),
    ]
    assert series[1]["outcome"] == "achieved" and series[1]["total_minutes"] == 315
    await load_demo(events)  # a second start records nothing again
    assert (await events.get("/consultations")).json()["total"] == 11

    before = await snapshot(engine)
    await rebuild(engine, EventStore(), ConsultationsProjection())
    assert await snapshot(engine) == before
