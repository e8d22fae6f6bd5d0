"""A small rate limit for public routes (calendar, public profiles, forms): so many requests per client
address in a sliding window, in memory. Enough for one process of the embedded default; behind a proxy
the proxy's own limits come first, and the client address is read as `shared.web.clientaddress` says.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable

from fastapi import Request
from starlette.requests import HTTPConnection

from shared.errors import TooManyRequests
from shared.web.clientaddress import client_address


def counted_as(address: str) -> str:
    """What one client is counted as: an IPv4 address itself, an IPv6 address by its /64, since one
    connection usually holds a whole /64 and could otherwise take a fresh address for every request."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address  # "unknown", or a test transport's name
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed)


def client_key(connection: HTTPConnection) -> str:
    """Whom a limit counts for this request: its client address (behind trusted proxies), IPv6 by /64."""
    return counted_as(client_address(connection))


class RateLimiter:
    """`public(RateLimiter(60, 60.0))`: at most 60 requests per minute per client address."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: defaultdict[str, deque[float]] = defaultdict(deque)

    def hit(self, key: str) -> None:
        now = self.clock()
        seen = self._seen[key]
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.limit:
            raise TooManyRequests(max(1, math.ceil(seen[0] + self.window - now)))
        seen.append(now)
        if len(self._seen) > 10_000:  # forget quiet addresses rather than grow without bound
            for address in [a for a, times in self._seen.items() if not times]:
                del self._seen[address]

    def reset(self) -> None:
        """Forget every address (tests; a restart does the same)."""
        self._seen.clear()

    async def __call__(self, request: Request) -> None:
        self.hit(client_key(request))
