"""The client address behind a reverse proxy: X-Forwarded-For is believed only from a trusted proxy, read
from the right up to the first hop that is not one; garbage never crashes and never helps a client."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from pydantic import ValidationError

from shared.auth.access import public
from shared.domain import EventRegistry
from shared.service import ServiceDefinition, create_app
from shared.settings import Settings
from shared.web.clientaddress import parse_address, parse_networks, resolve_client
from shared.web.ratelimit import RateLimiter

PROXIES = parse_networks("10.0.0.1, 172.16.0.0/12, fd00::/8")


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert resolve_client("203.0.113.7", ["198.51.100.1"], ()) == "203.0.113.7"
    assert resolve_client("10.0.0.1", ["198.51.100.1"], ()) == "10.0.0.1"


def test_a_peer_that_is_not_a_trusted_proxy_cannot_claim_another_address() -> None:
    assert resolve_client("203.0.113.7", ["198.51.100.1"], PROXIES) == "203.0.113.7"
    assert resolve_client("203.0.113.7", ["10.0.0.1, 198.51.100.1"], PROXIES) == "203.0.113.7"


def test_the_rightmost_hop_that_is_not_a_trusted_proxy_is_the_client() -> None:
    # The client wrote "1.1.1.1" itself; nginx (10.0.0.1) appended who connected to it: 198.51.100.9.
    assert resolve_client("10.0.0.1", ["1.1.1.1, 198.51.100.9"], PROXIES) == "198.51.100.9"
    # Two proxies: a load balancer (172.20.1.2, inside 172.16.0.0/12) in front of nginx (the peer).
    assert resolve_client("10.0.0.1", ["1.1.1.1, 198.51.100.9, 172.20.1.2"], PROXIES) == "198.51.100.9"
    # Several header lines count as one list, in order.
    assert resolve_client("10.0.0.1", ["1.1.1.1", "198.51.100.9, 172.20.1.2"], PROXIES) == "198.51.100.9"
    # No header, or only proxies in it: the last proxy seen is the best that can be said.
    assert resolve_client("10.0.0.1", [], PROXIES) == "10.0.0.1"
    assert resolve_client("10.0.0.1", ["172.20.1.2"], PROXIES) == "172.20.1.2"


def test_ipv6_proxies_and_clients() -> None:
    assert resolve_client("fd00::1", ["2001:db8::7"], PROXIES) == "2001:db8::7"
    assert resolve_client("fd00::1", ["[2001:db8::7]:4711, fd12::3"], PROXIES) == "2001:db8::7"
    assert resolve_client("fd00::1", ["203.0.113.5:51000"], PROXIES) == "203.0.113.5"
    # A dual-stack socket shows an IPv4 proxy as ::ffff:10.0.0.1; it is still the trusted 10.0.0.1.
    assert resolve_client("::ffff:10.0.0.1", ["198.51.100.9"], PROXIES) == "198.51.100.9"
    assert resolve_client("2001:db8::1", ["198.51.100.9"], PROXIES) == "2001:db8::1"  # not trusted


def test_garbage_falls_back_to_the_last_good_hop() -> None:
    assert resolve_client("10.0.0.1", ["not-an-address"], PROXIES) == "10.0.0.1"
    assert resolve_client("10.0.0.1", ["198.51.100.9, <script>"], PROXIES) == "10.0.0.1"
    assert resolve_client("10.0.0.1", ["1.1.1.1, , 172.20.1.2"], PROXIES) == "172.20.1.2"
    assert resolve_client("10.0.0.1", ["garbage, 198.51.100.9"], PROXIES) == "198.51.100.9"  # never read
    assert resolve_client("10.0.0.1", ["999.1.1.1, [::1"], PROXIES) == "10.0.0.1"
    assert resolve_client("testclient", ["198.51.100.9"], PROXIES) == "testclient"  # a peer not an IP
    assert resolve_client(None, ["198.51.100.9"], PROXIES) == "unknown"
    for garbage in ("", "1.2.3.4:", "1.2.3.4:http", "[::1", "[::1]x", "[::1]:", "1.2.3.4:80:90", "unknown"):
        assert parse_address(garbage) is None, garbage


def test_the_setting_takes_addresses_and_networks_and_refuses_anything_else() -> None:
    assert Settings().trusted_proxy_networks == ()
    assert [
        str(n) for n in Settings(trusted_proxies=" 10.0.0.1 ,::1, 172.16.0.0/12,").trusted_proxy_networks
    ] == [
        "10.0.0.1/32",
        "::1/128",
        "172.16.0.0/12",
    ]
    with pytest.raises(ValidationError, match="'nginx' is not an IP address"):
        Settings(trusted_proxies="10.0.0.1, nginx")


def limited_app(tmp_path: Path, trusted_proxies: str, limiter: RateLimiter) -> httpx.AsyncClient:
    """A service built as every service is, with one public route under `limiter`; its peer is 10.0.0.1."""
    router = APIRouter()

    @router.get("/seite", dependencies=[public(limiter)])
    async def page() -> dict[str, str]:
        return {"ok": "yes"}

    definition = ServiceDefinition(
        name="limited", title="Limited", registry=EventRegistry(), routers=[router]
    )
    settings = Settings(data_dir=tmp_path, trusted_proxies=trusted_proxies)
    app = create_app(definition, settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://limited.test")


async def test_a_new_forwarded_header_per_request_does_not_escape_the_limit(tmp_path: Path) -> None:
    limiter = RateLimiter(3, 60.0)
    async with limited_app(tmp_path, "", limiter) as client:  # the default: trust nobody
        statuses = [
            (await client.get("/seite", headers={"X-Forwarded-For": f"198.51.100.{n}"})).status_code
            for n in range(4)
        ]
    assert statuses == [200, 200, 200, 429]


async def test_behind_a_trusted_proxy_each_client_has_its_own_window(tmp_path: Path) -> None:
    limiter = RateLimiter(2, 60.0)
    async with limited_app(tmp_path, "10.0.0.0/24", limiter) as client:

        async def status(forwarded: str) -> int:
            return (await client.get("/seite", headers={"X-Forwarded-For": forwarded})).status_code

        assert [await status("198.51.100.1") for _ in range(3)] == [200, 200, 429]
        assert await status("198.51.100.2") == 200  # another person behind the same proxy
        # What the blocked client writes to the left of the proxy's own entry changes nothing.
        assert await status("203.0.113.99, 198.51.100.1") == 429
        blocked = await client.get("/seite", headers={"X-Forwarded-For": "198.51.100.1"})
    assert blocked.headers["Retry-After"].isdigit()
