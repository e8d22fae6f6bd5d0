"""VIA staff in a real browser record advice: a session with a mistake (read beside its field, corrected),
found in the list; an accompaniment opened, a session added to it, its hours read, and closed with its
outcome. The real events service and the real sign-in app run under uvicorn, as `ikmo up` runs them; the
directory's organisations arrive through the consumer's own handler, as the bus would deliver them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.events.app import build_app
from services.events.consultation_handlers import berlin_today
from services.events.tests.conftest import Directory
from shared.db import make_engine
from shared.platform.natsserver import NatsServer
from shared.settings import Settings
from shared.testing import CHROMIUM, CHROMIUM_ARGS, needs_chromium, service_with_sign_in

pytestmark = needs_chromium
DAY = re.compile(r"^Tag\b")  # the label reads "Tag *" (required); the topics hold no other "Tag"


async def _directory(data_dir: Path) -> None:
    engine = make_engine(Settings(data_dir=data_dir).database_url("events"))
    try:
        directory = Directory(engine)
        await directory.organisation("Yaar e.V.")
        await directory.organisation("Elternverein Brücke Neukölln e.V.")
    finally:
        await engine.dispose()


@pytest.fixture
def servers(tmp_path: Path, nats_server: NatsServer) -> Iterator[tuple[str, str]]:
    data_dir = tmp_path / "data"
    with service_with_sign_in("events", build_app, data_dir, nats_server.url) as urls:
        asyncio.run(_directory(data_dir))
        yield urls


def days_ago(n: int) -> str:
    return (berlin_today() - timedelta(days=n)).isoformat()


def test_record_an_advice_open_an_accompaniment_add_a_session_and_close(
    servers: tuple[str, str], shots: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    auth_url, service_url = servers
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            staff = browser.new_page(viewport={"width": 1100, "height": 900}, locale="de-DE")
            staff.set_default_timeout(10_000)
            staff.goto(service_url + "/veranstaltungen")
            expect(staff).to_have_url(re.compile(re.escape(auth_url) + "/login"))
            staff.get_by_label("Benutzername").fill("via")
            staff.get_by_label("Passwort").fill("via-demo")
            staff.get_by_role("button", name="Anmelden").click()
            staff.get_by_role("navigation", name="Veranstaltungen").get_by_role(
                "link", name="Beratungen"
            ).click()
            expect(staff.get_by_role("heading", level=1)).to_have_text("Beratungen")

            staff.get_by_role("link", name="Beratung erfassen").click()
            staff.get_by_label("Beratene Organisation").select_option(label="Yaar e.V.")
            staff.get_by_label("Finanzierungsmöglichkeiten von Projekten").check()
            staff.get_by_label("Konzeptentwicklung").check()
            staff.get_by_label(DAY).fill(days_ago(1))
            staff.get_by_label("Dauer in Minuten").fill("3")  # the mistake
            staff.get_by_label("Format").select_option(label="telefonisch")
            staff.get_by_label("Beratene Person").fill("Leyla Ahmadi")
            staff.get_by_label("Protokoll (intern)").fill("Antrag beim Aktionsfonds vorbereitet.")
            staff.get_by_role("button", name="Speichern").click()
            expect(staff.locator("#f-duration_minutes-error")).to_contain_text("5 bis 600 Minuten")
            expect(staff.get_by_label("Beratene Person")).to_have_value("Leyla Ahmadi")
            staff.get_by_label("Dauer in Minuten").fill("90")
            staff.get_by_role("button", name="Speichern").click()
            expect(staff.get_by_role("status")).to_contain_text("Die Beratung ist erfasst")
            expect(staff.get_by_text("Antrag beim Aktionsfonds vorbereitet.")).to_be_visible()

            staff.get_by_role("link", name="Beratungen").first.click()
            row = staff.get_by_role("row", name=re.compile("Yaar e.V."))
            expect(row).to_contain_text("Finanzierungsmöglichkeiten von Projekten")
            expect(row).to_contain_text("telefonisch")
            expect(staff.get_by_text("Beratungen: 1, insgesamt 1,5 Stunden")).to_be_visible()
            staff.screenshot(path=str(shots / "advice-list.png"), full_page=True)

            staff.get_by_role("navigation", name="Veranstaltungen").get_by_role(
                "link", name="Prozessbegleitungen"
            ).click()
            staff.get_by_label(re.compile(r"^Organisation")).select_option(label="Yaar e.V.")
            staff.get_by_label("Vereinsgründung und Vereinsführung").check()
            staff.get_by_label("Beginn").fill(days_ago(14))
            staff.get_by_label("Ziel").fill("Eintragung ins Vereinsregister und Gemeinnützigkeit")
            staff.get_by_role("button", name="Prozessbegleitung eröffnen").click()
            expect(staff.get_by_role("status")).to_contain_text("Die Prozessbegleitung ist eröffnet")
            expect(staff.get_by_role("heading", level=1)).to_contain_text("Prozessbegleitung von Yaar e.V.")

            staff.get_by_role("link", name="Beratung hinzufügen").click()
            expect(staff.get_by_text("Eine Beratung in der Prozessbegleitung von Yaar e.V.")).to_be_visible()
            staff.get_by_label("Vereinsgründung und Vereinsführung").check()
            staff.get_by_label(DAY).fill(days_ago(15))  # before the accompaniment began
            staff.get_by_label("Dauer in Minuten").fill("120")
            staff.get_by_label("Format").select_option(label="vor Ort")
            staff.get_by_role("button", name="Speichern").click()
            expect(staff.locator("#f-held_on-error")).to_contain_text("vor dem Beginn der Begleitung")
            staff.get_by_label(DAY).fill(days_ago(7))
            staff.get_by_role("button", name="Speichern").click()
            expect(staff.get_by_role("status")).to_contain_text("Die Beratung ist erfasst")
            sessions = staff.locator("section", has=staff.get_by_role("heading", name="Beratungen"))
            expect(sessions.get_by_role("row")).to_have_count(2)  # the header and the one session
            expect(staff.locator("#total-hours")).to_have_text("Beratungen: 1, Stunden: 2")

            staff.get_by_label("Ergebnis").select_option(label="Ziel erreicht")
            staff.get_by_label("Was daraus wurde").fill("Der Verein ist eingetragen.")
            staff.get_by_role("button", name="Abschließen").click()
            expect(staff.get_by_role("status")).to_contain_text("Die Prozessbegleitung ist abgeschlossen")
            expect(staff.get_by_role("heading", level=1)).to_contain_text("Ziel erreicht")
            expect(staff.get_by_role("link", name="Beratung hinzufügen")).to_have_count(0)
            staff.screenshot(path=str(shots / "accompaniment-closed.png"), full_page=True)

            staff.get_by_role("link", name="Prozessbegleitungen").first.click()
            expect(staff.get_by_role("row", name=re.compile("Yaar e.V."))).to_contain_text("Ziel erreicht")
        finally:
            browser.close()
