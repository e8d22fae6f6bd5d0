"""The directory's staff pages on a phone (390×844): none is wider than the screen. The real directory and
sign-in run under uvicorn; an organisation with a contact person and a network is made through the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.directory.app import build_app
from shared.platform.natsserver import NatsServer
from shared.testing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    needs_chromium,
    service_with_sign_in,
    signed_in_phone,
    staff_api,
    wider_than_the_screen,
)

pytestmark = needs_chromium


@pytest.fixture
def servers(tmp_path: Path, nats_server: NatsServer) -> Iterator[tuple[str, str]]:
    with service_with_sign_in("directory", build_app, tmp_path / "data", nats_server.url) as urls:
        yield urls


def test_no_directory_page_is_wider_than_a_phone(
    servers: tuple[str, str], tmp_path: Path, shots: Path
) -> None:
    from playwright.sync_api import sync_playwright

    auth_url, service_url = servers
    with staff_api(tmp_path / "data", auth_url, service_url) as api:
        body = {
            "name": "Afrikanisches Frauennetzwerk Wedding und Gesundbrunnen e.V.",
            "kind": "mo",
            "legal_form": "e_v",
            "districts": ["mitte", "reinickendorf"],
            "public_profile": True,
        }
        organisation = api.post("/organisations", json=body).raise_for_status().json()
    pages = {
        "organisations": "/verzeichnis",
        "organisation": f"/verzeichnis/{organisation['id']}",
        "edit": f"/verzeichnis/{organisation['id']}/bearbeiten",
        "new": "/verzeichnis/neu",
        "networks": "/verzeichnis/netzwerke",
        "mentoring": "/verzeichnis/begleitungen",
        "committees": "/verzeichnis/gremien",
        "checks": "/verzeichnis/teilhabechecks",
        "public": "/oeffentlich/organisationen",
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            phone = signed_in_phone(browser, auth_url, service_url)
            assert wider_than_the_screen(phone, service_url, pages, shots) == {}
        finally:
            browser.close()
