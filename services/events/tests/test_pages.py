"""The staff pages as a browser gets them: German first, errors beside their fields, nothing typed lost,
registrations and the waitlist in order, notices readable; and what only VIA may see stays VIA's."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events import handlers
from services.events import notices as outbox
from services.events.entrypoints.pages import LOCALE_DIR
from services.events.tests.conftest import Directory, seminar
from services.events.tests.test_attendance_api import flash_cookie
from shared.auth.principal import Role
from shared.db import write_transaction
from shared.testing import Tokens
from shared.web.i18n import catalogue_problems

HTML = {"Accept": "text/html"}


def field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="f-{field}-error">(.*?)</p>', html, re.S)
    assert found, f"no error beside {field}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def local(iso: str) -> str:
    """An ISO time as a datetime-local input sends it (the test's times are whole hours in UTC)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(iso).astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M")


def form(**changes: object) -> dict[str, object]:
    body = seminar()
    values: dict[str, object] = {
        "title": body["title"],
        "format": body["format"],
        "topics": body["topics"],
        "funding_line": body["funding_line"],
        "starts_at": local(body["starts_at"]),
        "ends_at": local(body["ends_at"]),
        "registration_deadline": local(body["registration_deadline"]),
        "venue": body["venue"],
        "district": body["district"],
        "capacity": "2",
    }
    values.update(changes)
    return values


async def test_planning_with_a_mistake_shows_it_in_german_and_keeps_what_was_typed(
    client: httpx.AsyncClient, directory: Directory
) -> None:
    await directory.organisation("Yaar e.V.")
    page = await client.get("/veranstaltungen/neu", headers=HTML)
    assert page.status_code == 200 and "<h1>Veranstaltung planen</h1>" in page.text
    assert "Yaar e.V." in page.text  # organisations to choose from, from the directory's copy
    wrong = await client.post(
        "/veranstaltungen/neu", data=form(topics=[], ends_at="gestern", capacity="0"), headers=HTML
    )
    assert wrong.status_code == 422
    assert "Bitte Datum und Uhrzeit angeben" in field_error(wrong.text, "ends_at")
    assert 'value="Vereinsgründung Schritt für Schritt"' in wrong.text  # nothing typed is lost
    ancient = await client.post("/veranstaltungen/neu", data=form(starts_at="0001-01-01T10:00"), headers=HTML)
    assert ancient.status_code == 422 and "Jahr zwischen 2000 und 2100" in field_error(
        ancient.text, "starts_at"
    )
    rule = await client.post("/veranstaltungen/neu", data=form(venue=""), headers=HTML)
    assert rule.status_code == 422 and "Ort angeben" in field_error(rule.text, "venue")
    made = await client.post("/veranstaltungen/neu", data=form(), headers=HTML)
    assert made.status_code == 303
    detail = await client.get(made.headers["location"], headers=HTML)
    assert "als Entwurf gespeichert" in detail.text and "Entwurf" in detail.text
    typed = form()
    begins, ends = str(typed["starts_at"])[-5:], str(typed["ends_at"])[-5:]
    assert f"{begins}–{ends} Uhr" in detail.text  # the times as typed, in Berlin, whatever the database


async def test_an_event_is_edited_published_filled_and_its_waitlist_moves_up(
    client: httpx.AsyncClient,
) -> None:
    made = await client.post("/veranstaltungen/neu", data=form(), headers=HTML)
    url = made.headers["location"]
    event_id = url.rsplit("/", 1)[1]
    edit = await client.get(f"{url}/bearbeiten", headers=HTML)
    assert 'name="version" value="1"' in edit.text
    saved = await client.post(
        f"{url}/bearbeiten", data={**form(title="Vereinsgründung kompakt"), "version": "1"}
    )
    assert saved.status_code == 303
    stale = await client.post(f"{url}/bearbeiten", data={**form(title="Alt"), "version": "1"}, headers=HTML)
    assert stale.status_code == 409 and "inzwischen geändert" in stale.text
    published = await client.post(f"{url}/veroeffentlichen", data={"version": "2"}, headers=HTML)
    assert published.status_code == 303

    for n in (1, 2, 3):
        person = {"name": f"Person {n}", "email": f"p{n}@verein.example"}
        added = await client.post(f"{url}/anmeldungen", data=person, headers=HTML)
        assert added.status_code == 303
        said = flash_cookie(added)  # signed, not encrypted: the name and address stay out of it
        assert "Person" not in said and "p1@" not in said and ("bestätigt" in said or "Warteliste" in said)
    twice = await client.post(
        f"{url}/anmeldungen", data={"name": "Person 1", "email": "P1@verein.example"}, headers=HTML
    )
    assert twice.status_code == 409 and "schon angemeldet" in twice.text
    bad = await client.post(f"{url}/anmeldungen", data={"name": "X", "email": "nein"}, headers=HTML)
    assert bad.status_code == 422 and "Namen" in field_error(bad.text, "name")
    page = (await client.get(url, headers=HTML)).text
    assert "Bestätigt (2 von 2 Plätzen)" in page and "Warteliste (1)" in page

    people = (await client.get(f"/events/{event_id}/registrations")).json()
    first = next(p["id"] for p in people if p["name"] == "Person 1")
    cancelled = await client.post(f"{url}/anmeldungen/{first}/stornieren", headers=HTML)
    assert cancelled.status_code == 303
    page = (await client.get(url, headers=HTML)).text
    assert "Nachgerückt" not in page and "nachgerückt" in page  # Person 3 moved up, tagged so
    assert "Niemand steht auf der Warteliste." in page and "Storniert (1)" in page
    more = await client.post(f"{url}/plaetze", data={"capacity": "abc"}, headers=HTML)
    assert more.status_code == 303  # back to the page, with the reason as a message
    assert "ganze Zahl" in (await client.get(url, headers=HTML)).text

    notices = (
        await client.get(f"/veranstaltungen/benachrichtigungen?event_id={event_id}", headers=HTML)
    ).text
    assert "Nachgerückt" in notices and "Person 3 &lt;p3@verein.example&gt;" not in notices  # no mail header
    moved_up = next(n for n in notices.split('<li class="notice">') if "Nachgerückt" in n)
    summary = moved_up.split("<summary>", 1)[1].split("</summary>", 1)[0]
    assert 'class="notice-event">Vereinsgründung kompakt</span>' in summary  # which event, at a glance
    assert 'class="notice-recipient">Person 3</span>' in summary
    assert 'class="notice-address">(p3@verein.example)</span>' in summary
    assert "Sie sind von der Warteliste nachgerückt" in notices
    erased = await client.post(f"{url}/anmeldungen/{first}/loeschen", headers=HTML)
    assert erased.status_code == 303
    page = (await client.get(url, headers=HTML)).text
    assert "überall gelöscht" in page and "[gelöscht]" in page and "p1@verein.example" not in page
    gone = await client.post(f"{url}/absagen", data={"reason": "venue_unavailable"}, headers=HTML)
    assert gone.status_code == 303
    page = (await client.get(url, headers=HTML)).text
    assert "2 angemeldete Personen werden benachrichtigt" in page
    assert "Abgesagt: Veranstaltungsort nicht verfügbar" in page


async def test_other_partners_see_the_calendar_but_not_who_registered(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    made = await client.post("/veranstaltungen/neu", data=form(), headers=HTML)
    url = made.headers["location"]
    await client.post(f"{url}/veroeffentlichen", headers=HTML)
    await client.post(f"{url}/anmeldungen", data={"name": "Aylin Demir", "email": "aylin@verein.example"})
    tbb = {**HTML, **tokens.headers(Role.TBB)}
    listing = await client.get("/veranstaltungen", headers=tbb)
    assert listing.status_code == 200 and "Vereinsgründung" in listing.text
    assert "Veranstaltung planen" not in listing.text  # no button to what they may not do
    detail = await client.get(url, headers=tbb)
    assert detail.status_code == 200 and "Aylin" not in detail.text
    assert (await client.get("/veranstaltungen/neu", headers=tbb)).status_code == 403
    assert (await client.get("/veranstaltungen/benachrichtigungen", headers=tbb)).status_code == 403
    assert (await client.post(f"{url}/absagen", headers=tbb)).status_code == 403
    assert (await client.get("/veranstaltungen?status=irgendwas", headers=HTML)).status_code == 422
    assert (await client.get("/veranstaltungen/gibt-es-nicht", headers=HTML)).status_code == 404


async def test_the_list_shows_upcoming_past_and_the_english_switch(client: httpx.AsyncClient) -> None:
    await client.post("/events", json=seminar(title="Kommender Workshop"))
    listing = await client.get("/veranstaltungen", headers=HTML)
    assert "Kommender Workshop" in listing.text and "Veranstaltungen: 1" in listing.text
    past = await client.get("/veranstaltungen?when=past", headers=HTML)
    assert "Kommender Workshop" not in past.text
    english = await client.get("/veranstaltungen?lang=en", headers=HTML)
    assert "<h1>Events</h1>" in english.text and "Plan an event" in english.text
    assert "Qualification seminar" in english.text
    when = await client.get("/veranstaltungen?when=bald", headers=HTML)  # a hand-edited address
    assert when.status_code == 422 and "is not a choice of the filter “When”" in when.text
    typo = await client.get("/veranstaltungen?status=offen&lang=de", headers=HTML)
    assert "ist beim Filter „Status“ keine gültige Auswahl" in typo.text


async def test_the_notices_say_which_event_and_filter_by_it(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    for title in ("Vereinsgründung kompakt", "Fördermittel finden"):
        made = await client.post("/veranstaltungen/neu", data=form(title=title), headers=HTML)
        url = made.headers["location"]
        assert (
            await client.post(f"{url}/veroeffentlichen", data={"version": "1"}, headers=HTML)
        ).status_code == 303
        person = {"name": "Demir, Aylin", "email": f"aylin.{len(title)}@verein.example"}
        assert (await client.post(f"{url}/anmeldungen", data=person, headers=HTML)).status_code == 303
    page = (await client.get("/veranstaltungen/benachrichtigungen", headers=HTML)).text
    summaries = re.findall(r"<summary>(.*?)</summary>", page, re.S)
    assert len(summaries) == 2 and all('class="notice-recipient">Demir, Aylin</span>' in s for s in summaries)
    titles = {re.findall(r'class="notice-event">([^<]*)<', s)[0] for s in summaries}
    assert titles == {"Vereinsgründung kompakt", "Fördermittel finden"}
    chosen = re.search(r'<option value="([0-9a-f-]{36})"\s*>Fördermittel finden</option>', page)
    assert chosen, "the filter offers each event that has notices"
    only = (
        await client.get(f"/veranstaltungen/benachrichtigungen?event_id={chosen.group(1)}", headers=HTML)
    ).text
    assert only.count("<summary>") == 1 and 'class="notice-event">Fördermittel finden<' in only
    async with write_transaction(engine) as conn:  # as the dispatcher leaves them without a mail server
        await conn.execute(update(outbox.notices).values(status=outbox.NoticeStatus.STORED))
    kept = (await client.get("/veranstaltungen/benachrichtigungen", headers=HTML)).text
    assert kept.count("nicht verschickt – nur hier zu lesen (kein Mailserver eingerichtet)") == 2
    english = (await client.get("/veranstaltungen/benachrichtigungen?lang=en", headers=HTML)).text
    assert english.count("not sent – only readable here (no mail server set up)") == 2


def test_every_text_of_the_pages_is_translated() -> None:
    root = LOCALE_DIR.parent
    assert catalogue_problems([root / "templates", root / "entrypoints"], LOCALE_DIR) == []


async def published_with(client: httpx.AsyncClient, name: str, email: str) -> str:
    """An event planned and published through the staff pages, with one person registered; its page."""
    made = await client.post("/veranstaltungen/neu", data=form(), headers=HTML)
    url = str(made.headers["location"])
    assert (
        await client.post(f"{url}/veroeffentlichen", data={"version": "1"}, headers=HTML)
    ).status_code == 303
    person = {"name": name, "email": email}
    assert (await client.post(f"{url}/anmeldungen", data=person, headers=HTML)).status_code == 303
    return url


async def test_steps_offered_are_those_that_can_be_taken_and_the_irreversible_ones_ask(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await published_with(client, "Aylin Demir", "aylin@verein.example")
    weeks_ahead = (await client.get(url, headers=HTML)).text
    assert "Als stattgefunden abschließen" not in weeks_ahead  # weeks ahead there is nothing to complete
    assert "Die Anmeldung von Aylin Demir stornieren? Die Person bekommt eine E-Mail" in weeks_ahead

    starts = datetime.fromisoformat(str(seminar()["starts_at"]))
    monkeypatch.setattr(handlers, "utc_now", lambda: starts + timedelta(hours=7))  # the day is over
    on_the_day = (await client.get(url, headers=HTML)).text
    assert "Als stattgefunden abschließen" in on_the_day
    assert "Danach kann sich niemand mehr anmelden oder stornieren" in on_the_day  # asked before
    assert (await client.post(f"{url}/abschliessen", data={}, headers=HTML)).status_code == 303
    completed = (await client.get(url, headers=HTML)).text
    assert "Nächste Schritte" not in completed  # no empty heading once nothing is left to do


async def test_every_error_list_names_the_field_of_each_mistake(client: httpx.AsyncClient) -> None:
    made = await client.post("/veranstaltungen/neu", data=form(), headers=HTML)
    url = made.headers["location"]
    wrong = await client.post("/veranstaltungen/neu", data=form(topics=[], ends_at="gestern"), headers=HTML)
    summary = re.search(r'<div class="error-summary".*?</div>', wrong.text, re.S)
    assert summary and "Themen: " in summary.group(0) and "Ende: " in summary.group(0)
    assert (
        await client.post(f"{url}/veroeffentlichen", data={"version": "1"}, headers=HTML)
    ).status_code == 303
    person = await client.post(f"{url}/anmeldungen", data={"name": "", "email": "x"}, headers=HTML)
    assert person.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', person.text, re.S)
    assert summary and "Name: " in summary.group(0) and "E-Mail-Adresse: " in summary.group(0)


async def test_a_question_before_cancelling_names_the_person_as_typed(client: httpx.AsyncClient) -> None:
    url = await published_with(client, "Siobhán O'Brien & Söhne", "siobhan@verein.example")
    page = (await client.get(url, headers=HTML)).text
    # escaped once for the attribute, so the browser's dialog reads "O'Brien & Söhne", not "&#39;"
    assert 'data-confirm="Die Anmeldung von Siobhán O&#39;Brien &amp; Söhne stornieren?' in page
    assert "&amp;#39;" not in page and "&amp;amp;" not in page
