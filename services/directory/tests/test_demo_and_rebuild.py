"""Demo data loads through the API once and covers every district; the read model rebuilds to the same."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.directory.demo import DUPLICATE_OF, ORGANISATIONS, load_demo
from services.directory.projections import (
    NetworksProjection,
    OrganisationsProjection,
    network_memberships,
    networks,
    organisation_facets,
    organisations,
)
from shared.auth.principal import Role
from shared.contracts.directory import District
from shared.db import read_transaction
from shared.projections import rebuild
from shared.store import EventStore
from shared.testing import Tokens


async def snapshot(engine: AsyncEngine) -> tuple[list, list]:  # type: ignore[type-arg]
    async with read_transaction(engine) as conn:
        rows = (await conn.execute(select(organisations).order_by(organisations.c.id))).all()
        facets = (await conn.execute(select(organisation_facets).order_by(*organisation_facets.c))).all()
    return [tuple(r) for r in rows], [tuple(f) for f in facets]


async def test_demo_loads_once_and_the_projection_rebuilds_to_the_same(
    client: httpx.AsyncClient, engine: AsyncEngine, tokens: Tokens
) -> None:
    client.headers.update(tokens.headers(Role.ADMIN))  # as `ikmo up` loads it
    assert await load_demo(client) == len(ORGANISATIONS)
    assert await load_demo(client) == 0  # a second start loads nothing again
    listed = (await client.get("/organisations", params={"include_archived": True, "limit": 200})).json()
    assert listed["total"] == len(ORGANISATIONS)  # a duplicate among them, merged into its survivor
    assert {d for o in listed["items"] for d in o["districts"]} == {d.value for d in District}
    assert {"Yaar e.V.", "Club Dialog e.V."} <= {o["name"] for o in listed["items"]}
    assert sum(o["archived"] and not o["merged_into"] for o in listed["items"]) == 1
    [duplicate] = [o for o in listed["items"] if o["merged_into"]]
    survivor = (await client.get(f"/organisations/{duplicate['merged_into']}")).json()
    assert survivor["name"] == DUPLICATE_OF and "ku" in survivor["languages"]
    survivor_contacts = (await client.get(f"/organisations/{survivor['id']}/contacts")).json()
    assert {c["name"] for c in survivor_contacts} == {"Aylin Demir (Demo)", "Murat Yılmaz (Demo)"}
    yaar = next(o["id"] for o in listed["items"] if o["name"] == "Yaar e.V.")
    contacts = (await client.get(f"/organisations/{yaar}/contacts")).json()
    assert {c["name"] for c in contacts} == {"Leyla Ahmadi (Demo)", "Farid Karimi (Demo)"}
    cooperations = (await client.get(f"/organisations/{yaar}/cooperations")).json()
    assert [c["partner_name"] for c in cooperations] == ["Jobcenter Berlin Steglitz-Zehlendorf (Demo)"]
    checks = {c["district"]: c for c in (await client.get("/teilhabechecks")).json()}
    assert checks["marzahn_hellersdorf"]["phases_completed"] == 2  # in progress
    finished = (await client.get(f"/teilhabechecks/{checks['neukoelln']['id']}")).json()
    assert finished["finished_on"] == "2025-12-15"
    assert [r["adoption"] for r in finished["recommendations"]] == ["adopted", "partly", "open"]
    mentorings = (await client.get("/mentorings")).json()
    assert sorted(m["status"] for m in mentorings) == ["active", "completed", "proposed"]
    networks = (await client.get("/networks")).json()
    assert [(n["name"], n["members"]) for n in networks] == [
        ("Arbeitsmarktintegration von afghanischen Geflüchteten", 3),
        ("Migrannet. Netzwerk für MO und Unternehmen", 5),
    ]

    before = await snapshot(engine)
    progress: list[tuple[int, int]] = []
    replayed = await rebuild(
        engine, EventStore(), OrganisationsProjection(), batch_size=5, progress=lambda *p: progress.append(p)
    )
    assert replayed == progress[-1][1]  # the whole log, networks' events included
    assert await snapshot(engine) == before
    assert progress[-1][0] == progress[-1][1]


async def test_the_networks_read_model_rebuilds_to_the_same(
    client: httpx.AsyncClient, engine: AsyncEngine, tokens: Tokens
) -> None:
    client.headers.update(tokens.headers(Role.ADMIN))
    await load_demo(client)

    async def networks_snapshot() -> list[tuple]:  # type: ignore[type-arg]
        async with read_transaction(engine) as conn:
            rows = (await conn.execute(select(networks).order_by(networks.c.id))).all()
            members = (await conn.execute(select(network_memberships).order_by(*network_memberships.c))).all()
        return [tuple(r) for r in rows + members]

    before = await networks_snapshot()
    assert len(before) == 2 + 9  # two networks; 4 coordinators, 5 joined (one of them has left since)
    await rebuild(engine, EventStore(), NetworksProjection())
    assert await networks_snapshot() == before
