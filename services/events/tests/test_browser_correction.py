"""In Chromium, on a phone: VIA follows "Angaben korrigieren" beside a registrant, mistypes the address
(the error beside the field, the corrected name still typed), puts it right and is back on the event's
page with the message and the corrected details; the form is no wider than the screen."""

from __future__ import annotations

from pathlib import Path

from services.events.tests.test_browser_phone import published_event, servers
from shared.testing import CHROMIUM, CHROMIUM_ARGS, PHONE, needs_chromium, signed_in_phone

pytestmark = needs_chromium
__all__ = ["servers"]  # the events service and its sign-in under uvicorn


def test_staff_correct_a_typo_in_a_name_on_a_phone(servers: tuple[str, str], shots: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    auth_url, service_url = servers
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            phone = signed_in_phone(browser, auth_url, service_url)
            event_id = published_event(phone, service_url)
            person: dict[str, str | float | bool] = {"name": "Aylin Demri", "email": "aylin@verein.example"}
            assert phone.request.post(f"{service_url}/veranstaltungen/{event_id}/anmeldungen", form=person).ok

            phone.goto(f"{service_url}/veranstaltungen/{event_id}")
            phone.get_by_role("link", name="Angaben von Aylin Demri korrigieren").click()
            expect(phone.get_by_role("heading", level=1)).to_have_text("Angaben korrigieren")
            expect(phone.get_by_label("Name")).to_have_value("Aylin Demri")
            phone.get_by_label("Name").fill("Aylin Demir")
            phone.get_by_label("E-Mail-Adresse").fill("aylin at verein")
            phone.get_by_role("button", name="Korrekturen speichern").click()
            expect(phone.locator("#f-email-error")).to_contain_text("E-Mail-Adresse wie name@beispiel.de")
            expect(phone.get_by_label("Name")).to_have_value("Aylin Demir")  # nothing typed lost
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], width
            phone.screenshot(path=shots / "correction-refused.png", full_page=True)

            phone.get_by_label("E-Mail-Adresse").fill("aylin.demir@verein.example")
            phone.get_by_role("button", name="Korrekturen speichern").click()
            expect(phone).to_have_url(f"{service_url}/veranstaltungen/{event_id}")
            expect(
                phone.get_by_text("an die neue E-Mail-Adresse geht die Bestätigung noch einmal")
            ).to_be_visible()
            expect(phone.get_by_role("cell", name="Aylin Demir", exact=True)).to_be_visible()
            expect(phone.get_by_role("cell", name="aylin.demir@verein.example")).to_be_visible()
            phone.screenshot(path=shots / "correction-done.png", full_page=True)
        finally:
            browser.close()
