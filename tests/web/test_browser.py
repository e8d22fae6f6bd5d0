"""A person signing in with a real browser: headless Chromium against the login app and a small service,
each served by uvicorn on its own free port, as `ikmo up` runs them.

Screenshots go to a temporary folder (IKMO_SCREENSHOTS names another one to keep them for a look).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from shared.auth.access import SESSION_COOKIE, allow
from shared.auth.login import LoginConfig, create_login_app, jwks_path
from shared.auth.principal import Principal, Role
from shared.auth.verify import TokenVerifier
from shared.platform.natsserver import free_port
from shared.testing import CHROMIUM, CHROMIUM_ARGS, Served
from shared.web.errors import install_error_handlers
from shared.web.flash import load_or_create_secret
from shared.web.templating import WebConfig, install_web, render
from tests.web.conftest import fast_hasher

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="no /usr/bin/chromium: install Debian's chromium package to run browser tests",
)


def directory_service(data_dir: Path, auth_url: str, service_urls: dict[str, str], issuer: str) -> FastAPI:
    """A stand-in for a service page that needs a VIA sign-in."""
    app = FastAPI()
    app.state.verifier = TokenVerifier(issuer, "ikmo", str(jwks_path(data_dir)))
    install_error_handlers(app)
    install_web(
        app,
        WebConfig(
            secret_key=load_or_create_secret(data_dir),
            service_urls=service_urls,
            auth_url=auth_url,
            service="directory",
        ),
    )

    @app.get("/organisations", response_class=HTMLResponse)
    async def organisations(request: Request, principal: Annotated[Principal, allow(Role.VIA)]) -> Any:
        return await render(request, "auth/start.html")

    return app


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    data_dir = tmp_path / "data"
    login_port, service_port = free_port(), free_port()
    auth_url = f"http://127.0.0.1:{login_port}"
    service_urls = {"directory": f"http://127.0.0.1:{service_port}"}
    config = LoginConfig(data_dir=data_dir, public_url=auth_url, service_urls=service_urls)
    login_app = create_login_app(config, hasher=fast_hasher())
    service_app = directory_service(data_dir, auth_url, service_urls, config.issuer_url)
    with Served(login_app, login_port) as login, Served(service_app, service_port) as service:
        yield login.url, service.url


def test_sign_in_with_a_wrong_then_the_right_password_in_german_and_english(
    servers: tuple[str, str], shots: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    auth_url, service_url = servers
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.set_default_timeout(10_000)

            # A protected service page sends the browser to the sign-in form, remembering where it was.
            page.goto(f"{service_url}/organisations")
            came_from = urllib.parse.quote(f"{service_url}/organisations", safe="")
            expect(page).to_have_url(f"{auth_url}/login?next={came_from}")
            expect(page.locator("html")).to_have_attribute("lang", "de")
            expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
            page.screenshot(path=str(shots / "login-de.png"), full_page=True)

            # Wrong password: the German message, announced as an alert, the name kept.
            page.get_by_label("Benutzername").fill("via")
            page.get_by_label("Passwort").fill("falsch")
            page.get_by_role("button", name="Anmelden").click()
            alert = page.get_by_role("alert")
            expect(alert).to_have_text("Der Benutzername oder das Passwort ist nicht korrekt.")
            expect(page.get_by_label("Benutzername")).to_have_value("via")
            expect(page.get_by_label("Passwort")).to_have_value("")
            page.screenshot(path=str(shots / "login-error-de.png"), full_page=True)

            # Switch to English: the page and the next error speak English, and the choice is remembered.
            page.get_by_role("navigation", name="Sprache").get_by_role("link", name="English").click()
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
            page.get_by_label("User name").fill("via")
            page.get_by_label("Password").fill("wrong")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("alert")).to_have_text("The user name or the password is not correct.")
            page.screenshot(path=str(shots / "login-error-en.png"), full_page=True)

            # The right password: back on the service page, signed in, the cookie set for the whole host.
            page.get_by_label("User name").fill("via")
            page.get_by_label("Password").fill("via-demo")
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{service_url}/organisations")
            expect(page.get_by_role("status")).to_have_text("You are signed in as Vera Demir.")
            expect(page.locator(".who-name")).to_have_text("Vera Demir")
            expect(page.locator(".who-role")).to_have_text("VIA (staff)")
            services = page.get_by_role("navigation", name="Services")
            expect(services.get_by_role("link", name="Directory")).to_have_attribute("aria-current", "page")
            cookie = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
            page.screenshot(path=str(shots / "signed-in-en.png"), full_page=True)

            # Reloading shows the flash message no more; the skip link is the first thing a keyboard reaches.
            page.reload()
            expect(page.get_by_role("status")).to_have_count(0)
            page.keyboard.press("Tab")
            expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
            page.screenshot(path=str(shots / "skip-link-focus.png"))

            # Sign out from the service page: back to the form, the cookie gone.
            page.get_by_role("button", name="Sign out").click()
            expect(page).to_have_url(f"{auth_url}/login")
            expect(page.get_by_role("status")).to_have_text("You have been signed out.")
            assert SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}

            # On a phone the form and the navigation still fit.
            phone = browser.new_page(viewport={"width": 375, "height": 740}, device_scale_factor=2)
            phone.goto(f"{auth_url}/login?lang=de")
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"the page scrolls sideways on a phone ({width}px)"
            phone.screenshot(path=str(shots / "login-phone-de.png"), full_page=True)
        finally:
            browser.close()
