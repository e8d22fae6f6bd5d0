"""TBB's Teilhabecheck in a real browser: begin an analysis with a mistake and correct it, go through the
four phases in order (a day before the analysis began is refused beside its field), write a recommendation
and record what became of it. The real directory and sign-in app run under uvicorn on free ports (the
fixtures of test_browser.py).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from services.directory.tests.test_browser import servers  # noqa: F401 (fixtures)
from shared.testing import CHROMIUM, CHROMIUM_ARGS, needs_chromium

pytestmark = needs_chromium


def sign_in_as(page: Any, service_url: str, path: str, user: str) -> None:
    page.goto(service_url + path)
    page.get_by_label("Benutzername").fill(user)
    page.get_by_label("Passwort").fill(f"{user}-demo")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(service_url + path)


def test_an_analysis_goes_through_its_phases_and_its_recommendation_is_followed_up(
    servers: tuple[str, str],  # noqa: F811
    shots: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    _, service_url = servers
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800}, locale="de-DE")
            page.set_default_timeout(10_000)
            sign_in_as(page, service_url, "/verzeichnis/teilhabechecks", "tbb")
            expect(page.get_by_text("Noch keine Analyse.")).to_be_visible()
            page.get_by_label("Sozialraum").fill("Gropiusstadt")
            page.get_by_role("button", name="Beginnen").click()  # no district chosen: the mistake
            expect(page.get_by_role("alert")).to_be_visible()
            expect(page.locator("#f-district")).to_have_attribute("aria-invalid", "true")
            expect(page.get_by_label("Sozialraum")).to_have_value("Gropiusstadt")
            page.locator("#f-district").select_option(label="Neukölln")
            page.get_by_role("button", name="Beginnen").click()
            expect(page.get_by_role("status")).to_have_text("Die Analyse wurde begonnen.")
            expect(page.get_by_role("heading", level=1)).to_contain_text("Gropiusstadt")

            current = page.locator('li[aria-current="step"]')
            expect(current).to_contain_text("Bestandsaufnahme")
            page.get_by_label("Ein Befund dieser Phase").fill("Der Stadtteilbeirat hat keinen Sitz für MO.")
            page.get_by_role("button", name="Befund eintragen").click()
            expect(page.get_by_role("status")).to_have_text("Der Befund wurde eingetragen.")
            expect(current).to_contain_text("Der Stadtteilbeirat hat keinen Sitz für MO.")

            page.get_by_label("Abgeschlossen am").fill("2020-01-01")  # before the analysis began
            page.get_by_role("button", name="Diese Phase abschließen").click()
            expect(page.locator("#f-completed_on-error")).to_contain_text("vor Beginn der Analyse")
            expect(current).to_contain_text("Bestandsaufnahme")  # still in the first phase
            today = date.today().isoformat()
            for phase in ("Bestandsaufnahme", "Gespräche mit MO", "Austausch mit der Verwaltung"):
                expect(current).to_contain_text(phase)
                page.get_by_label("Abgeschlossen am").fill(today)
                page.get_by_role("button", name="Diese Phase abschließen").click()
                expect(page.get_by_role("status")).to_have_text("Die Phase wurde abgeschlossen.")
            expect(current).to_contain_text("Schriftliche Empfehlungen")
            expect(page.locator("li.phase-done")).to_have_count(3)

            page.get_by_label("Empfehlung", exact=True).fill("Zwei feste Sitze für MO im Stadtteilbeirat.")
            page.get_by_label("Gerichtet an").fill("Bezirksamt Neukölln")
            page.get_by_role("button", name="Empfehlung eintragen").click()
            expect(page.get_by_role("status")).to_have_text("Die Empfehlung wurde eingetragen.")
            recommendations = page.locator("section", has=page.get_by_role("heading", name="Empfehlungen"))
            item = recommendations.get_by_role("listitem").filter(has_text="Zwei feste Sitze")
            expect(item).to_contain_text("Stand: offen")
            item.get_by_label("Stand", exact=True).select_option(label="teilweise umgesetzt")
            item.get_by_label("Notiz").fill("ein Sitz ab 2027")
            item.get_by_role("button", name="Stand eintragen").click()
            expect(page.get_by_role("status")).to_have_text("Der Stand wurde eingetragen.")
            expect(item).to_contain_text(
                re.compile(r"Stand: teilweise umgesetzt \(\d\d\.\d\d\.\d{4}\): ein Sitz ab 2027")
            )
            page.get_by_role("button", name="Diese Phase abschließen").click()
            expect(page.locator("li.phase-done")).to_have_count(4)
            page.screenshot(path=str(shots / "teilhabecheck-de.png"), full_page=True)

            page.get_by_role("link", name="Teilhabecheck").first.click()
            row = page.get_by_role("row", name=re.compile("Gropiusstadt"))
            expect(row).to_contain_text("Neukölln")
            expect(row).to_contain_text("abgeschlossen am")
        finally:
            browser.close()
