"""Advice and process accompaniment over HTTP with real parts: recording, correcting, erasing, merges
followed, every kind of bad input, and what the bus carries (no names, no minutes)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events.consultation_handlers import berlin_today
from services.events.tests.conftest import Directory
from shared.auth.principal import Role
from shared.db import read_transaction
from shared.personal import ERASED
from shared.store.schema import events as event_log
from shared.store.schema import person_keys
from shared.testing import Tokens, eventually, plaintext_in_database, stream_messages


def days_ago(n: int) -> str:
    return (berlin_today() - timedelta(days=n)).isoformat()


def advice(organisation_id: str | None, **changes: object) -> dict:
    body = {
        "organisation_id": organisation_id,
        "topics": ["project_funding", "concept_development"],
        "held_on": days_ago(3),
        "duration_minutes": 90,
        "format": "in_person",
        "person_advised": "Leyla Ahmadi",
        "minutes": "Aktionsfonds-Antrag besprochen; Kostenplan bis Freitag.",
    }
    return {**body, **changes}


async def record(client: httpx.AsyncClient, organisation_id: str | None, **changes: object) -> dict:
    response = await client.post("/consultations", json=advice(organisation_id, **changes))
    assert response.status_code == 201, response.text
    return response.json()


async def open_accompaniment(client: httpx.AsyncClient, organisation_id: str, **changes: object) -> dict:
    body = {
        "organisation_id": organisation_id,
        "topics": ["founding_an_association"],
        "opened_on": days_ago(30),
        "goal": "Eintragung ins Vereinsregister und Gemeinnützigkeit",
        **changes,
    }
    response = await client.post("/accompaniments", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def fields_of(response: httpx.Response) -> dict[str, str]:
    return {f["field"]: f["message_de"] for f in response.json()["fields"]}


async def log_size(engine: AsyncEngine) -> int:
    async with read_transaction(engine) as conn:
        return int((await conn.execute(select(func.count()).select_from(event_log))).scalar_one())


async def test_a_session_is_recorded_read_filtered_and_corrected(
    client: httpx.AsyncClient, directory: Directory, tokens: Tokens
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    other = await directory.organisation("Elternverein Brücke e.V.")
    response = await client.post("/consultations", json=advice(yaar))
    assert response.status_code == 201
    made = response.json()
    assert response.headers["ETag"] == '"2"'  # recorded and noted
    assert response.headers["Location"].endswith(f"/consultations/{made['id']}")
    assert made["organisation"] == {"id": yaar, "name": "Yaar e.V.", "kind": "mo"}
    assert "person_advised" not in made and "minutes" not in made
    await record(
        client, other, topics=["bookkeeping"], format="phone", held_on=days_ago(40), duration_minutes=30
    )

    notes = (await client.get(f"/consultations/{made['id']}/notes")).json()
    assert notes["person_advised"] == "Leyla Ahmadi" and "Kostenplan" in notes["minutes"]
    assert notes["adviser_id"] == "test-via"  # the signed-in caller, never a value from the body

    listed = (await client.get("/consultations")).json()
    assert listed["total"] == 2 and listed["total_minutes"] == 120
    assert listed["items"][0]["id"] == made["id"]  # the most recent first
    for params, expected in (
        ({"organisation_id": yaar}, 1),
        ({"topic": "bookkeeping"}, 1),
        ({"format": "phone"}, 1),
        ({"held_from": days_ago(10)}, 1),
        ({"held_until": days_ago(10)}, 1),
        ({"held_from": days_ago(50), "held_until": days_ago(0)}, 2),
    ):
        assert (await client.get("/consultations", params=params)).json()["total"] == expected, params

    fixed = await client.patch(
        f"/consultations/{made['id']}",
        json={"duration_minutes": 120, "minutes": None},
        headers={"If-Match": '"2"'},
    )
    assert fixed.status_code == 200 and fixed.json()["duration_minutes"] == 120
    assert fixed.headers["ETag"] == '"4"'
    stale = await client.patch(
        f"/consultations/{made['id']}", json={"format": "online"}, headers={"If-Match": '"2"'}
    )
    assert stale.status_code == 409 and "inzwischen geändert" in stale.json()["message_de"]
    assert (await client.get(f"/consultations/{made['id']}/notes")).json()["minutes"] is None

    tbb = tokens.headers(Role.TBB)  # other partners read the sessions, not who was advised
    assert (await client.get("/consultations", headers=tbb)).status_code == 200
    assert (await client.get(f"/consultations/{made['id']}/notes", headers=tbb)).status_code == 403
    assert (await client.post("/consultations", json=advice(yaar), headers=tbb)).status_code == 403
    senate = tokens.headers(Role.SENATE)
    assert (await client.get("/consultations", headers=senate)).status_code == 403


async def test_bad_input_is_422_per_field_404_and_nothing_is_kept(
    client: httpx.AsyncClient, engine: AsyncEngine, directory: Directory
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    archived = await directory.organisation("Aufgelöster Verein e.V.")
    await directory.archive(archived)
    before = await log_size(engine)
    for body, field, words in (
        (advice(yaar, topics=[]), "topics", "mindestens einen Eintrag"),
        (advice(yaar, topics=["welcome_structures"]), "topics", "Kein Beratungsthema"),
        (advice(yaar, topics=["no_such_topic"]), "topics.0", "nicht zulässig"),
        (advice(yaar, held_on=days_ago(-2)), "held_on", "nicht in der Zukunft"),
        (advice(yaar, duration_minutes=3), "duration_minutes", "5 bis 600 Minuten"),
        (advice(yaar, duration_minutes=601), "duration_minutes", "5 bis 600 Minuten"),
        (advice(yaar, format="carrier_pigeon"), "format", "nicht zulässig"),
        (advice(None), "organisation_id", "beratene Organisation wählen"),
        (advice("no-such-organisation"), "organisation_id", "gibt es im Verzeichnis nicht"),
        (advice(archived), "organisation_id", "archiviert"),
        (advice(yaar, accompaniment_id="no-such"), "accompaniment_id", "gibt es nicht"),
        (advice(yaar, person_advised="x"), "person_advised", "2 bis 200 Zeichen"),
        ({**advice(yaar), "adviser_id": "someone-else"}, "adviser_id", "unbekannt"),  # the caller advises
    ):
        response = await client.post("/consultations", json=body)
        assert response.status_code == 422, (field, response.text)
        assert words in fields_of(response)[field], (field, response.json())
    accompaniment_bad = await client.post(
        "/accompaniments",
        json={"organisation_id": yaar, "topics": ["bookkeeping"], "opened_on": days_ago(1), "goal": "  "},
    )
    assert accompaniment_bad.status_code == 422 and "goal" in fields_of(accompaniment_bad)
    assert await log_size(engine) == before  # nothing was appended

    assert (await client.get("/consultations/nope")).status_code == 404
    assert (await client.patch("/consultations/nope", json={"format": "phone"})).status_code == 404
    assert (await client.get("/accompaniments/nope")).status_code == 404
    close = {"closed_on": days_ago(0), "outcome": "ended_early", "note": "Kein Bedarf mehr"}
    assert (await client.post("/accompaniments/nope/close", json=close)).status_code == 404
    assert (await client.get("/consultations", params={"held_from": "gestern"})).status_code == 422
    backwards = await client.get(
        "/consultations", params={"held_from": days_ago(0), "held_until": days_ago(1)}
    )
    assert backwards.status_code == 422 and "held_until" in fields_of(backwards)
    made = await record(client, yaar)
    bad_if_match = await client.patch(f"/consultations/{made['id']}", json={}, headers={"If-Match": "x"})
    assert bad_if_match.status_code == 422


async def test_an_accompaniment_gathers_its_sessions_in_order_and_closes_once(
    client: httpx.AsyncClient, engine: AsyncEngine, directory: Directory
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    other = await directory.organisation("Elternverein Brücke e.V.")
    accompaniment = await open_accompaniment(client, yaar)
    assert accompaniment["sessions"] == [] and accompaniment["closed_on"] is None
    url = f"/accompaniments/{accompaniment['id']}"
    later = await record(
        client, None, accompaniment_id=accompaniment["id"], held_on=days_ago(2), duration_minutes=90
    )
    earlier = await record(
        client, yaar, accompaniment_id=accompaniment["id"], held_on=days_ago(20), duration_minutes=60
    )
    assert later["organisation"]["id"] == yaar  # a session is the accompaniment's organisation's

    before = await log_size(engine)
    wrong = await client.post("/consultations", json=advice(other, accompaniment_id=accompaniment["id"]))
    assert wrong.status_code == 422 and "Organisation der Begleitung" in fields_of(wrong)["organisation_id"]
    too_early = await client.post(
        "/consultations", json=advice(yaar, accompaniment_id=accompaniment["id"], held_on=days_ago(31))
    )
    assert too_early.status_code == 422 and "vor dem Beginn" in fields_of(too_early)["held_on"]
    assert await log_size(engine) == before  # neither the session nor anything of the accompaniment

    read = (await client.get(url)).json()
    assert [s["id"] for s in read["sessions"]] == [earlier["id"], later["id"]]
    assert (read["total_minutes"], read["total_hours"]) == (150, 2.5)
    version = (await client.get(url)).headers["ETag"]

    fixed = await client.patch(f"/consultations/{later['id']}", json={"duration_minutes": 120})
    assert fixed.status_code == 200 and (await client.get(url)).json()["total_minutes"] == 180
    moved_out = await client.patch(f"/consultations/{later['id']}", json={"held_on": days_ago(40)})
    assert moved_out.status_code == 422 and "held_on" in fields_of(moved_out)

    close = {"closed_on": days_ago(1), "outcome": "achieved", "note": "Verein eingetragen"}
    stale = await client.post(f"{url}/close", json=close, headers={"If-Match": version})
    assert stale.status_code == 409  # a session's duration changed since that version was read
    too_soon = await client.post(f"{url}/close", json={**close, "closed_on": days_ago(5)})
    assert too_soon.status_code == 422 and "closed_on" in fields_of(too_soon)
    closed = await client.post(f"{url}/close", json=close)
    assert closed.status_code == 200
    assert (closed.json()["outcome"], closed.json()["closed_on"]) == ("achieved", days_ago(1))
    listed = (await client.get("/accompaniments")).json()
    assert [(a["sessions"], a["total_minutes"]) for a in listed] == [(2, 180)]
    assert (await client.get("/accompaniments", params={"open_only": True})).json() == []

    after_close = await client.post("/consultations", json=advice(yaar, accompaniment_id=accompaniment["id"]))
    assert after_close.status_code == 409 and "abgeschlossen" in after_close.json()["message_de"]
    again = await client.post(f"{url}/close", json=close)
    assert again.status_code == 409
    standalone = await record(client, yaar)  # a single advice stands alone, also after the close
    assert standalone["accompaniment_id"] is None


async def test_a_merged_duplicates_sessions_show_and_count_for_the_survivor(
    client: httpx.AsyncClient, directory: Directory
) -> None:
    survivor = await directory.organisation("Elternverein Brücke Neukölln e.V.")
    duplicate = await directory.organisation("Elternverein Bruecke e.V.")
    made = await record(client, duplicate)
    accompaniment = await open_accompaniment(client, duplicate)
    await directory.merge(duplicate, survivor, "Elternverein Brücke Neukölln e.V.")

    read = (await client.get(f"/consultations/{made['id']}")).json()
    assert read["organisation"]["id"] == survivor
    by_survivor = (await client.get("/consultations", params={"organisation_id": survivor})).json()
    assert by_survivor["total"] == 1 and by_survivor["total_minutes"] == 90
    by_old_id = (await client.get("/consultations", params={"organisation_id": duplicate})).json()
    assert by_old_id["total"] == 1  # the old id means the survivor now
    # a session for the survivor joins the accompaniment opened for the duplicate
    session = await record(client, survivor, accompaniment_id=accompaniment["id"])
    assert session["organisation"]["id"] == survivor
    listed = (await client.get("/accompaniments", params={"organisation_id": survivor})).json()
    assert [a["sessions"] for a in listed] == [1]
    same = await client.patch(f"/consultations/{made['id']}", json={"organisation_id": survivor})
    assert same.status_code == 200 and same.json()["version"] == made["version"]  # no change at all


async def test_erasing_the_advised_person_empties_every_copy_and_the_session_still_counts(
    client: httpx.AsyncClient, engine: AsyncEngine, directory: Directory
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    made = await record(client, yaar)
    tables = ("events", "outbox", "consultations", "person_keys")
    assert await plaintext_in_database(engine, "Kostenplan", tables) is False  # sealed from the first write
    assert await plaintext_in_database(engine, "Yaar e.V.", (*tables, "directory_organisations"))
    erased = await client.post(f"/consultations/{made['id']}/erase")
    assert erased.status_code == 200 and erased.json()["erased"] is True
    notes = (await client.get(f"/consultations/{made['id']}/notes")).json()
    assert (notes["person_advised"], notes["minutes"], notes["erased"]) == (ERASED, ERASED, True)
    async with read_transaction(engine) as conn:
        key = (
            await conn.execute(select(person_keys.c.key).where(person_keys.c.subject_id == made["id"]))
        ).one()
    assert key.key is None
    assert (await client.get("/consultations")).json()["total_minutes"] == 90
    refused = await client.patch(f"/consultations/{made['id']}", json={"person_advised": "Neu Name"})
    assert refused.status_code == 409 and "gelöscht" in refused.json()["message_de"]
    assert (await client.patch(f"/consultations/{made['id']}", json={"format": "phone"})).status_code == 200
    assert (await client.post("/consultations/nope/erase")).status_code == 404


async def test_the_bus_carries_advice_without_names_or_minutes(
    client: httpx.AsyncClient, directory: Directory, nats_server: object
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    accompaniment = await open_accompaniment(client, yaar, goal="Geheimes Ziel mit Namen")
    made = await record(client, yaar, accompaniment_id=accompaniment["id"])
    await client.patch(
        f"/consultations/{made['id']}", json={"duration_minutes": 45, "minutes": "Neues Protokoll"}
    )
    await client.post(
        f"/accompaniments/{accompaniment['id']}/close",
        json={"closed_on": days_ago(0), "outcome": "achieved", "note": "Vertraulich"},
    )
    url = nats_server.url  # type: ignore[attr-defined]

    async def all_there() -> list:
        messages = await stream_messages(url, "IKMO_EVENTS")
        return messages if len(messages) >= 6 else []

    messages = await eventually(all_there)
    assert [h["ce-type"] for h, _ in messages] == [
        "ikmo.events.accompaniment.opened",
        "ikmo.events.consultation.recorded",
        "ikmo.events.accompaniment.session_added",
        "ikmo.events.consultation.corrected",
        "ikmo.events.accompaniment.session_changed",
        "ikmo.events.accompaniment.closed",
    ]  # the notes, the goal and the outcome never left the service
    wire = b"".join(payload for _, payload in messages)
    for secret in ("Leyla", "Kostenplan", "Protokoll", "Geheimes Ziel", "Vertraulich", "adviser"):
        assert secret.encode() not in wire, secret
    recorded = next(p for h, p in messages if h["ce-type"] == "ikmo.events.consultation.recorded")
    for fact in (yaar, "project_funding", "in_person", '"duration_minutes":90', '"partner":"via"'):
        assert fact.encode() in recorded, fact


async def test_a_session_and_the_closing_at_the_same_moment_never_both_win(
    client: httpx.AsyncClient, directory: Directory, engine: AsyncEngine
) -> None:
    """Whichever commits first decides: a session that lost is refused, never left outside the total."""
    yaar = await directory.organisation("Yaar e.V.")
    for _ in range(4):
        accompaniment = await open_accompaniment(client, yaar)
        url = f"/accompaniments/{accompaniment['id']}"
        await record(client, yaar, accompaniment_id=accompaniment["id"], held_on=days_ago(10))
        close = {"closed_on": days_ago(1), "outcome": "achieved", "note": "Erreicht"}
        session = advice(yaar, accompaniment_id=accompaniment["id"], held_on=days_ago(1))
        added, closed = await asyncio.gather(
            client.post("/consultations", json=session), client.post(f"{url}/close", json=close)
        )
        assert closed.status_code == 200, closed.text
        assert added.status_code in (201, 409), added.text
        read = (await client.get(url)).json()
        assert len(read["sessions"]) == (2 if added.status_code == 201 else 1)
        assert read["total_minutes"] == 90 * len(read["sessions"])
        async with read_transaction(engine) as conn:
            closing = (
                await conn.execute(
                    select(event_log.c.data).where(
                        event_log.c.stream_id == f"accompaniment-{accompaniment['id']}",
                        event_log.c.type == "ikmo.events.accompaniment.closed",
                    )
                )
            ).scalar_one()
        assert json.loads(closing)["sessions"] == len(
            read["sessions"]
        )  # no session slipped in after the closing
