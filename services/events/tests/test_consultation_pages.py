"""The advice pages as a browser gets them: German first, errors beside their fields, nothing typed lost,
filters that filter, an accompaniment's sessions in order with its hours; who was advised stays VIA's."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from services.events.consultation_handlers import berlin_today
from services.events.tests.conftest import Directory
from services.events.tests.test_pages import HTML, field_error
from shared.auth.principal import Role
from shared.testing import Tokens


def days_ago(n: int) -> str:
    return (berlin_today() - timedelta(days=n)).isoformat()


def german(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}.{m}.{y}"


def rows(html: str) -> str:
    """The table's body: what the list shows, without the filter's choices."""
    found = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    return found.group(1) if found else ""


def session(organisation_id: str, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "organisation_id": organisation_id,
        "topics": ["project_funding"],
        "held_on": days_ago(2),
        "duration_minutes": "90",
        "format": "phone",
        "funding_line": "senate_ikmo",
        "person_advised": "Leyla Ahmadi",
        "minutes": "Kostenplan besprochen.",
    }
    values.update(changes)
    return values


async def test_recording_with_mistakes_shows_them_beside_the_fields_and_keeps_what_was_typed(
    client: httpx.AsyncClient, directory: Directory
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    page = await client.get("/veranstaltungen/beratungen/neu", headers=HTML)
    assert page.status_code == 200 and "<h1>Beratung erfassen</h1>" in page.text and "Yaar e.V." in page.text
    assert (
        "Freiwilligendienste (FSJ, BFD)" in page.text and "Kommunale Willkommensstrukturen" not in page.text
    )
    wrong = await client.post(
        "/veranstaltungen/beratungen/neu",
        data=session(yaar, topics=[], duration_minutes="2", held_on=""),
        headers=HTML,
    )
    assert wrong.status_code == 422
    assert "mindestens einen Eintrag" in field_error(wrong.text, "topics")
    assert "erforderlich" in field_error(wrong.text, "held_on")
    assert 'value="Leyla Ahmadi"' in wrong.text and "Kostenplan besprochen." in wrong.text
    rule = await client.post(
        "/veranstaltungen/beratungen/neu", data=session(yaar, duration_minutes="700"), headers=HTML
    )
    assert rule.status_code == 422 and "5 bis 600 Minuten" in field_error(rule.text, "duration_minutes")

    made = await client.post("/veranstaltungen/beratungen/neu", data=session(yaar), headers=HTML)
    assert made.status_code == 303
    detail = await client.get(made.headers["location"], headers=HTML)
    assert "Die Beratung ist erfasst" in detail.text and "Leyla Ahmadi" in detail.text
    assert "Kostenplan besprochen." in detail.text and "telefonisch" in detail.text

    edit = await client.get(made.headers["location"] + "/bearbeiten", headers=HTML)
    assert edit.status_code == 200 and 'value="Leyla Ahmadi"' in edit.text
    version = re.search(r'name="version" value="(\d+)"', edit.text)
    assert version
    fixed = await client.post(
        made.headers["location"] + "/bearbeiten",
        data=session(yaar, duration_minutes="45", version=version.group(1)),
        headers=HTML,
    )
    assert fixed.status_code == 303
    stale = await client.post(
        made.headers["location"] + "/bearbeiten",
        data=session(yaar, duration_minutes="50", version=version.group(1)),
        headers=HTML,
    )
    assert stale.status_code == 409 and "inzwischen geändert" in stale.text and 'value="50"' in stale.text

    erased = await client.post(made.headers["location"] + "/loeschen", headers=HTML)
    assert erased.status_code == 303
    page = await client.get(made.headers["location"], headers=HTML)
    assert "überall gelöscht" in page.text and "Leyla Ahmadi" not in page.text and "[gelöscht]" in page.text
    assert "Daten der Person löschen" not in page.text  # nothing left to erase
    still = await client.post(  # the facts stay correctable; what reads as erased is not sent back as data
        made.headers["location"] + "/bearbeiten",
        data=session(yaar, person_advised="[gelöscht]"),
        headers=HTML,
    )
    assert still.status_code == 303


async def test_the_list_filters_and_other_partners_see_no_person(
    client: httpx.AsyncClient, directory: Directory, tokens: Tokens
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    other = await directory.organisation("Elternverein Brücke e.V.")
    await client.post("/veranstaltungen/beratungen/neu", data=session(yaar), headers=HTML)
    await client.post(
        "/veranstaltungen/beratungen/neu",
        data=session(
            other, topics=["bookkeeping"], format="online", held_on=days_ago(40), duration_minutes="30"
        ),
        headers=HTML,
    )
    everything = await client.get("/veranstaltungen/beratungen", headers=HTML)
    assert "Beratungen: 2, insgesamt 2 Stunden" in everything.text
    for params, shown, hidden in (
        ({"organisation_id": yaar}, "Yaar e.V.", "Elternverein"),
        ({"topic": "bookkeeping"}, "Elternverein", "Yaar e.V."),
        ({"format": "phone"}, "Yaar e.V.", "Elternverein"),
        ({"held_from": days_ago(10)}, "Yaar e.V.", "Elternverein"),
        ({"held_until": days_ago(10)}, "Elternverein", "Yaar e.V."),
    ):
        page = await client.get("/veranstaltungen/beratungen", params=params, headers=HTML)
        assert "Beratungen: 1," in page.text, params
        assert shown in rows(page.text) and hidden not in rows(page.text), params
    bad = await client.get("/veranstaltungen/beratungen", params={"held_from": "gestern"}, headers=HTML)
    assert bad.status_code == 422 and "Bitte einen Tag angeben" in field_error(bad.text, "held_from")
    reversed_period = {"held_from": days_ago(0), "held_until": days_ago(10)}
    backwards = await client.get("/veranstaltungen/beratungen", params=reversed_period, headers=HTML)
    assert backwards.status_code == 422 and "„Bis“ liegt vor „Von“" in field_error(
        backwards.text, "held_until"
    )
    english = await client.get(
        "/veranstaltungen/beratungen", params={**reversed_period, "lang": "en"}, headers=HTML
    )
    assert english.status_code == 422 and "“Until” lies before “From”" in field_error(
        english.text, "held_until"
    )
    client.cookies.delete("ikmo_lang")  # German again for what follows

    tbb = {**HTML, **tokens.headers(Role.TBB)}
    listed = await client.get("/veranstaltungen/beratungen", headers=tbb)
    assert listed.status_code == 200 and "Beratung erfassen" not in listed.text
    first = re.search(r'href="(/veranstaltungen/beratungen/[0-9a-f-]{36})"', listed.text)
    assert first
    read = await client.get(first.group(1), headers=tbb)
    assert read.status_code == 200 and "Leyla Ahmadi" not in read.text and "Protokoll" not in read.text
    assert (await client.get("/veranstaltungen/beratungen/neu", headers=tbb)).status_code == 403
    english = await client.get("/veranstaltungen/beratungen", params={"lang": "en"}, headers=HTML)
    assert "Record an advice session" in english.text and "by phone" in rows(english.text)


async def test_an_accompaniment_page_lists_its_sessions_in_order_and_closes_with_errors_beside_fields(
    client: httpx.AsyncClient, directory: Directory
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    opening = {"organisation_id": yaar, "topics": ["founding_an_association"], "opened_on": days_ago(30)}
    wrong = await client.post("/veranstaltungen/prozessbegleitungen", data=opening, headers=HTML)
    assert wrong.status_code == 422 and "erforderlich" in field_error(wrong.text, "goal")
    made = await client.post(
        "/veranstaltungen/prozessbegleitungen", data={**opening, "goal": "Eintragung als e.V."}, headers=HTML
    )
    assert made.status_code == 303
    url = made.headers["location"]
    accompaniment_id = url.rsplit("/", 1)[1]
    form = await client.get(f"/veranstaltungen/beratungen/neu?begleitung={accompaniment_id}", headers=HTML)
    assert "Eine Beratung in der Prozessbegleitung von Yaar e.V." in form.text
    for days, minutes in ((3, "90"), (20, "60")):
        added = await client.post(
            "/veranstaltungen/beratungen/neu",
            data=session(
                yaar, accompaniment_id=accompaniment_id, held_on=days_ago(days), duration_minutes=minutes
            ),
            headers=HTML,
        )
        assert added.status_code == 303 and added.headers["location"] == url
    page = await client.get(url, headers=HTML)
    assert "Beratungen: 2, Stunden: 2,5" in page.text
    sessions = rows(page.text[page.text.index("Beratungen</h2>") :])
    assert re.findall(r"\d\d\.\d\d\.\d{4}", sessions) == [german(days_ago(20)), german(days_ago(3))]

    too_early = await client.post(
        url + "/abschliessen",
        data={"closed_on": days_ago(10), "outcome": "achieved", "note": "Erreicht"},
        headers=HTML,
    )
    assert too_early.status_code == 422 and "frühestens" in field_error(too_early.text, "closed_on")
    assert 'value="Erreicht"' in too_early.text or ">Erreicht</textarea>" in too_early.text
    closed = await client.post(
        url + "/abschliessen",
        data={"closed_on": days_ago(0), "outcome": "achieved", "note": "Erreicht"},
        headers=HTML,
    )
    assert closed.status_code == 303
    page = await client.get(url, headers=HTML)
    assert "Ziel erreicht" in page.text and "Beratung hinzufügen" not in page.text
    listed = await client.get("/veranstaltungen/prozessbegleitungen", headers=HTML)
    assert "Yaar e.V." in listed.text and "Ziel erreicht" in listed.text
