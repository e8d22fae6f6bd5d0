"""`ikmo up` as a person runs it: real processes and ports, Ctrl-C, a second start on the same data."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.directory.demo import ORGANISATIONS
from shared.auth.login import jwks_path
from shared.auth.principal import Role
from shared.auth.verify import TokenVerifier, Unauthenticated

IKMO = [sys.executable, "-m", "shared.platform.cli"]
START_TIMEOUT = 120.0


def free_range(size: int = 12) -> int:
    """A base port with `size` free ports after it (the platform's sign-in app, services and NATS)."""
    for base in range(21000 + os.getpid() % 2000 * 10, 60000, 37):
        sockets = []
        try:
            for port in range(base, base + size):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free port range")


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Up:
    """One `ikmo up` process with its output in a file."""

    def __init__(self, data: Path, base: int) -> None:
        self.args = ["--data-dir", str(data), "--port-base", str(base)]
        self.base = base
        self.out = data.parent / f"up-{time.monotonic_ns()}.log"
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen([*IKMO, *self.args, "up"], stdout=out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def wait_running(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while "IKMO läuft" not in self.output():
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.2)

    def cli(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*IKMO, *self.args, *command], capture_output=True, text=True, timeout=60)

    def get(self, path: str, role: str = "via") -> dict:  # type: ignore[type-arg]
        token = self.cli("token", "--role", role).stdout.strip()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.base + 1}{path}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.loads(resp.read())

    def post(self, path: str, body: dict, role: str = "via") -> dict:  # type: ignore[type-arg]
        token = self.cli("token", "--role", role).stdout.strip()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.base + 1}{path}",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.loads(resp.read())

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(60)


@pytest.fixture
def platform_dir(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    yield tmp_path / "data", free_range()


def test_up_serves_demo_data_stops_on_ctrl_c_and_starts_again_with_the_data(
    platform_dir: tuple[Path, int],
) -> None:
    data, base = platform_dir
    first = Up(data, base)
    try:
        first.wait_running()
        assert "Demodaten geladen / demo data loaded: directory" in first.output()
        assert f"http://127.0.0.1:{base + 1}" in first.output()
        assert first.get("/organisations?include_archived=true&limit=1")["total"] == len(ORGANISATIONS)
        created = first.post(
            "/organisations",
            {"name": "Nach dem Neustart e.V.", "kind": "mo", "legal_form": "e_v", "districts": ["mitte"]},
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{base + 1}/readyz", timeout=5) as resp:
            assert json.loads(resp.read()) == {"ready": True, "database": True, "nats": True}
        status = first.cli("status")
        assert status.returncode == 0, status.stdout
        assert "directory" in status.stdout and "outbox:" in status.stdout
        running = first.cli("rebuild", "directory")
        assert running.returncode == 1 and "stop it first" in running.stderr
        children = children_of(first.proc.pid)
        assert len(children) >= 3  # nats-server, the sign-in app, the directory
    finally:
        code = first.interrupt()
    assert code == 0, first.output()
    assert "stopped" in first.output()
    assert not [pid for pid in children if alive(pid)]
    assert first.cli("status").returncode != 0

    rebuilt = first.cli("rebuild", "directory")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "organisations" in rebuilt.stdout

    second = Up(data, base)
    try:
        second.wait_running()
        assert "Demodaten geladen" not in second.output()
        assert second.get("/organisations?include_archived=true&limit=1")["total"] == len(ORGANISATIONS) + 1
        assert second.get(f"/organisations/{created['id']}")["name"] == "Nach dem Neustart e.V."
    finally:
        assert second.interrupt() == 0


def test_a_taken_port_is_named_and_nothing_is_left_running(platform_dir: tuple[Path, int]) -> None:
    data, base = platform_dir
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", base + 1))
        blocker.listen()
        up = Up(data, base)
        code = up.proc.wait(60)
    assert code == 1
    assert f"{base + 1} (directory)" in up.output()
    assert "port in use" in up.output()
    assert not children_of(up.proc.pid)


def test_bad_commands_say_what_is_wrong(tmp_path: Path) -> None:
    unknown = subprocess.run(
        [*IKMO, "--data-dir", str(tmp_path), "rebuild", "nonsense"], capture_output=True, text=True
    )
    assert unknown.returncode == 2
    assert "unknown service 'nonsense'" in unknown.stderr and "directory" in unknown.stderr
    bad_role = subprocess.run([*IKMO, "token", "--role", "king"], capture_output=True, text=True)
    assert bad_role.returncode == 2 and "invalid choice" in bad_role.stderr


async def test_a_minted_token_is_accepted_only_by_its_own_issuer(tmp_path: Path) -> None:
    def mint(*options: str) -> str:
        command = [*IKMO, "--data-dir", str(tmp_path), *options, "token", "--role", "tbb"]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()

    default, shifted = mint(), mint("--port-base", "23400")
    verifier = TokenVerifier("http://127.0.0.1:8100/realms/ikmo", "ikmo", str(jwks_path(tmp_path)))
    assert (await verifier.verify(default)).roles == {Role.TBB}
    with pytest.raises(Unauthenticated):
        await verifier.verify(shifted)
