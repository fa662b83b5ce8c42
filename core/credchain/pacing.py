"""Pacing a scan to the vault: what the vault's answers say about its load, and the width it sets.

The HTTP layer (``credchain.http``) reports two signals about each vault answer to the listener
of the running context, if any (``listening``); it never knows who listens:

- ``throttled(entry, status)``: the vault answered 429 (too many requests) or 503 (busy), once
  per such answer, urllib3's retries included;
- ``answered(entry, seconds)``: a request went through in one attempt, in ``seconds``.

``Scan`` listens around each walk with its ``Congestion``, which tallies the 429s by chain
entry and, for a scan of adaptive width, feeds an ``AdaptiveWidth``: additive increase,
multiplicative decrease (AIMD), as TCP sizes its window:

- **slow start**: from ``initial``, the width grows by one per answer until the first sign of
  congestion (or ``max_width``);
- then it grows by one per ``period`` seconds without one, and
- is multiplied by ``decrease`` on a 429 or 503, or when the vault queues: the smoothed
  latency passes ``latency_factor`` times the lowest seen *and* is ``latency_slack`` seconds
  above it (a busy scanning host, or a vault answering in 2 ms, adds tens of milliseconds that
  more width still turns into throughput); at most once per ``period``, so one burst of 429s
  halves it once.

The increase is by time, not per answer: a throttled vault still answers ``R`` requests a
second, and growing per answer would climb straight back into its limit. A thread that got a
429 waits its ``Retry-After`` inside the HTTP layer and still holds its place in the width, so
a small width is enough to keep the vault at its rate with few 429s.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol, final

__all__ = [
    "AdaptiveWidth",
    "Congestion",
    "Listener",
    "answered",
    "listening",
    "throttled",
]

#: the statuses by which a vault says it is overloaded
CONGESTED = frozenset({429, 503})


class Listener(Protocol):
    """What the HTTP layer reports to (see the module docstring)."""

    def throttled(self, entry: str, status: int) -> None: ...

    def answered(self, entry: str, seconds: float) -> None: ...


_listener: ContextVar[Listener | None] = ContextVar("credchain_pacing", default=None)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send the signals of the requests made in the block (this thread, this context) there."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def throttled(entry: str, status: int) -> None:
    """Report a 429 or 503 answer of ``entry``'s vault."""
    listener = _listener.get()
    if listener is not None:
        listener.throttled(entry, status)


def answered(entry: str, seconds: float) -> None:
    """Report a request of ``entry`` that went through in one attempt, in ``seconds``."""
    listener = _listener.get()
    if listener is not None:
        listener.answered(entry, seconds)


@final
class AdaptiveWidth:
    """How many walks a scan keeps in flight, by AIMD (see the module docstring); thread-safe.

    A walk runs inside ``slot()``, which waits while ``width`` walks run. ``clock`` is injected
    so tests step time instead of sleeping.
    """

    #: answers smoothed before the latency is judged (and after each decrease)
    SAMPLES = 8
    #: weight of a new answer in the smoothed latency
    SMOOTHING = 0.125

    __slots__ = (
        "_base",
        "_clock",
        "_last_change",
        "_last_decrease",
        "_lock",
        "_running",
        "_samples",
        "_slow_start",
        "_smoothed",
        "_turn",
        "_width",
        "decrease",
        "latency_factor",
        "latency_slack",
        "max_width",
        "peak",
        "period",
    )

    def __init__(
        self,
        max_width: int = 16,
        *,
        initial: int = 4,
        decrease: float = 0.5,
        period: float = 0.5,
        latency_factor: float = 3.0,
        latency_slack: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_width < 1:
            raise ValueError("max_width must be at least 1")
        if not 0.0 < decrease < 1.0:
            raise ValueError("decrease must be between 0 and 1")
        if not (math.isfinite(period) and period > 0):
            raise ValueError("period must be a positive number of seconds")
        if not latency_factor > 1.0:
            raise ValueError("latency_factor must be above 1")
        self.max_width = max_width
        self.decrease = decrease
        self.period = period
        self.latency_factor = latency_factor
        self.latency_slack = latency_slack
        self._clock = clock
        self._lock = threading.Lock()
        self._turn = threading.Condition(self._lock)
        self._running = 0
        self._width = float(min(max(1, initial), max_width))
        #: the widest the scan has been
        self.peak = self.width
        self._slow_start = True
        self._last_change = self._last_decrease = clock()
        self._base = math.inf
        self._smoothed = 0.0
        self._samples = 0

    @property
    def width(self) -> int:
        """Walks to keep in flight now: from 1 to ``max_width``."""
        return max(1, min(self.max_width, int(self._width)))

    @property
    def in_flight(self) -> int:
        """Walks inside ``slot()`` now."""
        return self._running

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Run the block as one of the ``width`` walks in flight; wait while there is no room."""
        with self._turn:
            while self._running >= self.width:
                self._turn.wait()
            self._running += 1
        try:
            yield
        finally:
            with self._turn:
                self._running -= 1
                self._turn.notify()

    def answered(self, seconds: float) -> None:
        """A request went through in ``seconds``: grow, or shrink if the latency has grown."""
        with self._lock:
            now = self._clock()
            self._base = min(self._base, seconds)
            self._samples += 1
            weight = 1.0 if self._samples == 1 else self.SMOOTHING
            self._smoothed += weight * (seconds - self._smoothed)
            queued = (
                self._samples >= self.SAMPLES
                and self._smoothed > self.latency_factor * self._base
                and self._smoothed - self._base > self.latency_slack
            )
            if queued:
                self._shrink(now)
            elif self._slow_start:
                self._grow(1.0)
            elif now - self._last_change >= self.period:
                self._grow(1.0)
                self._last_change = now

    def throttled(self) -> None:
        """The vault answered 429 or 503: shrink (at most once per ``period``)."""
        with self._lock:
            self._shrink(self._clock())

    def _grow(self, step: float) -> None:
        self._width = min(float(self.max_width), self._width + step)
        self.peak = max(self.peak, self.width)
        self._turn.notify_all()  # room for the walks waiting in slot()

    def _shrink(self, now: float) -> None:
        if not self._slow_start and now - self._last_decrease < self.period:
            return  # one burst of 429s is one sign: the answers to the width before this one
        self._slow_start = False
        self._width = max(1.0, self._width * self.decrease)
        self._last_change = self._last_decrease = now
        self._samples = 0  # judge the latency afresh at the new width


@final
class Congestion:
    """The signals of one ``Scan``: 429s and 503s by chain entry, fed to its width if adaptive."""

    __slots__ = ("_counts", "_lock", "width")

    def __init__(self, width: AdaptiveWidth | None = None) -> None:
        self.width = width
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, int]] = Counter()

    def throttled(self, entry: str, status: int) -> None:
        with self._lock:
            self._counts[entry, status] += 1
        if self.width is not None:
            self.width.throttled()

    def answered(self, entry: str, seconds: float) -> None:
        if self.width is not None:
            self.width.answered(seconds)

    def answers(self, status: int = 429) -> dict[str, int]:
        """Answers with ``status`` (429: throttled; 503: busy), by chain entry."""
        with self._lock:
            return {entry: n for (entry, code), n in self._counts.items() if code == status}
