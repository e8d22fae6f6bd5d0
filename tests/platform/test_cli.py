"""`ikmo` refuses what it cannot do with a message naming the cause, and all parts agree on the ports."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import uvicorn
from uvicorn.main import main as uvicorn_command

from shared.auth.login import jwks_path
from shared.auth.principal import Role
from shared.auth.verify import TokenVerifier, Unauthenticated
from shared.platform.runner import PID_FILE, Ports, platform_env, uvicorn_args
from shared.settings import SERVICE_PORTS, Settings
from tests.platform.procs import IKMO, Up, children_of, clean_env, free_range, ikmo


def test_a_taken_port_is_named_and_nothing_is_left_running(tmp_path: Path) -> None:
    data, base = tmp_path / "data", free_range()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", base + 1))
        blocker.listen()
        up = Up(data, base)
        code = up.proc.wait(60)
    assert code == 1
    assert f"{base + 1} (directory)" in up.output() and "port in use" in up.output()
    assert not children_of(up.proc.pid)
    assert not (data / PID_FILE).exists()


def test_an_external_nats_that_does_not_answer_is_named(tmp_path: Path) -> None:
    data, base = tmp_path / "data", free_range()
    nowhere = f"nats://127.0.0.1:{base + 10}"
    up = Up(data, base, "--nats-url", nowhere)
    assert up.proc.wait(60) == 1
    assert f"NATS unter / at {nowhere} antwortet nicht / does not answer" in up.output()
    assert not children_of(up.proc.pid)


def test_bad_commands_say_what_is_wrong(tmp_path: Path) -> None:
    unknown = ikmo("--data-dir", str(tmp_path), "rebuild", "nonsense")
    assert unknown.returncode == 2
    assert "unknown service 'nonsense'" in unknown.stderr and "directory" in unknown.stderr
    never_started = ikmo("--data-dir", str(tmp_path / "empty"), "rebuild", "directory")
    assert never_started.returncode == 1 and "no database for directory" in never_started.stderr
    assert not (tmp_path / "empty").exists()
    bad_role = ikmo("token", "--role", "king")
    assert bad_role.returncode == 2 and "invalid choice: 'king'" in bad_role.stderr
    bad_base = ikmo("--port-base", "80", "status")
    assert bad_base.returncode == 2 and "80 is not a usable port" in bad_base.stderr
    env = clean_env() | {"IKMO_PORT_BASE": "70000"}
    from_env = subprocess.run([*IKMO, "status"], capture_output=True, text=True, env=env)
    assert from_env.returncode == 2 and "70000 is not a usable port" in from_env.stderr


def test_status_says_down_when_nothing_runs(tmp_path: Path) -> None:
    base = free_range()
    down = ikmo("--data-dir", str(tmp_path), "--port-base", str(base), "status")
    assert down.returncode == 3
    assert all("aus / down" in line for line in down.stdout.splitlines()), down.stdout


async def test_a_minted_token_is_accepted_only_by_its_own_issuer(tmp_path: Path) -> None:
    def mint(*options: str) -> str:
        done = ikmo("--data-dir", str(tmp_path), *options, "token", "--role", "tbb", "--subject", "script")
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    default, shifted = mint(), mint("--port-base", "23400")
    verifier = TokenVerifier("http://127.0.0.1:8100/realms/ikmo", "ikmo", str(jwks_path(tmp_path)))
    principal = await verifier.verify(default)
    assert principal.roles == {Role.TBB} and principal.subject == "script"
    with pytest.raises(Unauthenticated):
        await verifier.verify(shifted)
    shifted_verifier = TokenVerifier("http://127.0.0.1:23400/realms/ikmo", "ikmo", str(jwks_path(tmp_path)))
    assert (await shifted_verifier.verify(shifted)).roles == {Role.TBB}


def test_the_runner_and_the_services_settings_agree_on_every_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = Ports.from_base(23400)
    from_base = Settings(data_dir=tmp_path, port_base=23400)
    assert from_base.auth_url == ports.auth_url() == "http://127.0.0.1:23400"
    assert from_base.service_urls == ports.service_urls()
    assert from_base.service_urls["directory"] == "http://127.0.0.1:23401"
    assert from_base.nats_url == ports.nats_url() == "nats://127.0.0.1:23410"
    assert ports.nats_monitor == 23411
    # What the runner hands its children reads back as the same settings.
    with monkeypatch.context() as env:
        for key, value in platform_env(tmp_path, ports, "nats://elsewhere:4222").items():
            env.setenv(key, value)
        handed = Settings()
    assert handed.service_urls == ports.service_urls() and handed.auth_url == ports.auth_url()
    assert handed.issuer_url == "http://127.0.0.1:23400/realms/ikmo" and handed.port_base == 23400
    assert handed.nats_url == "nats://elsewhere:4222"
    # Without a base: the documented defaults; explicit URLs win over a base.
    assert (
        Ports.from_base(None).nats_url() == Settings(data_dir=tmp_path).nats_url == "nats://127.0.0.1:14222"
    )
    assert Settings(data_dir=tmp_path).service_urls == Ports.from_base(None).service_urls()
    assert Ports.from_base(None).service("reporting") == SERVICE_PORTS["reporting"]
    explicit = Settings(data_dir=tmp_path, port_base=23400, auth_url="https://id.example")
    assert explicit.auth_url == "https://id.example" and explicit.nats_url.endswith(":23410")


async def test_uvicorn_believes_forwarded_headers_only_from_the_trusted_proxies() -> None:
    """`ikmo up` starts each child so that uvicorn trusts the proxies of IKMO_TRUSTED_PROXIES and no
    others: its own default (127.0.0.1) would pass on any client's X-Forwarded-For through a local proxy."""
    seen: list[tuple[str, str]] = []

    async def app(scope: dict, receive: object, send: object) -> None:
        seen.append((scope["client"][0], scope["scheme"]))

    headers = [(b"x-forwarded-for", b"198.51.100.9"), (b"x-forwarded-proto", b"https")]
    for trusted in ("", "127.0.0.1, ::1"):
        args = uvicorn_args(["services.events.app:app"], 8102, trusted)
        assert args[:3] == [sys.executable, "-m", "uvicorn"]
        params = uvicorn_command.make_context("uvicorn", args[3:]).params  # as uvicorn reads its argv
        config = uvicorn.Config(
            app, proxy_headers=params["proxy_headers"], forwarded_allow_ips=params["forwarded_allow_ips"]
        )
        config.load()
        scope = {"type": "http", "client": ("127.0.0.1", 50000), "scheme": "http", "headers": headers}
        await config.loaded_app(scope, None, None)
    assert seen == [("127.0.0.1", "http"), ("198.51.100.9", "https")]
