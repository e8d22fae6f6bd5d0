"""The embedded default's sign-in: a small app of its own (`ikmo up` starts it on port 8100) that checks
the demo accounts, mints a token with the embedded issuer and leaves it in the `ikmo_session` cookie.

Cookies ignore ports, so the cookie set here on 127.0.0.1:8100 reaches every service on 127.0.0.1. The app
also answers the two OIDC discovery URLs that Keycloak clients look for, so an integrator can be pointed at
it as at a Keycloak realm (`/realms/ikmo`). It issues no OAuth flows: tokens come from this form or from
`ikmo token --role …` (`mint_for_script`).
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from argon2 import PasswordHasher
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from shared.auth.access import SESSION_COOKIE, public
from shared.auth.issuer import JWKS_FILE, Issuer
from shared.auth.principal import Role
from shared.auth.users import AUTH_DIR, DEMO_ACCOUNTS, DEMO_ORGANISATION_ID, UserStore, users_path
from shared.auth.verify import Forbidden, TokenVerifier
from shared.telemetry import FASTAPI_TELEMETRY_OFF, configure_logging, log_access, route_template
from shared.web.clientaddress import IPNetwork
from shared.web.errors import install_error_handlers
from shared.web.flash import flash, load_or_create_secret
from shared.web.i18n import both, gettext_for
from shared.web.ratelimit import client_key
from shared.web.templating import (
    EMBEDDED_AUTH_URL,
    WebConfig,
    current_language,
    default_service_urls,
    install_web,
    render,
)

DEFAULT_AUTH_PORT = 8100
DEFAULT_AUTH_URL = EMBEDDED_AUTH_URL
REALM_PATH = "/realms/ikmo"
DEFAULT_ISSUER = DEFAULT_AUTH_URL + REALM_PATH
DEFAULT_AUDIENCE = "ikmo"
TOKEN_TTL = 8 * 3600  # one working day
_NO_FRAMING = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}


# -- where a person may be sent after signing in ----------------------------------------------------------


def _origin(url: str) -> str | None:
    """`scheme://host:port` of an absolute http(s) URL, default ports made explicit; None if not one."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    port = port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"


def allowed_origins(urls: Mapping[str, str] | list[str]) -> frozenset[str]:
    values = urls.values() if isinstance(urls, Mapping) else urls
    return frozenset(o for o in (_origin(u) for u in values) if o)


def safe_redirect(target: str | None, origins: frozenset[str], default: str = "/") -> str:
    """`target` if it stays on this app (a path) or goes to one of the configured services, else `default`.

    Refuses what browsers read as another host: `//evil`, `/\\evil`, `https:evil`, `http://svc@evil`,
    and anything with whitespace or control characters (which browsers strip before parsing).
    """
    if not target or len(target) > 2048:
        return default
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in target):
        return default
    parts = urllib.parse.urlsplit(target)
    if not parts.scheme and not parts.netloc:
        return target if target.startswith("/") and not target.startswith("//") else default
    origin = _origin(target)
    return target if origin is not None and origin in origins else default


# -- failed sign-ins per user name and address ------------------------------------------------------------


class FailedLoginLimiter:
    """At most `max_failures` wrong passwords per key within `window` seconds; then a pause.

    In memory (one login process): enough against guessing a demo password; a restart forgets. The number
    of keys is bounded so that a flood of made-up user names cannot fill the memory.
    """

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._failures: OrderedDict[str, list[float]] = OrderedDict()

    def _recent(self, key: str) -> list[float]:
        cutoff = self.clock() - self.window
        recent = [t for t in self._failures.get(key, []) if t > cutoff]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)
        return recent

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        recent = self._recent(key)
        if len(recent) < self.max_failures:
            return 0.0
        return max(0.0, recent[-self.max_failures] + self.window - self.clock())

    def record_failure(self, key: str) -> None:
        self._recent(key)
        self._failures.setdefault(key, []).append(self.clock())
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)


# -- configuration ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginConfig:
    data_dir: Path
    public_url: str = DEFAULT_AUTH_URL  # where browsers reach this app
    issuer: str = ""  # the tokens' `iss`; default: public_url + /realms/ikmo
    audience: str = DEFAULT_AUDIENCE
    service_urls: Mapping[str, str] = field(default_factory=default_service_urls)
    secret_key: str = ""  # flash cookie signing; default: the data folder's web secret
    organisation_id: str = DEMO_ORGANISATION_ID  # of the demo organisation account
    allow_demo_users: bool = True
    token_ttl: int = TOKEN_TTL
    max_failures: int = 5
    failure_window: float = 60.0
    trusted_proxies: tuple[IPNetwork, ...] = ()  # whose X-Forwarded-For names the client (see clientaddress)

    @property
    def issuer_url(self) -> str:
        return self.issuer or self.public_url.rstrip("/") + REALM_PATH

    @property
    def cookie_secure(self) -> bool:
        return self.public_url.startswith("https://")

    @classmethod
    def from_settings(cls, settings: Any) -> LoginConfig:
        """From `shared.settings.Settings`; fields it does not have yet fall back to the embedded defaults."""
        raw_secret: Any = getattr(settings, "web_secret_key", None)
        secret = raw_secret.get_secret_value() if hasattr(raw_secret, "get_secret_value") else raw_secret
        public_url = getattr(settings, "auth_url", None) or DEFAULT_AUTH_URL
        return cls(
            data_dir=Path(settings.data_dir),
            public_url=public_url,
            issuer=getattr(settings, "oidc_issuer", None) or "",
            audience=getattr(settings, "oidc_audience", None) or DEFAULT_AUDIENCE,
            service_urls=getattr(settings, "service_urls", None) or default_service_urls(),
            secret_key=secret or "",
            organisation_id=getattr(settings, "demo_organisation_id", None) or DEMO_ORGANISATION_ID,
            allow_demo_users=getattr(settings, "environment", "development") != "production",
            trusted_proxies=getattr(settings, "trusted_proxy_networks", ()),
        )


def embedded_issuer(
    data_dir: Path, issuer_url: str = DEFAULT_ISSUER, audience: str = DEFAULT_AUDIENCE
) -> Issuer:
    """The issuer with its key in `<data>/auth/`; making it also writes `<data>/auth/jwks.json`."""
    return Issuer(data_dir / AUTH_DIR, issuer_url, audience)


def jwks_path(data_dir: Path) -> Path:
    """Where services read the embedded issuer's public keys (their TokenVerifier's `jwks_source`)."""
    return data_dir / AUTH_DIR / JWKS_FILE


# -- the app ----------------------------------------------------------------------------------------------


def create_login_app(
    config: LoginConfig,
    *,
    hasher: PasswordHasher | None = None,
    limiter: FailedLoginLimiter | None = None,
) -> FastAPI:
    issuer = embedded_issuer(config.data_dir, config.issuer_url, config.audience)
    users = UserStore.load_or_create(
        config.data_dir,
        organisation_id=config.organisation_id,
        allow_demo=config.allow_demo_users,
        hasher=hasher,
    )
    limiter = limiter or FailedLoginLimiter(config.max_failures, config.failure_window)
    own_origin = _origin(config.public_url)
    redirect_origins = allowed_origins(config.service_urls) | ({own_origin} if own_origin else set())

    app = FastAPI(
        title="IKMO Anmeldung",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        telemetry=FASTAPI_TELEMETRY_OFF,
    )
    app.state.verifier = TokenVerifier(config.issuer_url, config.audience, str(jwks_path(config.data_dir)))
    app.state.limiter = limiter
    app.state.trusted_proxies = config.trusted_proxies  # read by shared.web.clientaddress
    install_error_handlers(app)

    @app.middleware("http")
    async def _access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """The access line by route template: /authorize's query string carries codes and states."""
        started = time.perf_counter()
        response = await call_next(request)
        log_access(
            request.method, route_template(request.scope), response.status_code, time.perf_counter() - started
        )
        return response

    install_web(
        app,
        WebConfig(
            secret_key=config.secret_key or load_or_create_secret(config.data_dir),
            service_urls=config.service_urls,
            auth_url=config.public_url,
            cookie_secure=config.cookie_secure,
        ),
    )

    def check_origin(request: Request) -> None:
        """Refuse form posts from other sites (login CSRF): the Origin must be here or a service."""
        origin = request.headers.get("origin")
        if origin is None:
            return  # not a browser form post, or a browser too old to say: the cookie is SameSite=Lax
        here = _origin(f"{request.url.scheme}://{request.headers.get('host', '')}")
        if _origin(origin) not in redirect_origins | {here}:
            raise Forbidden()

    async def login_page(
        request: Request,
        next_url: str,
        *,
        username: str = "",
        error: str = "",
        status_code: int = 200,
        retry_after: int = 0,
    ) -> HTMLResponse:
        query = urllib.parse.urlencode({"next": next_url}) if next_url else ""
        context = {
            "action": f"/login?{query}" if query else "/login",
            "next": next_url,
            "username": username,
            "error": error,
            "show_login_link": False,
        }
        headers = dict(_NO_FRAMING)
        if retry_after:
            headers["Retry-After"] = str(retry_after)
        return await render(request, "auth/login.html", context, status_code=status_code, headers=headers)

    router = APIRouter(dependencies=[public()])

    @router.get("/healthz", tags=["health"], summary="The process is alive (what `ikmo up` waits for)")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "login"}

    @router.get("/", response_class=HTMLResponse, summary="Start page: who is signed in, where to go")
    async def start(request: Request) -> HTMLResponse:
        return await render(request, "auth/start.html", {"show_login_link": False})

    @router.get("/login", response_class=HTMLResponse, summary="The sign-in form")
    async def login_form(request: Request, next: str = "") -> HTMLResponse:
        return await login_page(request, next)

    @router.post("/login", summary="Check user name and password, set the session cookie")
    async def login(
        request: Request,
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "",
    ) -> Response:
        check_origin(request)
        next_url = next or request.query_params.get("next", "")
        _ = gettext_for(current_language(request))
        key = f"{username.strip().lower()}|{client_key(request)}"
        wait = limiter.retry_after(key)
        if wait > 0:
            seconds = int(wait) + 1
            message = _("Too many failed sign-in attempts. Please wait %(seconds)s seconds and try again.")
            return await login_page(
                request,
                next_url,
                username=username,
                error=message % {"seconds": seconds},
                status_code=429,
                retry_after=seconds,
            )
        user = await asyncio.to_thread(users.authenticate, username, password)
        if user is None:
            limiter.record_failure(key)
            message = _("The user name or the password is not correct.")
            return await login_page(request, next_url, username=username, error=message, status_code=401)
        limiter.reset(key)
        token = issuer.mint(
            user.username,
            user.roles,
            name=user.name,
            organisation_id=user.organisation_id,
            ttl=config.token_ttl,
        )
        response = RedirectResponse(safe_redirect(next_url, redirect_origins), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=config.token_ttl,
            path="/",
            httponly=True,
            samesite="lax",
            secure=config.cookie_secure,
        )
        flash(request, "success", *both("You are signed in as %(name)s.", name=user.name))
        return response

    @router.post("/logout", summary="Remove the session cookie")
    async def logout(request: Request) -> Response:
        check_origin(request)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=config.cookie_secure
        )
        flash(request, "success", *both("You have been signed out."))
        return response

    @router.get(REALM_PATH + "/.well-known/openid-configuration", summary="OIDC discovery (Keycloak layout)")
    async def discovery() -> JSONResponse:
        base = config.issuer_url
        return JSONResponse(
            {
                "issuer": base,
                "jwks_uri": f"{base}/protocol/openid-connect/certs",
                "authorization_endpoint": f"{config.public_url.rstrip('/')}/login",
                "end_session_endpoint": f"{config.public_url.rstrip('/')}/logout",
                # Tokens come from the sign-in form or the CLI; no OAuth flow is offered.
                "response_types_supported": ["none"],
                "grant_types_supported": [],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "name", "preferred_username", "realm_access", "ikmo_org"],
            }
        )

    @router.get(REALM_PATH + "/protocol/openid-connect/certs", summary="The issuer's public keys (JWKS)")
    async def certs() -> JSONResponse:
        return JSONResponse(issuer.jwks(), headers={"Cache-Control": "public, max-age=300"})

    app.include_router(router)
    return app


def app_from_env() -> FastAPI:
    """For `uvicorn shared.auth.login:app_from_env --factory --port 8100` (how `ikmo up` starts it)."""
    from shared.settings import Settings

    settings = Settings()
    configure_logging("login", settings.log_level)
    return create_login_app(LoginConfig.from_settings(settings))


def mint_for_script(
    data_dir: Path,
    role: Role | str,
    subject: str | None = None,
    organisation_id: str | None = None,
    *,
    issuer: str = DEFAULT_ISSUER,
    audience: str = DEFAULT_AUDIENCE,
    ttl: int = TOKEN_TTL,
) -> str:
    """A bearer token for scripts and curl (`ikmo token --role tbb`), signed like a signed-in person's.

    Name and organisation come from the role's account in the users file (or the demo set).
    """
    role = Role(role)
    path = users_path(data_dir)
    user = UserStore.load(path).for_role(role) if path.exists() else None
    demo = next((a for a in DEMO_ACCOUNTS if a.role is role), None)
    default_subject = user.username if user else (demo.username if demo else str(role))
    name = user.name if user else (demo.name if demo else str(role))
    org = organisation_id or (user.organisation_id if user else None)
    if role is Role.ORGANISATION and not org:
        org = DEMO_ORGANISATION_ID
    return embedded_issuer(data_dir, issuer, audience).mint(
        subject or default_subject, [role], name=name, organisation_id=org, ttl=ttl
    )
