"""VIA staff and the public in a real browser: plan and publish an event, register until it is full, land
on the waitlist, cancel through the personal link, and see the promotion and its notice; then, on the
event's day, check people in on a phone and download a certificate of participation (staff from the
check-in list, the participant through their personal link); after it, give feedback through the link
and read it on the staff page. The real events service and the real sign-in app run under uvicorn on
free ports, as `ikmo up` runs them; the service's clock (`handlers.utc_now`) is moved to the event's
day and past its end, as the days would pass.

Screenshots go to a temporary folder (IKMO_SCREENSHOTS names another one to keep them for a look).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from services.events import handlers
from services.events.app import build_app
from services.events.entrypoints import public_pages
from shared.platform.natsserver import NatsServer
from shared.testing import CHROMIUM, CHROMIUM_ARGS, needs_chromium, service_with_sign_in

pytestmark = needs_chromium


@pytest.fixture
def servers(tmp_path: Path, nats_server: NatsServer) -> Iterator[tuple[str, str]]:
    """The sign-in app and the events service (data in `tmp_path / "data"`), public rate limits reset."""
    for limit in public_pages.LIMITS:
        limit.reset()
    with service_with_sign_in("events", build_app, tmp_path / "data", nats_server.url) as urls:
        yield urls


def local(days: int, hour: int) -> str:
    day = datetime.now(ZoneInfo("Europe/Berlin")).date() + timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00"


def pdf_text(path: str | Path) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


def berlin(days: int, hour: int) -> datetime:
    return datetime.fromisoformat(local(days, hour)).replace(tzinfo=ZoneInfo("Europe/Berlin"))


def test_publish_fill_wait_cancel_see_the_promotion_and_check_in(
    servers: tuple[str, str], shots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import Dialog, expect, sync_playwright

    auth_url, service_url = servers
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            staff = browser.new_page(viewport={"width": 1100, "height": 900}, locale="de-DE")
            staff.set_default_timeout(10_000)
            staff.goto(service_url)  # the service's address leads to the list, via the sign-in
            expect(staff).to_have_url(re.compile(re.escape(auth_url) + "/login"))
            staff.get_by_label("Benutzername").fill("via")
            staff.get_by_label("Passwort").fill("via-demo")
            staff.get_by_role("button", name="Anmelden").click()
            expect(staff).to_have_url(f"{service_url}/veranstaltungen")
            expect(staff.get_by_role("heading", level=1)).to_have_text("Veranstaltungen")

            staff.get_by_role("link", name="Veranstaltung planen").click()
            staff.get_by_label("Titel").fill("Projektmanagement für Vereine")
            staff.get_by_label("Format").select_option(label="Workshop")
            staff.get_by_label("Projektmanagement").check()
            staff.get_by_label("Förderlinie").select_option(label="Senatsverwaltung (IKMO)")
            staff.get_by_label("Beginn").fill(local(14, 10))
            staff.get_by_label("Ende").fill(local(14, 15))
            staff.get_by_label("Plätze").fill("2")
            staff.get_by_role("button", name="Speichern").click()  # no venue: the mistake
            expect(staff.locator("#f-venue-error")).to_contain_text("Bitte den Ort angeben")
            expect(staff.get_by_label("Titel")).to_have_value("Projektmanagement für Vereine")
            staff.get_by_label("Ort", exact=True).fill("VIA, Petersburger Straße 92")
            staff.get_by_label("Bezirk").select_option(label="Friedrichshain-Kreuzberg")
            staff.get_by_role("button", name="Speichern").click()
            expect(staff.get_by_role("status")).to_contain_text("als Entwurf gespeichert")
            staff.get_by_role("button", name="Veröffentlichen").click()
            expect(staff.get_by_role("status")).to_contain_text("ist veröffentlicht")
            staff.screenshot(path=str(shots / "events-detail-published.png"), full_page=True)
            public_url = staff.get_by_role(
                "link", name="Die Veranstaltung im öffentlichen Kalender"
            ).get_attribute("href")

            visitor = browser.new_page(viewport={"width": 390, "height": 844}, locale="de-DE")
            visitor.set_default_timeout(10_000)
            thanks = "Wir haben Ihnen eine E-Mail geschickt"  # the same for everyone: the e-mail says more
            for n in (1, 2, 2):  # the second time, Person 2 is reminded by e-mail, not told on screen
                visitor.goto(service_url + str(public_url))
                visitor.get_by_label("Ihr Name").fill(f"Person {n}")
                visitor.get_by_label("E-Mail-Adresse").fill(f"person{n}@verein.example")
                visitor.get_by_label("Ich bin einverstanden").check()
                visitor.get_by_role("button", name=re.compile("Anmelden|Warteliste")).click()
                expect(visitor.get_by_role("status")).to_contain_text(thanks)
            expect(visitor.get_by_text("Alle Plätze sind vergeben")).to_be_visible()
            visitor.get_by_label("Ihr Name").fill("Person 3")
            visitor.get_by_label("E-Mail-Adresse").fill("person3@verein.example")
            visitor.get_by_role("button", name="Auf die Warteliste setzen").click()  # no consent: the mistake
            expect(visitor.locator("#f-privacy_consent-error")).to_contain_text("Verarbeitung Ihrer Daten")
            visitor.get_by_label("Ich bin einverstanden").check()
            visitor.get_by_role("button", name="Auf die Warteliste setzen").click()
            expect(visitor.get_by_role("status")).to_contain_text(thanks)
            width = visitor.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the public page scrolls sideways on a phone ({width}px)"
            visitor.screenshot(path=str(shots / "events-public-waitlist-phone.png"), full_page=True)

            staff.get_by_role("link", name="Benachrichtigungen zu dieser Veranstaltung").click()
            waitlist = staff.locator("li.notice", has_text="person3@verein.example").filter(
                has_text="Warteliste"
            )
            waitlist.locator("summary").click()
            expect(waitlist.locator(".notice-body")).to_contain_text("Platz 1 der Warteliste")
            reminder = staff.locator("li.notice", has_text="person2@verein.example").filter(
                has_text="Hinweis: schon angemeldet"
            )
            expect(reminder).to_have_count(1)
            confirmation = staff.locator("li.notice", has_text="person1@verein.example").filter(
                has_text="Bestätigung"
            )
            confirmation.locator("summary").click()
            body = confirmation.locator(".notice-body").inner_text()
            link = re.search(r"https?://\S+/oeffentlich/anmeldung/\S+", body)
            assert link, body

            visitor.goto(link.group(0))
            expect(visitor.get_by_text("Anmeldung von Person 1")).to_be_visible()
            asked: list[str] = []  # the browser asks before a place is given away

            def answer(dialog: Dialog) -> None:
                asked.append(dialog.message)
                dialog.accept()

            visitor.once("dialog", answer)
            visitor.get_by_role("button", name="Meine Anmeldung stornieren").click()
            expect(visitor.get_by_role("status")).to_contain_text("Ihre Anmeldung ist storniert")
            assert asked and asked[0].startswith("Anmeldung stornieren? Ihr Platz geht sofort")

            staff.reload()
            promotion = staff.locator("li.notice", has_text="person3@verein.example").filter(
                has_text="Nachgerückt"
            )
            expect(promotion).to_be_visible()
            promotion.locator("summary").click()
            expect(promotion.locator(".notice-body")).to_contain_text(
                "Sie sind von der Warteliste nachgerückt"
            )
            staff.screenshot(path=str(shots / "events-notices.png"), full_page=True)

            staff.get_by_role("link", name="Projektmanagement für Vereine").click()
            confirmed = staff.locator(
                "section", has=staff.get_by_role("heading", name=re.compile("Bestätigt"))
            )
            expect(confirmed.get_by_role("row", name=re.compile("Person 3"))).to_contain_text("nachgerückt")
            expect(staff.get_by_text("Niemand steht auf der Warteliste.")).to_be_visible()
            staff.screenshot(path=str(shots / "events-detail-promoted.png"), full_page=True)

            # The event's day, at the door, on a phone: check-in by name, one tap each, undo a mistake.
            monkeypatch.setattr(handlers, "utc_now", lambda: berlin(14, 9))
            staff.set_viewport_size({"width": 390, "height": 844})
            staff.get_by_role("link", name="Einlassliste").click()
            counts = staff.locator("#checkin-counts")
            expect(counts).to_have_text("Anwesend: 0 von 2 mit Platz")
            sent: list[str] = []
            staff.on("request", record := lambda r: sent.append(r.url))
            staff.get_by_label("Nach Namen suchen").fill("person 3")  # filters while typing
            expect(staff.get_by_role("button", name="Person 2 als anwesend eintragen")).to_be_hidden()
            staff.get_by_role("button", name="Suchen").click()  # filters in the browser: nothing is sent
            expect(staff.get_by_role("button", name="Person 2 als anwesend eintragen")).to_be_hidden()
            assert sent == [] and staff.url.endswith("/einlass"), (sent, staff.url)
            staff.remove_listener("request", record)
            button = staff.get_by_role("button", name="Person 3 als anwesend eintragen")
            box = button.bounding_box()
            assert box and box["height"] >= 44 and box["width"] >= 44, box  # a thumb can hit it
            button.click()
            expect(staff.get_by_role("status")).to_contain_text("Eingelassen (1 von 2 anwesend)")
            staff.get_by_role("button", name="Person 2 als anwesend eintragen").click()
            expect(counts).to_have_text("Anwesend: 2 von 2 mit Platz")
            staff.get_by_role("button", name="Einlass von Person 2 zurücknehmen").click()  # a mistake
            expect(staff.get_by_role("status")).to_contain_text("Der Einlass ist zurückgenommen")
            expect(counts).to_have_text("Anwesend: 1 von 2 mit Platz")
            expect(staff.locator("li", has_text="Person 3")).to_contain_text("anwesend seit")
            width = staff.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the check-in list scrolls sideways on a phone ({width}px)"
            staff.screenshot(path=str(shots / "events-checkin-phone.png"), full_page=True)

            # The certificate: staff download it beside the person; it is a PDF with their name.
            with staff.expect_download() as download:
                staff.get_by_role("link", name="Teilnahmebescheinigung von Person 3 (PDF)").click()
            assert download.value.suggested_filename == "Teilnahmebescheinigung-Person-3.pdf"
            path = download.value.path()
            assert Path(path).read_bytes().startswith(b"%PDF-")
            text = pdf_text(path)
            assert "Teilnahmebescheinigung" in text and "Person 3" in text, text
            assert "Projektmanagement für Vereine" in text and "5 Stunden" in text, text
            expect(staff.get_by_role("link", name="Teilnahmebescheinigung von Person 2 (PDF)")).to_have_count(
                0
            )

            # Person 3 finds it through the personal link of their notice.
            staff.goto(f"{service_url}/veranstaltungen/benachrichtigungen")
            moved_up = staff.locator("li.notice", has_text="person3@verein.example").filter(
                has_text="Nachgerückt"
            )
            moved_up.locator("summary").click()
            own = re.search(
                r"https?://\S+/oeffentlich/anmeldung/\S+", moved_up.locator(".notice-body").inner_text()
            )
            assert own
            visitor.goto(own.group(0))
            expect(visitor.get_by_text("Sie haben teilgenommen")).to_be_visible()
            with visitor.expect_download() as mine:
                visitor.get_by_role("link", name="Meine Teilnahmebescheinigung herunterladen (PDF)").click()
            assert "Person 3" in pdf_text(mine.value.path())

            # After the event: Person 3 says how it was; VIA reads it beside the event.
            monkeypatch.setattr(handlers, "utc_now", lambda: berlin(14, 16))
            visitor.reload()
            visitor.get_by_label("5 – sehr gut").check()
            visitor.get_by_label("Kommentar (freiwillig)").fill("Sehr praxisnah, danke!")
            visitor.get_by_role("button", name="Rückmeldung senden").click()
            expect(visitor.get_by_role("status")).to_contain_text("Vielen Dank für Ihre Rückmeldung!")
            expect(visitor.get_by_role("button", name="Meine Rückmeldung ändern")).to_be_visible()
            visitor.screenshot(path=str(shots / "events-feedback-phone.png"), full_page=True)
            staff.set_viewport_size({"width": 1100, "height": 900})
            staff.goto(f"{service_url}/veranstaltungen")
            staff.get_by_label("Wann").select_option(label="Alle")
            staff.get_by_role("button", name="Anzeigen").click()
            staff.get_by_role("link", name="Projektmanagement für Vereine").click()
            expect(staff.locator("#feedback-average")).to_have_text(
                "Durchschnittliche Bewertung: 5,0 von 5 (Bewertungen: 1)"
            )
            expect(staff.get_by_text("Sehr praxisnah, danke!")).to_be_visible()
            staff.screenshot(path=str(shots / "events-detail-feedback.png"), full_page=True)
        finally:
            browser.close()
