"""A staff member in a real browser: sign in, register an organisation with a mistake, read the German
error beside the field, correct it, and find the organisation in the list. The real directory and the
real sign-in app run under uvicorn on free ports, as `ikmo up` runs them.

Screenshots go to a temporary folder (IKMO_SCREENSHOTS names another one to keep them for a look).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.directory.app import build_app
from shared.platform.natsserver import NatsServer
from shared.testing import CHROMIUM, CHROMIUM_ARGS, needs_chromium, service_with_sign_in, staff_api

pytestmark = needs_chromium


@pytest.fixture
def servers(tmp_path: Path, nats_server: NatsServer) -> Iterator[tuple[str, str]]:
    """The sign-in app and the directory; the directory's data folder is `tmp_path / "data"`."""
    with service_with_sign_in("directory", build_app, tmp_path / "data", nats_server.url) as urls:
        yield urls


def test_register_with_a_mistake_correct_it_and_find_it(servers: tuple[str, str], shots: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    auth_url, service_url = servers
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.set_default_timeout(10_000)
            page.goto(service_url)  # the service's own address leads to the list, via the sign-in
            expect(page).to_have_url(re.compile(re.escape(auth_url) + "/login"))
            page.get_by_label("Benutzername").fill("via")
            page.get_by_label("Passwort").fill("via-demo")
            page.get_by_role("button", name="Anmelden").click()
            expect(page).to_have_url(f"{service_url}/verzeichnis")
            expect(page.get_by_role("heading", level=1)).to_have_text("Organisationen")

            page.get_by_role("link", name="Organisation eintragen").click()
            page.get_by_label("Name der Organisation").fill("Yaar e.V.")
            page.get_by_label("Art").select_option(label="Migrant*innenorganisation (MO)")
            page.get_by_label("Rechtsform").select_option(label="in Gründung")
            page.get_by_label("Persisch (Farsi/Dari)").check()
            page.get_by_role("button", name="Speichern").click()  # no district chosen: the mistake

            summary = page.get_by_role("alert")
            expect(summary).to_contain_text("Bitte prüfen Sie Ihre Angaben")
            expect(summary).to_contain_text("Bezirke: ")  # which field each mistake is about
            districts = page.locator("#f-districts")
            expect(districts.locator(".field-error")).to_be_visible()
            expect(districts).to_have_attribute("aria-invalid", "true")
            expect(page.get_by_label("Name der Organisation")).to_have_value("Yaar e.V.")  # nothing lost
            expect(page.get_by_label("Persisch (Farsi/Dari)")).to_be_checked()
            page.screenshot(path=str(shots / "directory-form-error-de.png"), full_page=True)

            summary.get_by_role("link").first.click()  # the summary leads to the field
            page.get_by_label("Friedrichshain-Kreuzberg").check()
            page.get_by_role("button", name="Speichern").click()
            expect(page.get_by_role("status")).to_have_text("Yaar e.V. wurde eingetragen.")
            expect(page.get_by_role("heading", level=1)).to_have_text("Yaar e.V.")
            expect(page.locator(".history")).to_contain_text("Eingetragen")
            expect(page.locator(".history")).to_contain_text("von Vera Demir")  # a person, not an id

            page.get_by_role("link", name="Profil bearbeiten").click()
            page.get_by_label("Bildung").check()
            page.get_by_label("Website").fill("https://yaar.example")
            page.get_by_role("button", name="Speichern").click()
            expect(page.get_by_role("status")).to_have_text("Das Profil wurde gespeichert.")
            page.get_by_label("Neue Rechtsform").select_option(label="eingetragener Verein (e.V.)")
            page.get_by_role("button", name="Rechtsform ändern").click()
            expect(page.get_by_role("status")).to_have_text("Die Rechtsform wurde geändert.")
            history = page.locator(".history li")
            expect(history).to_have_count(3)
            expect(history.nth(0)).to_contain_text("Rechtsform geändert")  # newest first
            expect(history.nth(0)).to_contain_text("in Gründung → eingetragener Verein (e.V.)")
            expect(history.nth(1)).to_contain_text("Geändert: Arbeitsfelder, Website")
            page.screenshot(path=str(shots / "directory-detail-de.png"), full_page=True)

            page.get_by_role("link", name="Organisationen").first.click()
            page.get_by_role("searchbox", name="Suchen").fill("yaar")
            page.get_by_role("button", name="Suchen").click()
            expect(page).to_have_url(re.compile(r"/verzeichnis\?q=yaar"))  # a bookmarkable search
            row = page.get_by_role("row", name=re.compile("Yaar e.V."))
            expect(row).to_contain_text("Friedrichshain-Kreuzberg")
            page.screenshot(path=str(shots / "directory-list-de.png"), full_page=True)

            phone = browser.new_page(viewport={"width": 375, "height": 740}, device_scale_factor=2)
            # playwright's SetCookieParam has Optional fields where Cookie has plain ones, so mypy refuses
            # the list add_cookies takes at runtime (its own docs pass cookies() back this way)
            phone.context.add_cookies(page.context.cookies())  # type: ignore[arg-type]
            phone.goto(f"{service_url}/verzeichnis/neu")
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"the form scrolls sideways on a phone ({width}px)"
            phone.screenshot(path=str(shots / "directory-form-phone.png"), full_page=True)
        finally:
            browser.close()


def sign_in(page: Any, service_url: str, path: str) -> None:
    page.goto(service_url + path)
    page.get_by_label("Benutzername").fill("via")
    page.get_by_label("Passwort").fill("via-demo")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(service_url + path)


def test_a_network_is_entered_gains_a_member_who_later_leaves(
    servers: tuple[str, str], shots: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    auth_url, service_url = servers
    api = staff_api(tmp_path / "data", auth_url, service_url)
    for name, kind in (("Yaar e.V.", "mo"), ("Der Paritätische Berlin", "welfare_association")):
        body = {"name": name, "kind": kind, "legal_form": "e_v", "districts": ["mitte"]}
        api.post("/organisations", json=body).raise_for_status()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800}, locale="de-DE")
            page.set_default_timeout(10_000)
            sign_in(page, service_url, "/verzeichnis/netzwerke")
            expect(page.get_by_text("Noch kein Netzwerk eingetragen.")).to_be_visible()
            page.get_by_role("link", name="Netzwerk eintragen").click()
            page.get_by_label("Name des Netzwerks").fill(
                "Arbeitsmarktintegration von afghanischen Geflüchteten"
            )
            page.get_by_role("button", name="Speichern").click()  # no coordinator: the mistake
            expect(page.locator("#f-coordinators .field-error")).to_be_visible()
            page.get_by_label("Yaar e.V.").check()
            page.get_by_role("button", name="Speichern").click()
            expect(page.get_by_role("status")).to_contain_text("wurde eingetragen")

            page.locator("#f-organisation_id").select_option(label="Der Paritätische Berlin")
            page.get_by_role("button", name="Aufnehmen").click()
            expect(page.get_by_role("status")).to_have_text("Die Organisation ist dem Netzwerk beigetreten.")
            members = page.get_by_role("table")
            expect(members).to_contain_text("Der Paritätische Berlin")
            expect(members.get_by_role("row", name=re.compile("Yaar e.V."))).to_contain_text("koordiniert")
            page.screenshot(path=str(shots / "network-de.png"), full_page=True)

            row = members.get_by_role("row", name=re.compile("Der Paritätische Berlin"))
            row.get_by_role("button", name="Tritt aus").click()
            expect(page.get_by_role("status")).to_have_text("Die Organisation hat das Netzwerk verlassen.")
            former = page.locator("section", has=page.get_by_role("heading", name="Frühere Mitglieder"))
            expect(former).to_contain_text("Der Paritätische Berlin")
            page.screenshot(path=str(shots / "network-left-de.png"), full_page=True)
        finally:
            browser.close()
            api.close()


def test_a_mentoring_is_proposed_with_a_mistake_corrected_begun_and_ended_early(
    servers: tuple[str, str], shots: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    auth_url, service_url = servers
    with staff_api(tmp_path / "data", auth_url, service_url) as api:
        for name in ("Etablierter Verein e.V.", "Junge Initiative"):
            body = {"name": name, "kind": "mo", "legal_form": "e_v", "districts": ["neukoelln"]}
            api.post("/organisations", json=body).raise_for_status()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800}, locale="de-DE")
            page.set_default_timeout(10_000)
            sign_in(page, service_url, "/verzeichnis/begleitungen")
            expect(page.get_by_text("Noch keine Begleitung.")).to_be_visible()
            page.locator("#f-mentor_id").select_option(label="Etablierter Verein e.V.")
            page.locator("#f-mentee_id").select_option(label="Etablierter Verein e.V.")  # the mistake
            page.get_by_label("Schwerpunkte").fill("Vereinsgründung, Fördermittel")
            page.get_by_role("button", name="Vorschlagen").click()
            expect(page.get_by_role("alert")).to_contain_text("kann sich nicht selbst begleiten")
            expect(page.get_by_label("Schwerpunkte")).to_have_value("Vereinsgründung, Fördermittel")
            page.locator("#f-mentee_id").select_option(label="Junge Initiative")
            page.get_by_role("button", name="Vorschlagen").click()
            expect(page.get_by_role("status")).to_have_text("Die Begleitung wurde vorgeschlagen.")
            row = page.get_by_role("row", name=re.compile("Junge Initiative"))
            expect(row).to_contain_text("vorgeschlagen")
            row.get_by_role("button", name="Beginnen").click()
            expect(page.get_by_role("row", name=re.compile("Junge Initiative"))).to_contain_text("aktiv seit")
            page.screenshot(path=str(shots / "mentoring-de.png"), full_page=True)

            row = page.get_by_role("row", name=re.compile("Junge Initiative"))
            row.get_by_text("Vorzeitig beenden …").click()
            expect(row.get_by_label("Beendet am")).to_have_value(re.compile(r"^\d{4}-\d{2}-\d{2}$"))  # today
            row.get_by_label("Beendet am").fill("2020-01-01")  # the mistake: before the start
            row.get_by_label("Grund").fill("Der Vorstand ist zurückgetreten")
            row.get_by_role("button", name="Vorzeitig beenden").click()
            row = page.get_by_role("row", name=re.compile("Junge Initiative"))
            expect(row.locator(".field-error")).to_contain_text("nicht vor dem Beginn")  # beside the day
            expect(row.get_by_label("Grund")).to_have_value("Der Vorstand ist zurückgetreten")
            row.get_by_label("Beendet am").fill(date.today().isoformat())
            row.get_by_role("button", name="Vorzeitig beenden").click()
            expect(page.get_by_role("status")).to_have_text("Die Begleitung wurde vorzeitig beendet.")
            expect(page.get_by_role("row", name=re.compile("Junge Initiative"))).to_contain_text(
                "vorzeitig beendet am "
                + date.today().strftime("%d.%m.%Y")
                + ": Der Vorstand ist zurückgetreten"
            )
            page.screenshot(path=str(shots / "mentoring-ended-early-de.png"), full_page=True)
        finally:
            browser.close()
