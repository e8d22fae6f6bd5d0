"""The events API with real parts: the lifecycle, registrations with waitlist, and every kind of bad input."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events.tests.conftest import Directory, in_days, seminar
from shared.auth.principal import Role
from shared.db import read_transaction
from shared.personal import ERASED
from shared.store.schema import events as event_log
from shared.store.schema import person_keys
from shared.testing import Tokens, eventually, stream_messages


async def draft(client: httpx.AsyncClient, **changes: object) -> dict:
    response = await client.post("/events", json=seminar(**changes))
    assert response.status_code == 201, response.text
    return response.json()


async def published(client: httpx.AsyncClient, **changes: object) -> dict:
    event = await draft(client, **changes)
    response = await client.post(f"/events/{event['id']}/publish")
    assert response.status_code == 200, response.text
    return response.json()


async def register(client: httpx.AsyncClient, event_id: str, n: int, **changes: object) -> httpx.Response:
    body = {"name": f"Person {n}", "email": f"person{n}@verein.example", **changes}
    return await client.post(f"/events/{event_id}/registrations", json=body)


def fields_of(response: httpx.Response) -> dict[str, str]:
    return {f["field"]: f["message_de"] for f in response.json()["fields"]}


async def log_size(engine: AsyncEngine) -> int:
    async with read_transaction(engine) as conn:
        return int((await conn.execute(select(func.count()).select_from(event_log))).scalar_one())


async def test_an_event_is_drafted_changed_published_and_cancelled(client: httpx.AsyncClient) -> None:
    response = await client.post("/events", json=seminar())
    assert response.status_code == 201
    event = response.json()
    assert response.headers["Location"].endswith(f"/events/{event['id']}")
    assert response.headers["ETag"] == '"1"'
    assert event["status"] == "draft" and event["free_places"] == 2

    patched = await client.patch(
        f"/events/{event['id']}", json={"title": "Vereinsgründung kompakt", "description": "Mit Satzung."}
    )
    assert patched.status_code == 200 and patched.json()["title"] == "Vereinsgründung kompakt"
    stale = await client.patch(f"/events/{event['id']}", json={"title": "Alt"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and "inzwischen geändert" in stale.json()["message_de"]
    cleared = await client.patch(
        f"/events/{event['id']}", json={"description": None}, headers={"If-Match": '"2"'}
    )
    assert cleared.status_code == 200 and cleared.json()["description"] is None

    listed = (await client.get("/events", params={"status": "draft"})).json()
    assert [e["id"] for e in listed["items"]] == [event["id"]]
    assert (await client.post(f"/events/{event['id']}/publish")).json()["status"] == "published"
    not_yet = await client.post(f"/events/{event['id']}/complete")
    assert not_yet.status_code == 409 and "noch nicht begonnen" in not_yet.json()["message_de"]
    cancelled = await client.post(f"/events/{event['id']}/cancel", json={"reason": "speaker_unavailable"})
    assert (
        cancelled.json()["status"] == "cancelled"
        and cancelled.json()["cancel_reason"] == "speaker_unavailable"
        and cancelled.json()["cancel_note"] is None
    )
    again = await client.post(f"/events/{event['id']}/publish")
    assert again.status_code == 409 and "abgesagt" in again.json()["message_de"]


async def test_bad_input_is_422_per_field_in_german_and_nothing_is_kept(
    client: httpx.AsyncClient, engine: AsyncEngine, directory: Directory
) -> None:
    missing = await client.post("/events", json={"title": "x"})
    assert missing.status_code == 422
    assert {"format", "topics", "funding_line", "starts_at", "ends_at", "capacity"} <= set(fields_of(missing))
    assert fields_of(missing)["format"] == "Dieses Feld ist erforderlich."

    wrong = await client.post(
        "/events", json=seminar(format="party", topics=[], capacity=0, district="atlantis", surprise=1)
    )
    assert set(fields_of(wrong)) == {"format", "topics", "capacity", "district", "surprise"}
    naive = await client.post("/events", json=seminar(starts_at="2026-03-12T10:00:00"))
    assert set(fields_of(naive)) == {"starts_at"}

    cases = [
        (seminar(ends_at=in_days(29)), "ends_at", "Ende muss nach dem Beginn"),
        (seminar(registration_deadline=in_days(31)), "registration_deadline", "nicht nach dem Beginn"),
        (seminar(venue=None), "venue", "Ort angeben"),
        (  # year 1 and 9999 would overflow on the way to UTC: a typo, told as one
            seminar(starts_at="0001-01-01T00:10:00+01:00"),
            "starts_at",
            "Jahr zwischen 2000 und 2100 angeben (hier steht 1)",
        ),
        (seminar(ends_at="9999-12-31T23:00:00-05:00"), "ends_at", "hier steht 9999"),
        (seminar(format="network_meeting"), "network_id", "Netzwerk"),
        (
            seminar(format="network_meeting", network_id="no-such-network"),
            "network_id",
            "gibt es im Verzeichnis nicht",
        ),
        (seminar(host_organisation_id="nobody"), "host_organisation_id", "gibt es im Verzeichnis nicht"),
    ]
    archived = await directory.organisation("Aufgelöster Verein e.V.")
    await directory.archive(archived)
    cases.append((seminar(host_organisation_id=archived), "host_organisation_id", "archiviert"))
    before = await log_size(engine)
    for body, field, german in cases:
        response = await client.post("/events", json=body)
        assert response.status_code == 422, (field, response.text)
        assert list(fields_of(response)) == [field] and german in fields_of(response)[field], response.text
    assert await log_size(engine) == before  # no half-applied command
    talk = await client.post("/events", json=seminar(format="labour_market_talk"))  # all it lacks, at once
    assert list(fields_of(talk)) == ["host_organisation_id", "speaker_organisation_ids"]
    assert "Migrant*innenorganisation" in fields_of(talk)["host_organisation_id"]

    unknown = await client.get("/events/no-such-event")
    assert (
        unknown.status_code == 404
        and unknown.json()["message_de"] == "Die Veranstaltung no-such-event gibt es nicht"
    )
    event = await draft(client)
    bad_version = await client.post(f"/events/{event['id']}/publish", headers={"If-Match": "drei"})
    assert bad_version.status_code == 422 and fields_of(bad_version) == {
        "If-Match": 'If-Match muss die Version aus dem ETag sein, z. B. "3".'
    }
    assert (
        await client.post(f"/events/{event['id']}/capacity", json={"capacity": "viele"})
    ).status_code == 422


async def test_a_labour_market_talk_names_its_host_and_speakers_from_the_directory(
    client: httpx.AsyncClient, directory: Directory
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    jobcenter = await directory.organisation("Jobcenter Berlin Mitte", "labour_market_actor")
    office = await directory.organisation("Bezirksamt Mitte", "district_office")
    body = seminar(
        format="labour_market_talk", host_organisation_id=yaar, topics=["recognition_of_qualifications"]
    )
    wrong = await client.post("/events", json={**body, "speaker_organisation_ids": [office]})
    assert wrong.status_code == 422 and "Keine Arbeitsmarktinstitution: Bezirksamt Mitte" in wrong.text
    made = await client.post("/events", json={**body, "speaker_organisation_ids": [jobcenter]})
    assert made.status_code == 201, made.text
    assert made.json()["host"] == {"id": yaar, "name": "Yaar e.V.", "kind": "mo"}
    assert [s["name"] for s in made.json()["speakers"]] == ["Jobcenter Berlin Mitte"]
    network = await directory.network("Migrannet")
    meeting = await client.post("/events", json=seminar(format="network_meeting", network_id=network))
    assert meeting.status_code == 201 and meeting.json()["network"] == {"id": network, "name": "Migrannet"}


async def test_registrations_fill_the_places_then_the_waitlist_and_a_cancellation_promotes(
    client: httpx.AsyncClient,
) -> None:
    event = await published(client, capacity=2)
    results = [(await register(client, event["id"], n)).json() for n in range(1, 5)]
    assert [(r["status"], r["waitlist_position"]) for r in results] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    assert results[-1]["event"]["confirmed"] == 2 and results[-1]["event"]["waitlisted"] == 2

    twice = await register(client, event["id"], 9, email=" Person1@Verein.example")
    assert twice.status_code == 409
    assert "schon angemeldet" in twice.json()["message_de"] and "Platz" in twice.json()["message_de"]

    first = results[0]["registration_id"]
    after = await client.post(f"/events/{event['id']}/registrations/{first}/cancel")
    assert after.status_code == 200 and after.json()["confirmed"] == 2 and after.json()["waitlisted"] == 1
    people = (await client.get(f"/events/{event['id']}/registrations")).json()
    assert [(p["name"], p["status"], p["waitlist_position"], p["promoted"]) for p in people] == [
        ("Person 2", "confirmed", None, False),
        ("Person 3", "confirmed", None, True),
        ("Person 4", "waitlisted", 1, False),
        ("Person 1", "cancelled", None, False),
    ]

    more = await client.post(f"/events/{event['id']}/capacity", json={"capacity": 3})
    assert more.json()["confirmed"] == 3 and more.json()["waitlisted"] == 0
    fewer = await client.post(f"/events/{event['id']}/capacity", json={"capacity": 2})
    assert fewer.status_code == 409 and "3 Plätze sind bestätigt" in fewer.json()["message_de"]

    kinds = [(n["kind"], n["subject"]) for n in (await client.get("/notices")).json()]
    assert sorted(k for k, _ in kinds) == sorted(
        ["confirmation", "confirmation", "waitlist", "waitlist", "cancellation", "promotion", "promotion"]
    )
    [promotion] = [
        n
        for n in (await client.get("/notices", params={"event_id": event["id"]})).json()
        if n["kind"] == "promotion" and "Person 3" in n["recipient"]
    ]
    assert promotion["recipient"] == "Person 3 <person3@verein.example>"
    assert "Sie sind von der Warteliste nachgerückt" in promotion["body"]
    assert "http://events.test/oeffentlich/anmeldung/" in promotion["body"]  # the personal link


async def test_a_registration_names_an_existing_active_organisation(
    client: httpx.AsyncClient, engine: AsyncEngine, directory: Directory
) -> None:
    event = await published(client, capacity=5)
    yaar = await directory.organisation("Yaar e.V.")
    gone = await directory.organisation("Aufgelöster Verein e.V.")
    await directory.archive(gone)
    before = await log_size(engine)
    for organisation, german in (("nobody", "gibt es im Verzeichnis nicht"), (gone, "archiviert")):
        refused = await register(client, event["id"], 1, organisation_id=organisation)
        assert refused.status_code == 422 and german in fields_of(refused)["organisation_id"]
    bad = await register(client, event["id"], 1, email="kein-at-zeichen", name="")
    assert bad.status_code == 422 and set(fields_of(bad)) == {"name"}  # the schema speaks first
    worse = await register(client, event["id"], 1, email="kein-at-zeichen")
    assert fields_of(worse) == {"email": "Bitte eine E-Mail-Adresse wie name@beispiel.de angeben."}
    assert await log_size(engine) == before
    ok = await register(client, event["id"], 1, organisation_id=yaar)
    assert ok.status_code == 201
    [person] = (await client.get(f"/events/{event['id']}/registrations")).json()
    assert person["organisation_name"] == "Yaar e.V."


async def test_only_via_writes_and_sees_registrations(client: httpx.AsyncClient, tokens: Tokens) -> None:
    event = await published(client)
    for role, status in ((Role.TBB, 200), (Role.SENATE, 403), (Role.INTEGRATOR, 403)):
        assert (await client.get("/events", headers=tokens.headers(role))).status_code == status
    tbb = tokens.headers(Role.TBB)
    assert (await client.post("/events", json=seminar(), headers=tbb)).status_code == 403
    assert (await client.get(f"/events/{event['id']}/registrations", headers=tbb)).status_code == 403
    assert (await client.get("/notices", headers=tbb)).status_code == 403
    assert (await client.get("/events", headers={"Authorization": ""})).status_code == 401


async def test_the_bus_carries_registrations_by_pseudonymous_id_only(
    client: httpx.AsyncClient, nats_server: object
) -> None:
    event = await published(client, capacity=1)
    for n in (1, 2):
        assert (await register(client, event["id"], n, phone="+49 30 1234567")).status_code == 201
    url = nats_server.url  # type: ignore[attr-defined]

    async def all_there() -> list:
        messages = await stream_messages(url, "IKMO_EVENTS")
        return messages if len(messages) >= 4 else []

    messages = await eventually(all_there)
    subjects = [headers["ce-type"] for headers, _ in messages]
    assert subjects == [
        "ikmo.events.event.drafted",
        "ikmo.events.event.published",
        "ikmo.events.registration.confirmed",
        "ikmo.events.registration.waitlisted",
    ]  # the private record of who registered never left the service
    wire = b"".join(payload for _, payload in messages)
    for secret in (b"Person 1", b"person1@verein.example", b"1234567", b"cancel_token"):
        assert secret not in wire


async def test_erasing_a_person_empties_every_copy_and_passes_the_place_on(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    event = await published(client, capacity=1)
    first = (await register(client, event["id"], 1, phone="+49 30 1234567")).json()["registration_id"]
    await register(client, event["id"], 2)
    erased = await client.post(f"/events/{event['id']}/registrations/{first}/erase")
    assert erased.status_code == 200 and erased.json()["confirmed"] == 1
    people = (await client.get(f"/events/{event['id']}/registrations")).json()
    gone = next(p for p in people if p["id"] == first)
    assert (gone["name"], gone["email"], gone["phone"], gone["erased"]) == (ERASED, ERASED, ERASED, True)
    assert next(p for p in people if p["id"] != first)["status"] == "confirmed"  # Person 2 moved up
    theirs = [n for n in (await client.get("/notices")).json() if n["registration_id"] == first]
    assert theirs and all(n["recipient"] == ERASED and n["body"] == ERASED for n in theirs)
    assert "cancellation" not in [n["kind"] for n in theirs]  # no mail about it to an erased person
    async with read_transaction(engine) as conn:
        key = (await conn.execute(select(person_keys.c.key).where(person_keys.c.subject_id == first))).one()
    assert key.key is None
    again = await register(client, event["id"], 3)
    assert again.status_code == 201  # the event goes on
    assert (await client.post(f"/events/{event['id']}/registrations/nobody/erase")).status_code == 404


async def test_merges_are_followed_old_registrations_show_the_survivor_new_ones_name_it(
    client: httpx.AsyncClient, directory: Directory
) -> None:
    duplicate = await directory.organisation("Yaar Berlin (Dublette)")
    survivor = await directory.organisation("Yaar e.V.")
    event = await published(client, capacity=5, host_organisation_id=duplicate)
    assert (await register(client, event["id"], 1, organisation_id=duplicate)).status_code == 201

    await directory.merge(duplicate, survivor, "Yaar e.V.")
    people = (await client.get(f"/events/{event['id']}/registrations")).json()
    assert [(p["organisation_id"], p["organisation_name"]) for p in people] == [(survivor, "Yaar e.V.")]
    assert (await client.get(f"/events/{event['id']}")).json()["host"] == {
        "id": survivor,
        "name": "Yaar e.V.",
        "kind": "mo",
    }
    later = await register(client, event["id"], 2, organisation_id=duplicate)  # an old id in a bookmark
    assert later.status_code == 201
    people = (await client.get(f"/events/{event['id']}/registrations")).json()
    assert {p["organisation_id"] for p in people} == {survivor}
    assert duplicate not in {o["id"] for o in (await client.get("/organisations")).json()}

    successor = await directory.organisation("Yaar Berlin-Brandenburg e.V.")
    await directory.merge(survivor, successor, "Yaar Berlin-Brandenburg e.V.")  # merged again: followed on
    people = (await client.get(f"/events/{event['id']}/registrations")).json()
    assert {p["organisation_name"] for p in people} == {"Yaar Berlin-Brandenburg e.V."}
