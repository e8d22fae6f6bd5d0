"""The one look of every service: a Jinja2 environment over the shared templates and a service's own,
the page context every template gets (language, navigation, who is signed in, flash messages), and
`install_web`, which wires language, flash messages, static files and HTML error pages into an app.

A service page handler is then two lines:

    from shared.web.templating import render
    return await render(request, "organisations.html", {"organisations": rows})

and the template starts with `{% extends "base.html" %}`.
"""

from __future__ import annotations

import contextvars
import hashlib
import inspect
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth.access import SESSION_COOKIE
from shared.auth.principal import Principal, Role
from shared.auth.verify import TokenVerifier, Unauthenticated
from shared.errors import IkmoError
from shared.web.flash import FlashMessage, FlashMiddleware, consume_flashes, load_or_create_secret
from shared.web.i18n import (
    DEFAULT_LANGUAGE,
    LANG_COOKIE,
    LANG_COOKIE_MAX_AGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    N_,
    PACKAGE_DIR,
    TEMPLATES_DIR,
    normalise,
    translations,
)

STATIC_DIR = PACKAGE_DIR / "static"
STATIC_PATH = "/static/ikmo"

# The five services in the order of the navigation; labels are msgids (English), shown translated.
SERVICES: tuple[tuple[str, str], ...] = (
    ("directory", N_("Directory")),
    ("events", N_("Events")),
    ("grants", N_("Action Fund")),
    ("volunteering", N_("Voluntary services")),
    ("reporting", N_("Reports")),
)

ROLE_LABELS: dict[Role, str] = {
    Role.VIA: N_("VIA (staff)"),
    Role.TBB: N_("TBB (staff)"),
    Role.CLD: N_("Club Dialog (staff)"),
    Role.SENATE: N_("Senate office"),
    Role.ADMIN: N_("Administration"),
    Role.ORGANISATION: N_("Organisation account"),
    Role.INTEGRATOR: N_("Interface"),
}

# The language of the template being rendered, for `_` in macros imported without context.
_render_lang: contextvars.ContextVar[str] = contextvars.ContextVar(
    "ikmo_render_lang", default=DEFAULT_LANGUAGE
)
_render_locales: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar(
    "ikmo_render_locales", default=()
)


EMBEDDED_AUTH_URL = "http://127.0.0.1:8100"  # the login app of the embedded default


def default_service_urls() -> dict[str, str]:
    """The embedded default's service URLs (127.0.0.1 and the ports of shared.settings)."""
    from shared.settings import SERVICE_PORTS

    return {name: f"http://127.0.0.1:{port}" for name, port in SERVICE_PORTS.items()}


@dataclass(frozen=True)
class WebConfig:
    """What the look needs to know about its surroundings; the lead fills it from Settings."""

    secret_key: str
    service_urls: Mapping[str, str] = field(default_factory=dict)  # {"directory": "http://…:8101", …}
    auth_url: str = ""  # base URL of the login app (its /login and /logout)
    service: str | None = None  # which navigation entry is this app; None for the login app
    templates_dir: Path | None = None  # the service's own templates
    locale_dir: Path | None = None  # the service's own catalogues, extending the shared ones
    cookie_secure: bool = False  # True behind HTTPS

    @classmethod
    def from_settings(
        cls,
        settings: Any,
        *,
        service: str | None,
        templates_dir: Path | None = None,
        locale_dir: Path | None = None,
    ) -> WebConfig:
        """From `shared.settings.Settings`; fields it does not have yet fall back to the embedded defaults
        (`web_secret_key` to the data folder's own secret, which every local service shares)."""
        raw_secret: Any = getattr(settings, "web_secret_key", None)
        secret = raw_secret.get_secret_value() if hasattr(raw_secret, "get_secret_value") else raw_secret
        auth_url = getattr(settings, "auth_url", None) or EMBEDDED_AUTH_URL
        return cls(
            secret_key=secret or load_or_create_secret(Path(settings.data_dir)),
            service_urls=getattr(settings, "service_urls", None) or default_service_urls(),
            auth_url=auth_url,
            service=service,
            templates_dir=templates_dir,
            locale_dir=locale_dir,
            cookie_secure=auth_url.startswith("https://"),
        )


# -- language ---------------------------------------------------------------------------------------------


def current_language(connection: HTTPConnection) -> str:
    """The page language set by LanguageMiddleware (German when there is none)."""
    return normalise(connection.scope.get("state", {}).get("lang"))


class LanguageMiddleware:
    """`?lang=en` switches and is remembered in the `ikmo_lang` cookie; otherwise the cookie; else German."""

    def __init__(self, app: ASGIApp, secure: bool = False) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        asked = connection.query_params.get("lang")
        remembered = connection.cookies.get(LANG_COOKIE)
        lang = normalise(asked) if asked in LANGUAGES else normalise(remembered)
        scope.setdefault("state", {})["lang"] = lang
        remember = asked in LANGUAGES and asked != remembered

        async def send_with_cookie(message: Message) -> None:
            if remember and message["type"] == "http.response.start":
                cookie = f"{LANG_COOKIE}={lang}; Path=/; Max-Age={LANG_COOKIE_MAX_AGE}; SameSite=Lax"
                if self.secure:
                    cookie += "; Secure"
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode("latin-1")))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


# -- the Jinja2 environment -------------------------------------------------------------------------------


def _lang_of(context: Context | None) -> str:
    lang = context.get("lang") if context is not None else None
    return normalise(lang) if lang else _render_lang.get()


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(_lang_of(context), _render_locales.get()).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(_lang_of(context), _render_locales.get()).ngettext(singular, plural, n)


@pass_context
def _localized(context: Context, error: Mapping[str, Any] | FlashMessage | IkmoError) -> str:
    """The German or English text of an error entry (`{"message", "message_de"}`), flash or IkmoError."""
    german = _lang_of(context) == "de"
    if isinstance(error, FlashMessage):
        return error.text("de" if german else "en")
    if isinstance(error, IkmoError):
        return error.message_de if german else error.message_en
    return str((error.get("message_de") if german else None) or error.get("message") or "")


def field_id(name: str) -> str:
    """The HTML id of a form field, also the target of the error summary's links ("contact.email")."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)
    return f"f-{safe}"


def errors_for(errors: Sequence[Mapping[str, Any]] | None, name: str) -> list[Mapping[str, Any]]:
    """The entries of an error list that belong to one field (also `field.0` for a list's items)."""
    return [
        e for e in errors or () if e.get("field") == name or str(e.get("field", "")).startswith(f"{name}.")
    ]


def _static_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.glob("*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


_STATIC_VERSION = _static_version()


def static_url(name: str) -> str:
    """A shared static file's URL with a content version, so browsers never keep an old stylesheet."""
    return f"{STATIC_PATH}/{name}?v={_STATIC_VERSION}"


def make_environment(templates_dirs: Sequence[Path] = ()) -> Environment:
    """Templates of the service first (its pages), then the shared ones (base.html, macros, login)."""
    loader = ChoiceLoader(
        [FileSystemLoader([str(d) for d in templates_dirs]), FileSystemLoader(str(TEMPLATES_DIR))]
    )
    env = Environment(
        loader=loader,
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(static_url=static_url, localized=_localized, field_id=field_id, errors_for=errors_for)
    env.filters["field_id"] = field_id
    return env


# -- rendering --------------------------------------------------------------------------------------------


class Web:
    """What `install_web` leaves in `app.state.web`: the environment and the page context."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.env = make_environment([config.templates_dir] if config.templates_dir else [])
        self.locales: tuple[Path, ...] = (config.locale_dir,) if config.locale_dir else ()

    def login_url(self, next_url: str | None = None) -> str:
        url = f"{self.config.auth_url.rstrip('/')}/login"
        return f"{url}?{urllib.parse.urlencode({'next': next_url})}" if next_url else url

    def logout_url(self) -> str:
        return f"{self.config.auth_url.rstrip('/')}/logout"

    async def principal(self, request: Request) -> Principal | None:
        """Who is signed in: set by `allow()` on protected routes, else read from the cookie if valid."""
        principal = getattr(request.state, "principal", None)
        if principal is not None:
            return principal
        token = request.cookies.get(SESSION_COOKIE)
        verifier: TokenVerifier | None = getattr(request.app.state, "verifier", None)
        if not token or verifier is None:
            return None
        try:
            return await verifier.verify(token)
        except Unauthenticated:
            return None

    async def context(self, request: Request) -> dict[str, Any]:
        lang = current_language(request)
        principal = await self.principal(request)
        nav = [
            {
                "key": key,
                "label": label,
                "url": self.config.service_urls[key],
                "current": key == self.config.service,
            }
            for key, label in SERVICES
            if key in self.config.service_urls
        ]
        switch = []
        for code in LANGUAGES:
            url = request.url.include_query_params(lang=code)
            switch.append(
                {
                    "code": code,
                    "name": LANGUAGE_NAMES[code],
                    "url": f"{url.path}?{url.query}",
                    "current": code == lang,
                }
            )
        roles = [ROLE_LABELS[r] for r in sorted(principal.roles)] if principal else []
        return {
            "request": request,
            "lang": lang,
            "languages": switch,
            "nav": nav,
            "principal": principal,
            "role_labels": roles,
            "login_url": self.login_url(str(request.url)),
            "logout_url": self.logout_url(),
            "home_url": self.config.service_urls.get(self.config.service, "/")
            if self.config.service
            else "/",
            "get_flashes": lambda: consume_flashes(request),
            "show_login_link": True,
        }

    async def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        values = await self.context(request)
        values.update(context or {})
        lang_token = _render_lang.set(values["lang"])
        locale_token = _render_locales.set(self.locales)
        try:
            html = self.env.get_template(template).render(values)
        finally:
            _render_lang.reset(lang_token)
            _render_locales.reset(locale_token)
        response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
        response.headers.setdefault("cache-control", "no-store")  # pages may show personal data
        response.headers["content-language"] = values["lang"]
        return response


def web_of(request: Request) -> Web:
    web = getattr(request.app.state, "web", None)
    if not isinstance(web, Web):
        raise RuntimeError("the web look is not installed (call shared.web.templating.install_web)")
    return web


async def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page of this service on the shared look."""
    return await web_of(request).render(request, template, context, status_code=status_code, headers=headers)


def wants_html(request: Request) -> bool:
    """A browser navigating (not htmx, not an API client): it should get a page, not JSON."""
    return "text/html" in request.headers.get("accept", "") and "hx-request" not in request.headers


def install_web(app: FastAPI, config: WebConfig) -> Web:
    """Language, flash messages, static files and HTML error pages. Call after `install_error_handlers`:
    JSON clients keep getting its bodies, browsers get a page (or the login form for a 401)."""
    web = Web(config)
    app.state.web = web
    app.add_middleware(FlashMiddleware, secret_key=config.secret_key, secure=config.cookie_secure)
    app.add_middleware(LanguageMiddleware, secure=config.cookie_secure)
    app.mount(STATIC_PATH, StaticFiles(directory=str(STATIC_DIR)), name="ikmo-static")
    json_handler = app.exception_handlers.get(IkmoError)

    async def ikmo_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, IkmoError)
        if isinstance(exc, Unauthenticated) and config.auth_url:
            if "hx-request" in request.headers:
                return Response(status_code=401, headers={"HX-Redirect": web.login_url(str(request.url))})
            if wants_html(request):
                return RedirectResponse(web.login_url(str(request.url)), status_code=303)
        if wants_html(request):
            return await web.render(
                request, "error.html", {"error": exc}, status_code=exc.status_code, headers=exc.headers
            )
        if json_handler is not None:
            result = json_handler(request, exc)
            return await result if inspect.isawaitable(result) else result
        body = {"error": exc.code, "message": exc.message_en, "message_de": exc.message_de}
        return JSONResponse(status_code=exc.status_code, content=body, headers=exc.headers)

    app.add_exception_handler(IkmoError, ikmo_error)
    return web
