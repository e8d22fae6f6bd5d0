"""Pytest fixtures with real parts: a nats-server from the wheel on free ports, SQLite, and PostgreSQL.

PostgreSQL comes from `IKMO_TEST_POSTGRES_URL` (CI points it at 127.0.0.1:5432), else from testcontainers
when a Docker engine answers, else the PostgreSQL variants are skipped. Every test gets its own schema.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import nats
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from playwright.sync_api import Browser, Page, ViewportSize
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.auth.login import LoginConfig, create_login_app, embedded_issuer, mint_for_script
from shared.auth.principal import Role
from shared.db import make_engine
from shared.platform.natsserver import NatsServer, free_port
from shared.settings import Settings

POSTGRES_ENV = "IKMO_TEST_POSTGRES_URL"


def _docker_postgres() -> Iterator[str | None]:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        yield None
        return
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:16-alpine", driver="asyncpg") as pg:
        yield pg.get_connection_url()


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str | None]:
    url = os.environ.get(POSTGRES_ENV)
    if url:
        yield url
        return
    yield from _docker_postgres()


async def _admin(url: str, sql: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(sql)
    finally:
        await engine.dispose()


@pytest.fixture
def postgres_url(postgres_base_url: str | None) -> Iterator[tuple[str, dict[str, object]]]:
    """A fresh schema for this test: (url, connect_args selecting it). Sync, so no event loop is running."""
    if postgres_base_url is None:
        pytest.skip(f"no PostgreSQL reachable (set {POSTGRES_ENV} or run Docker)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(postgres_base_url, f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_base_url, {"server_settings": {"search_path": schema}}
    finally:
        asyncio.run(_admin(postgres_base_url, f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, object]]:
    """(url, connect_args): SQLite always, PostgreSQL (a schema of this test's own) when reachable."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}", {}
    url_and_args: tuple[str, dict[str, object]] = request.getfixturevalue("postgres_url")
    return url_and_args


@pytest.fixture
async def engine(database: tuple[str, dict[str, object]]) -> AsyncIterator[AsyncEngine]:
    """The same test on SQLite always, and on PostgreSQL when one is reachable."""
    url, connect_args = database
    eng = make_engine(url, connect_args=connect_args) if connect_args else make_engine(url)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server with JetStream of this test's own, on free ports."""
    server = NatsServer(tmp_path / "nats", log_file=tmp_path / "nats.log").start()
    try:
        yield server
    finally:
        server.stop()


class Tokens:
    """Bearer tokens from the embedded issuer of a test's data folder (the one its apps trust)."""

    def __init__(self, data_dir: Path) -> None:
        self.issuer = embedded_issuer(data_dir)

    def token(self, role: Role | str, subject: str | None = None, organisation_id: str | None = None) -> str:
        role = Role(role)
        return self.issuer.mint(subject or f"test-{role}", [role], organisation_id=organisation_id)

    def headers(
        self, role: Role | str, subject: str | None = None, organisation_id: str | None = None
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, subject, organisation_id)}"}


@pytest.fixture
def tokens(tmp_path: Path) -> Tokens:
    """Tokens trusted by an app built with `Settings(data_dir=tmp_path)`."""
    return Tokens(tmp_path)


_EXPORTER: InMemorySpanExporter | None = None


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """Finished spans of this test. OpenTelemetry's global provider can be set once per process, so the
    first test asking for spans installs an in-memory one for the whole session and each test clears it."""
    global _EXPORTER
    if _EXPORTER is None:
        _EXPORTER = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    return _EXPORTER


async def eventually(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Wait until an async or sync predicate returns a truthy value; fail the test on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


async def stream_messages(url: str, stream: str) -> list[tuple[dict[str, str], bytes]]:
    """Every message stored in a stream, in stream order, read directly by sequence."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        out: list[tuple[dict[str, str], bytes]] = []
        if not info.state.messages:
            return out  # an empty stream reports first_seq 0, which get_msg refuses
        for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
            msg = await js.get_msg(stream, seq)
            out.append((dict(msg.headers or {}), msg.data or b""))
        return out
    finally:
        await nc.close()


async def stream_count(url: str, stream: str) -> int:
    nc = await nats.connect(url)
    try:
        return (await nc.jetstream().stream_info(stream)).state.messages
    except Exception:
        return 0
    finally:
        await nc.close()


# -- browser tests -----------------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class Served:
    """An ASGI app under uvicorn in a background thread, stopped at the end of the test."""

    def __init__(self, app: FastAPI, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"uvicorn did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="no /usr/bin/chromium: install Debian's chromium package to run browser tests",
)
PHONE: ViewportSize = {"width": 390, "height": 844}  # a common phone, as staff use one at the door


def staff_api(data_dir: Path, auth_url: str, service_url: str) -> httpx.Client:
    """An HTTP client of a served service with a VIA token from its sign-in, to set a browser test up."""
    token = mint_for_script(data_dir, "via", issuer=auth_url + "/realms/ikmo")
    return httpx.Client(base_url=service_url, headers={"Authorization": f"Bearer {token}"})


def signed_in_phone(browser: Browser, auth_url: str, service_url: str) -> Page:
    """A phone-sized page signed in as VIA through the real sign-in app."""
    from playwright.sync_api import expect

    phone = browser.new_page(viewport=PHONE, locale="de-DE")
    phone.set_default_timeout(10_000)
    phone.goto(service_url)
    phone.get_by_label("Benutzername").fill("via")
    phone.get_by_label("Passwort").fill("via-demo")
    phone.get_by_role("button", name="Anmelden").click()
    expect(phone).to_have_url(re.compile(re.escape(service_url)))
    assert auth_url not in phone.url
    return phone


def wider_than_the_screen(page: Page, service_url: str, paths: dict[str, str], shots: Path) -> dict[str, int]:
    """The pages (by name) that are wider than the page's viewport, with their width; a screenshot of each
    goes to `shots`. Empty means nothing needs zooming out or sideways scrolling."""
    from playwright.sync_api import expect

    viewport = page.viewport_size
    assert viewport is not None
    too_wide = {}
    for name, path in paths.items():
        page.goto(service_url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.screenshot(path=shots / f"phone-{name}.png", full_page=True)
        width = int(page.evaluate("document.documentElement.scrollWidth"))
        if width > viewport["width"]:
            too_wide[name] = width
    return too_wide


@contextmanager
def service_with_sign_in(
    service: str, build_app: Callable[[Settings], FastAPI], data_dir: Path, nats_url: str
) -> Iterator[tuple[str, str]]:
    """The embedded sign-in app and one service under uvicorn on free ports, as `ikmo up` runs them.

    Yields (sign-in URL, service URL); both share `data_dir`, so the service trusts the sign-in's keys.
    The password hasher is cheap, because a browser test signs in often and proves nothing about argon2.
    """
    login_port, service_port = free_port(), free_port()
    auth_url = f"http://127.0.0.1:{login_port}"
    service_urls = {service: f"http://127.0.0.1:{service_port}"}
    config = LoginConfig(data_dir=data_dir, public_url=auth_url, service_urls=service_urls)
    login_app = create_login_app(config, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    settings = Settings(data_dir=data_dir, nats_url=nats_url, auth_url=auth_url, service_urls=service_urls)
    with Served(login_app, login_port) as login, Served(build_app(settings), service_port) as served:
        yield login.url, served.url


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where browser tests put their screenshots: a temporary folder, or IKMO_SCREENSHOTS to keep them."""
    folder = Path(os.environ.get("IKMO_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def plaintext_in_database(engine: AsyncEngine, needle: str, tables: tuple[str, ...]) -> bool:
    """The raw bytes of the SQLite files (WAL included), or every row of the named PostgreSQL tables cast to
    text, hold the needle? How a test shows personal data is sealed from the first write, or gone."""
    if engine.dialect.name == "sqlite":
        assert engine.url.database
        files = Path(engine.url.database).parent.glob(Path(engine.url.database).name + "*")
        return any(needle.encode() in f.read_bytes() for f in files)
    return bool(await _postgres_rows_holding(engine, needle, tables))


async def _postgres_rows_holding(
    engine: AsyncEngine, needle: str, tables: tuple[str, ...] | None
) -> list[str]:
    """The tables (all of the connection's schema when None) with a row whose text form holds the needle."""
    async with engine.connect() as conn:
        if tables is None:
            listed = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            tables = tuple((await conn.execute(text(listed))).scalars().all())
        holding = []
        for table in tables:
            dump = (await conn.execute(text(f'SELECT CAST(t AS text) FROM "{table}" t'))).scalars().all()
            if any(needle in row for row in dump):
                holding.append(f"table {table}")
        return holding


def _files_holding(raw: bytes, folder: Path) -> list[str]:
    return [
        str(f.relative_to(folder)) for f in sorted(folder.rglob("*")) if f.is_file() and raw in f.read_bytes()
    ]


async def found_at_rest(needle: str | bytes, folder: Path, engine: AsyncEngine) -> list[str]:
    """Everywhere the needle lies at rest: any file under `folder` (the SQLite files with their WAL, the
    nats-server's JetStream store, its log) and, on PostgreSQL, any table of the test's schema. The places
    are returned so that a failing test says where the data leaked. Bytes are looked for as they are in
    files and in PostgreSQL's hex form of bytea (a row's text form escapes the `\\x`)."""
    raw = needle.encode() if isinstance(needle, str) else needle
    places = _files_holding(raw, folder)
    if engine.dialect.name == "postgresql":
        as_text = needle if isinstance(needle, str) else needle.hex()
        places += await _postgres_rows_holding(engine, as_text, None)
    return places
