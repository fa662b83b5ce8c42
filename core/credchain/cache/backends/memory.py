"""``backend = "memory"`` (the default): entries in this process only.

A process already keeps its token and its recent answers in memory, so credchain does not route
them through this backend (``shared`` is False); it is the reference implementation of the
backend contract, and what tests of the cluster protocol use within one process.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from credchain.cache.backend import BackendSettings, CacheBackend

__all__ = ["MemoryBackend", "MemorySettings"]


class MemorySettings(BackendSettings):
    max_entries: int = 10_000


class MemoryBackend(CacheBackend):
    """A bounded, expiring dictionary (the oldest entry goes first when full)."""

    shared = False
    Settings = MemorySettings

    def __init__(
        self, max_entries: int = 10_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    @classmethod
    def open(cls, settings: BackendSettings, *, home: Path, timeout: float) -> MemoryBackend:
        assert isinstance(settings, MemorySettings)
        return cls(settings.max_entries)

    def _live(self, name: str) -> bytes | None:
        entry = self._entries.get(name)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            del self._entries[name]
            return None
        return entry[1]

    def get(self, name: str) -> bytes | None:
        with self._lock:
            return self._live(name)

    def _store(self, name: str, value: bytes, ttl: float) -> None:
        self._entries[name] = (self._clock() + ttl, value)
        self._entries.move_to_end(name)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def set(self, name: str, value: bytes, ttl: float) -> None:
        with self._lock:
            self._store(name, value, ttl)

    def delete(self, name: str) -> None:
        with self._lock:
            self._entries.pop(name, None)

    def add(self, name: str, value: bytes, ttl: float) -> bool:
        with self._lock:
            if self._live(name) is not None:
                return False
            self._store(name, value, ttl)
            return True

    def delete_if(self, name: str, value: bytes) -> bool:
        with self._lock:
            if self._live(name) != value:
                return False
            del self._entries[name]
            return True

    def clear(self, prefix: str) -> int:
        with self._lock:
            names = [name for name in self._entries if name.startswith(prefix)]
            for name in names:
                del self._entries[name]
            return len(names)

    def describe(self) -> str:
        return "memory"
