"""The public calendar, its iCal feed, the registration form and the personal link: without sign-in,
rate limited, German errors per field, and nothing of what was never published."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.events.entrypoints import public_pages
from services.events.tests.conftest import Directory, seminar
from shared.telemetry import JsonLogFormatter

ANONYMOUS = {"Authorization": "", "Accept": "text/html"}
THANKS = "Vielen Dank! Wir haben Ihnen eine E-Mail geschickt"


@pytest.fixture(autouse=True)
def fresh_limits() -> Iterator[None]:
    """The limits count per address, and every test client is the same address."""
    for limit in public_pages.LIMITS:
        limit.reset()
    yield
    for limit in public_pages.LIMITS:
        limit.reset()


async def published(client: httpx.AsyncClient, **changes: object) -> dict:
    event = (await client.post("/events", json=seminar(**changes))).json()
    return (await client.post(f"/events/{event['id']}/publish")).json()


def person(n: int, **changes: object) -> dict[str, object]:
    return {"name": f"Person {n}", "email": f"p{n}@verein.example", "privacy_consent": "true", **changes}


def field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="f-{field}-error">(.*?)</p>', html, re.S)
    assert found, f"no error beside {field}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


async def link_of(client: httpx.AsyncClient, name: str) -> str:
    """The personal link as the person got it: from the notice's text."""
    bodies = [n["body"] for n in (await client.get("/notices")).json() if name in n["recipient"]]
    found = re.search(r"http://events\.test(/oeffentlich/anmeldung/\S+)", bodies[-1])
    assert found, "no personal link in the notice"
    return found.group(1)


async def test_the_calendar_shows_what_was_published_and_the_feed_has_it_too(
    client: httpx.AsyncClient,
) -> None:
    shown = await published(
        client, title="Anerkennung ausländischer Abschlüsse", topics=["recognition_of_qualifications"]
    )
    await client.post("/events", json=seminar(title="Geheimer Entwurf"))
    cancelled = await published(client, title="Abgesagter Fachtag, Teil 1; Vorbereitung", format="conference")
    await client.post(f"/events/{cancelled['id']}/cancel", json={"reason": "venue_unavailable"})

    page = await client.get("/oeffentlich/veranstaltungen", headers=ANONYMOUS)
    assert page.status_code == 200 and "Anerkennung ausländischer Abschlüsse" in page.text
    assert "Geheimer Entwurf" not in page.text and "abgesagt" in page.text
    filtered = await client.get("/oeffentlich/veranstaltungen?format=conference", headers=ANONYMOUS)
    assert "Anerkennung ausländischer Abschlüsse</a>" not in filtered.text
    assert "Abgesagter Fachtag, Teil 1; Vorbereitung</a>" in filtered.text

    feed = await client.get("/oeffentlich/veranstaltungen.ics", headers={"Authorization": ""})
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    text = feed.text
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 2 and "Geheimer Entwurf" not in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n")), "a line is not folded"
    unfolded = text.replace("\r\n ", "")
    assert f"UID:{shown['id']}@events.ikmo-berlin" in unfolded
    assert "SUMMARY:Abgesagter Fachtag\\, Teil 1\\; Vorbereitung" in unfolded  # escaped
    assert "STATUS:CANCELLED" in unfolded and "STATUS:CONFIRMED" in unfolded
    assert f"URL:http://events.test/oeffentlich/veranstaltungen/{shown['id']}" in unfolded
    assert re.search(r"DTSTART:\d{8}T\d{6}Z", unfolded)

    draft = (await client.post("/events", json=seminar())).json()
    assert (
        await client.get(f"/oeffentlich/veranstaltungen/{draft['id']}", headers=ANONYMOUS)
    ).status_code == 404


async def test_registering_publicly_with_mistakes_then_until_full_then_twice(
    client: httpx.AsyncClient, directory: Directory
) -> None:
    event = await published(client, capacity=1)
    url = f"/oeffentlich/veranstaltungen/{event['id']}"
    listed = await directory.organisation("Offener Verein e.V.", public_profile=True)
    hidden = await directory.organisation("Stiller Verein e.V.")
    form = await client.get(url, headers=ANONYMOUS)
    assert "Offener Verein e.V." in form.text and "Stiller Verein" not in form.text

    wrong = await client.post(
        url, data=person(1, email="p1-at-verein", privacy_consent=""), headers=ANONYMOUS
    )
    assert wrong.status_code == 422
    assert "Verarbeitung Ihrer Daten" in field_error(wrong.text, "privacy_consent")
    assert 'value="Person 1"' in wrong.text  # nothing typed is lost
    mail = await client.post(url, data=person(1, email="p1-at-verein"), headers=ANONYMOUS)
    assert "E-Mail-Adresse wie name@beispiel.de" in field_error(mail.text, "email")
    secret = await client.post(url, data=person(1, organisation_id=hidden), headers=ANONYMOUS)
    assert "aus der Liste" in field_error(secret.text, "organisation_id")

    ok = await client.post(url, data=person(1, organisation_id=listed), headers=ANONYMOUS)
    assert ok.status_code == 303
    confirmed = await client.get(ok.headers["location"], headers=ANONYMOUS)
    assert THANKS in confirmed.text
    assert "Auf die Warteliste setzen" in confirmed.text  # now full: the form says where it leads
    assert "Ihr Platz ist bestätigt" in (await newest_notice_to(client, "p1@"))["body"]
    waiting = await client.post(url, data=person(2), headers=ANONYMOUS)
    assert THANKS in (await client.get(waiting.headers["location"], headers=ANONYMOUS)).text
    assert "Platz 1 der Warteliste" in (await newest_notice_to(client, "p2@"))["body"]

    # the same address again: the page says what it says to everyone, the person gets their link again
    before = (await client.get(f"/events/{event['id']}")).json()["version"]
    twice = await client.post(url, data=person(3, email="P2@Verein.example"), headers=ANONYMOUS)
    assert twice.status_code == 303
    assert THANKS in (await client.get(twice.headers["location"], headers=ANONYMOUS)).text
    assert (await client.get(f"/events/{event['id']}")).json()["version"] == before  # nothing appended
    reminder = await newest_notice_to(client, "p2@")
    assert reminder["kind"] == "already_registered" and "Person 2" in reminder["recipient"]
    assert "schon angemeldet und stehen auf Platz 1 der Warteliste" in reminder["body"]
    assert "/oeffentlich/anmeldung/" in reminder["body"]  # their own link, to cancel if need be
    # a third try within the pause: still the same page, but no second mail (no mail bombing by form)
    again = await client.post(url, data=person(2), headers=ANONYMOUS)
    assert again.status_code == 303
    kinds = [n["kind"] for n in (await client.get("/notices")).json() if "p2@" in n["recipient"]]
    assert sorted(kinds) == ["already_registered", "waitlist"]
    # staff, who may see who is registered, are told plainly
    staff = await client.post(
        f"/events/{event['id']}/registrations", json={"name": "Person 4", "email": "p1@verein.example"}
    )
    assert staff.status_code == 409 and "schon angemeldet" in staff.json()["message_de"]
    people = (await client.get(f"/events/{event['id']}/registrations")).json()
    assert [(p["name"], p["status"], p["organisation_name"]) for p in people] == [
        ("Person 1", "confirmed", "Offener Verein e.V."),
        ("Person 2", "waitlisted", None),
    ]


async def newest_notice_to(client: httpx.AsyncClient, address: str) -> dict:
    return next(n for n in (await client.get("/notices")).json() if address in n["recipient"])


async def test_the_personal_link_cancels_and_the_next_one_moves_up(client: httpx.AsyncClient) -> None:
    event = await published(client, capacity=1)
    url = f"/oeffentlich/veranstaltungen/{event['id']}"
    for n in (1, 2):
        assert (await client.post(url, data=person(n), headers=ANONYMOUS)).status_code == 303
    link = await link_of(client, "Person 1")
    page = await client.get(link, headers=ANONYMOUS)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert "Anmeldung von Person 1" in page.text and "bestätigt" in page.text
    assert "Anmeldung stornieren? Ihr Platz geht sofort an die n" in page.text  # asked first
    assert 'href="tel:030290069' in page.text and "mailto:iq-netz-via@via-in-berlin.de" in page.text
    waiting = (await client.get(await link_of(client, "Person 2"), headers=ANONYMOUS)).text
    assert "Von der Warteliste abmelden" in waiting and "Ihr Platz geht sofort" not in waiting  # has none
    assert (await client.get(f"/events/{event['id']}")).json()["confirmed"] == 1  # looking changed nothing
    cancelled = await client.post(link, headers=ANONYMOUS)
    assert cancelled.status_code == 303
    after = await client.get(cancelled.headers["location"], headers=ANONYMOUS)
    assert "Ihre Anmeldung ist storniert" in after.text and "Diese Anmeldung ist storniert." in after.text
    again = await client.post(link, headers=ANONYMOUS)  # clicked twice: nothing more happens
    assert again.status_code == 303
    people = {
        p["name"]: p["status"] for p in (await client.get(f"/events/{event['id']}/registrations")).json()
    }
    assert people == {"Person 1": "cancelled", "Person 2": "confirmed"}
    kinds = [n["kind"] for n in (await client.get("/notices")).json()]
    assert sorted(kinds) == ["cancellation", "confirmation", "promotion", "waitlist"]
    for guess in (link[:-1] + ("A" if link[-1] != "A" else "B"), "/oeffentlich/anmeldung/x"):
        assert (await client.get(guess, headers=ANONYMOUS)).status_code == 404
        assert (await client.post(guess, headers=ANONYMOUS)).status_code == 404


async def test_the_form_is_rate_limited_and_a_new_forwarded_header_does_not_help(
    client: httpx.AsyncClient,
) -> None:
    """Nobody is a trusted proxy by default: X-Forwarded-For is the client's own claim and ignored."""
    event = await published(client, capacity=50)
    url = f"/oeffentlich/veranstaltungen/{event['id']}"
    for n in range(public_pages.REGISTER_LIMIT.limit):
        spoofed = {**ANONYMOUS, "X-Forwarded-For": f"198.51.100.{n}"}
        assert (await client.post(url, data=person(n), headers=spoofed)).status_code == 303
    spoofed = {**ANONYMOUS, "X-Forwarded-For": "203.0.113.1"}
    blocked = await client.post(url, data=person(99), headers=spoofed)
    assert blocked.status_code == 429 and "Zu viele Anfragen" in blocked.text
    names = [p["name"] for p in (await client.get(f"/events/{event['id']}/registrations")).json()]
    assert len(names) == public_pages.REGISTER_LIMIT.limit and "Person 99" not in names


async def test_each_kind_of_use_has_its_own_limit(client: httpx.AsyncClient) -> None:
    """Registering does not use up reading, nor the personal link the certificate, nor the other way."""
    event = await published(client, capacity=50)
    url = f"/oeffentlich/veranstaltungen/{event['id']}"
    unknown_link = "/oeffentlich/anmeldung/unknown-token"
    pdf = f"{unknown_link}/teilnahmebescheinigung.pdf"

    async def status(method: str, path: str) -> int:
        return (await client.request(method, path, headers=ANONYMOUS)).status_code

    for _ in range(public_pages.REGISTER_LIMIT.limit):  # wrong forms count as well: 422 each
        assert (await client.post(url, data={"name": ""}, headers=ANONYMOUS)).status_code == 422
    assert (await client.post(url, data=person(1), headers=ANONYMOUS)).status_code == 429
    assert await status("GET", url) == 200
    assert await status("GET", "/oeffentlich/veranstaltungen") == 200
    assert await status("GET", "/oeffentlich/veranstaltungen.ics") == 200
    assert await status("GET", unknown_link) == 404

    for _ in range(public_pages.LINK_LIMIT.limit - 1):
        assert await status("POST", f"{unknown_link}/rueckmeldung") == 404
    assert [await status("GET", unknown_link), await status("POST", unknown_link)] == [429, 429]
    assert await status("GET", pdf) == 404  # the certificate has its own limit

    for _ in range(public_pages.PDF_LIMIT.limit - 1):
        assert await status("GET", pdf) == 404
    assert await status("GET", pdf) == 429
    assert await status("GET", url) == 200
    assert public_pages.PDF_LIMIT.limit < public_pages.LINK_LIMIT.limit  # rendering a PDF is the costly path


async def test_a_refusal_says_how_long_to_wait_in_german_and_english(client: httpx.AsyncClient) -> None:
    link = "/oeffentlich/anmeldung/unknown-token"
    for _ in range(public_pages.LINK_LIMIT.limit):
        assert (await client.get(link, headers=ANONYMOUS)).status_code == 404
    german = await client.get(link, headers=ANONYMOUS)
    english = await client.get(f"{link}?lang=en", headers=ANONYMOUS)
    for page in (german, english):
        assert page.status_code == 429 and page.headers["content-type"].startswith("text/html")
        assert page.headers["Retry-After"].isdigit() and 0 < int(page.headers["Retry-After"]) <= 600
    assert "<h1>Zu viele Anfragen</h1>" in german.text and german.headers["content-language"] == "de"
    assert "Bitte versuchen Sie es in 10 Minuten noch einmal." in german.text
    assert "<h1>Too many requests</h1>" in english.text and english.headers["content-language"] == "en"
    assert "Please try again in 10 minutes." in english.text and "Zu viele" not in english.text
    remembered = await client.get(link, headers=ANONYMOUS)  # ?lang=en is kept in a cookie, as elsewhere
    assert "Please try again in 10 minutes." in remembered.text
    problem = await client.get(link, headers={"Authorization": "", "Accept": "application/json"})
    assert problem.status_code == 429 and problem.headers["Retry-After"].isdigit()
    body = problem.json()
    assert body["error"] == "too_many_requests"
    assert body["message"].startswith("Too many requests") and body["message_de"].startswith("Zu viele")


async def test_the_personal_links_secret_reaches_neither_the_access_log_nor_a_trace(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter
) -> None:
    """Whoever reads the logs or Jaeger must not be able to cancel someone's registration."""
    event = await published(client)
    url = f"/oeffentlich/veranstaltungen/{event['id']}"
    assert (await client.post(url, data=person(1), headers=ANONYMOUS)).status_code == 303
    link = await link_of(client, "Person 1")
    secret = link.rsplit("/", 1)[1]
    spans.clear()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert (await client.get(f"{link}?utm=mail", headers=ANONYMOUS)).status_code == 200
        assert (await client.post(link, headers=ANONYMOUS)).status_code == 303
    formatter = JsonLogFormatter("events")
    served = [r for r in caplog.records if r.name != "httpx"]  # httpx logs this test's own client
    lines = [formatter.format(r) for r in served]
    access = [json.loads(line) for line, r in zip(lines, served, strict=True) if r.name == "ikmo.access"]
    assert [(a["http.request.method"], a["http.route"], a["http.response.status_code"]) for a in access] == [
        ("GET", "/oeffentlich/anmeldung/{token}", 200),
        ("POST", "/oeffentlich/anmeldung/{token}", 303),
    ]
    assert not [line for line in lines if secret in line or "utm=mail" in line]
    server = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert [s.name for s in server] == [
        "GET /oeffentlich/anmeldung/{token}",
        "POST /oeffentlich/anmeldung/{token}",
    ]
    for span in spans.get_finished_spans():
        shown = span.name + json.dumps({k: str(v) for k, v in (span.attributes or {}).items()})
        assert secret not in shown and "utm=mail" not in shown


async def test_the_consent_is_kept_word_for_word_in_the_language_the_form_was_shown_in(
    client: httpx.AsyncClient,
) -> None:
    event = await published(client)
    url = f"/oeffentlich/veranstaltungen/{event['id']}"
    german = "Ich bin einverstanden, dass VIA meine Angaben"
    assert german in (await client.get(url, headers=ANONYMOUS)).text
    assert (await client.post(url, data=person(1), headers=ANONYMOUS)).status_code == 303
    assert (await client.post(f"{url}?lang=en", data=person(2), headers=ANONYMOUS)).status_code == 303
    await client.post(f"/events/{event['id']}/registrations", json={"name": "Person 3", "email": "p3@x.de"})
    consents = {
        p["name"]: p["consent"] for p in (await client.get(f"/events/{event['id']}/registrations")).json()
    }
    assert consents["Person 1"].startswith(german)
    assert consents["Person 2"].startswith("I agree that VIA processes my data")
    assert consents["Person 3"] is None  # staff registered them (by phone, on paper)
    page = await client.get(f"/veranstaltungen/{event['id']}?lang=de", headers={"Accept": "text/html"})
    assert "online, mit Einwilligung" in page.text and "vom Team eingetragen" in page.text
    assert german in page.text


def places_of(html: str) -> str:
    found = re.search(r'<dd id="places">(.*?)</dd>', html, re.S)
    assert found, "no places on the page"
    return " ".join(found.group(1).split())


async def test_the_public_page_says_how_full_not_how_many_so_a_registration_cannot_be_told(
    client: httpx.AsyncClient,
) -> None:
    event = await published(client, capacity=6)
    url = f"/oeffentlich/veranstaltungen/{event['id']}"
    for n in (1, 2):
        assert (await client.post(url, data=person(n), headers=ANONYMOUS)).status_code == 303
    page = await client.get(url, headers=ANONYMOUS)
    assert places_of(page.text) == "Plätze frei" and "von 6" not in page.text
    # someone types a registered person's address, or a new one: the page reads the same afterwards
    again = await client.post(url, data=person(1), headers=ANONYMOUS)
    assert (
        again.status_code == 303
        and places_of((await client.get(url, headers=ANONYMOUS)).text) == "Plätze frei"
    )
    assert (await client.post(url, data=person(3), headers=ANONYMOUS)).status_code == 303
    assert places_of((await client.get(url, headers=ANONYMOUS)).text) == "Nur noch wenige Plätze frei"
    for n in (4, 5, 6):
        await client.post(url, data=person(n), headers=ANONYMOUS)
    full = (await client.get(url, headers=ANONYMOUS)).text
    assert places_of(full) == "Ausgebucht: Anmeldung auf die Warteliste"
    english = (await client.get(f"{url}?lang=en", headers=ANONYMOUS)).text
    assert places_of(english) == "Fully booked: the waitlist is open"
    staff = await client.get(f"/veranstaltungen/{event['id']}?lang=de", headers={"Accept": "text/html"})
    assert places_of(staff.text) == "0 von 6 frei"  # VIA's team sees the number


async def test_the_form_names_every_mistake_in_one_round_each_beside_its_field(
    client: httpx.AsyncClient,
) -> None:
    event = await published(client, capacity=5)
    url = f"/oeffentlich/veranstaltungen/{event['id']}"
    typed = {
        "name": "",
        "email": "test@beispiel",
        "phone": "bitte anrufen",
        "organisation_id": "gibt-es-nicht",
    }
    page = await client.post(url, data=typed, headers=ANONYMOUS)  # and no consent ticked
    assert page.status_code == 422
    assert "Bitte geben Sie Ihren Namen an" in field_error(page.text, "name")
    assert "E-Mail-Adresse wie name@beispiel.de" in field_error(page.text, "email")
    assert "Telefonnummer aus Ziffern" in field_error(page.text, "phone")
    assert "aus der Liste" in field_error(page.text, "organisation_id")
    assert "Verarbeitung Ihrer Daten" in field_error(page.text, "privacy_consent")
    summary = re.search(r'<div class="error-summary".*?</div>', page.text, re.S)
    assert summary and "Ihr Name: Bitte geben Sie Ihren Namen an" in summary.group(0)  # which field, said
    assert "Einwilligung: Bitte stimmen Sie" in summary.group(0)
    assert 'value="test@beispiel"' in page.text  # nothing typed is lost
    assert (await client.get(f"/events/{event['id']}/registrations")).json() == []
    api = await client.post(f"/events/{event['id']}/registrations", json={"name": "", "email": "x"})
    assert api.status_code == 422 and {f["field"] for f in api.json()["fields"]} == {"name", "email"}
