"""Duplicates, partner suggestions and the public directory in a real browser: on an organisation's page
a staff member reads why an office is suggested as a partner, merges a duplicate after comparing both
records, and finds the duplicate's page pointing at the survivor; then, signed out, the public profile of
the duplicate leads to the survivor's, and the CSV export holds only organisations that consented.
The real directory and sign-in app run under uvicorn on free ports (the fixtures of test_browser.py).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from services.directory.tests.test_browser import servers, sign_in  # noqa: F401 (fixtures)
from shared.testing import CHROMIUM, CHROMIUM_ARGS, needs_chromium, staff_api

pytestmark = needs_chromium


def test_a_duplicate_is_merged_after_comparing_and_its_addresses_lead_to_the_survivor(
    servers: tuple[str, str],  # noqa: F811
    shots: Path,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    auth_url, service_url = servers
    with staff_api(tmp_path / "data", auth_url, service_url) as api:

        def register(name: str, kind: str, districts: list[str], **extra: object) -> str:
            body = {"name": name, "kind": kind, "legal_form": "e_v", "districts": districts, **extra}
            response = api.post("/organisations", json=body)
            response.raise_for_status()
            return str(response.json()["id"])

        bruecke = register(
            "Elternverein Brücke Neukölln e.V.",
            "mo",
            ["neukoelln"],
            fields_of_work=["upbringing"],
            public_profile=True,
        )
        duplicate = register("Elternverein Bruecke", "mo", ["mitte"], languages=["ar"], public_profile=True)
        register("Jugendamt Neukölln", "district_office", ["neukoelln"], fields_of_work=["upbringing"])
        register("Jobcenter Spandau", "labour_market_actor", ["spandau"], fields_of_work=["labour_market"])
        register("Stiller Verein e.V.", "mo", ["neukoelln"])  # no consent: never public
        person = {"name": "Aylin Demir", "role": "staff", "consent": True}
        api.post(f"/organisations/{duplicate}/contacts", json=person).raise_for_status()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800}, locale="de-DE")
            page.set_default_timeout(10_000)
            sign_in(page, service_url, f"/verzeichnis/{bruecke}")
            suggestions = page.locator("ul.suggestions")
            expect(suggestions.get_by_role("listitem")).to_have_count(1)  # Spandau's jobcenter shares nothing
            reason = "gleicher Bezirk: Neukölln; gemeinsames Arbeitsfeld: Erziehung und Familie"
            expect(suggestions).to_contain_text(f"Jugendamt Neukölln – {reason}")

            page.get_by_role("link", name="Eine Dublette mit dieser Organisation zusammenführen …").click()
            likely = page.locator(
                "section", has=page.get_by_role("heading", name="Einträge mit ähnlichem Namen")
            )
            expect(likely.get_by_role("listitem")).to_have_count(1)
            likely.get_by_role("link", name="Elternverein Bruecke").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Elternverein Bruecke mit Elternverein Brücke Neukölln e.V. zusammenführen?"
            )
            districts = page.get_by_role("row", name=re.compile("^Bezirke"))
            expect(districts.get_by_role("cell")).to_have_text(["Neukölln", "Mitte", "Neukölln, Mitte"])
            languages = page.get_by_role("row", name=re.compile("^Sprachen"))
            expect(languages.get_by_role("cell")).to_have_text(["–", "Arabisch", "Arabisch"])
            public = page.get_by_role("row", name=re.compile("^Öffentliches Profil"))
            expect(public.get_by_role("cell")).to_have_text(["ja", "ja", "ja"])
            page.screenshot(path=str(shots / "merge-compare-de.png"), full_page=True)
            page.get_by_label("Grund (freiwillig)").fill("doppelt eingetragen")
            page.get_by_role("button", name="Zusammenführen").click()
            expect(page.get_by_role("status")).to_have_text(
                "Die Dublette wurde mit Elternverein Brücke Neukölln e.V. zusammengeführt."
            )
            contacts = page.locator("section", has=page.get_by_role("heading", name="Ansprechpersonen"))
            expect(contacts).to_contain_text("Aylin Demir")  # recorded under the duplicate, shown here now
            merged = page.locator(
                "section",
                has=page.get_by_role("heading", name="Mit diesem Eintrag zusammengeführte Dubletten"),
            )
            expect(merged).to_contain_text("doppelt eingetragen")
            merged.get_by_role("link", name="Elternverein Bruecke").click()
            expect(page.get_by_role("note")).to_contain_text("war eine Dublette")
            expect(page.get_by_role("link", name="Profil bearbeiten")).to_have_count(0)
            page.get_by_role("link", name="Zu Elternverein Brücke Neukölln e.V.").click()
            expect(page).to_have_url(f"{service_url}/verzeichnis/{bruecke}")

            visitor = browser.new_page(viewport={"width": 1100, "height": 800}, locale="de-DE")  # signed out
            visitor.goto(f"{service_url}/oeffentlich/organisationen/{duplicate}")
            expect(visitor).to_have_url(f"{service_url}/oeffentlich/organisationen/{bruecke}")
            expect(visitor.get_by_role("heading", level=1)).to_have_text("Elternverein Brücke Neukölln e.V.")
            expect(visitor.get_by_text("Aylin Demir")).to_have_count(0)
            visitor.goto(f"{service_url}/oeffentlich/organisationen")
            listed = visitor.locator("main ul.link-list li")
            expect(listed).to_have_count(1)
            expect(listed).to_contain_text("Elternverein Brücke Neukölln e.V.")
            with visitor.expect_download() as download:
                visitor.get_by_role("link", name="Als CSV herunterladen").click()
            raw = Path(download.value.path()).read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf")
            rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
            assert [r[0] for r in rows] == ["Name", "Elternverein Brücke Neukölln e.V."]
            assert rows[1][3] == "Mitte, Neukölln" and "Aylin" not in raw.decode("utf-8-sig")
        finally:
            browser.close()
