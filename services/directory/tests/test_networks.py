"""Networks: founding with coordinators, members joining and leaving over time, and the rules that hold."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.directory import handlers
from services.directory.app import definition
from services.directory.domain.commands import JoinNetwork
from services.directory.domain.model import Organisation
from services.directory.domain.network import Network
from shared.errors import ConcurrencyError, DomainRuleViolation, InvalidInput
from shared.platform.natsserver import NatsServer
from shared.store import EventStore
from shared.store.uow import UnitOfWork
from shared.testing import eventually, stream_messages

YAAR = {"name": "Yaar e.V.", "kind": "mo", "legal_form": "e_v", "districts": ["friedrichshain_kreuzberg"]}
JAN, FEB, MAR = date(2026, 1, 15), date(2026, 2, 1), date(2026, 3, 1)


def founded() -> Network:
    network = Network.found("n-1", "Migrannet", "Vernetzung", ("org-a",), JAN)
    return Network.rebuild("n-1", network.pending_events)


# -- the pure domain --------------------------------------------------------------------------------------


def test_coordinators_are_the_first_members_and_one_is_needed() -> None:
    network = founded()
    assert network.is_member("org-a") and not network.is_member("org-b")
    with pytest.raises(InvalidInput) as none:
        Network.found("n-2", "Leeres Netz", None, (), JAN)
    assert none.value.field == "coordinators"
    with pytest.raises(InvalidInput) as short:
        Network.found("n-3", "X", None, ("org-a",), JAN)
    assert short.value.field == "name"


def test_no_double_membership_at_the_same_time_but_joining_again_later() -> None:
    network = founded()
    network.join("org-b", FEB)
    with pytest.raises(DomainRuleViolation) as twice:
        network.join("org-b", MAR)
    assert "bereits Mitglied" in twice.value.message_de
    network.leave("org-b", MAR)
    assert not network.is_member("org-b")
    with pytest.raises(InvalidInput):
        network.join("org-b", FEB)  # before it left: two periods would overlap
    network.join("org-b", MAR)
    assert network.is_member("org-b") and len(network.periods["org-b"]) == 2


def test_no_one_joins_before_the_network_was_founded() -> None:
    network = founded()
    with pytest.raises(InvalidInput) as early:
        network.join("org-b", date(2026, 1, 14))
    assert (
        early.value.field == "joined_on" and "Gründung des Netzwerks (15.01.2026)" in early.value.message_de
    )
    network.join("org-b", JAN)  # on the day it was founded


def test_only_a_member_leaves_and_not_before_it_joined() -> None:
    network = founded()
    with pytest.raises(DomainRuleViolation):
        network.leave("org-b", MAR)
    with pytest.raises(InvalidInput) as early:
        network.leave("org-a", date(2025, 12, 31))
    assert early.value.field == "left_on"


# -- over HTTP, with the bus ------------------------------------------------------------------------------


async def register(client: httpx.AsyncClient, **changes: object) -> str:
    response = await client.post("/organisations", json={**YAAR, **changes})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_network_over_http_with_its_events_on_the_bus(
    client: httpx.AsyncClient, nats_server: NatsServer
) -> None:
    yaar = await register(client)
    paritaet = await register(client, name="Der Paritätische Berlin", kind="welfare_association")
    created = await client.post(
        "/networks",
        json={
            "name": "Arbeitsmarktintegration von afghanischen Geflüchteten",
            "topic": "Arbeitsmarkt",
            "coordinators": [yaar],
            "founded_on": "2026-01-15",
        },
    )
    assert created.status_code == 201, created.text
    network = created.json()
    joined = await client.post(
        f"/networks/{network['id']}/members", json={"organisation_id": paritaet, "joined_on": "2026-02-01"}
    )
    assert joined.status_code == 200
    assert {(m["name"], m["coordinator"]) for m in joined.json()["members"]} == {
        ("Yaar e.V.", True),
        ("Der Paritätische Berlin", False),
    }
    left = await client.post(
        f"/networks/{network['id']}/members/{paritaet}/leave", json={"left_on": "2026-03-01"}
    )
    assert left.status_code == 200
    former = next(m for m in left.json()["members"] if m["organisation_id"] == paritaet)
    assert former["left_on"] == "2026-03-01"
    [summary] = (await client.get("/networks")).json()
    assert summary["members"] == 1

    async def published() -> bool:
        types = [h["ce-type"] for h, _ in await stream_messages(nats_server.url, "IKMO_DIRECTORY")]
        return types.count("ikmo.directory.network.member_left") == 1

    await eventually(published)
    headers = [h for h, _ in await stream_messages(nats_server.url, "IKMO_DIRECTORY")]
    network_types = [h["ce-type"] for h in headers if h["ce-subject"] == network["id"]]
    assert network_types == [
        "ikmo.directory.network.founded",
        "ikmo.directory.network.member_joined",
        "ikmo.directory.network.member_left",
    ]


async def test_bad_input_unknown_ids_and_broken_rules(client: httpx.AsyncClient) -> None:
    yaar = await register(client)
    archived = await register(client, name="Aufgelöster Verein e.V.")
    assert (await client.post(f"/organisations/{archived}/archive", json={})).status_code == 200

    empty = await client.post("/networks", json={"name": "", "coordinators": []})
    assert empty.status_code == 422
    assert {f["field"] for f in empty.json()["fields"]} == {"name", "coordinators"}
    ghost = await client.post("/networks", json={"name": "Netz", "coordinators": ["no-such-org"]})
    assert ghost.status_code == 404
    network = (await client.post("/networks", json={"name": "Migrannet", "coordinators": [yaar]})).json()
    url = f"/networks/{network['id']}/members"

    twice = await client.post(url, json={"organisation_id": yaar})
    assert twice.status_code == 409 and "bereits Mitglied" in twice.json()["message_de"]
    gone = await client.post(url, json={"organisation_id": archived})
    assert gone.status_code == 409 and "archiviert" in gone.json()["message_de"]
    assert (await client.post(url, json={"organisation_id": "no-such-org"})).status_code == 404
    assert (
        await client.post("/networks/no-such-network/members", json={"organisation_id": yaar})
    ).status_code == 404
    bad_date = await client.post(url, json={"organisation_id": yaar, "joined_on": "gestern"})
    assert bad_date.status_code == 422
    other = await register(client, name="Früher Verein e.V.")
    before = await client.post(url, json={"organisation_id": other, "joined_on": "2000-01-01"})
    assert before.status_code == 422 and before.json()["fields"][0]["field"] == "joined_on"
    not_member = await client.post(f"{url}/{archived}/leave", json={})
    assert not_member.status_code == 409
    after = (await client.get(f"/networks/{network['id']}")).json()
    assert [m["organisation_id"] for m in after["members"]] == [yaar]  # nothing half-applied
    assert after["version"] == 1


# -- pages ------------------------------------------------------------------------------------------------

HTML = {"Accept": "text/html"}


async def test_network_pages_enter_join_leave_with_errors_beside_the_fields(
    client: httpx.AsyncClient,
) -> None:
    yaar = await register(client)
    paritaet = await register(client, name="Der Paritätische Berlin", kind="welfare_association")
    form = await client.get("/verzeichnis/netzwerke/neu", headers=HTML)
    assert (
        form.status_code == 200 and "Koordinierende Organisationen" in form.text and "Yaar e.V." in form.text
    )

    wrong = await client.post("/verzeichnis/netzwerke/neu", data={"name": "Migrannet"}, headers=HTML)
    assert wrong.status_code == 422 and 'id="f-coordinators-error"' in wrong.text
    assert 'value="Migrannet"' in wrong.text
    made = await client.post(
        "/verzeichnis/netzwerke/neu",
        data={
            "name": "Migrannet",
            "topic": "Vernetzung",
            "coordinators": [paritaet],
            "founded_on": "2026-01-15",
        },
        headers=HTML,
    )
    assert made.status_code == 303
    url = made.headers["location"]

    joined = await client.post(f"{url}/beitritt", data={"organisation_id": yaar, "joined_on": "2026-02-01"})
    assert joined.status_code == 303
    page = (await client.get(url, headers=HTML)).text
    assert "Die Organisation ist dem Netzwerk beigetreten." in page
    assert "koordiniert" in page and "01.02.2026" in page
    twice = await client.post(f"{url}/beitritt", data={"organisation_id": paritaet}, headers=HTML)
    assert twice.status_code == 409 and "bereits Mitglied" in twice.text

    left = await client.post(f"{url}/austritt/{yaar}", data={"left_on": "2026-03-01"})
    assert left.status_code == 303
    page = (await client.get(url, headers=HTML)).text
    former = page[page.index("Frühere Mitglieder") :]
    assert "Yaar e.V." in former and "01.02.2026 bis 01.03.2026" in former

    listing = (await client.get("/verzeichnis/netzwerke", headers=HTML)).text
    assert "Migrannet" in listing and 'aria-current="page">Netzwerke' in listing
    organisation = (await client.get(f"/verzeichnis/{yaar}", headers=HTML)).text
    assert "Migrannet" in organisation and "bis 01.03.2026" in organisation


async def test_an_organisation_archived_while_it_joins_does_not_join(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """The join reads the organisation as active, the archiving commits in between, then the join appends:
    the join must be refused whole (on SQLite one writer at a time leaves no such in-between)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write transactions run one at a time: nothing can commit in between")
    yaar = (await client.post("/organisations", json=YAAR)).json()["id"]
    coordinator = (await client.post("/organisations", json={**YAAR, "name": "Paritätischer Berlin"})).json()
    network = await client.post("/networks", json={"name": "Migrannet", "coordinators": [coordinator["id"]]})
    network_id = network.json()["id"]
    archived: list[int] = []

    class ArchivedInBetween(UnitOfWork):
        async def find(self, cls, aggregate_id):
            found = await super().find(cls, aggregate_id)
            if cls is Organisation and aggregate_id == yaar and not archived:
                answer = await client.post(f"/organisations/{yaar}/archive", json={})
                archived.append(answer.status_code)
            return found

    def uow() -> UnitOfWork:
        return ArchivedInBetween(
            engine, EventStore(), definition.registry, "directory", definition.projections
        )

    with pytest.raises(ConcurrencyError):
        await handlers.join_network(uow, JoinNetwork(network_id, yaar))
    assert archived == [200]
    members = (await client.get(f"/networks/{network_id}")).json()["members"]
    assert yaar not in {m["organisation_id"] for m in members}
