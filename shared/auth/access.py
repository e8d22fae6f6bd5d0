"""Authorisation written once, declared on each route: `allow(Role.VIA, ...)` or `public()`.

The dependency carries its declaration (`ikmo_access`), so a test can walk every route of every service
and compare it with the table of allowed roles: a route without a declaration is a failing test, never an
open door.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from shared.auth.principal import Principal, Role
from shared.auth.verify import Forbidden, TokenVerifier, Unauthenticated
from shared.context import set_actor

SESSION_COOKIE = "ikmo_session"


@dataclass(frozen=True)
class Access:
    roles: frozenset[Role]
    public: bool = False


async def authenticate(request: Request) -> Principal:
    """The caller's principal from `Authorization: Bearer …` or, for pages, the session cookie."""
    header = request.headers.get("authorization", "")
    bearer = header.lower().startswith("bearer ")
    token = header[7:].strip() if bearer else request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthenticated("no token")
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.verify(token)
    request.state.principal = principal
    set_actor(principal.actor)
    return principal


def allow(*roles: Role) -> Any:
    """Only callers holding one of `roles` get through; use as a parameter default or in `dependencies`."""
    allowed = frozenset(roles)

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request)
        if not principal.has_any(allowed):
            raise Forbidden()
        return principal

    dependency.ikmo_access = Access(allowed)  # type: ignore[attr-defined]
    return Depends(dependency)


def public(limiter: Callable[[Request], Awaitable[None]] | None = None) -> Any:
    """A route anyone may call (health, and later the calendar and public forms), optionally rate-limited."""

    async def dependency(request: Request) -> None:
        if limiter is not None:
            await limiter(request)

    dependency.ikmo_access = Access(frozenset(), public=True)  # type: ignore[attr-defined]
    return Depends(dependency)


def iter_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route an app serves, including those of included routers.

    FastAPI 0.16x keeps an included router as one wrapper route whose `original_router` holds the routes;
    older versions copy them. This is the one place that knows.
    """
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from iter_routes(inner.routes)
        else:
            yield route


def access_of(route: APIRoute) -> Access | None:
    """The access declared on a route, looked up through its dependency tree."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        declared = getattr(dep.call, "ikmo_access", None)
        if declared is not None:
            return declared
        stack.extend(dep.dependencies)
    return None
