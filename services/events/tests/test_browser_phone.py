"""VIA's staff pages on a phone (390×844, as at the door): none is wider than the screen, so nothing needs
zooming out or sideways scrolling on the way to the check-in list. The real events service and sign-in
run under uvicorn; an event with registrations and a waitlist is planned through the API first."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Page

from services.events.tests.test_browser import servers
from services.events.tests.test_pages import form
from shared.testing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    needs_chromium,
    signed_in_phone,
    wider_than_the_screen,
)

pytestmark = needs_chromium
__all__ = ["servers"]  # the events service and its sign-in under uvicorn, as the main browser test has them


def published_event(page: Page, service_url: str) -> str:
    """An event planned and published through the staff forms with the signed-in session; its id."""
    planned = page.request.post(
        service_url + "/veranstaltungen/neu",
        data=urlencode(form(title="Vereinsgründung und Vereinsführung"), doseq=True),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert planned.ok
    event_id = planned.url.rsplit("/", 1)[1]
    assert page.request.post(
        f"{service_url}/veranstaltungen/{event_id}/veroeffentlichen", form={"version": "1"}
    ).ok
    return event_id


def test_no_staff_page_is_wider_than_a_phone(servers: tuple[str, str], shots: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    auth_url, service_url = servers
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            phone = signed_in_phone(browser, auth_url, service_url)
            event_id = published_event(phone, service_url)  # with a waitlist: three for two places
            for n in (1, 2, 3):
                person: dict[str, str | float | bool] = {
                    "name": f"Aylin Demir-Yıldırım {n}",
                    "email": f"aylin.demir.{n}@elternverein-bruecke.example",
                }
                assert phone.request.post(
                    f"{service_url}/veranstaltungen/{event_id}/anmeldungen", form=person
                ).ok
            pages = {
                "public": "/oeffentlich/veranstaltungen",
                "list": "/veranstaltungen",
                "detail": f"/veranstaltungen/{event_id}",
                "edit": f"/veranstaltungen/{event_id}/bearbeiten",
                "checkin": f"/veranstaltungen/{event_id}/einlass",
                "notices": "/veranstaltungen/benachrichtigungen",
                "advice": "/veranstaltungen/beratungen",
                "accompaniments": "/veranstaltungen/prozessbegleitungen",
            }
            assert wider_than_the_screen(phone, service_url, pages, shots) == {}

            # a refused public form: the list of what to correct takes the focus, each entry naming its field
            phone.goto(f"{service_url}/oeffentlich/veranstaltungen/{event_id}")
            phone.get_by_role("button", name="Auf die Warteliste setzen").click()
            expect(phone.locator("#error-summary")).to_be_focused()
            expect(phone.locator("#error-summary")).to_contain_text(
                "Ihr Name: Bitte geben Sie Ihren Namen an"
            )
            phone.screenshot(path=shots / "phone-public-errors.png", full_page=True)
        finally:
            browser.close()
