"""The shared look inside a service: landmarks, navigation, language, form fields with their errors,
flash messages, and what a browser gets instead of JSON."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field, ValidationError

from shared.auth.access import SESSION_COOKIE, allow, public
from shared.auth.issuer import JWKS_FILE, Issuer
from shared.auth.principal import Role
from shared.auth.verify import TokenVerifier
from shared.errors import NotFound
from shared.web.errors import field_errors, install_error_handlers
from shared.web.flash import flash
from shared.web.templating import WebConfig, install_web, render
from tests.web.conftest import SERVICE_URLS

ISS = "http://127.0.0.1:8100/realms/ikmo"
AUTH = "http://127.0.0.1:8100"

PAGE = """{% extends "base.html" %}
{% import "macros/forms.html" as forms %}
{% block title %}Organisation{% endblock %}
{% block content %}
<h1>Organisation</h1>
{{ forms.error_summary(errors) }}
<form method="post" novalidate>
  {{ forms.text("name", "Name", value=values.get("name"), errors=errors, required=true,
                hint="Wie im Vereinsregister") }}
  {{ forms.select("district", "Bezirk", [("neukoelln", "Neukölln"), ("mitte", "Mitte")],
                  value=values.get("district"), errors=errors) }}
  {{ forms.checkboxes("fields", "Arbeitsfelder", [("labour", "Arbeitsmarkt"), ("health", "Gesundheit")],
                      values=values.get("fields", []), errors=errors, required=true) }}
  {{ forms.checkbox("consent", "Öffentliches Profil", checked=values.get("consent"), errors=errors) }}
  {{ forms.textarea("notes", "Notizen", value=values.get("notes"), errors=errors) }}
  {{ forms.submit("Speichern") }}
</form>
{% endblock %}
"""


class Organisation(BaseModel):
    name: str = Field(min_length=2)
    district: str
    fields: list[str] = Field(min_length=1)
    consent: bool = False
    notes: str = ""


def make_service(tmp_path: Path) -> tuple[FastAPI, Issuer]:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "organisation.html").write_text(PAGE)
    issuer = Issuer(tmp_path / "auth", ISS, "ikmo")
    app = FastAPI()
    app.state.verifier = TokenVerifier(ISS, "ikmo", str(issuer.key_dir / JWKS_FILE))
    install_error_handlers(app)
    install_web(
        app,
        WebConfig(
            secret_key="test-secret",
            service_urls=SERVICE_URLS,
            auth_url=AUTH,
            service="directory",
            templates_dir=templates,
        ),
    )

    @app.get("/organisation", dependencies=[public()])
    async def form_page(request: Request) -> Any:
        return await render(request, "organisation.html", {"errors": [], "values": {}})

    @app.post("/organisation", dependencies=[public()])
    async def save(
        request: Request,
        name: Annotated[str, Form()] = "",
        district: Annotated[str, Form()] = "",
        fields: Annotated[list[str] | None, Form()] = None,
    ) -> Any:
        values = {"name": name, "district": district or None, "fields": fields or []}
        try:
            Organisation.model_validate(values)
        except ValidationError as exc:
            errors = field_errors(list(exc.errors()))
            return await render(
                request, "organisation.html", {"errors": errors, "values": values}, status_code=422
            )
        flash(request, "success", "Gespeichert.", message_de="Gespeichert.")
        return RedirectResponse("/organisation", status_code=303)

    @app.get("/private")
    async def private(principal: Annotated[Any, allow(Role.VIA)]) -> dict[str, str]:
        return {"who": principal.subject}

    @app.get("/missing", dependencies=[public()])
    async def missing() -> None:
        raise NotFound("No such organisation.", "Diese Organisation gibt es nicht.")

    return app, issuer


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Issuer]]:
    app, issuer = make_service(tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8101") as c:
        yield c, issuer


async def test_a_page_has_landmarks_skip_link_navigation_and_german_by_default(service: Any) -> None:
    client, _ = service
    html = (await client.get("/organisation")).text
    assert '<html lang="de">' in html
    assert re.search(r'<a class="skip-link" href="#main">Zum Inhalt springen</a>', html)
    for landmark in ("<header", "<nav", '<main id="main"', "<footer"):
        assert landmark in html
    nav = re.findall(r'<li><a href="([^"]+)" ?(aria-current="page")?>([^<]+)</a></li>', html)
    assert [(url, label) for url, _, label in nav] == [
        (SERVICE_URLS["directory"], "Verzeichnis"),
        (SERVICE_URLS["events"], "Veranstaltungen"),
        (SERVICE_URLS["grants"], "Aktionsfonds"),
        (SERVICE_URLS["volunteering"], "Freiwilligendienste"),
        (SERVICE_URLS["reporting"], "Berichte"),
    ]
    assert [current for _, current, _ in nav] == ['aria-current="page"', "", "", "", ""]
    assert "/static/ikmo/ikmo.css?v=" in html and "/static/ikmo/htmx.min.js?v=" in html
    assert "Anmelden" in html  # nobody signed in: a way to sign in
    css = await client.get("/static/ikmo/ikmo.css")
    assert css.status_code == 200 and ":focus-visible" in css.text
    htmx = await client.get("/static/ikmo/htmx.min.js")
    assert htmx.status_code == 200 and "htmx" in htmx.text[:200]


async def test_lang_en_switches_and_the_cookie_remembers_it(service: Any) -> None:
    client, _ = service
    english = await client.get("/organisation?lang=en")
    assert '<html lang="en">' in english.text and "Directory" in english.text
    assert "ikmo_lang=en" in english.headers["set-cookie"]
    again = await client.get("/organisation")
    assert '<html lang="en">' in again.text and "Skip to main content" in again.text
    back = await client.get("/organisation?lang=de")
    assert '<html lang="de">' in back.text
    unknown = await client.get("/organisation?lang=tr")
    assert '<html lang="de">' in unknown.text  # not (yet) a language of the platform


async def test_field_errors_sit_beside_their_fields_and_the_summary_links_to_them(service: Any) -> None:
    client, _ = service
    response = await client.post("/organisation", data={"name": "X"})
    assert response.status_code == 422
    html = response.text
    summary = html[
        html.index('class="error-summary"') : html.index("</div>", html.index('class="error-summary"'))
    ]
    assert 'role="alert"' in html and "Bitte prüfen Sie Ihre Angaben" in summary
    assert '<a href="#f-name">Der Text ist zu kurz.</a>' in summary
    assert '<a href="#f-district">Bitte einen Text angeben.</a>' in summary
    assert '<a href="#f-fields">' in summary
    name_input = re.search(r'<input class="input" type="text" id="f-name"[^>]*>', html)
    assert name_input is not None
    assert 'aria-describedby="f-name-hint f-name-error"' in name_input.group(0)
    assert 'aria-invalid="true"' in name_input.group(0) and 'value="X"' in name_input.group(0)
    assert re.search(
        r'<p class="field-error" id="f-name-error">\s*<span class="visually-hidden">Fehler:</span>', html
    )
    assert re.search(r'<fieldset class="field fieldset field-invalid" id="f-fields"', html)
    assert '<label class="label" for="f-name">Name <span class="required" aria-hidden="true">*</span>' in html
    notes = re.search(r"<textarea[^>]*>", html)
    assert notes is not None and "aria-invalid" not in notes.group(0)  # a valid field stays quiet

    english = (await client.post("/organisation?lang=en", data={"name": "X"})).text
    assert "Please check your entries" in english and "String should have at least 2 characters" in english


async def test_checked_choices_and_selection_are_kept_when_the_form_comes_back(service: Any) -> None:
    client, _ = service
    html = (
        await client.post("/organisation", data={"name": "", "district": "mitte", "fields": ["health"]})
    ).text
    assert '<option value="mitte" selected>' in html
    assert re.search(r'value="health" checked>', html) and not re.search(r'value="labour" checked>', html)


async def test_a_flash_message_is_shown_once_after_the_redirect(service: Any) -> None:
    client, _ = service
    saved = await client.post(
        "/organisation",
        data={"name": "Yaar e.V.", "district": "mitte", "fields": "labour"},
        follow_redirects=True,
    )
    assert saved.status_code == 200 and len(saved.history) == 1  # followed the 303
    assert '<div class="flash flash-success" role="status">' in saved.text and "Gespeichert." in saved.text
    again = await client.get("/organisation")
    assert "Gespeichert." not in again.text


async def test_a_browser_without_a_session_is_sent_to_sign_in_and_an_api_client_gets_json(
    service: Any,
) -> None:
    client, _ = service
    page = await client.get("/private", headers={"accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == f"{AUTH}/login?next=http%3A%2F%2F127.0.0.1%3A8101%2Fprivate"
    api = await client.get("/private", headers={"accept": "application/json"})
    assert api.status_code == 401 and api.json()["error"] == "unauthenticated"
    htmx = await client.get("/private", headers={"accept": "text/html", "hx-request": "true"})
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"].startswith(f"{AUTH}/login?next=")


async def test_the_header_names_the_person_and_role_with_a_sign_out_button(service: Any) -> None:
    client, issuer = service
    client.cookies.set(SESSION_COOKIE, issuer.mint("via", [Role.VIA], name="Vera Demir"))
    assert (await client.get("/private")).json() == {"who": "via"}
    html = (await client.get("/organisation")).text
    assert '<span class="who-name">Vera Demir</span>' in html
    assert '<span class="who-role">VIA (Mitarbeiter*in)</span>' in html
    assert f'<form method="post" action="{AUTH}/logout" class="logout">' in html and "Abmelden" in html
    missing = await client.get("/missing", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "Diese Organisation gibt es nicht." in missing.text


async def test_errors_are_pages_for_browsers_and_json_for_programs(service: Any) -> None:
    client, issuer = service
    page = await client.get("/missing?lang=en", headers={"accept": "text/html"})
    assert (
        page.status_code == 404
        and "<h1>Not found</h1>" in page.text
        and "<title>Not found – IKMO" in page.text
        and "No such organisation." in page.text
    )
    body = (await client.get("/missing")).json()
    assert body == {
        "error": "not_found",
        "message": "No such organisation.",
        "message_de": "Diese Organisation gibt es nicht.",
    }
    client.cookies.set(SESSION_COOKIE, issuer.mint("tbb", [Role.TBB]))
    forbidden = await client.get("/private", headers={"accept": "text/html"})
    assert forbidden.status_code == 403 and "<h1>No access</h1>" in forbidden.text  # English remembered


def test_the_config_comes_from_todays_settings_with_embedded_defaults(tmp_path: Path) -> None:
    from shared.settings import SERVICE_PORTS, Settings

    config = WebConfig.from_settings(Settings(data_dir=tmp_path), service="events")
    assert config.service_urls == {name: f"http://127.0.0.1:{port}" for name, port in SERVICE_PORTS.items()}
    assert config.auth_url == "http://127.0.0.1:8100" and not config.cookie_secure
    assert config.secret_key == (tmp_path / "auth" / "web-secret").read_text()  # shared by local services
