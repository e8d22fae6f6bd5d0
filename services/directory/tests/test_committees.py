"""Committee seats: MOs represented in Beiräte, Gremien and Arbeitsgruppen over time; the rules that hold."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.directory.committee_projection import CommitteesProjection, committee_seats, committees
from services.directory.demo import COMMITTEES, load_demo
from services.directory.domain.committee import Committee
from shared.auth.principal import Role
from shared.contracts.directory import CommitteeKind, CommitteeRecorded, District, OrganisationKind
from shared.db import read_transaction
from shared.errors import DomainRuleViolation, InvalidInput
from shared.platform.natsserver import NatsServer
from shared.projections import rebuild
from shared.store import EventStore
from shared.testing import Tokens, eventually, stream_messages

JAN, FEB, MAR, APR = date(2026, 1, 15), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
YAAR = ("org-yaar", OrganisationKind.MO)
INITIATIVE = ("org-init", OrganisationKind.REFUGEE_INITIATIVE)


def recorded() -> Committee:
    committee = Committee.record(
        "k-1", "Integrationsbeirat Neukölln", CommitteeKind.ADVISORY_BOARD, District.NEUKOELLN
    )
    return Committee.rebuild("k-1", committee.pending_events)


# -- the pure domain --------------------------------------------------------------------------------------


def test_a_committee_needs_a_name_and_a_topic_of_fitting_length() -> None:
    with pytest.raises(InvalidInput) as short:
        Committee.record("k-1", "B", CommitteeKind.COMMITTEE, None)
    assert short.value.field == "name"
    with pytest.raises(InvalidInput) as long_topic:
        Committee.record("k-1", "AG Arbeitsmarkt", CommitteeKind.WORKING_GROUP, None, "x" * 501)
    assert long_topic.value.field == "topic"
    berlin = Committee.record("k-2", "Landesbeirat für Integration", CommitteeKind.ADVISORY_BOARD, None)
    first = berlin.pending_events[0]
    assert isinstance(first, CommitteeRecorded)
    assert first.district is None  # a committee of all of Berlin


def test_only_mos_and_refugee_initiatives_take_seats() -> None:
    committee = recorded()
    with pytest.raises(InvalidInput) as office:
        committee.take_seat(("org-ba", OrganisationKind.DISTRICT_OFFICE), None, JAN)
    assert office.value.field == "organisation_id"
    committee.take_seat(YAAR, "contact-1", JAN)
    committee.take_seat(INITIATIVE, None, FEB)
    assert set(committee.current_seats()) == {"org-yaar", "org-init"}
    assert committee.current_seats()["org-yaar"].representative_id == "contact-1"


def test_no_double_seat_at_the_same_time_but_again_after_giving_it_up() -> None:
    committee = recorded()
    committee.take_seat(YAAR, None, JAN)
    with pytest.raises(DomainRuleViolation) as twice:
        committee.take_seat(YAAR, None, FEB)
    assert "bereits einen Sitz" in twice.value.message_de and "already holds" in twice.value.message_en
    committee.vacate_seat("org-yaar", MAR)
    with pytest.raises(InvalidInput) as overlap:
        committee.take_seat(YAAR, None, FEB)  # before it gave up the old one: periods would overlap
    assert overlap.value.field == "taken_on"
    committee.take_seat(YAAR, None, MAR)
    assert committee.holds_seat("org-yaar") and len(committee.seats["org-yaar"]) == 2


def test_only_a_seat_holder_vacates_and_not_before_it_began() -> None:
    committee = recorded()
    with pytest.raises(DomainRuleViolation):
        committee.vacate_seat("org-yaar", MAR)
    committee.take_seat(YAAR, None, FEB)
    with pytest.raises(InvalidInput) as early:
        committee.vacate_seat("org-yaar", JAN)
    assert early.value.field == "vacated_on"


def test_a_dissolved_committee_ends_every_seat_and_takes_no_new_ones() -> None:
    committee = recorded()
    committee.take_seat(YAAR, None, JAN)
    committee.take_seat(INITIATIVE, None, MAR)
    with pytest.raises(InvalidInput) as early:
        committee.dissolve(FEB)  # a seat began in March
    assert early.value.field == "dissolved_on"
    committee.dissolve(APR)
    committee = Committee.rebuild("k-1", committee.pending_events)
    assert committee.current_seats() == {} and committee.seats["org-init"][-1].vacated_on == APR
    with pytest.raises(DomainRuleViolation) as closed:
        committee.take_seat(YAAR, None, APR)
    assert "aufgelöst" in closed.value.message_de
    with pytest.raises(DomainRuleViolation):
        committee.dissolve(APR)


# -- over HTTP, with the bus ------------------------------------------------------------------------------

BEIRAT = {"name": "Integrationsbeirat Neukölln", "kind": "advisory_board", "district": "neukoelln"}


async def org(client: httpx.AsyncClient, name: str, kind: str = "mo", archived: bool = False) -> str:
    body = {"name": name, "kind": kind, "legal_form": "e_v", "districts": ["neukoelln"]}
    response = await client.post("/organisations", json=body)
    assert response.status_code == 201, response.text
    organisation_id = str(response.json()["id"])
    if archived:
        assert (await client.post(f"/organisations/{organisation_id}/archive", json={})).status_code == 200
    return organisation_id


async def contact(client: httpx.AsyncClient, organisation_id: str, name: str) -> str:
    person = {"name": name, "role": "board", "consent": True, "email": "vorstand@verein.example"}
    response = await client.post(f"/organisations/{organisation_id}/contacts", json=person)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_seats_over_time_over_http_with_pseudonymous_events_on_the_bus(
    client: httpx.AsyncClient, nats_server: NatsServer
) -> None:
    yaar = await org(client, "Yaar e.V.")
    bruecke = await org(client, "Elternverein Brücke e.V.")
    person = await contact(client, yaar, "Kava Spartak")
    created = await client.post("/committees", json={**BEIRAT, "topic": "Teilhabe im Bezirk"})
    assert created.status_code == 201, created.text
    committee = created.json()
    assert created.headers["location"].endswith(f"/committees/{committee['id']}")
    assert created.headers["etag"] == '"1"' and committee["seats"] == []
    url = f"/committees/{committee['id']}"

    taken = await client.post(
        f"{url}/seats",
        json={"organisation_id": yaar, "representative_id": person, "taken_on": "2026-01-15"},
        headers={"If-Match": '"1"'},
    )
    assert taken.status_code == 200, taken.text
    [seat] = taken.json()["seats"]
    assert (seat["name"], seat["representative_name"], seat["taken_on"]) == (
        "Yaar e.V.",
        "Kava Spartak",
        "2026-01-15",
    )
    assert taken.headers["etag"] == '"2"'
    second = await client.post(f"{url}/seats", json={"organisation_id": bruecke, "taken_on": "2026-02-01"})
    assert second.status_code == 200, second.text
    left = await client.post(f"{url}/seats/{bruecke}/vacate", json={"vacated_on": "2026-03-01"})
    assert left.status_code == 200
    assert [(s["name"], s["vacated_on"]) for s in left.json()["seats"]] == [
        ("Yaar e.V.", None),
        ("Elternverein Brücke e.V.", "2026-03-01"),
    ]
    [summary] = (await client.get("/committees", params={"district": "neukoelln"})).json()
    assert summary["seats"] == 1 and summary["kind"] == "advisory_board"
    assert (await client.get("/committees", params={"district": "spandau"})).json() == []
    [held] = (await client.get(f"/organisations/{bruecke}/committee-seats")).json()
    assert (held["name"], held["taken_on"], held["vacated_on"]) == (
        "Integrationsbeirat Neukölln",
        "2026-02-01",
        "2026-03-01",
    )
    dissolved = await client.post(f"{url}/dissolve", json={"dissolved_on": "2026-12-31"})
    assert dissolved.status_code == 200 and dissolved.json()["dissolved_on"] == "2026-12-31"
    assert all(s["vacated_on"] for s in dissolved.json()["seats"])

    async def published() -> list[tuple[dict[str, str], bytes]]:
        return [
            m
            for m in await stream_messages(nats_server.url, "IKMO_DIRECTORY")
            if m[0]["ce-subject"] == committee["id"]
        ]

    await eventually(lambda: _count(published, 5))
    messages = await published()
    assert [h["ce-type"] for h, _ in messages] == [
        "ikmo.directory.committee.recorded",
        "ikmo.directory.committee.seat_taken",
        "ikmo.directory.committee.seat_taken",
        "ikmo.directory.committee.seat_vacated",
        "ikmo.directory.committee.dissolved",
    ]
    seat_taken = messages[1][1]
    assert person.encode() in seat_taken  # the representative by pseudonymous id only
    assert b"Spartak" not in seat_taken and b"verein.example" not in seat_taken


async def _count(probe, n: int) -> bool:
    return len(await probe()) >= n


async def test_bad_input_unknown_ids_stale_versions_and_broken_rules(client: httpx.AsyncClient) -> None:
    yaar = await org(client, "Yaar e.V.")
    other = await org(client, "Anderer Verein e.V.")
    office = await org(client, "Bezirksamt Neukölln", kind="district_office")
    archived = await org(client, "Aufgelöster Verein e.V.", archived=True)
    strangers_contact = await contact(client, other, "Jemand Anderes")

    empty = await client.post("/committees", json={"name": "", "kind": "beirat", "district": "atlantis"})
    assert empty.status_code == 422
    assert {f["field"] for f in empty.json()["fields"]} == {"name", "kind", "district"}
    assert all(f["message_de"] and f["message"] for f in empty.json()["fields"])
    short = await client.post("/committees", json={**BEIRAT, "name": "B"})
    assert short.status_code == 422 and short.json()["fields"][0]["field"] == "name"
    assert (await client.get("/committees/no-such-committee")).status_code == 404
    assert (
        await client.post("/committees/no-such-committee/seats", json={"organisation_id": yaar})
    ).status_code == 404

    url = f"/committees/{(await client.post('/committees', json=BEIRAT)).json()['id']}"
    assert (await client.post(f"{url}/seats", json={"organisation_id": "no-such-org"})).status_code == 404
    gone = await client.post(f"{url}/seats", json={"organisation_id": archived})
    assert gone.status_code == 409 and "archiviert" in gone.json()["message_de"]
    not_mo = await client.post(f"{url}/seats", json={"organisation_id": office})
    assert not_mo.status_code == 422 and not_mo.json()["fields"][0]["field"] == "organisation_id"
    wrong_person = await client.post(
        f"{url}/seats", json={"organisation_id": yaar, "representative_id": strangers_contact}
    )
    assert wrong_person.status_code == 422
    assert wrong_person.json()["fields"][0]["field"] == "representative_id"
    bad_date = await client.post(f"{url}/seats", json={"organisation_id": yaar, "taken_on": "gestern"})
    assert bad_date.status_code == 422 and bad_date.json()["fields"][0]["field"] == "taken_on"
    bad_etag = await client.post(f"{url}/seats", json={"organisation_id": yaar}, headers={"If-Match": "neu"})
    assert bad_etag.status_code == 422 and bad_etag.json()["fields"][0]["field"] == "If-Match"

    first = await client.post(f"{url}/seats", json={"organisation_id": yaar}, headers={"If-Match": '"1"'})
    assert first.status_code == 200
    stale = await client.post(f"{url}/seats", json={"organisation_id": other}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and "inzwischen geändert" in stale.json()["message_de"]
    twice = await client.post(f"{url}/seats", json={"organisation_id": yaar})
    assert twice.status_code == 409 and "bereits einen Sitz" in twice.json()["message_de"]
    no_seat = await client.post(f"{url}/seats/{other}/vacate", json={})
    assert no_seat.status_code == 409
    early = await client.post(f"{url}/seats/{yaar}/vacate", json={"vacated_on": "2000-01-01"})
    assert early.status_code == 422 and early.json()["fields"][0]["field"] == "vacated_on"

    after = (await client.get(url)).json()
    assert after["version"] == 2 and [s["organisation_id"] for s in after["seats"]] == [yaar]


async def test_erasing_a_representative_leaves_the_seat_and_shows_the_person_as_erased(
    client: httpx.AsyncClient,
) -> None:
    yaar = await org(client, "Yaar e.V.")
    person = await contact(client, yaar, "Kava Spartak")
    url = f"/committees/{(await client.post('/committees', json=BEIRAT)).json()['id']}"
    await client.post(f"{url}/seats", json={"organisation_id": yaar, "representative_id": person})

    assert (await client.post(f"/contacts/{person}/erase")).status_code == 204
    [seat] = (await client.get(url)).json()["seats"]
    assert seat["representative_id"] == person and seat["representative_name"] == "[gelöscht]"
    assert seat["vacated_on"] is None
    [summary] = (await client.get("/committees")).json()
    assert summary["seats"] == 1  # the count stays
    html = (await client.get(f"/verzeichnis/gremien/{url.rsplit('/', 1)[1]}", headers=HTML)).text
    assert "Kava Spartak" not in html and "[gelöscht]" in html

    assert (await client.post(f"{url}/seats/{yaar}/vacate", json={})).status_code == 200
    again = await client.post(f"{url}/seats", json={"organisation_id": yaar, "representative_id": person})
    assert again.status_code == 422  # an erased person represents no one any more
    assert again.json()["fields"][0]["field"] == "representative_id"


HTML = {"Accept": "text/html"}


# -- pages ------------------------------------------------------------------------------------------------


async def test_committee_pages_enter_take_give_up_with_errors_beside_the_fields(
    client: httpx.AsyncClient,
) -> None:
    yaar = await org(client, "Yaar e.V.")
    bruecke = await org(client, "Elternverein Brücke e.V.")
    await org(client, "Bezirksamt Neukölln", kind="district_office")
    person = await contact(client, yaar, "Kava Spartak")
    listing = await client.get("/verzeichnis/gremien", headers=HTML)
    assert listing.status_code == 200 and "Noch kein Gremium eingetragen." in listing.text
    assert 'aria-current="page">Gremien' in listing.text

    wrong = await client.post("/verzeichnis/gremien", data={"name": "Integrationsbeirat"}, headers=HTML)
    assert wrong.status_code == 422 and 'id="f-kind-error"' in wrong.text
    assert 'value="Integrationsbeirat"' in wrong.text  # nothing typed is lost
    made = await client.post(
        "/verzeichnis/gremien", data={"name": "Integrationsbeirat Neukölln", "kind": "advisory_board"}
    )
    assert made.status_code == 303
    url = made.headers["location"]
    page = (await client.get(url, headers=HTML)).text
    assert "Integrationsbeirat Neukölln wurde eingetragen." in page and "ganz Berlin" in page
    assert "Bezirksamt Neukölln" not in page  # only MOs and refugee initiatives are offered a seat
    assert "Kava Spartak (Yaar e.V.)" in page

    taken = await client.post(
        f"{url}/sitze",
        data={"organisation_id": yaar, "representative_id": person, "taken_on": "2026-01-15", "version": "1"},
    )
    assert taken.status_code == 303
    page = (await client.get(url, headers=HTML)).text
    assert "Der Sitz wurde eingetragen." in page and "Kava Spartak" in page and "15.01.2026" in page
    stale = await client.post(
        f"{url}/sitze",
        data={"organisation_id": bruecke, "taken_on": "2026-02-01", "version": "1"},
        headers=HTML,
    )
    assert stale.status_code == 409 and "inzwischen geändert" in stale.text
    assert 'value="2026-02-01"' in stale.text  # the input is kept for a second try
    bad_day = await client.post(f"{url}/sitze", data={"organisation_id": bruecke, "taken_on": "morgen"})
    assert bad_day.status_code == 422 and 'id="f-taken_on-error"' in bad_day.text

    left = await client.post(f"{url}/sitze/{yaar}/aufgabe", data={"vacated_on": "2026-03-01", "version": "2"})
    assert left.status_code == 303
    page = (await client.get(url, headers=HTML)).text
    former = page[page.index("Frühere Sitze") :]
    assert "Yaar e.V." in former and "15.01.2026 bis 01.03.2026" in former

    organisation = (await client.get(f"/verzeichnis/{yaar}", headers=HTML)).text
    committees = organisation[organisation.index('id="committees-title"') :]
    assert "Integrationsbeirat Neukölln" in committees and "bis 01.03.2026" in committees
    dissolved = await client.post(f"{url}/aufloesen", data={"dissolved_on": "2026-12-31"})
    assert dissolved.status_code == 303
    page = (await client.get(url, headers=HTML)).text
    assert "Aufgelöst am" in page and "Sitz eintragen" not in page
    assert (await client.get("/verzeichnis/gremien/no-such-committee", headers=HTML)).status_code == 404
    english = (await client.get(f"{url}?lang=en", headers=HTML)).text
    assert "Former seats" in english and "Dissolved on" in english


# -- demo data and rebuilding ---------------------------------------------------------------------------


async def test_demo_committees_load_and_their_read_model_rebuilds_to_the_same(
    client: httpx.AsyncClient, engine: AsyncEngine, tokens: Tokens
) -> None:
    client.headers.update(tokens.headers(Role.ADMIN))  # as `ikmo up` loads it
    await load_demo(client)
    listed = (await client.get("/committees")).json()
    assert len(listed) == len(COMMITTEES)
    assert [c["name"] for c in listed if c["dissolved_on"]] == ["Runder Tisch Geflüchtete Pankow (Demo)"]
    neukoelln = next(c for c in listed if c["district"] == "neukoelln")
    seats = (await client.get(f"/committees/{neukoelln['id']}")).json()["seats"]
    assert [(s["name"], s["representative_name"], s["vacated_on"]) for s in seats] == [
        ("Elternverein Brücke Neukölln e.V. (Demo)", "Aylin Demir (Demo)", None),
        ("Kurdisches Kulturzentrum Kreuzberg e.V. (Demo)", None, "2024-12-31"),
    ]

    async def committees_snapshot() -> list[tuple[object, ...]]:
        async with read_transaction(engine) as conn:
            rows = (await conn.execute(select(committees).order_by(committees.c.id))).all()
            held = (await conn.execute(select(committee_seats).order_by(*committee_seats.c))).all()
        return [tuple(r) for r in [*rows, *held]]

    before = await committees_snapshot()
    assert len(before) == len(COMMITTEES) + sum(len(c["seats"]) for c in COMMITTEES)
    await rebuild(engine, EventStore(), CommitteesProjection())
    assert await committees_snapshot() == before
