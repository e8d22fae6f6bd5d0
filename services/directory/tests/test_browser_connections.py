"""How organisations are connected, in a real browser: committee seats, and contact persons and cooperations
on an organisation's page. The real directory and sign-in app run under uvicorn on free ports (the fixtures
of test_browser.py); data the test does not click together is entered through the API first.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import httpx

from services.directory.tests.test_browser import servers, sign_in  # noqa: F401 (fixtures)
from shared.testing import CHROMIUM, CHROMIUM_ARGS, needs_chromium, staff_api

pytestmark = needs_chromium


def register(api: httpx.Client, name: str, kind: str = "mo") -> str:
    body = {"name": name, "kind": kind, "legal_form": "e_v", "districts": ["neukoelln"]}
    response = api.post("/organisations", json=body)
    response.raise_for_status()
    return str(response.json()["id"])


def test_a_committee_is_entered_gains_a_seat_with_its_representative_who_gives_it_up(
    servers: tuple[str, str],  # noqa: F811
    shots: Path,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    auth_url, service_url = servers
    with staff_api(tmp_path / "data", auth_url, service_url) as api:
        bruecke = register(api, "Elternverein Brücke e.V.")
        register(api, "Bezirksamt Neukölln", kind="district_office")
        person = {"name": "Aylin Demir", "role": "staff", "consent": True}
        api.post(f"/organisations/{bruecke}/contacts", json=person).raise_for_status()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800}, locale="de-DE")
            page.set_default_timeout(10_000)
            sign_in(page, service_url, "/verzeichnis/gremien")
            expect(page.get_by_text("Noch kein Gremium eingetragen.")).to_be_visible()
            page.get_by_label("Name des Gremiums").fill("Beirat für Integration und Migration Neukölln")
            page.locator("#f-district").select_option(label="Neukölln")
            page.get_by_role("button", name="Speichern").click()  # no kind chosen: the mistake
            expect(page.get_by_role("alert")).to_be_visible()
            expect(page.locator("#f-kind")).to_have_attribute("aria-invalid", "true")
            expect(page.get_by_label("Name des Gremiums")).to_have_value(
                "Beirat für Integration und Migration Neukölln"
            )
            page.locator("#f-kind").select_option(label="Beirat")
            page.get_by_role("button", name="Speichern").click()
            expect(page.get_by_role("status")).to_contain_text("wurde eingetragen")
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Beirat für Integration und Migration Neukölln"
            )

            organisations = page.locator("#f-organisation_id option")
            expect(organisations).to_have_count(2)  # "please choose" and the one MO: no district office
            page.locator("#f-organisation_id").select_option(label="Elternverein Brücke e.V.")
            page.locator("#f-representative_id").select_option(label="Aylin Demir (Elternverein Brücke e.V.)")
            page.get_by_role("button", name="Eintragen").click()
            expect(page.get_by_role("status")).to_have_text("Der Sitz wurde eingetragen.")
            row = page.get_by_role("row", name=re.compile("Elternverein Brücke e.V."))
            expect(row).to_contain_text("Aylin Demir")
            page.screenshot(path=str(shots / "committee-de.png"), full_page=True)

            row.get_by_role("button", name="Gibt den Sitz auf").click()
            expect(page.get_by_role("status")).to_have_text("Der Sitz wurde aufgegeben.")
            former = page.locator("section", has=page.get_by_role("heading", name="Frühere Sitze"))
            expect(former).to_contain_text("Elternverein Brücke e.V. (Aylin Demir)")

            page.get_by_role("link", name="Elternverein Brücke e.V.").click()
            section = page.locator("section", has=page.get_by_role("heading", name="Gremien"))
            expect(section).to_contain_text(
                "Beirat für Integration und Migration Neukölln (Beirat, Neukölln)"
            )
            page.goto(f"{service_url}/verzeichnis/gremien")
            expect(page.get_by_role("row", name=re.compile("Beirat für Integration"))).to_contain_text("0")
        finally:
            browser.close()


def test_a_contact_person_and_a_cooperation_on_the_organisation_page(
    servers: tuple[str, str],  # noqa: F811
    shots: Path,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    auth_url, service_url = servers
    with staff_api(tmp_path / "data", auth_url, service_url) as api:
        yaar = register(api, "Yaar e.V.")
        register(api, "Jobcenter Berlin Neukölln", kind="labour_market_actor")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800}, locale="de-DE")
            page.set_default_timeout(10_000)
            sign_in(page, service_url, f"/verzeichnis/{yaar}")
            expect(page.get_by_text("Noch keine Ansprechperson.")).to_be_visible()
            page.get_by_text("Ansprechperson eintragen").click()
            page.locator("#f-name").fill("Kava Spartak")
            page.get_by_label("E-Mail").fill("kein-at")  # no role and a broken address: the mistakes
            page.get_by_role("button", name="Aufnehmen").click()
            expect(page.locator("#f-role-error")).to_be_visible()
            expect(page.locator("#f-name")).to_have_value("Kava Spartak")
            page.locator("#f-role").select_option(label="Vorstand")
            page.get_by_label("E-Mail").fill("kava@yaar.example")
            page.get_by_role("button", name="Aufnehmen").click()
            expect(page.get_by_role("status")).to_have_text("Die Ansprechperson wurde eingetragen.")
            contacts = page.locator("section", has=page.get_by_role("heading", name="Ansprechpersonen"))
            expect(contacts).to_contain_text("Kava Spartak")
            expect(contacts).to_contain_text("Vorstand")
            person = contacts.get_by_role("row", name=re.compile("Kava Spartak"))
            expect(person).to_contain_text("nicht weitergeben")  # no consent given yet
            person.get_by_text("Rolle oder Einverständnis ändern").click()
            person.get_by_label("Rolle").select_option(label="Ehrenamt")
            person.get_by_label("Die Person ist einverstanden").check()
            person.get_by_role("button", name="Speichern").click()
            expect(page.get_by_role("status")).to_have_text("Die Ansprechperson wurde geändert.")
            person = contacts.get_by_role("row", name=re.compile("Kava Spartak"))
            expect(person).to_contain_text("Ehrenamt")
            expect(person).not_to_contain_text("nicht weitergeben")

            page.get_by_text("Kooperation eintragen").click()
            page.locator("#f-partner_id").select_option(label="Jobcenter Berlin Neukölln")
            page.locator("#f-field_of_work").select_option(label="Arbeitsmarkt")
            page.get_by_role("button", name="Eintragen").click()
            expect(page.get_by_role("status")).to_have_text("Die Kooperation wurde eingetragen.")
            cooperations = page.locator("section", has=page.get_by_role("heading", name="Kooperationen"))
            row = cooperations.get_by_role("row", name=re.compile("Jobcenter Berlin Neukölln"))
            expect(row).to_contain_text("Arbeitsmarkt")
            expect(row).to_contain_text("aktiv")
            page.screenshot(path=str(shots / "organisation-connections-de.png"), full_page=True)
            row.get_by_label("Beendet am").fill("2020-01-01")  # before it began: refused, said why
            row.get_by_role("button", name="Beenden").click()
            expect(page.get_by_role("alert")).to_contain_text("Beginn")
            today = date.today()
            row.get_by_label("Beendet am").fill(today.isoformat())
            row.get_by_role("button", name="Beenden").click()
            expect(page.get_by_role("status")).to_have_text("Die Kooperation wurde beendet.")
            ended = cooperations.get_by_role("row", name=re.compile("Jobcenter"))
            expect(ended).to_contain_text(f"beendet am {today:%d.%m.%Y}")
        finally:
            browser.close()
