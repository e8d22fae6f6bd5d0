"""The directory's organisations reach the events service over a real nats-server, and only once.

A real directory app publishes through its outbox relay; the events app's durable consumer
`events-directory` fills the service's copy. Then the consumer's handler is fed the same message again,
an older one, and one it cannot place yet: nothing changes twice, nothing goes backwards.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events import replica
from services.events.entrypoints.consumers import on_directory_event
from services.events.tests.conftest import directory_beside_events, seminar
from shared.auth.principal import Role
from shared.bus.cloudevents import ReceivedEvent
from shared.db import read_transaction, write_transaction
from shared.platform.natsserver import NatsServer
from shared.testing import Tokens, eventually

ORG = {"kind": "mo", "legal_form": "e_v", "districts": ["neukoelln"]}


async def test_organisations_arrive_from_the_directory_and_archiving_follows(
    tmp_path: Path, nats_server: NatsServer, engine: AsyncEngine, tokens: Tokens
) -> None:
    via = tokens.headers(Role.VIA)
    async with directory_beside_events(tmp_path, nats_server.url, engine, via) as (
        directory,
        events,
        events_app,
    ):
        yaar = (await directory.post("/organisations", json={**ORG, "name": "Yaar e.V."})).json()
        old = (await directory.post("/organisations", json={**ORG, "name": "Alter Verein e.V."})).json()
        await directory.patch(f"/organisations/{yaar['id']}", json={"name": "Yaar Berlin e.V."})
        await directory.post(f"/organisations/{old['id']}/archive", json={"reason": "aufgelöst"})
        network = await directory.post(
            "/networks", json={"name": "Migrannet", "coordinators": [yaar["id"]], "founded_on": "2017-06-01"}
        )
        assert network.status_code == 201, network.text

        async def arrived() -> list:
            found = (await events.get("/organisations")).json()
            networks = (await events.get("/networks")).json()
            return found if [o["name"] for o in found] == ["Yaar Berlin e.V."] and networks else []

        [known] = await eventually(arrived, timeout=20)
        assert known == {
            "id": yaar["id"],
            "name": "Yaar Berlin e.V.",
            "kind": "mo",
        }  # the archived one is not
        hosted = await events.post("/events", json=seminar(host_organisation_id=yaar["id"]))
        assert hosted.status_code == 201 and hosted.json()["host"]["name"] == "Yaar Berlin e.V."
        refused = await events.post("/events", json=seminar(host_organisation_id=old["id"]))
        assert refused.status_code == 422 and "archiviert" in refused.json()["fields"][0]["message_de"]
        [consumer] = events_app.state.runtime.consumers
        assert consumer.spec.name == "events-directory" and consumer.stats.processed >= 5


async def test_a_merge_in_the_directory_is_followed_over_the_bus(
    tmp_path: Path, nats_server: NatsServer, engine: AsyncEngine, tokens: Tokens
) -> None:
    via = tokens.headers(Role.VIA)
    async with directory_beside_events(tmp_path, nats_server.url, engine, via) as (
        directory,
        events,
        _app,
    ):
        yaar = (await directory.post("/organisations", json={**ORG, "name": "Yaar e.V."})).json()
        twin = (await directory.post("/organisations", json={**ORG, "name": "Yaar (doppelt)"})).json()

        async def both_known() -> bool:
            return len((await events.get("/organisations")).json()) == 2

        await eventually(both_known, timeout=20)
        event = (await events.post("/events", json=seminar(capacity=5))).json()
        await events.post(f"/events/{event['id']}/publish")
        person = {"name": "Aylin Demir", "email": "aylin@verein.example", "organisation_id": twin["id"]}
        assert (await events.post(f"/events/{event['id']}/registrations", json=person)).status_code == 201

        merged = await directory.post(f"/organisations/{yaar['id']}/merge", json={"absorbed_id": twin["id"]})
        assert merged.status_code == 200, merged.text

        async def followed() -> list:
            people = (await events.get(f"/events/{event['id']}/registrations")).json()
            return people if people[0]["organisation_id"] == yaar["id"] else []

        [registered] = await eventually(followed, timeout=20)
        assert registered["organisation_name"] == "Yaar e.V."
        assert [o["name"] for o in (await events.get("/organisations")).json()] == ["Yaar e.V."]


def message(organisation_id: str, sequence: int, event_type: str, **data: object) -> ReceivedEvent:
    return ReceivedEvent(
        id=str(uuid.uuid4()),
        type=event_type,
        source="/ikmo/directory",
        subject=organisation_id,
        time=datetime.now(UTC),
        schema_version=1,
        sequence=sequence,
        data={"organisation_id": organisation_id, **data},
        headers={},
    )


async def test_replays_and_stragglers_change_nothing(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(replica.metadata.create_all)
    org = str(uuid.uuid4())
    registered = message(org, 1, "ikmo.directory.organisation.registered", name="Yaar e.V.", kind="mo")
    renamed = message(org, 2, "ikmo.directory.organisation.profile_updated", name="Yaar Berlin e.V.")
    archived = message(org, 3, "ikmo.directory.organisation.archived", reason=None)
    survivor = str(uuid.uuid4())
    merged = message(
        org, 4, "ikmo.directory.organisation.merged", merged_into=survivor, survivor_name="Yaar", reason=None
    )
    for received in (registered, renamed, archived, merged, registered, renamed, merged):  # then redelivered
        async with write_transaction(engine) as conn:
            await on_directory_event(conn, received)
    async with read_transaction(engine) as conn:
        row = (await conn.execute(select(replica.organisations))).one()
        assert await replica.find(conn, org) is None  # the survivor has not arrived yet: nothing to show
    assert (row.name, row.archived, row.merged_into, row.version) == ("Yaar Berlin e.V.", True, survivor, 4)

    unknown = message(str(uuid.uuid4()), 2, "ikmo.directory.organisation.archived", reason=None)
    with pytest.raises(replica.NotYetKnown):  # retried by the consumer until its registration arrived
        async with write_transaction(engine) as conn:
            await on_directory_event(conn, unknown)
