"""The certificate of participation: only for who was checked in, never for someone erased; the PDF read
back with pypdf has the name, organisation, title and umlauts; staff get it from the API and the pages,
the participant through their personal link."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import httpx
from pypdf import PdfReader

from services.events import certificate
from services.events.tests.conftest import Directory
from services.events.tests.test_api import register
from services.events.tests.test_attendance_api import HTML, event_with_people
from services.events.tests.test_public import ANONYMOUS, fresh_limits, link_of

BERLIN_TIME = "+01:00"
__all__ = ["fresh_limits"]  # the public rate limits, reset around each test


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def fonts_of(pdf: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return {str(font["/BaseFont"]) for page in reader.pages for font in page["/Resources"]["/Font"].values()}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + BERLIN_TIME)


def test_the_duration_is_hours_on_one_day_and_days_across_several() -> None:
    assert certificate.duration(at("2026-03-12T10:00"), at("2026-03-12T16:00"), "de") == "6 Stunden"
    assert (
        certificate.duration(at("2026-03-12T17:00"), at("2026-03-12T19:30"), "de") == "2 Stunden 30 Minuten"
    )
    assert certificate.duration(at("2026-03-12T10:00"), at("2026-03-12T11:00"), "en") == "1 hour"
    assert certificate.duration(at("2026-03-12T10:00"), at("2026-03-12T10:45"), "de") == "45 Minuten"
    assert certificate.duration(at("2026-03-12T09:00"), at("2026-03-14T16:00"), "de") == "3 Tage"


def test_who_gets_a_certificate() -> None:
    came = {"attended": True, "erased": False}
    assert certificate.refusal(came) is None
    missing = certificate.refusal({**came, "attended": False})
    assert missing is not None and "eingelassen" in missing.message_de and missing.status_code == 409
    erased = certificate.refusal({**came, "erased": True})
    assert erased is not None and "gelöscht" in erased.message_de


def facts(**changes: Any) -> certificate.Certificate:
    base = {
        "lang": "de",
        "name": "Ayşe Yılmaz-Łukasiewicz",
        "organisation": "Türkischer Elternverein Neukölln e.V.",
        "title": "Fachgespräch „Vorbilder zeigen“: Gründerinnen",
        "format": "Fachgespräch „Vorbilder zeigen“",
        "when": "Donnerstag, 12. März 2026, 10:00–16:00 Uhr",
        "duration": "6 Stunden",
        "topics": "Vereinsgründung und Vereinsführung, Politische Partizipation und Gremienarbeit",
        "where": "VIA, Petersburger Straße 92 (Friedrichshain-Kreuzberg)",
        "funding": "Senatsverwaltung (IKMO)",
        "issued_on": "13. März 2026",
        "reference": "r-1",
    }
    return certificate.Certificate(**{**base, **changes})


def test_the_pdf_prints_names_umlauts_and_quotes_in_the_bundled_font() -> None:
    pdf = certificate.pdf(facts())
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    for expected in (
        "Teilnahmebescheinigung",
        "Ayşe Yılmaz-Łukasiewicz",
        "Türkischer Elternverein Neukölln e.V.",
        "„Fachgespräch „Vorbilder zeigen“: Gründerinnen“",
        "6 Stunden",
        "Friedrichshain-Kreuzberg",
        "Berlin, den 13. März 2026",
        "VIA – Verband für interkulturelle Arbeit",
    ):
        assert expected in text, (expected, text)
    assert all("DejaVuSans" in font for font in fonts_of(pdf))  # embedded from services/events/fonts
    english = text_of(certificate.pdf(facts(lang="en", issued_on="13 March 2026")))
    assert "Certificate of participation" in english and "took part in the following event" in english


async def test_staff_download_the_certificate_of_who_came_and_nobody_else(
    client: httpx.AsyncClient, directory: Directory
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    event_id, (first, second) = await _two(client, yaar)
    url = f"/events/{event_id}/registrations"
    refused = await client.get(f"{url}/{second}/certificate")
    assert refused.status_code == 409 and "eingelassen" in refused.json()["message_de"]
    page = await client.get(f"/veranstaltungen/{event_id}", headers=HTML)
    assert "Bescheinigung (PDF)" not in page.text  # nobody came yet: no link offered

    await client.post(f"{url}/{first}/attendance")
    response = await client.get(f"{url}/{first}/certificate")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        'attachment; filename="Teilnahmebescheinigung-Person-1.pdf"'
    )
    text = text_of(response.content)
    assert "Person 1" in text and "Yaar e.V." in text and "Buchhaltung für kleine Vereine" in text
    assert "Qualifizierungsseminar" in text and "Person 2" not in text
    english = await client.get(f"{url}/{first}/certificate", params={"lang": "en"})
    assert "Certificate of participation" in text_of(english.content)

    page = await client.get(f"/veranstaltungen/{event_id}", headers={**HTML, "Cookie": "ikmo_lang=de"})
    assert page.text.count("Bescheinigung (PDF)") == 1  # beside Person 1 only
    checkin = await client.get(f"/veranstaltungen/{event_id}/einlass", headers=HTML)
    assert f"/events/{event_id}/registrations/{first}/certificate" in checkin.text
    unknown = await client.get(f"{url}/nobody/certificate")
    assert unknown.status_code == 404

    await client.post(f"{url}/{first}/erase")
    gone = await client.get(f"{url}/{first}/certificate")
    assert gone.status_code == 409 and "gelöscht" in gone.json()["message_de"]
    assert "Bescheinigung (PDF)" not in (await client.get(f"/veranstaltungen/{event_id}", headers=HTML)).text


async def _two(client: httpx.AsyncClient, organisation_id: str) -> tuple[str, list[str]]:
    """Today's seminar with Person 1 (for the organisation) and Person 2 registered."""
    event_id, _none = await event_with_people(client, people=0, title="Buchhaltung für kleine Vereine")
    first = (await register(client, event_id, 1, organisation_id=organisation_id)).json()["registration_id"]
    second = (await register(client, event_id, 2)).json()["registration_id"]
    return event_id, [first, second]


async def test_the_participant_downloads_it_through_the_personal_link_once_they_came(
    client: httpx.AsyncClient,
) -> None:
    event_id, (first,) = await event_with_people(client, people=1, title="Vereinsrecht kompakt")
    link = await link_of(client, "person1@verein.example")
    before = await client.get(link, headers=ANONYMOUS)
    assert before.status_code == 200 and "teilnahmebescheinigung.pdf" not in before.text
    early = await client.get(f"{link}/teilnahmebescheinigung.pdf", headers=ANONYMOUS)
    assert early.status_code == 409 and "nur für Personen, die bei der Veranstaltung" in early.text

    await client.post(f"/events/{event_id}/registrations/{first}/attendance")
    after = await client.get(link, headers=ANONYMOUS)
    assert "Meine Teilnahmebescheinigung herunterladen" in after.text
    assert "Meine Anmeldung stornieren" not in after.text  # who came cancels nothing any more
    pdf = await client.get(f"{link}/teilnahmebescheinigung.pdf", headers={"Authorization": ""})
    assert pdf.status_code == 200 and pdf.headers["referrer-policy"] == "no-referrer"
    assert "Person 1" in text_of(pdf.content) and "Vereinsrecht kompakt" in text_of(pdf.content)
    wrong = await client.get(
        "/oeffentlich/anmeldung/not-a-token/teilnahmebescheinigung.pdf", headers=ANONYMOUS
    )
    assert wrong.status_code == 404


def test_the_issue_date_is_printed_as_given() -> None:
    event = {
        "title": "Online-Fachrunde",
        "format": "network_meeting",
        "topics": ["volunteers"],
        "funding_line": "iq",
        "starts_at": at("2026-03-12T14:00"),
        "ends_at": at("2026-03-12T17:00"),
        "venue": None,
        "district": None,
        "online": True,
    }
    person = {"id": "r-9", "name": "Marta Nowak", "organisation_name": None}
    facts_ = certificate.certificate_of(event, person, "de", date(2026, 3, 20))
    assert (facts_.issued_on, facts_.where, facts_.duration) == ("20. März 2026", "online", "3 Stunden")
    assert facts_.funding.startswith("IQ") and facts_.organisation is None
