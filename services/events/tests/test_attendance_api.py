"""Attendance over HTTP: the API (404, 409, twice, undo, nothing half-applied), its events on the bus with
registration ids only, and the check-in list at the door (plain form posts, filter by name)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events import handlers
from services.events.tests.conftest import seminar
from services.events.tests.test_api import log_size, published, register
from services.events.tests.test_public import ANONYMOUS, link_of
from services.events.tests.test_public import person as public_person
from shared.auth.principal import Role
from shared.platform.natsserver import NatsServer
from shared.testing import Tokens, eventually, stream_messages
from shared.web.flash import FLASH_COOKIE

HTML = {"Accept": "text/html"}


def flash_cookie(response: httpx.Response) -> str:
    """What the flash cookie set by `response` says (signed only, so anyone can read it)."""
    value = response.cookies[FLASH_COOKIE]
    _signature_ok, payload = URLSafeTimedSerializer("any key", salt="ikmo.flash").loads_unsafe(value)
    assert payload, "no flash message was set"
    return json.dumps(payload, ensure_ascii=False)


def today(**changes: Any) -> dict[str, Any]:
    """An event that began an hour ago and lasts four more: check-in is open."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    times = {
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=5)).isoformat(),
        "registration_deadline": start.isoformat(),
    }
    return {**times, **changes}


async def event_with_people(
    client: httpx.AsyncClient, people: int = 3, **changes: Any
) -> tuple[str, list[str]]:
    """A published event of today with two places and `people` registered by staff before it began (the
    third waits)."""
    times = today(**changes)
    event = await published(client, **times)
    ids = []
    before = datetime.fromisoformat(times["starts_at"]) - timedelta(hours=1)
    with pytest.MonkeyPatch.context() as clock:
        clock.setattr(handlers, "utc_now", lambda: before)
        for n in range(1, people + 1):
            response = await register(client, event["id"], n)
            assert response.status_code == 201, response.text
            ids.append(response.json()["registration_id"])
    return event["id"], ids


async def test_staff_check_people_in_twice_is_no_error_and_a_mistake_is_undone(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    event_id, (first, second, waiting) = await event_with_people(client)
    url = f"/events/{event_id}/registrations"
    checked = await client.post(f"{url}/{first}/attendance")
    assert checked.status_code == 200
    assert checked.json() == {
        "registration_id": first,
        "attended": True,
        "changed": True,
        "present": 1,
        "confirmed": 2,
    }
    size = await log_size(engine)
    again = await client.post(f"{url}/{first}/attendance")
    assert again.status_code == 200 and again.json()["changed"] is False and again.json()["present"] == 1
    assert await log_size(engine) == size  # nothing appended for the second tap

    people = {p["id"]: p for p in (await client.get(url)).json()}
    assert people[first]["attended"] and people[first]["attended_at"] is not None
    assert not people[second]["attended"] and people[second]["attended_at"] is None

    undone = await client.delete(f"{url}/{first}/attendance")
    assert undone.status_code == 200 and undone.json()["attended"] is False and undone.json()["present"] == 0
    assert (await client.delete(f"{url}/{first}/attendance")).json()["changed"] is False

    refused = await client.post(f"{url}/{waiting}/attendance")
    assert refused.status_code == 409 and "Warteliste" in refused.json()["message_de"]
    size = await log_size(engine)
    for response in (
        await client.post(f"{url}/nobody/attendance"),
        await client.post(f"/events/no-such-event/registrations/{first}/attendance"),
        await client.delete(f"{url}/nobody/attendance"),
    ):
        assert response.status_code == 404, response.text
        assert "gibt es nicht" in response.json()["message_de"]
    assert await log_size(engine) == size  # refusals leave nothing behind


async def test_check_in_waits_for_the_event_day_and_a_checked_in_person_stays_registered(
    client: httpx.AsyncClient,
) -> None:
    later = await published(client)  # in thirty days
    person = (await register(client, later["id"], 1)).json()["registration_id"]
    early = await client.post(f"/events/{later['id']}/registrations/{person}/attendance")
    assert early.status_code == 409
    assert "Der Einlass beginnt am Tag der Veranstaltung" in early.json()["message_de"]
    assert "Check-in opens on the day of the event" in early.json()["message"]

    event_id, (first, *_rest) = await event_with_people(client, people=1)
    await client.post(f"/events/{event_id}/registrations/{first}/attendance")
    kept = await client.post(f"/events/{event_id}/registrations/{first}/cancel")
    assert kept.status_code == 409 and "eingelassen" in kept.json()["message_de"]
    off = await client.post(f"/events/{event_id}/cancel", json={"reason": "organisational"})
    assert off.status_code == 409 and "abschließen statt absagen" in off.json()["message_de"]
    completed = await client.post(f"/events/{event_id}/complete")
    assert completed.status_code == 200
    after = await client.delete(f"/events/{event_id}/registrations/{first}/attendance")
    assert after.status_code == 200 and after.json()["present"] == 0  # the paper list is the truth


async def test_only_via_checks_people_in(client: httpx.AsyncClient, tokens: Tokens) -> None:
    event_id, (first, *_rest) = await event_with_people(client, people=1)
    for role in (Role.TBB, Role.SENATE, Role.ORGANISATION):
        response = await client.post(
            f"/events/{event_id}/registrations/{first}/attendance", headers=tokens.headers(role)
        )
        assert response.status_code == 403, role


async def test_the_bus_carries_attendance_by_registration_id_only(
    client: httpx.AsyncClient, nats_server: NatsServer
) -> None:
    event_id, (first, *_rest) = await event_with_people(client, people=1, capacity=3)
    await client.post(f"/events/{event_id}/registrations/{first}/attendance")
    await client.delete(f"/events/{event_id}/registrations/{first}/attendance")

    async def arrived() -> list:
        messages = await stream_messages(nats_server.url, "IKMO_EVENTS")
        return messages if len(messages) >= 5 else []

    messages = await eventually(arrived)
    attendance = [(h["ce-type"], json.loads(p)) for h, p in messages if "attend" in h["ce-type"]]
    assert [t for t, _ in attendance] == [
        "ikmo.events.registration.attended",
        "ikmo.events.registration.attendance_withdrawn",
    ]
    assert attendance[0][1] == {"event_id": event_id, "registration_id": first, "organisation_id": None}
    assert b"Person 1" not in b"".join(p for _, p in messages)


# -- the check-in list at the door ---------------------------------------------------------------------


def rows(html: str) -> dict[str, str]:
    """The list's rows by person, as text, with whether each is hidden by the filter."""
    found = {}
    for match in re.finditer(r'<li id="r-[^"]+" data-name="[^"]*" ?(hidden)?>(.*?)</li>', html, re.S):
        text = " ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split())
        name = re.search(r"Person \d", text)
        assert name, text
        found[name.group(0)] = ("hidden " if match.group(1) else "") + text
    return found


async def test_the_check_in_list_checks_in_by_plain_form_posts_and_filters_by_name(
    client: httpx.AsyncClient,
) -> None:
    event_id, (first, _second, _waiting) = await event_with_people(client)
    page = await client.get(f"/veranstaltungen/{event_id}/einlass", headers=HTML)
    assert page.status_code == 200
    assert "Anwesend: 0 von 2 mit Platz" in page.text
    listed = rows(page.text)
    assert set(listed) == {"Person 1", "Person 2", "Person 3"}  # it has begun: who waits may come
    assert "Warteliste" in listed["Person 3"] and "Kein Platz frei" in listed["Person 3"]
    assert "Ist da" not in listed["Person 3"] and "Freie Plätze: 0" in page.text
    assert 'name="viewport"' in page.text

    checked = await client.post(f"/veranstaltungen/{event_id}/einlass/{first}", headers=HTML)
    assert checked.status_code == 303 and checked.headers["location"].endswith(f"/einlass#r-{first}")
    assert "Person" not in flash_cookie(checked)  # the cookie is signed, not encrypted: no names in it
    after = await client.get(checked.headers["location"], headers=HTML)
    assert "Eingelassen (1 von 2 anwesend)." in after.text
    listed = rows(after.text)
    assert "anwesend seit" in listed["Person 1"] and "Zurücknehmen" in listed["Person 1"]
    assert "Ist da" in listed["Person 2"]
    again = await client.post(f"/veranstaltungen/{event_id}/einlass/{first}", headers=HTML)
    assert "War schon eingelassen" in (await client.get(again.headers["location"], headers=HTML)).text

    # Without JavaScript the search is posted: no name in a URL, the access log or the history.
    form = (await client.get(f"/veranstaltungen/{event_id}/einlass", headers=HTML)).text
    assert re.search(
        rf'<form method="post" action="/veranstaltungen/{event_id}/einlass"[^>]*role="search"', form
    )
    searched = await client.post(
        f"/veranstaltungen/{event_id}/einlass", data={"q": " person  2"}, headers=HTML
    )
    filtered = rows(searched.text)
    assert filtered["Person 1"].startswith("hidden") and not filtered["Person 2"].startswith("hidden")
    assert 'value=" person  2"' in searched.text
    ignored = rows((await client.get(f"/veranstaltungen/{event_id}/einlass?q=person 2", headers=HTML)).text)
    assert not ignored["Person 1"].startswith("hidden")  # the old ?q= filters nothing any more

    undone = await client.post(f"/veranstaltungen/{event_id}/einlass/{first}/zuruecknehmen", headers=HTML)
    assert "Person" not in flash_cookie(undone)
    assert (
        "Der Einlass ist zurückgenommen" in (await client.get(undone.headers["location"], headers=HTML)).text
    )
    detail = await client.get(f"/veranstaltungen/{event_id}", headers=HTML)
    assert "Einlassliste" in detail.text


async def test_the_check_in_list_before_the_day_says_when_it_opens(client: httpx.AsyncClient) -> None:
    event = await published(client, **seminar())
    await register(client, event["id"], 1)
    page = await client.get(f"/veranstaltungen/{event['id']}/einlass", headers=HTML)
    assert "Der Einlass beginnt am Tag der Veranstaltung" in page.text
    assert "Ist da" not in rows(page.text)["Person 1"]
    unknown = await client.get("/veranstaltungen/no-such-event/einlass", headers=HTML)
    assert unknown.status_code == 404


async def test_people_checked_in_at_the_same_moment_are_all_present(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """Two phones at the door: check-ins of one event conflict on its stream and are decided again."""
    event_id, ids = await event_with_people(client, people=6, capacity=6)
    before = await log_size(engine)
    url = f"/events/{event_id}/registrations"
    results = await asyncio.gather(*(client.post(f"{url}/{i}/attendance") for i in [*ids, ids[0]]))
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    assert sum(r.json()["changed"] for r in results) == 6  # the one tapped twice counts once
    assert await log_size(engine) == before + 6
    people = (await client.get(url)).json()
    assert all(p["attended"] for p in people)


async def test_an_erased_persons_check_in_stays_and_the_event_goes_on(client: httpx.AsyncClient) -> None:
    event_id, (first, second, waiting) = await event_with_people(client)
    url = f"/events/{event_id}/registrations"
    assert (await client.post(f"{url}/{first}/attendance")).status_code == 200
    assert (await client.post(f"{url}/{first}/erase")).status_code in (200, 204)
    undo = await client.delete(f"{url}/{first}/attendance")
    assert undo.status_code == 409 and "gelöscht" in undo.json()["message_de"]
    assert "erased" in undo.json()["message"]
    freed = await client.post(f"{url}/{second}/cancel")  # the place of someone else still goes on
    assert freed.status_code == 200, freed.text
    came = await client.post(f"{url}/{waiting}/attendance")  # begun: who waited and came takes it
    assert came.status_code == 200, came.text
    people = {p["id"]: p for p in (await client.get(url)).json()}
    assert people[waiting]["status"] == "confirmed" and people[waiting]["attended"]
    assert people[first]["attended"]


async def test_once_begun_places_go_to_who_is_at_the_door(
    client: httpx.AsyncClient, engine: AsyncEngine, nats_server: NatsServer
) -> None:
    event_id, (_first, second, waiting) = await event_with_people(client)
    url = f"/events/{event_id}/registrations"
    walk_in = await register(client, event_id, 4)
    assert walk_in.status_code == 409 and "alle Plätze sind vergeben" in walk_in.json()["message_de"]
    assert (await client.post(f"{url}/{second}/cancel")).status_code == 200
    people = {p["id"]: p for p in (await client.get(url)).json()}
    assert people[waiting]["status"] == "waitlisted"  # no promotion (and no notice) while it runs

    page = await client.get(f"/veranstaltungen/{event_id}/einlass", headers=HTML)
    assert "Freie Plätze: 1" in page.text and "Ist da" in rows(page.text)["Person 3"]
    checked = await client.post(f"/veranstaltungen/{event_id}/einlass/{waiting}", headers=HTML)
    assert checked.status_code == 303
    people = {p["id"]: p for p in (await client.get(url)).json()}
    assert people[waiting]["status"] == "confirmed" and people[waiting]["attended"]

    raised = await client.post(f"/events/{event_id}/capacity", json={"capacity": 3})
    assert raised.status_code == 200, raised.text
    assert (await register(client, event_id, 4)).status_code == 201  # the walk-in takes the new place
    size = await log_size(engine)
    assert (await register(client, event_id, 5)).status_code == 409  # full again: nobody waits for nothing
    assert await log_size(engine) == size

    async def door() -> list[tuple[str, dict[str, object]]]:
        messages = await stream_messages(nats_server.url, "IKMO_EVENTS")
        wanted = [
            (h["ce-type"], json.loads(p))
            for h, p in messages
            if h["ce-type"].endswith(("promoted", "attended")) and json.loads(p)["registration_id"] == waiting
        ]
        return wanted if len(wanted) == 2 else []

    assert [t for t, _ in await eventually(door)] == [  # the door's promotion reaches the bus, in order
        "ikmo.events.registration.promoted",
        "ikmo.events.registration.attended",
    ]


async def test_the_personal_link_cancels_nothing_once_the_event_has_begun(
    client: httpx.AsyncClient, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = await published(client, **seminar())
    signed_up = await client.post(
        f"/oeffentlich/veranstaltungen/{event['id']}", data=public_person(1), headers=ANONYMOUS
    )
    assert signed_up.status_code == 303, signed_up.text
    link = await link_of(client, "Person 1")
    page = await client.get(link, headers=ANONYMOUS)
    assert "Meine Anmeldung stornieren" in page.text  # before the start: the button is there

    begun = datetime.fromisoformat(seminar()["starts_at"]) + timedelta(minutes=5)
    monkeypatch.setattr(handlers, "utc_now", lambda: begun)
    page = await client.get(link, headers=ANONYMOUS)
    assert "Meine Anmeldung stornieren" not in page.text and "schon begonnen" in page.text
    size = await log_size(engine)
    posted = await client.post(link, headers=ANONYMOUS)  # an old tab, or a crafted post
    assert posted.status_code == 303 and "schon begonnen" in flash_cookie(posted)
    assert await log_size(engine) == size


async def test_the_personal_link_says_when_the_event_was_cancelled_or_no_place_came_free(
    client: httpx.AsyncClient,
) -> None:
    event = await published(client, capacity=1)
    url = f"/oeffentlich/veranstaltungen/{event['id']}"
    assert (await client.post(url, data=public_person(1), headers=ANONYMOUS)).status_code == 303
    await client.post(f"/events/{event['id']}/cancel", json={"reason": "too_few_registrations"})
    page = await client.get(await link_of(client, "Person 1"), headers=ANONYMOUS)
    assert "Diese Veranstaltung wurde abgesagt." in page.text and "Grund: Zu wenige Anmeldungen" in page.text
    assert "Sie müssen nichts weiter tun" in page.text
    assert "Meine Anmeldung stornieren" not in page.text and "frei</dd>" not in page.text  # no places

    event_id, _ids = await event_with_people(client)  # today, two places, the third waits
    assert (await client.post(f"/events/{event_id}/complete")).status_code == 200
    waited = await client.get(await link_of(client, "Person 3"), headers=ANONYMOUS)
    assert "kein Platz frei geworden" in waited.text and "Teilnahmebescheinigung" not in waited.text
    english = await client.get(await link_of(client, "Person 3") + "?lang=en", headers=ANONYMOUS)
    assert "no place became free" in english.text
