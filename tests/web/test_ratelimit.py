"""The public routes' rate limit: a sliding window per client address, with a wait time that is true."""

from __future__ import annotations

import pytest

from shared.errors import TooManyRequests
from shared.web.ratelimit import RateLimiter, counted_as


def test_a_window_per_address_and_the_time_to_wait() -> None:
    now = [100.0]
    limiter = RateLimiter(3, 60.0, clock=lambda: now[0])
    for _ in range(3):
        limiter.hit("1.2.3.4")
    limiter.hit("5.6.7.8")  # another address has its own window
    now[0] = 130.0
    with pytest.raises(TooManyRequests) as refused:
        limiter.hit("1.2.3.4")
    assert refused.value.status_code == 429 and refused.value.retry_after == 30
    assert "30 Sekunden" in refused.value.message_de
    now[0] = 160.0  # the first three have left the window
    limiter.hit("1.2.3.4")


def test_a_long_wait_is_told_in_minutes_and_the_header_carries_the_seconds() -> None:
    now = [0.0]
    limiter = RateLimiter(1, 600.0, clock=lambda: now[0])
    limiter.hit("1.2.3.4")
    now[0] = 1.5
    with pytest.raises(TooManyRequests) as refused:
        limiter.hit("1.2.3.4")
    assert refused.value.retry_after == 599 and refused.value.headers == {"Retry-After": "599"}
    assert "in 10 Minuten noch einmal" in refused.value.message_de
    assert "try again in 10 minutes" in refused.value.message_en


def test_an_ipv6_client_is_counted_by_its_64_not_by_each_address() -> None:
    limiter = RateLimiter(2, 60.0, clock=lambda: 0.0)
    limiter.hit(counted_as("2001:db8:1:2::1"))
    limiter.hit(counted_as("2001:db8:1:2:ffff::9"))  # another address of the same /64
    with pytest.raises(TooManyRequests):
        limiter.hit(counted_as("2001:db8:1:2::abcd"))
    limiter.hit(counted_as("2001:db8:1:3::1"))  # the next /64 is someone else
    assert counted_as("10.0.0.7") == "10.0.0.7" and counted_as("unknown") == "unknown"
