"""The cache as credchain uses it: sealed values, hashed names, leases, and never a dependency.

``Cache`` puts a backend behind three rules:

- **Nothing readable.** Entries are named ``PREFIX + HMAC(kind, material)`` and hold sealed
  values (``_sealing``); a value that does not open is deleted, logged by kind, and is a miss.
- **One worker per key.** ``claim(kind, material, accept)`` returns a value some process stored
  and ``accept`` takes, or a ``Lease``: a short lock (``lock_ttl``) that makes this process the
  one that fetches it, while the others poll for the value for up to ``lock_wait`` seconds and
  then do the work themselves. A lease whose holder died lapses at its ``lock_ttl``.
- **Never a single point of failure.** A backend call that fails (``CacheUnavailable``) starts
  an outage: one warning, then no call for ``retry_after`` seconds (every lookup goes on at
  once, uncached); then one call probes it, and the first that succeeds ends the outage with
  a second line. Each call is bounded by the backend's ``timeout``.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from credchain.cache._sealing import SealBroken, Sealer
from credchain.cache.backend import CacheBackend, CacheUnavailable

__all__ = ["Cache", "Lease"]

log = logging.getLogger("credchain.cache")
T = TypeVar("T")
R = TypeVar("R")
#: ``accept(plain, waited)``: the value, or None to ignore it; ``waited`` once another process
#: was seen working on the key (a leader's transient answer is for its waiters only)
Accept = Callable[[bytes, bool], T | None]


class _Down(Exception):
    """The backend is in an outage: go on without it."""


class Lease:
    """The right to fetch one key for everybody; ``release`` it when the value is stored."""

    __slots__ = ("_cache", "_name", "_token", "held")

    def __init__(self, cache: Cache | None, name: str = "", token: bytes = b"") -> None:
        self._cache, self._name, self._token = cache, name, token
        #: False when no other process could be told (no backend, or it is down)
        self.held = cache is not None

    def release(self) -> None:
        if self._cache is not None:
            self._cache.drop_lock(self._name, self._token)
            self._cache = None


class Cache:
    """A backend made safe to share; see the module docstring. Thread-safe."""

    def __init__(
        self,
        backend: CacheBackend,
        sealer: Sealer,
        *,
        prefix: str = "credchain:",
        lock_wait: float = 10.0,
        lock_ttl: float = 30.0,
        retry_after: float = 5.0,
        answers: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.backend = backend
        self._sealer = sealer
        self.prefix = prefix
        self.lock_wait = lock_wait
        self.lock_ttl = lock_ttl
        self.retry_after = retry_after
        #: whether answers are shared too, not only tokens (``[cache] answers``)
        self.answers = answers
        self._clock = clock
        self._sleep = sleep
        self._state = threading.Lock()
        self._down = False
        self._next_probe = 0.0
        #: outages seen and values discarded, for tests and metrics
        self.outages = 0
        self.discarded = 0

    def __repr__(self) -> str:
        return f"Cache({self.backend.describe()})"

    @property
    def shared(self) -> bool:
        return self.backend.shared

    @property
    def available(self) -> bool:
        """False during an outage."""
        return not self._down

    def close(self) -> None:
        self.backend.close()

    # -- values ---------------------------------------------------------------------------------

    def name(self, kind: str, material: bytes) -> str:
        return self.prefix + self._sealer.name(kind, material)

    def get(self, kind: str, material: bytes) -> bytes | None:
        """The plain value, or None (missing, expired, discarded, or the backend is down)."""
        try:
            return self._get(kind, self.name(kind, material))
        except _Down:
            return None

    def put(self, kind: str, material: bytes, plain: bytes, ttl: float) -> None:
        """Store ``plain`` for ``ttl`` seconds; nothing when ``ttl`` is not positive or the
        backend is down."""
        if ttl <= 0:
            return
        name = self.name(kind, material)
        with contextlib.suppress(_Down):
            self._call(self.backend.set, name, self._sealer.seal(name, plain), ttl)

    def discard(self, kind: str, material: bytes) -> None:
        with contextlib.suppress(_Down):
            self._call(self.backend.delete, self.name(kind, material))

    def clear(self) -> int:
        """Delete every entry under the prefix; raises ``CacheUnavailable`` if it cannot."""
        return self.backend.clear(self.prefix)

    def _get(self, kind: str, name: str) -> bytes | None:
        sealed = self._call(self.backend.get, name)
        if sealed is None:
            return None
        try:
            return self._sealer.open(name, sealed)
        except SealBroken:
            self.discarded += 1
            log.warning(
                "discarded a %s entry of the shared cache %s that does not decrypt "
                "(tampered with, or sealed with another key): fetching it again",
                kind,
                self.backend.describe(),
            )
            with contextlib.suppress(_Down):
                self._call(self.backend.delete_if, name, sealed)
            return None

    # -- one worker per key ---------------------------------------------------------------------

    def claim(self, kind: str, material: bytes, accept: Accept[T]) -> tuple[T | None, Lease]:
        """A stored value ``accept`` takes, or a ``Lease`` to fetch it (see the module doc).

        With no value: the lease is ``held`` when this process won the key's lock, not held
        when it waited ``lock_wait`` in vain or the backend is down (fetch it anyway).
        """
        name = self.name(kind, material)
        lock = self.name("lock:" + kind, material)
        token = secrets.token_bytes(16)
        deadline = self._clock() + self.lock_wait
        delay = 0.002
        waited = False
        try:
            while True:
                found = self._accepted(kind, name, accept, waited)
                if found is not None:
                    return found, Lease(None)
                if self._call(self.backend.add, lock, token, self.lock_ttl):
                    # It may have been stored between our read and our lock.
                    found = self._accepted(kind, name, accept, waited)
                    if found is not None:
                        self.drop_lock(lock, token)
                        return found, Lease(None)
                    return None, Lease(self, lock, token)
                waited = True
                left = deadline - self._clock()
                if left <= 0:
                    log.debug("waited %gs for another process's %s in vain", self.lock_wait, kind)
                    return None, Lease(None)
                self._sleep(min(delay, left))
                delay = min(delay * 1.5, 0.05)
        except _Down:
            return None, Lease(None)

    def _accepted(self, kind: str, name: str, accept: Accept[T], waited: bool) -> T | None:
        plain = self._get(kind, name)
        return None if plain is None else accept(plain, waited)

    def drop_lock(self, name: str, token: bytes) -> None:
        with contextlib.suppress(_Down):  # else it lapses at its lock_ttl
            self._call(self.backend.delete_if, name, token)

    # -- outages --------------------------------------------------------------------------------

    def _call(self, operation: Callable[..., R], *args: object) -> R:
        probe = self._down
        if probe:
            with self._state:
                now = self._clock()
                if now < self._next_probe:
                    raise _Down
                self._next_probe = now + self.retry_after  # this call probes; others skip
        try:
            result = operation(*args)
        except CacheUnavailable as exc:
            with self._state:
                self._next_probe = self._clock() + self.retry_after
                if not self._down:
                    self._down = True
                    self.outages += 1
                    log.warning(
                        "the shared cache %s is unavailable (%s): going on without it, "
                        "trying again every %gs",
                        self.backend.describe(),
                        exc,
                        self.retry_after,
                    )
            raise _Down from None
        if probe:
            # Only a call made during the outage ends it: one that was under way when it
            # began may still succeed, and must not make the outage flap.
            with self._state:
                if self._down:
                    self._down = False
                    log.warning("the shared cache %s is back", self.backend.describe())
        return result
