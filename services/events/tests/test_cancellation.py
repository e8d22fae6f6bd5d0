"""Cancelling an event: a category everyone is told (API, bus, pages, notices) and a note only VIA's team
reads; free text of schema version 1, in the log or still in the outbox, is never shown or published."""

from __future__ import annotations

import json
import re

import httpx
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events.app import definition
from services.events.domain.model import Event
from services.events.projections import CalendarProjection
from services.events.tests.conftest import seminar
from services.events.tests.test_api import fields_of, log_size, register
from services.events.tests.test_pages import HTML, field_error
from services.events.tests.test_public import ANONYMOUS, fresh_limits
from shared.auth.principal import Role
from shared.bus.cloudevents import to_message
from shared.contracts.events import CancellationReason
from shared.db import write_transaction
from shared.domain import EventRegistry
from shared.platform.natsserver import NatsServer
from shared.projections import rebuild
from shared.store import EventStore, NewEvent
from shared.store.schema import outbox
from shared.store.uow import UnitOfWork
from shared.testing import Tokens, eventually, plaintext_in_database, stream_messages

__all__ = ["fresh_limits"]  # the public rate limits, reset around each test
ILLNESS = "Die Referentin ist erkrankt"  # what staff once wrote into the public reason
NOTE = "Neuer Termin im Herbst; Raum 2 ist schon reserviert."


async def published(client: httpx.AsyncClient, **changes: object) -> str:
    event = (await client.post("/events", json=seminar(**changes))).json()
    assert (await client.post(f"/events/{event['id']}/publish")).status_code == 200
    return str(event["id"])


async def messages_of(url: str, event_type: str, count: int = 1) -> list[tuple[dict[str, str], bytes]]:
    """The stream's messages of one type, once `count` of them have arrived."""

    async def arrived() -> list[tuple[dict[str, str], bytes]]:
        found = [(h, p) for h, p in await stream_messages(url, "IKMO_EVENTS") if h["ce-type"] == event_type]
        return found if len(found) >= count else []

    return await eventually(arrived)


async def test_the_api_cancels_with_a_category_and_a_note_only_via_reads(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    event_id = await published(client)
    await register(client, event_id, 1)
    cancelled = await client.post(
        f"/events/{event_id}/cancel", json={"reason": "speaker_unavailable", "note": f"  {NOTE} "}
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["cancel_reason"], body["cancel_note"]) == (
        "cancelled",
        "speaker_unavailable",
        NOTE,
    )
    assert (await client.get(f"/events/{event_id}")).json()["cancel_note"] == NOTE
    [listed] = (await client.get("/events", params={"status": "cancelled"})).json()["items"]
    assert listed["cancel_note"] == NOTE

    tbb = tokens.headers(Role.TBB)  # partners' staff read the calendar, not VIA's team note
    seen = (await client.get(f"/events/{event_id}", headers=tbb)).json()
    assert seen["cancel_reason"] == "speaker_unavailable" and seen["cancel_note"] is None
    [listed] = (await client.get("/events", params={"status": "cancelled"}, headers=tbb)).json()["items"]
    assert listed["cancel_note"] is None

    public = await client.get(f"/oeffentlich/veranstaltungen/{event_id}", headers=ANONYMOUS)
    assert "Diese Veranstaltung wurde abgesagt. Grund: Referent*in verhindert" in public.text
    assert "Raum 2" not in public.text
    english = await client.get(f"/oeffentlich/veranstaltungen/{event_id}?lang=en", headers=ANONYMOUS)
    assert "This event was cancelled. Reason: Speaker unavailable" in english.text

    [notice] = [n for n in (await client.get("/notices")).json() if n["kind"] == "event_cancelled"]
    assert "Grund: Referent*in verhindert" in notice["body"]
    assert "Reason: Speaker unavailable" in notice["body"]
    assert "Raum 2" not in notice["body"]
    vocabulary = (await client.get("/vocabulary")).json()["cancellation_reason"]
    assert {
        "value": "too_few_registrations",
        "de": "Zu wenige Anmeldungen",
        "en": "Too few registrations",
    } in (vocabulary)


async def test_an_unknown_category_a_missing_one_or_a_long_note_is_422_and_nothing_is_appended(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    event_id = await published(client)
    before = await log_size(engine)
    unknown = await client.post(f"/events/{event_id}/cancel", json={"reason": ILLNESS})
    assert unknown.status_code == 422 and fields_of(unknown) == {"reason": "Dieser Wert ist nicht zulässig."}
    missing = await client.post(f"/events/{event_id}/cancel", json={"note": NOTE})
    assert missing.status_code == 422 and fields_of(missing) == {"reason": "Dieses Feld ist erforderlich."}
    empty = await client.post(f"/events/{event_id}/cancel")
    assert empty.status_code == 422
    long = await client.post(f"/events/{event_id}/cancel", json={"reason": "other", "note": "x" * 501})
    assert long.status_code == 422
    assert fields_of(long) == {"note": "Die Notiz ist zu lang: bitte höchstens 500 Zeichen (sie hat 501)."}
    assert long.json()["fields"][0]["message"].startswith("The note is too long: at most 500 characters")
    assert await log_size(engine) == before  # nothing half-applied
    assert (await client.get(f"/events/{event_id}")).json()["status"] == "published"


async def test_the_bus_has_the_category_and_never_the_note(
    client: httpx.AsyncClient, nats_server: NatsServer, engine: AsyncEngine
) -> None:
    event_id = await published(client)
    await client.post(f"/events/{event_id}/cancel", json={"reason": "too_few_registrations", "note": NOTE})
    await client.post("/events", json=seminar(title="Danach geplant"))  # published after the note

    [(headers, payload)] = await messages_of(nats_server.url, "ikmo.events.event.cancelled")
    assert json.loads(payload) == {"event_id": event_id, "reason": "too_few_registrations"}
    assert headers["ce-schemaversion"] == "2"
    await messages_of(nats_server.url, "ikmo.events.event.drafted", count=2)  # the last one relayed
    everything = await stream_messages(nats_server.url, "IKMO_EVENTS")
    assert len(everything) == 4  # drafted, published, cancelled, drafted: the note's event stays home
    assert not any(h["ce-type"] == "ikmo.events.event.cancellation_noted" for h, _ in everything)
    assert b"Raum 2" not in b"".join(p for _, p in everything)
    assert await plaintext_in_database(engine, "Raum 2", ("events",))  # kept in the service's own log


async def test_a_version_1_cancellation_reads_as_other_its_text_gone_in_log_read_model_and_on_the_bus(
    client: httpx.AsyncClient, engine: AsyncEngine, nats_server: NatsServer
) -> None:
    """As a cancellation from before categories lies in the log, and (not yet relayed) in the outbox."""
    event_id = await published(client)
    stream_id = Event.stream_id_for(event_id)
    plain = EventStore()  # the store as version 1 wrote: no upcasting
    old = NewEvent(type="ikmo.events.event.cancelled", data={"event_id": event_id, "reason": ILLNESS})
    async with write_transaction(engine) as conn:
        [recorded] = await plain.append(conn, stream_id, 2, [old])
        subject, headers, payload = to_message("events", recorded, recorded.data)
        assert headers["ce-schemaversion"] == "1" and ILLNESS.encode() in payload
        await conn.execute(
            insert(outbox).values(
                position=recorded.position,
                event_id=str(recorded.event_id),
                subject=subject,
                headers=json.dumps(headers),
                payload=payload,
            )
        )

    store = EventStore(definition.upcasters)
    async with write_transaction(engine) as conn:
        [read] = (await store.load(conn, stream_id))[2:]
    assert (read.schema_version, read.data) == (2, {"event_id": event_id, "reason": "other"})
    async with UnitOfWork(engine, store, EventRegistry(*definition.registry), "events") as uow:
        event = await uow.get(Event, event_id)
    assert event.status == "cancelled" and event.cancellation_reason == CancellationReason.OTHER
    assert event.cancellation_note is None

    [(headers, payload)] = await messages_of(nats_server.url, "ikmo.events.event.cancelled")
    assert json.loads(payload) == {"event_id": event_id, "reason": "other"}  # the relay upcast it
    assert headers["ce-schemaversion"] == "2" and headers["ce-id"] == str(recorded.event_id)

    await rebuild(engine, store, CalendarProjection())
    page = (await client.get(f"/veranstaltungen/{event_id}", headers=HTML)).text
    assert "Abgesagt: Sonstiges" in page and ILLNESS not in page
    public = (await client.get(f"/oeffentlich/veranstaltungen/{event_id}", headers=ANONYMOUS)).text
    assert "Grund: Sonstiges" in public and ILLNESS not in public
    assert (await client.get(f"/events/{event_id}")).json()["cancel_reason"] == "other"


async def test_a_read_model_not_yet_rebuilt_never_shows_version_1_text(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """Before `ikmo rebuild events`, the calendar may still hold v1's free text: it reads as other."""
    from sqlalchemy import update

    from services.events.projections import calendar

    event_id = await published(client)
    await client.post(f"/events/{event_id}/cancel", json={"reason": "organisational"})
    async with write_transaction(engine) as conn:
        await conn.execute(update(calendar).where(calendar.c.id == event_id).values(cancel_reason=ILLNESS))
    assert (await client.get(f"/events/{event_id}")).json()["cancel_reason"] == "other"
    public = (await client.get(f"/oeffentlich/veranstaltungen/{event_id}", headers=ANONYMOUS)).text
    assert "Grund: Sonstiges" in public and ILLNESS not in public


async def test_the_staff_form_asks_for_a_category_and_keeps_a_refused_note_as_typed(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    event_id = await published(client)
    url = f"/veranstaltungen/{event_id}"
    page = (await client.get(url, headers=HTML)).text
    select = re.search(r'<select class="input" id="f-reason" name="reason"[^>]*>(.*?)</select>', page, re.S)
    assert select and " required" in select.group(0)
    assert '<option value="speaker_unavailable" >Referent*in verhindert</option>' in select.group(1)
    assert re.search(r'<textarea[^>]*id="f-note"[^>]*aria-describedby="f-note-hint"', page)
    hint = re.search(r'<p class="hint" id="f-note-hint">(.*?)</p>', page)
    assert hint and hint.group(1) == (
        "Nur für das Team sichtbar; bitte keine persönlichen Angaben (z. B. Krankheit)."
    )

    before = await log_size(engine)
    typed = "Zu lang " + "x" * 600 + " <Ende>"
    refused = await client.post(f"{url}/absagen", data={"reason": "other", "note": typed}, headers=HTML)
    assert refused.status_code == 422
    assert "Die Notiz ist zu lang: bitte höchstens 500 Zeichen (sie hat 615)." in field_error(
        refused.text, "note"
    )
    assert f">{typed.replace('<', '&lt;').replace('>', '&gt;')}</textarea>" in refused.text  # kept, all of it
    assert '<option value="other" selected>' in refused.text
    assert "<details open>" in refused.text
    none_chosen = await client.post(f"{url}/absagen", data={"note": "kurz"}, headers=HTML)
    assert none_chosen.status_code == 422
    assert "Dieses Feld ist erforderlich." in field_error(none_chosen.text, "reason")
    assert ">kurz</textarea>" in none_chosen.text
    english = await client.post(
        f"{url}/absagen?lang=en", data={"reason": "other", "note": "x" * 501}, headers=HTML
    )
    assert "at most 500 characters, please (it has 501)" in field_error(english.text, "note")
    assert await log_size(engine) == before  # nothing appended, nothing cut
    assert (await client.get(f"/events/{event_id}")).json()["status"] == "published"

    done = await client.post(f"{url}/absagen", data={"reason": "force_majeure", "note": NOTE}, headers=HTML)
    assert done.status_code == 303
    page = (await client.get(f"{url}?lang=de", headers=HTML)).text
    assert "Abgesagt: Höhere Gewalt" in page and NOTE in page  # VIA's team reads its note
    english_page = (await client.get(f"{url}?lang=en", headers=HTML)).text
    assert "Cancelled: Force majeure" in english_page and "Note for the team:" in english_page


async def test_other_partners_do_not_see_the_team_note_on_the_page(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    event_id = await published(client)
    await client.post(f"/events/{event_id}/cancel", json={"reason": "venue_unavailable", "note": NOTE})
    seen = await client.get(f"/veranstaltungen/{event_id}", headers={**HTML, **tokens.headers(Role.CLD)})
    assert seen.status_code == 200 and "Abgesagt: Veranstaltungsort nicht verfügbar" in seen.text
    assert "Raum 2" not in seen.text
