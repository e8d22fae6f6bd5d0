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
from shared.auth.users import DEMO_ORGANISATION_ID
from shared.contracts.directory import District
from shared.db import read_transaction
from shared.projections import rebuild
from shared.settings import Settings
from shared.store import EventStore
from shared.testing import Tokens

HTML = {"Accept": "text/html"}


async def snapshot(engine: AsyncEngine) -> tuple[list, list]:
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
    assert sorted(m["status"] for m in mentorings) == ["active", "completed", "ended_early", "proposed"]
    [early] = [m for m in mentorings if m["status"] == "ended_early"]
    assert early["mentor_name"] == "Yaar e.V." and "Vereinsgründung" in early["reason"]
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

    async def networks_snapshot() -> list[tuple[object, ...]]:
        async with read_transaction(engine) as conn:
            rows = (await conn.execute(select(networks).order_by(networks.c.id))).all()
            members = (await conn.execute(select(network_memberships).order_by(*network_memberships.c))).all()
        return [tuple(r) for r in [*rows, *members]]

    before = await networks_snapshot()
    assert len(before) == 2 + 9  # two networks; 4 coordinators, 5 joined (one of them has left since)
    await rebuild(engine, EventStore(), NetworksProjection())
    assert await networks_snapshot() == before


async def test_the_demo_organisation_account_sees_its_own_organisation(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    """The `organisation` sign-in acts for DEMO_ORGANISATION_ID: the demo registers Yaar e.V. under it."""
    client.headers.update(tokens.headers(Role.ADMIN))
    await load_demo(client)
    account = tokens.headers(Role.ORGANISATION, organisation_id=DEMO_ORGANISATION_ID)
    assert Settings().demo_organisation_id == DEMO_ORGANISATION_ID  # the sign-in's and the demo's

    opened = await client.get("/verzeichnis", headers={**HTML, **account})  # the directory's address
    assert opened.status_code == 303 and opened.headers["location"] == f"/verzeichnis/{DEMO_ORGANISATION_ID}"
    page = await client.get(opened.headers["location"], headers={**HTML, **account})
    assert page.status_code == 200 and "<h1>Yaar e.V." in page.text
    mentoring = " ".join(page.text.split('id="mentoring-title"')[1].split("</section>")[0].split())
    assert "vorzeitig beendet am 30.04.2025: Die Initiative hat sich vorerst" in mentoring
    assert "Leyla Ahmadi (Demo)" in page.text  # its contacts, to keep up to date itself
    others = (await client.get("/organisations", params={"limit": 200})).json()["items"]
    stranger = next(o["id"] for o in others if o["id"] != DEMO_ORGANISATION_ID)
    assert (await client.get(f"/verzeichnis/{stranger}", headers={**HTML, **account})).status_code == 403


async def test_an_id_chosen_by_the_client_is_taken_once(client: httpx.AsyncClient) -> None:
    body = {"name": "Yaar e.V.", "kind": "mo", "legal_form": "e_v", "districts": ["neukoelln"]}
    chosen = "0b7e4a52-5d0c-4c1e-9f3a-2d6b8c1e7a90"
    made = await client.post("/organisations", json={**body, "id": chosen})
    assert made.status_code == 201 and made.json()["id"] == chosen
    assert made.headers["location"].endswith(f"/organisations/{chosen}")
    again = await client.post("/organisations", json={**body, "name": "Noch einmal", "id": chosen})
    assert again.status_code == 409 and "gibt es bereits" in again.json()["message_de"]
    assert (await client.get(f"/organisations/{chosen}")).json()["name"] == "Yaar e.V."  # unchanged
    not_an_id = await client.post("/organisations", json={**body, "id": "yaar"})
    assert not_an_id.status_code == 422 and not_an_id.json()["fields"][0]["field"] == "id"
    assert (await client.get("/organisations")).json()["total"] == 1
