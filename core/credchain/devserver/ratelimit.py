"""``--rate-limit R``: a token bucket per account, as Secret Server Cloud throttles its API.

Each account (the user a bearer token was issued to) may send ``rate`` requests a second, and
up to ``burst`` at once after a quiet spell. A request over the limit is answered ``429`` with
``Retry-After``: the whole seconds until the bucket holds a token again (at least 1; RFC 9110
gives delay-seconds as an integer). A refused request takes no token. Token grants
(``oauth2/token``) are not limited: they carry no token to know the account by, and a client
asks for one per token lifetime.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import final

__all__ = ["RateLimit"]


@final
class RateLimit:
    """Token buckets by account; thread-safe; ``clock`` injected for tests."""

    __slots__ = ("_buckets", "_clock", "_lock", "burst", "rate")

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError("rate_limit must be a positive number of requests per second")
        burst = rate if burst is None else burst
        if not (math.isfinite(burst) and burst >= 1):
            raise ValueError("rate_limit_burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        #: account -> (tokens, when counted)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, account: str) -> int:
        """Take a token for ``account``: 0 when it had one, else the ``Retry-After`` seconds."""
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(account, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[account] = (tokens - 1.0, now)
                return 0
            self._buckets[account] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))

    def reset(self) -> None:
        """Every bucket full again."""
        with self._lock:
            self._buckets.clear()
