"""Fixtures for the web look and the sign-in app: a cheap argon2 profile so tests stay fast."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from shared.auth.login import FailedLoginLimiter, LoginConfig, create_login_app

SERVICE_URLS = {
    "directory": "http://127.0.0.1:8101",
    "events": "http://127.0.0.1:8102",
    "grants": "http://127.0.0.1:8103",
    "volunteering": "http://127.0.0.1:8104",
    "reporting": "http://127.0.0.1:8105",
}
BASE = "http://login.test"


def fast_hasher() -> PasswordHasher:
    """The real algorithm with the smallest cost: the tests check behaviour, not hashing strength."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def login_config(tmp_path: Path) -> LoginConfig:
    return LoginConfig(data_dir=tmp_path / "data", public_url=BASE, service_urls=SERVICE_URLS)


@pytest.fixture
def login_app(login_config: LoginConfig, clock: Clock) -> FastAPI:
    return create_login_app(login_config, hasher=fast_hasher(), limiter=FailedLoginLimiter(5, 60.0, clock))


@pytest.fixture
async def client(login_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=login_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c
