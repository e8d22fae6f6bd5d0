"""`ikmo up` as a person runs it: real processes and ports, Ctrl-C, a second start on the same data."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from services.directory.demo import ORGANISATIONS
from shared.auth.users import DEMO_ACCOUNTS, demo_password
from shared.platform.runner import PID_FILE, demo_module, existing_services
from shared.settings import SERVICE_PORTS
from tests.platform.procs import Up, alive, children_of, free_range, ikmo

READY = {"ready": True, "database": True, "nats": True}


def status_of(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return int(resp.status)


def test_up_serves_demo_data_stops_on_ctrl_c_and_starts_again_with_the_data(tmp_path: Path) -> None:
    data, base = tmp_path / "data", free_range()
    services = existing_services()
    ports = {name: base + SERVICE_PORTS[name] - 8100 for name in services}
    first = Up(data, base)
    try:
        first.wait_running()
        out = first.output()
        with_demo = [name for name in services if demo_module(name) is not None]
        assert "directory" in with_demo
        assert all(f"Demodaten geladen / demo data loaded: {name}" in out for name in with_demo)
        assert f"http://127.0.0.1:{base}" in out
        for name, port in ports.items():
            assert f"{name}" in out and f"http://127.0.0.1:{port}" in out
        for account in DEMO_ACCOUNTS:
            assert account.username in out and demo_password(account.username) in out

        total = first.request("/organisations?include_archived=true&limit=1")["total"]
        assert total == len(ORGANISATIONS)
        created = first.request(
            "/organisations",
            {"name": "Nach dem Neustart e.V.", "kind": "mo", "legal_form": "e_v", "districts": ["mitte"]},
        )
        for port in ports.values():
            assert status_of(f"http://127.0.0.1:{port}/healthz") == 200
            assert first.request("/readyz", port=port) == READY
        assert status_of(f"http://127.0.0.1:{base}/healthz") == 200

        status = first.cli("status")
        assert status.returncode == 0, status.stdout
        lines = {line.split()[0]: line for line in status.stdout.splitlines()}
        assert "läuft / up" in lines["nats"] and "läuft / up" in lines["login"]
        assert all("bereit / ready" in lines[name] and "outbox:" in lines[name] for name in services)

        twice = ikmo("--data-dir", str(data), "--port-base", str(free_range()), "up")
        assert twice.returncode == 1
        assert f"already running on this data folder (pid {first.proc.pid})" in twice.stderr
        running = first.cli("rebuild", "directory")
        assert running.returncode == 1 and "stop it first" in running.stderr

        children = children_of(first.proc.pid)
        commands = " | ".join(children.values())
        assert commands.count("nats-server") == 1 and "shared.auth.login:app_from_env" in commands
        assert all(f"services.{name}.app:app" in commands for name in services)
        assert len(children) == len(services) + 2
        code = first.ctrl_c()
    finally:
        if first.proc.poll() is None:
            first.kill()
    assert code == 0, first.output()
    assert "stopped" in first.output()
    assert not [pid for pid, command in children.items() if alive(pid)]
    # Ctrl-C reached the runner only: it stopped NATS itself (SIGTERM), after the services.
    nats_log = (data / "logs" / "nats.log").read_text()
    assert 'Trapped "terminated" signal' in nats_log and '"interrupt"' not in nats_log
    assert not (data / PID_FILE).exists()
    for part in ("directory.sqlite3", "nats/jetstream", "auth/jwks.json", "logs/directory.log"):
        assert (data / part).exists(), part
    down = first.cli("status")
    assert down.returncode == 3 and "aus / down" in down.stdout

    rebuilt = first.cli("rebuild", "directory")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "organisations: " in rebuilt.stdout and "(100 %)" in rebuilt.stdout  # progress, per batch
    assert "directory: Lesemodelle neu aufgebaut / read models rebuilt" in rebuilt.stdout

    second = Up(data, base)
    try:
        second.wait_running()
        assert "Demodaten geladen" not in second.output()
        total = second.request("/organisations?include_archived=true&limit=1")["total"]
        assert total == len(ORGANISATIONS) + 1
        assert second.request(f"/organisations/{created['id']}")["name"] == "Nach dem Neustart e.V."
        children = children_of(second.proc.pid)
        code = second.terminate()
    finally:
        if second.proc.poll() is None:
            second.kill()
    assert code == 0, second.output()
    assert not [pid for pid in children if alive(pid)]
