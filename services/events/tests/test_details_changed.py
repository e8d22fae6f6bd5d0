"""A new time or place of a published event: everyone registered hears of it at once, with the old and the
new value side by side and the link to cancel; a new title or description, or a draft, sends nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events import handlers
from services.events.tests.conftest import in_days, seminar
from services.events.tests.test_api import log_size, published, register
from services.events.tests.test_pages import HTML, field_error, form, local
from shared.auth.principal import Role
from shared.testing import Tokens

NEW_VENUE = "Nachbarschaftshaus Urbanstraße 21"


async def notices_of_kind(client: httpx.AsyncClient, kind: str) -> list[dict]:
    return [n for n in (await client.get("/notices")).json() if n["kind"] == kind]


async def test_a_new_time_is_mailed_to_everyone_registered_old_beside_new(client: httpx.AsyncClient) -> None:
    event = await published(client, capacity=1)
    first = (await register(client, event["id"], 1)).json()["registration_id"]
    second = (await register(client, event["id"], 2)).json()["registration_id"]  # waits
    third = (await register(client, event["id"], 3)).json()["registration_id"]
    assert (await client.post(f"/events/{event['id']}/registrations/{third}/cancel")).status_code == 200

    moved = await client.patch(
        f"/events/{event['id']}", json={"starts_at": in_days(31, 13), "ends_at": in_days(31, 16)}
    )
    assert moved.status_code == 200, moved.text
    told = await notices_of_kind(client, "details_changed")
    assert {n["registration_id"] for n in told} == {first, second}  # not who cancelled before
    mail = next(n for n in told if n["registration_id"] == first)
    assert mail["subject"].startswith("Neue Zeit oder neuer Ort / New time or place: ")
    body = mail["body"]
    assert "Wann (neu): " in body and "    bisher: " in body and "When (new): " in body
    new_line = next(line for line in body.splitlines() if line.startswith("Wann (neu): "))
    old_line = next(line for line in body.splitlines() if line.startswith("    bisher: "))
    new_start, old_start = local(in_days(31, 13))[-5:], local(seminar()["starts_at"])[-5:]
    assert new_start in new_line and old_start in old_line and old_start not in new_line  # in Berlin time
    assert "Wo: VIA, Petersburger Str. 92" in body  # the place did not change: said once, unmarked
    assert "/oeffentlich/anmeldung/" in body  # the link, to cancel if the new time does not suit
    waiting = next(n for n in told if n["registration_id"] == second)["body"]
    assert "Platz 1 der Warteliste" in waiting and "number 1 on the waitlist" in waiting

    before = len(await notices_of_kind(client, "details_changed"))
    renamed = await client.patch(f"/events/{event['id']}", json={"title": "Vereinsgründung kompakt"})
    assert renamed.status_code == 200
    assert len(await notices_of_kind(client, "details_changed")) == before  # a title is no reason to mail

    moved_place = await client.patch(f"/events/{event['id']}", json={"venue": NEW_VENUE})
    assert moved_place.status_code == 200
    place_mail = (await notices_of_kind(client, "details_changed"))[0]["body"]  # newest first
    assert f"Wo (neu): {NEW_VENUE}" in place_mail and "    bisher: VIA, Petersburger Str. 92" in place_mail
    assert "Wann: " in place_mail  # unchanged this time


async def test_a_draft_tells_nobody_and_bad_or_late_changes_change_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    draft = (await client.post("/events", json=seminar())).json()
    assert (await client.patch(f"/events/{draft['id']}", json={"venue": NEW_VENUE})).status_code == 200
    event = await published(client)
    await register(client, event["id"], 1)
    size, notices = await log_size(engine), len((await client.get("/notices")).json())
    backwards = await client.patch(f"/events/{event['id']}", json={"ends_at": in_days(29, 8)})
    assert backwards.status_code == 422 and "ends_at" in backwards.text
    cancelled = await client.post(f"/events/{event['id']}/cancel", json={"reason": "too_few_registrations"})
    assert cancelled.status_code == 200, cancelled.text
    late = await client.patch(f"/events/{event['id']}", json={"venue": NEW_VENUE})
    assert late.status_code == 409 and "abgesagt" in late.json()["message_de"]
    assert await notices_of_kind(client, "details_changed") == []
    assert len((await client.get("/notices")).json()) == notices + 1  # only the cancellation's own notice
    assert await log_size(engine) == size + 1  # the cancellation only


async def test_the_edit_form_says_who_is_told_and_the_notices_page_names_the_kind(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    made = await client.post("/veranstaltungen/neu", data=form(), headers=HTML)
    url = made.headers["location"]
    draft_edit = await client.get(f"{url}/bearbeiten", headers=HTML)
    assert 'id="who-is-told"' not in draft_edit.text  # a draft has nobody registered
    assert (
        await client.post(f"{url}/veroeffentlichen", data={"version": "1"}, headers=HTML)
    ).status_code == 303
    for n in (1, 2):
        person = {"name": f"Person {n}", "email": f"p{n}@verein.example"}
        assert (await client.post(f"{url}/anmeldungen", data=person, headers=HTML)).status_code == 303
    edit = await client.get(f"{url}/bearbeiten", headers=HTML)
    assert "Alle Angemeldeten (2) bekommen eine E-Mail" in edit.text
    version = edit.text.split('name="version" value="', 1)[1].split('"', 1)[0]
    later = local(in_days(30, 12))
    saved = await client.post(f"{url}/bearbeiten", data={**form(starts_at=later), "version": version})
    assert saved.status_code == 303, saved.text
    page = await client.get("/veranstaltungen/benachrichtigungen", headers=HTML)
    assert page.text.count("Zeit oder Ort geändert") >= 2
    english = await client.get(f"{url}/bearbeiten?lang=en", headers=HTML)
    assert "Everyone registered (2) is told by e-mail" in english.text
    assert (await client.get(f"{url}/bearbeiten", headers=tokens.headers(Role.TBB))).status_code == 403


async def test_a_published_event_cannot_move_into_the_past_a_draft_can(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    draft = (await client.post("/events", json=seminar())).json()
    back = {
        "starts_at": in_days(-400, 9),
        "ends_at": in_days(-400, 15),
        "registration_deadline": in_days(-401),
    }
    assert (await client.patch(f"/events/{draft['id']}", json=back)).status_code == 200  # entered afterwards
    event = await published(client)
    await register(client, event["id"], 1)
    size = await log_size(engine)
    typo = await client.patch(f"/events/{event['id']}", json=back)  # 2025 typed for 2026, say
    assert typo.status_code == 422
    said = "Die Veranstaltung ist veröffentlicht: Der neue Beginn darf nicht in der Vergangenheit liegen."
    assert {f["field"]: f["message_de"] for f in typo.json()["fields"]} == {"starts_at": said}
    assert await log_size(engine) == size and await notices_of_kind(client, "details_changed") == []
    url = f"/veranstaltungen/{event['id']}/bearbeiten"
    edit = await client.get(url, headers=HTML)
    version = edit.text.split('name="version" value="', 1)[1].split('"', 1)[0]
    typed = form(**{key: local(value) for key, value in back.items()})
    page = await client.post(url, data={**typed, "version": version}, headers=HTML)
    assert page.status_code == 422
    assert "nicht in der Vergangenheit" in field_error(page.text, "starts_at")
    assert 'value="' + local(back["starts_at"]) + '"' in page.text  # what was typed stays
    renamed = await client.patch(f"/events/{event['id']}", json={"title": "Vereinsgründung kompakt"})
    assert renamed.status_code == 200  # a published event dated back (entered afterwards) keeps its date


async def test_saving_the_form_unchanged_moves_nothing_and_a_past_events_record_mails_nobody(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = datetime.fromisoformat(in_days(30, 9)) + timedelta(seconds=30)  # entered through the API
    event = await published(
        client, starts_at=starts.isoformat(), ends_at=(starts + timedelta(hours=6)).isoformat()
    )
    await register(client, event["id"], 1)
    url = f"/veranstaltungen/{event['id']}/bearbeiten"
    edit = await client.get(url, headers=HTML)
    version = edit.text.split('name="version" value="', 1)[1].split('"', 1)[0]
    typed = form(
        starts_at=local(starts.isoformat()),
        ends_at=local((starts + timedelta(hours=6)).isoformat()),
        description="Mit Mustersatzung.",
    )
    assert (await client.post(url, data={**typed, "version": version})).status_code == 303
    assert await notices_of_kind(client, "details_changed") == []  # the form shows minutes: nothing moved
    stored = (await client.get(f"/events/{event['id']}")).json()
    assert (
        datetime.fromisoformat(stored["starts_at"]).second == 30
        and stored["description"] == "Mit Mustersatzung."
    )

    monkeypatch.setattr(handlers, "utc_now", lambda: starts + timedelta(days=2))  # the event is over
    record = await client.patch(f"/events/{event['id']}", json={"venue": NEW_VENUE})
    assert record.status_code == 200
    assert await notices_of_kind(client, "details_changed") == []  # the record put right, nobody mailed
