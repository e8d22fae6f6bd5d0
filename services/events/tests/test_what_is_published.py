"""What goes out with an event: the iCal feed in German, or English when subscribed from the English
calendar page; and the staff form saying that organisation names are published with the event."""

from __future__ import annotations

import httpx

from services.events.tests.conftest import seminar

ANONYMOUS = {"Authorization": "", "Accept": "text/html"}


async def test_the_feed_speaks_german_and_english_when_asked(client: httpx.AsyncClient) -> None:
    event = (await client.post("/events", json=seminar(title="Vereinsrecht kompakt"))).json()
    await client.post(f"/events/{event['id']}/publish")

    german = (await client.get("/oeffentlich/veranstaltungen.ics", headers=ANONYMOUS)).text.replace(
        "\r\n ", ""
    )
    assert "X-WR-CALNAME:VIA Berlin/Brandenburg – Veranstaltungen" in german
    assert "Anmeldung und Details: http://events.test/oeffentlich/veranstaltungen/" in german
    assert "Qualifizierungsseminar" in german

    page = await client.get("/oeffentlich/veranstaltungen?lang=en", headers=ANONYMOUS)
    assert 'href="/oeffentlich/veranstaltungen.ics?lang=en"' in page.text  # the English page subscribes so
    english = (
        await client.get("/oeffentlich/veranstaltungen.ics?lang=en", headers={"Authorization": ""})
    ).text.replace("\r\n ", "")
    assert "X-WR-CALNAME:VIA Berlin/Brandenburg – Events" in english
    assert "Registration and details: http://events.test/oeffentlich/veranstaltungen/" in english
    assert "Anmeldung und Details" not in english and "Qualifizierungsseminar" not in english


async def test_the_form_says_that_organisation_names_are_published(client: httpx.AsyncClient) -> None:
    form = await client.get("/veranstaltungen/neu", headers={"Accept": "text/html"})
    assert form.status_code == 200
    assert "Namen der gastgebenden und referierenden Organisationen werden mit der Veranstaltung" in form.text
