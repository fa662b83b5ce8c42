"""A whole scan: many assets resolved concurrently, under a bound, with no work done twice.

``Resolver.resolve_many`` runs ``Scan``:

- at most ``concurrency`` walks at once, and at most ``2 * concurrency`` queries read ahead from
  the input, which may be any iterator: memory stays flat however many assets are done;
- or, with ``concurrency="adaptive"``, as many walks as the vault takes: the width follows
  its 429s, 503s and latency (``credchain.pacing.AdaptiveWidth``), from 1 to ``max_concurrency``
  (the pool's size and read-ahead are those of ``max_concurrency``; a walk waits for its place);
- one walk in flight per distinct query (single-flight): a duplicate waits for the first;
- a per-run cache of recent answers (``cache_ttl`` seconds, at most ``cache_size`` entries);
  "not found" is cached too only with ``negative_ttl``; failures never are;
- results are yielded **in completion order**, each with its ``index`` in the input, its
  query and the walk's trace, so callers that need input order can sort or place them.

The 429s the vault answered are in ``congestion``, by chain entry, whatever the width.

A ``Scan`` may outlive one run: ``answer`` resolves a single query through the same cache and
single-flight, which is how ``credchain agent`` serves every request of a process. With
``shared`` (``credchain.cache.SharedAnswers``, from ``[cache]``) a walk this process would make
is first asked of the other processes: their stored answer, or theirs in flight.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from queue import SimpleQueue
from typing import TYPE_CHECKING, Literal

from credchain import pacing
from credchain.errors import CredchainError, CredentialNotFound, QueryError
from credchain.models import AssetQuery, SafeCredential
from credchain.trace import Outcome, Trace

if TYPE_CHECKING:
    from credchain.cache import SharedAnswers

__all__ = ["Concurrency", "Resolution", "Scan"]

#: a fixed number of walks at once, or ``"adaptive"``: as many as the vault takes
Concurrency = int | Literal["adaptive"]


@dataclass(frozen=True, slots=True)
class Resolution:
    """One asset's answer in a scan: a credential, or the error, with the walk's trace."""

    index: int
    query: AssetQuery | None
    credential: SafeCredential | None
    error: CredchainError | None
    trace: Trace | None
    cached: bool = False

    @property
    def outcome(self) -> Outcome:
        if self.credential is not None:
            return "found"
        if self.error is None or isinstance(self.error, CredentialNotFound):
            return "not_found"
        if self.trace is not None and self.trace.steps:
            return self.trace.steps[-1].outcome
        return "error"

    @property
    def source(self) -> str | None:
        """The chain entry that found the credential, or the one whose failure ended the walk."""
        if self.credential is not None:
            return self.credential.source
        if self.trace is not None and self.trace.steps:
            return self.trace.steps[-1].entry
        return None


def _query(raw: AssetQuery | Mapping[str, object] | QueryError) -> AssetQuery:
    if isinstance(raw, QueryError):
        raise raw
    return raw if isinstance(raw, AssetQuery) else AssetQuery.from_query_data(raw)


_Answer = tuple[SafeCredential | None, CredchainError | None, Trace | None]
#: one walk: the credential or the error that ended it, and its trace
Walk = Callable[[AssetQuery], tuple[SafeCredential | None, CredchainError | None, Trace]]


class _Flight:
    """A walk in progress that duplicates wait for."""

    __slots__ = ("answer", "done")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.answer: _Answer = (None, None, None)


class Scan:
    """Concurrent, single-flight, cached resolution of many queries through ``walk``.

    ``walk`` is one walk of the chain (``Resolver.scan`` passes its own): the credential or the
    error that ended it, with the trace either way.
    """

    def __init__(
        self,
        walk: Walk,
        *,
        concurrency: Concurrency = 8,
        max_concurrency: int = 16,
        cache_ttl: float = 300.0,
        negative_ttl: float | None = None,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedAnswers | None = None,
    ) -> None:
        self.width: pacing.AdaptiveWidth | None = None
        if concurrency == "adaptive":
            if max_concurrency < 1:
                raise ValueError("max_concurrency must be at least 1")
            self.width = pacing.AdaptiveWidth(max_concurrency, clock=clock)
            concurrency = max_concurrency
        elif isinstance(concurrency, str) or concurrency < 1:
            raise ValueError("concurrency must be at least 1, or 'adaptive'")
        #: the most walks at once: the fixed width, or the adaptive width's cap
        self.concurrency: int = concurrency
        #: what the vault said about its load: 429s and 503s by entry; feeds ``width``
        self.congestion = pacing.Congestion(self.width)
        self._walk_one = walk
        self.cache_ttl = cache_ttl
        self.negative_ttl = negative_ttl
        self.cache_size = cache_size
        self._clock = clock
        self._shared = shared
        self._lock = threading.Lock()
        self._flights: dict[AssetQuery, _Flight] = {}
        self._cache: OrderedDict[AssetQuery, tuple[float, _Answer]] = OrderedDict()

    def run(
        self,
        queries: Iterable[AssetQuery | Mapping[str, object] | QueryError],
        progress: Callable[[int, Resolution], None] | None = None,
    ) -> Iterator[Resolution]:
        """Resolve every query; yield each ``Resolution`` as it completes.

        An input item that is a ``QueryError`` (a line of an inventory that could not be read)
        is passed through as that item's error.
        """
        done = 0
        source = enumerate(queries)
        window = 2 * self.concurrency
        # Each walk reports its end on a queue: waiting for the next costs the same however many
        # are in flight (``wait(FIRST_COMPLETED)`` locks and unlocks every pending future).
        finished: SimpleQueue[Future[Resolution]] = SimpleQueue()
        in_flight = 0
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="credchain-scan") as pool:
            exhausted = False
            while True:
                while not exhausted and in_flight < window:
                    item = next(source, None)
                    if item is None:
                        exhausted = True
                        break
                    index, raw = item
                    try:
                        query = _query(raw)
                    except QueryError as exc:
                        result = Resolution(index, None, None, exc, None)
                        done += 1
                        if progress is not None:
                            progress(done, result)
                        yield result
                        continue
                    pool.submit(self.answer, query, index).add_done_callback(finished.put)
                    in_flight += 1
                if not in_flight:
                    return
                result = finished.get().result()
                in_flight -= 1
                done += 1
                if progress is not None:
                    progress(done, result)
                yield result

    def cached(self, query: AssetQuery, index: int = 0) -> Resolution | None:
        """The cached ``Resolution`` of ``query``, or None: never walks, never waits."""
        with self._lock:
            answer = self._cached(query)
        return None if answer is None else Resolution(index, query, *answer, cached=True)

    def answer(self, query: AssetQuery, index: int = 0) -> Resolution:
        """One query's ``Resolution``, from the cache, a walk in flight, or a walk of its own."""
        with self._lock:
            cached = self._cached(query)
            if cached is not None:
                return Resolution(index, query, *cached, cached=True)
            flight = self._flights.get(query)
            leader = flight is None
            if flight is None:
                flight = self._flights[query] = _Flight()
        if not leader:
            flight.done.wait()
            return Resolution(index, query, *flight.answer, cached=True)
        elsewhere = False
        try:
            if self._shared is None:
                flight.answer = self._walk(query)
            else:
                flight.answer, elsewhere = self._shared.answer(query, self._walk, self._ttl)
        finally:
            with self._lock:
                self._remember(query, flight.answer)
                del self._flights[query]
            flight.done.set()
        return Resolution(index, query, *flight.answer, cached=elsewhere)

    def _walk(
        self, query: AssetQuery
    ) -> tuple[SafeCredential | None, CredchainError | None, Trace]:
        """One walk of this process, in a slot of the width, its vault signals heard by
        ``congestion``. An answer another process shares (``shared``) takes no slot."""
        with pacing.listening(self.congestion), self._slot():
            return self._walk_one(query)

    def _slot(self) -> AbstractContextManager[None]:
        """One of the adaptive width's places for a walk; with a fixed width, the pool bounds it."""
        return nullcontext() if self.width is None else self.width.slot()

    def _cached(self, query: AssetQuery) -> _Answer | None:
        entry = self._cache.get(query)
        if entry is None:
            return None
        expires, answer = entry
        if self._clock() >= expires:
            del self._cache[query]
            return None
        self._cache.move_to_end(query)
        return answer

    def _ttl(self, answer: _Answer) -> float | None:
        """How long ``answer`` may be reused; None: not at all."""
        credential, error, _ = answer
        if credential is not None:
            ttl: float | None = self.cache_ttl
        elif isinstance(error, CredentialNotFound):
            ttl = self.negative_ttl
        else:
            ttl = None  # a failure may be gone on the next try
        return ttl if ttl and ttl > 0 else None

    def _remember(self, query: AssetQuery, answer: _Answer) -> None:
        ttl = self._ttl(answer)
        if ttl is None or self.cache_size <= 0:
            return
        self._cache[query] = (self._clock() + ttl, answer)
        self._cache.move_to_end(query)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
