"""Running `ikmo` as a person does (a real process, real ports) and looking at the processes it leaves."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

IKMO = [sys.executable, "-m", "shared.platform.cli"]
START_TIMEOUT = 180.0


def clean_env() -> dict[str, str]:
    """The caller's environment without IKMO_* settings, which would point `ikmo` elsewhere."""
    return {key: value for key, value in os.environ.items() if not key.startswith("IKMO_")}


def free_range(size: int = 12) -> int:
    """A base port with `size` free ports after it (the sign-in app, the services and NATS)."""
    for base in range(21000 + os.getpid() % 2000 * 10, 60000, 37):
        sockets = []
        try:
            for port in range(base, base + size):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free port range")


def children_of(pid: int) -> dict[int, str]:
    """The direct children of `pid` with their command lines (from /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found[int(entry.name)] = cmdline
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def ikmo(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*IKMO, *args], capture_output=True, text=True, timeout=timeout, env=clean_env())


class Up:
    """One `ikmo up` in a session of its own (as a shell runs it), its output in a file."""

    def __init__(self, data: Path, base: int, *extra: str) -> None:
        self.args = ["--data-dir", str(data), "--port-base", str(base)]
        self.base = base
        self.data = data
        self.tokens: dict[str, str] = {}
        self.out = data.parent / f"up-{time.monotonic_ns()}.log"
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen(
                [*IKMO, *self.args, *extra, "up"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=clean_env(),
                start_new_session=True,
            )

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def wait_running(self) -> None:
        """Until the banner is printed (every part ready), failing with the output if it ends first."""
        deadline = time.monotonic() + START_TIMEOUT
        while "IKMO läuft" not in self.output():
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.2)

    def cli(self, *command: str) -> subprocess.CompletedProcess[str]:
        return ikmo(*self.args, *command)

    def token(self, role: str = "via") -> str:
        """From `ikmo token`, as a script gets it (one per role: the issuer's key outlives a restart)."""
        if role not in self.tokens:
            result = self.cli("token", "--role", role)
            assert result.returncode == 0, result.stderr
            self.tokens[role] = result.stdout.strip()
        return self.tokens[role]

    def request(self, path: str, body: dict[str, Any] | None = None, port: int | None = None) -> Any:
        port = port or self.base + 1  # the directory
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read())

    def ctrl_c(self) -> int:
        """SIGINT to the whole process group, as a terminal's Ctrl-C sends it."""
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(60)

    def terminate(self) -> int:
        """SIGTERM to `ikmo up` alone, as a service manager sends it."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)

    def kill(self) -> None:
        """Cleanup after a failed test: the runner and everything it started."""
        for pid in children_of(self.proc.pid):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        self.proc.kill()
        self.proc.wait()
