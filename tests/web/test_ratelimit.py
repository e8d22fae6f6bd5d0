"""The public routes' rate limit: a sliding window per client address, with a wait time that is true."""

from __future__ import annotations

import pytest

from shared.errors import TooManyRequests
from shared.web.ratelimit import RateLimiter


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
